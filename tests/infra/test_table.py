"""The template's table is the one the DynamoDB store writes: the key layout of
`shared/src/store/dynamodb/keys.rs` (mapped in docs/dynamodb.md)."""

import re

from conftest import ROOT

KEYS = ROOT / "shared" / "src" / "store" / "dynamodb" / "keys.rs"


def constant(source, name):
    return re.search(rf'const {name}: &str = "([^"]+)";', source).group(1)


def store_indexes(source):
    pattern = re.compile(
        r'const (GSI\d+): Gsi = Gsi \{\s*name: "([^"]+)",\s*pk: "([^"]+)",\s*sk: "([^"]+)",'
        r"\s*keys_only: (true|false),"
    )
    return {
        name: ([pk, sk], "KEYS_ONLY" if keys_only == "true" else "ALL")
        for _, name, pk, sk, keys_only in pattern.findall(source)
    }


def test_the_table_has_the_stores_keys_indexes_and_time_to_live(template):
    source = KEYS.read_text()
    table = template["Resources"]["Table"]["Properties"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == [
        constant(source, "PK"),
        constant(source, "SK"),
    ]
    indexes = {
        index["IndexName"]: (
            [k["AttributeName"] for k in index["KeySchema"]],
            index["Projection"]["ProjectionType"],
        )
        for index in table["GlobalSecondaryIndexes"]
    }
    expected = store_indexes(source)
    assert expected, "no index found in keys.rs"
    assert indexes == expected
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": constant(source, "TTL_ATTRIBUTE"),
        "Enabled": True,
    }


def test_the_table_streams_new_images_and_recovers_to_a_point_in_time(template):
    table = template["Resources"]["Table"]
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    assert table["DeletionPolicy"] == "Retain"
