"""What `devtools.lambda_local` hands a function is what API Gateway and Lambda would: events of
the shape SAM's samples have (`sam local generate-event`, in tests/fixtures/events), the route
`template.yaml` gives a request, and a context whose time runs out."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from devtools.lambda_local import (
    HttpRequest,
    LocalContext,
    function_at,
    match_route,
    project_template,
    proxy_response,
)
from devtools.worker import scheduled_event, sqs_event
from todo_common.http.app import _WARM_UP_EVENT as WARM_UP_EVENT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
# In SAM's sample, but not sent by API Gateway for a request without them, or for an API
# without a JWT authorizer or mutual TLS (this one has neither).
ABSENT_WHEN_UNUSED = {
    "cookies",
    "queryStringParameters",
    "pathParameters",
    "body",
    "stageVariables",
}
NO_AUTHORIZER = {"authorizer", "authentication"}


def _sample(name: str) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return sample


def test_an_http_event_has_the_keys_of_sams_sample_and_leaves_out_the_unused_ones() -> None:
    sample = _sample("http-api-proxy.json")

    bare = HttpRequest.of("GET", "/users/me").event()
    full = HttpRequest(
        "GET", "/users/abc", "a=1", (("cookie", "c=1"), ("content-type", "text/plain")), b"x"
    ).event()

    assert set(bare) == set(sample) - ABSENT_WHEN_UNUSED
    assert set(full) == set(sample) - {"stageVariables"}
    assert set(bare["requestContext"]) == set(sample["requestContext"]) - NO_AUTHORIZER
    assert set(bare["requestContext"]["http"]) == set(sample["requestContext"]["http"])


@pytest.mark.parametrize(
    ("method", "path", "route_key", "function", "params"),
    [
        ("GET", "/users/me", "GET /users/me", "UsersFunction", {}),
        ("PATCH", "/users/u1", "PATCH /users/{id}", "UsersFunction", {"id": "u1"}),
        ("POST", "/tasks/t1/restore", "POST /tasks/{id}/restore", "TasksFunction", {"id": "t1"}),
        (
            "GET",
            "/reports/projects/p1/summary",
            "GET /reports/projects/{id}/summary",
            "ReportsFunction",
            {"id": "p1"},
        ),
        ("GET", "/audits/verify", "GET /audits/verify", "ReportsFunction", {}),
        ("GET", "/docs/assets/a.js", "GET /docs/assets/{name}", "DocsFunction", {"name": "a.js"}),
        # What no route takes goes to the `$default` route's function, with no parameters.
        ("DELETE", "/audits/r1", "$default", "DocsFunction", {}),
        ("GET", "/users/u1/restore", "$default", "DocsFunction", {}),
    ],
)
def test_a_request_takes_the_route_of_template_yaml(
    method: str, path: str, route_key: str, function: str, params: dict[str, str]
) -> None:
    matched = match_route(project_template(), method, path)
    assert matched is not None
    route, path_params = matched
    assert (route.route_key, route.function, path_params) == (route_key, function, params)

    event = HttpRequest.of(method, path).event()

    assert event["routeKey"] == event["requestContext"]["routeKey"] == route_key
    assert event.get("pathParameters", {}) == params


def test_the_snapshot_warm_up_event_of_the_layer_has_the_keys_of_these_events() -> None:
    """The layer ships without devtools, so it writes its one event itself; it must not drift."""
    made = HttpRequest.of("GET", "/__snapshot__").event()

    assert set(WARM_UP_EVENT) == set(made)
    assert set(WARM_UP_EVENT["requestContext"]) == set(made["requestContext"])
    assert set(WARM_UP_EVENT["requestContext"]["http"]) == set(made["requestContext"]["http"])


def test_repeated_headers_and_parameters_are_joined_and_cookies_given_apart() -> None:
    request = HttpRequest(
        "GET",
        "/tasks",
        "status=OPEN&status=DONE",
        (("accept", "text/html"), ("accept", "application/json"), ("cookie", "a=1; b=2")),
    )

    event = request.event()

    assert event["headers"] == {"accept": "text/html,application/json"}
    assert event["queryStringParameters"] == {"status": "OPEN,DONE"}
    assert event["cookies"] == ["a=1", "b=2"]


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("application/json", b'{"a": 1}', False),
        ("application/json", b"\xff\xfe", True),  # no UTF-8: base64, never a broken string
        ("application/octet-stream", b"abc", True),
    ],
)
def test_a_body_is_text_only_when_its_type_is_and_it_is_utf8(
    content_type: str, body: bytes, encoded: bool
) -> None:
    event = HttpRequest.of("POST", "/users", body=body, headers={"content-type": content_type})

    sent = event.event()

    assert sent["isBase64Encoded"] is encoded
    assert (base64.b64decode(sent["body"]) if encoded else sent["body"].encode()) == body
    assert sent["headers"]["content-length"] == str(len(body))


def test_a_client_request_carries_its_token_and_a_json_body() -> None:
    sent = HttpRequest.of("POST", "/projects", token="t0k3n", json={"name": "x"}).event()

    assert sent["headers"]["authorization"] == "Bearer t0k3n"
    assert sent["headers"]["content-type"] == "application/json"
    assert json.loads(sent["body"]) == {"name": "x"}
    assert sent["requestContext"]["http"]["sourceIp"] == "127.0.0.1"


def test_a_proxy_result_is_read_back_as_a_client_gets_it() -> None:
    status, headers, body = proxy_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "cookies": ["s=1"],
            "body": base64.b64encode(b"{}").decode(),
            "isBase64Encoded": True,
        }
    )

    assert (status, body) == (201, b"{}")
    assert headers == [("content-type", "application/json"), ("set-cookie", "s=1")]
    # Payload 2.0: any other return value is a 200 JSON response.
    assert proxy_response({"ok": True}) == (
        200,
        [("content-type", "application/json")],
        b'{"ok": true}',
    )


def test_the_queue_and_schedule_events_have_the_keys_of_sams_samples() -> None:
    record = sqs_event([{"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}"}], "arn:aws:sqs:x")[
        "Records"
    ][0]

    assert set(record) == set(_sample("sqs-receive-message.json")["Records"][0])
    assert set(scheduled_event("rule")) == set(_sample("scheduled-event.json"))


def test_the_functions_are_found_by_folder_and_entry_point() -> None:
    assert function_at("users").logical_id == "UsersFunction"
    assert function_at("audit_consumer").logical_id == "AuditConsumerFunction"
    assert function_at("audit_consumer", "relay.handler").logical_id == "AuditRelayFunction"
    with pytest.raises(LookupError):
        function_at("audit_consumer", "app.no_such_handler")


def test_a_context_counts_down_from_its_timeout() -> None:
    context = LocalContext("UsersFunction", timeout_seconds=0.2)

    assert 0 < context.get_remaining_time_in_millis() <= 200
    assert context.invoked_function_arn.endswith(":function:UsersFunction")
    time.sleep(0.25)
    assert context.get_remaining_time_in_millis() == 0
    assert LocalContext("UsersFunction").aws_request_id != context.aws_request_id
