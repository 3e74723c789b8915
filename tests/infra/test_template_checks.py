"""The template is clean for cfn-lint and transforms with the SAM translator, which sees the
errors inside `Events` and `Policies` that cfn-lint alone misses."""

import copy

import boto3
import pytest
from cfnlint.api import lint_file
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from conftest import ROOT, TEMPLATE

PARAMETERS = {
    "SenderIdentity": "example.com",
    "MailFrom": "gatehouse <noreply@example.com>",
    "DigestTimeZone": "Europe/Paris",
    "DigestSchedule": "cron(0 8 * * ? *)",
    "PublicUrl": "",
    "AWS::Region": "eu-west-1",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "gatehouse",
}


@pytest.fixture(scope="module")
def output(template):
    """The template as CloudFormation gets it from the SAM transform."""
    packaged = copy.deepcopy(template)
    # What `sam package` does to the local code path.
    packaged["Globals"]["Function"]["CodeUri"] = "s3://bucket/gatehouse.zip"
    translator = Translator(
        None, Parser(), boto_session=boto3.session.Session(region_name=PARAMETERS["AWS::Region"])
    )
    # The template names no AWS managed policy, so no IAM lookup is needed.
    return translator.translate(packaged, PARAMETERS, get_managed_policy_map=dict)


def test_cfn_lint_finds_no_error_nor_warning():
    findings = [str(match) for match in lint_file(TEMPLATE)]
    assert findings == []


def test_the_sam_translator_transforms_the_template(output):
    kinds = {resource["Type"] for resource in output["Resources"].values()}
    assert not any(kind.startswith("AWS::Serverless::") for kind in kinds)
    functions = [r for r in output["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == len(list((ROOT / "functions").glob("*/Cargo.toml")))
    for function in functions:
        assert function["Properties"]["Architectures"] == ["arm64"]
        assert function["Properties"]["Runtime"] == "provided.al2023"


def test_the_generated_http_api_serves_the_table_on_the_default_stage(output, routing_table):
    [api] = [r for r in output["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    declared = {
        (method.upper(), path)
        for path, operations in api["Properties"]["Body"]["paths"].items()
        for method in operations
    }
    expected = {
        (route["method"], route["path"])
        for function in routing_table["functions"]
        if not function["streams"]
        for route in function["routes"]
    }
    assert declared == expected
    [stage] = [r for r in output["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert stage["Properties"]["StageName"] == "$default"


def test_both_stream_triggers_filter_retry_bisect_and_park_failures(output):
    mappings = [
        r["Properties"]
        for r in output["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    functions = sorted(m["FunctionName"]["Ref"] for m in mappings)
    assert functions == ["RequestChangesFunction", "StreamAlertsFunction"]
    for mapping in mappings:
        assert mapping["MaximumRetryAttempts"] == 3
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["FilterCriteria"]["Filters"]
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["StreamFailuresQueue", "Arn"]
        }


def test_only_the_change_consumer_may_put_events_and_only_on_its_bus(template):
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        statements = [
            st
            for policy in resource["Properties"].get("Policies", [])
            if isinstance(policy, dict)
            for st in policy.get("Statement", [])
        ]
        puts = [st for st in statements if "events:PutEvents" in str(st["Action"])]
        if name == "RequestChangesFunction":
            assert [st["Resource"] for st in puts] == [{"Fn::GetAtt": ["EventBus", "Arn"]}]
        else:
            assert puts == [], name


def test_the_digest_schedule_has_a_time_zone_and_no_fixed_name(output):
    [schedule] = [
        r["Properties"]
        for r in output["Resources"].values()
        if r["Type"] == "AWS::Scheduler::Schedule"
    ]
    assert schedule["ScheduleExpressionTimezone"] == {"Ref": "DigestTimeZone"}
    assert "Name" not in schedule


def test_functions_write_to_the_table_only_where_their_handler_writes(template):
    writers = {
        "UpdateSettingsFunction",
        "HandleRequestFunction",
        "GrantAccessFunction",
        "WithdrawRequestFunction",
        "AskAccessFunction",
        "RepoPageFunction",
        "RepoSettingsFunction",
    }
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        policies = resource["Properties"].get("Policies", [])
        names = {name for policy in policies if isinstance(policy, dict) for name in policy}
        if logical_id in writers:
            assert "DynamoDBCrudPolicy" in names, logical_id
        else:
            assert "DynamoDBCrudPolicy" not in names, logical_id
