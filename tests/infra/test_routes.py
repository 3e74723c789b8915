"""The template declares exactly the routing table's routes, each handler on its own function."""

import fnmatch
import json
import re
import tomllib

from conftest import ROOT

REPO_TYPES = ("models", "datasets", "spaces")


def functions(template):
    """Serverless functions by their cargo binary."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        metadata = resource.get("Metadata", {})
        assert metadata.get("BuildMethod") == "rust-cargolambda", logical_id
        binary = metadata["BuildProperties"]["Binary"]
        assert binary not in found, f"{binary} is built by two functions"
        found[binary] = (logical_id, resource)
    return found


def http_api_routes(resource):
    routes = set()
    for event in resource["Properties"].get("Events", {}).values():
        if event["Type"] == "HttpApi":
            assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
            routes.add((event["Properties"]["Method"], event["Properties"]["Path"]))
    return routes


def table_routes(function):
    return {(route["method"], route["path"]) for route in function["routes"]}


def samples(path):
    """Request paths a client could send to a gateway path."""
    for repo_type in REPO_TYPES:
        for file_path in ("config.json", "weights/model.bin"):
            yield (
                path.replace("{repoType}", repo_type)
                .replace("{repoPart1}", "org")
                .replace("{repoPart2}", "m")
                .replace("{status}", "pending")
                .replace("{revision}", "main")
                .replace("{path+}", file_path)
            )


def cloudfront_target(template, path):
    """The origin CloudFront sends a path to: the first behavior whose pattern matches."""
    config = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    for behavior in config.get("CacheBehaviors", []):
        if fnmatch.fnmatchcase(path, behavior["PathPattern"]):
            return behavior["TargetOriginId"]
    return config["DefaultCacheBehavior"]["TargetOriginId"]


def origin_function(template, origin_id):
    """The function whose URL an origin points at, if it is one."""
    config = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    origin = next(o for o in config["Origins"] if o["Id"] == origin_id)
    text = json.dumps(origin["DomainName"])
    for logical_id in template["Resources"]:
        if f'"{logical_id}Url", "FunctionUrl"' in text:
            return logical_id
    return None


def test_every_handler_of_the_table_has_its_own_function(template, routing_table):
    declared = functions(template)
    for function in routing_table["functions"]:
        assert function["function"] in declared, f"no function builds {function['function']}"


def test_each_route_function_declares_exactly_its_handlers_routes(template, routing_table):
    declared = functions(template)
    for function in routing_table["functions"]:
        _, resource = declared[function["function"]]
        expected = set() if function["streams"] else table_routes(function)
        assert http_api_routes(resource) == expected, function["function"]


def test_the_http_api_holds_no_route_outside_the_table(template, routing_table):
    declared = set()
    for _, resource in functions(template).values():
        routes = http_api_routes(resource)
        assert not routes & declared, f"routes on two functions: {routes & declared}"
        declared |= routes
    expected = set()
    for function in routing_table["functions"]:
        if not function["streams"]:
            expected |= table_routes(function)
    assert declared == expected


def test_streaming_handlers_sit_behind_a_streaming_function_url_on_their_own_paths(
    template, routing_table
):
    declared = functions(template)
    for function in routing_table["functions"]:
        if not function["streams"]:
            continue
        logical_id, resource = declared[function["function"]]
        url = resource["Properties"]["FunctionUrlConfig"]
        assert url == {"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"}
        for route in function["routes"]:
            assert route["method"] == "GET", "origin access control signs no request body"
            for path in samples(route["path"]):
                origin = cloudfront_target(template, path)
                assert origin_function(template, origin) == logical_id, path


def test_cloudfront_sends_every_other_route_to_the_http_api(template, routing_table):
    for function in routing_table["functions"]:
        if function["streams"]:
            continue
        for route in function["routes"]:
            for path in samples(route["path"]):
                assert cloudfront_target(template, path) == "api", path


def test_file_content_goes_to_the_edge_worker(template):
    for path in (
        "/org/m/resolve/main/config.json",
        "/gpt2/resolve/main/a/b.bin",
        "/datasets/org/d/resolve/main/data.csv",
        "/spaces/org/s/resolve/main/app.py",
    ):
        origin = cloudfront_target(template, path)
        assert origin_function(template, origin) == "EdgeWorkerFunction", path


def test_the_viewers_token_travels_under_the_header_the_functions_read(template, routing_table):
    header = routing_table["viewerAuthorizationHeader"]
    code = template["Resources"]["ViewerAuthorizationFunction"]["Properties"]["FunctionCode"]
    assert f"headers['{header}'] = {{ value: headers.authorization.value }}" in code
    assert f"delete headers['{header}']" in code
    config = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behavior["FunctionAssociations"] == [
            {
                "EventType": "viewer-request",
                "FunctionARN": {"Fn::GetAtt": ["ViewerAuthorizationFunction", "FunctionARN"]},
            }
        ]


# CloudFront's managed AllViewerExceptHostHeader origin request policy: every viewer header but
# Host, plus CloudFront's own viewer headers, CloudFront-Viewer-Country among them.
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_the_viewers_country_reaches_every_origin_under_the_header_the_functions_read(template, routing_table):
    config = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER, behavior["TargetOriginId"]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert routing_table["viewerCountryHeader"] == "cloudfront-viewer-country"
    assert variables["VIEWER_COUNTRY_HEADER"] == routing_table["viewerCountryHeader"]


def test_every_function_binary_is_a_workspace_crate_and_every_crate_is_deployed(template):
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["members"]
    binaries = set(functions(template))
    for binary in binaries:
        assert f"functions/{binary}" in workspace
        manifest = tomllib.loads((ROOT / "functions" / binary / "Cargo.toml").read_text())
        assert [b["name"] for b in manifest["bin"]] == [binary]
    crates = {p.parent.name for p in (ROOT / "functions").glob("*/Cargo.toml")}
    assert crates == binaries


def test_each_route_function_runs_its_own_handlers_endpoint_only(routing_table):
    for function in routing_table["functions"]:
        main = (ROOT / "functions" / function["function"] / "src" / "main.rs").read_text()
        used = set(re.findall(r"endpoints::([A-Z_]+)", main))
        assert used == {function["endpoint"]}, function["function"]


def test_the_stream_filter_names_the_attributes_the_consumer_reads(template):
    events = template["Resources"]["StreamAlertsFunction"]["Properties"]["Events"]
    stream = events["NewPendingRequests"]["Properties"]
    [filter_] = stream["FilterCriteria"]["Filters"]
    pattern = json.loads(filter_["Pattern"])
    assert pattern["eventName"] == ["INSERT"]
    image = pattern["dynamodb"]["NewImage"]
    assert image == {
        "kind": {"S": ["request"]},
        "status": {"S": ["pending"]},
        "notificationsMode": {"S": ["real-time"]},
    }
    # The request item's writer names each attribute, and the values matched are the ones
    # the store writes (the item kind, or a domain type's stored form).
    writer = (ROOT / "shared" / "src" / "store" / "dynamodb" / "items.rs").read_text()
    domain = "".join(p.read_text() for p in (ROOT / "shared" / "src" / "domain").glob("*.rs"))
    for name, value in image.items():
        assert f'"{name}"' in writer, name
        assert f'"{value["S"][0]}"' in writer + domain, value
