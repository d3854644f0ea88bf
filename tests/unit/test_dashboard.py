"""The stage's dashboard and alarms in template.yaml (issue 13) against what the code emits.

The dashboard body is JSON inside `!Sub`: substituted here with placeholder values, it must parse,
show every metric `todo_common.metrics` emits with the dimensions it emits them with, and list
every alarm of the stack; each new alarm reads its threshold from StageSettings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools.template import _CfnLoader
from todo_common.metrics import Dependency, Metric

ROOT = Path(__file__).resolve().parents[2]
SOURCE = (ROOT / "template.yaml").read_text()
TEMPLATE: dict[str, Any] = yaml.load(SOURCE, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
STAGES = ("local", "dev", "staging", "prod")


def dashboard() -> dict[str, Any]:
    body, _ = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    substituted = re.sub(r"\$\{[A-Za-z0-9:.]+\}", "X", body)
    parsed: dict[str, Any] = json.loads(substituted)
    return parsed


def widget_text() -> str:
    return json.dumps(dashboard())


def test_the_dashboard_body_is_json_once_substituted() -> None:
    widgets = dashboard()["widgets"]
    assert {w["type"] for w in widgets} == {"text", "metric", "log", "alarm"}
    for widget in widgets:
        assert widget["x"] + widget["width"] <= 24


@pytest.mark.parametrize("metric", list(Metric))
def test_every_metric_the_code_emits_is_on_the_dashboard(metric: Metric) -> None:
    assert f'"{metric.value}"' in widget_text() or f'\\"{metric.value}\\"' in widget_text()


def test_the_dashboard_covers_latency_percentiles_errors_and_the_per_route_view() -> None:
    text = widget_text()
    for stat in ("p50", "p90", "p99"):
        assert f'"stat": "{stat}"' in text
    for name in ("4xx", "5xx", "Throttles", "ConcurrentExecutions", "Duration"):
        assert f'"{name}"' in text
    (log,) = [w for w in dashboard()["widgets"] if w["type"] == "log"]
    # the per-route table reads the functions' one line per request (http/middleware.py)
    assert "filter message = 'Request handled'" in log["properties"]["query"]
    assert "by method, route" in log["properties"]["query"]


def test_every_alarm_of_the_stack_is_on_the_dashboard() -> None:
    alarms = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    (widget,) = [w for w in dashboard()["widgets"] if w["type"] == "alarm"]
    body, _ = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    shown = set(re.findall(r"\$\{([A-Za-z0-9]+)\.Arn\}", body))
    assert len(widget["properties"]["alarms"]) == len(shown)
    assert shown == alarms


@pytest.mark.parametrize(
    ("alarm", "setting"),
    [
        ("ApiLatencyP99Alarm", "ApiLatencyP99AlarmMs"),
        ("AuditLagAlarm", "AuditLagAlarmSeconds"),
        ("OutboxOldestAgeAlarm", "OutboxOldestAgeAlarmSeconds"),
    ],
)
def test_the_new_alarms_take_their_threshold_from_the_stage_settings(
    alarm: str, setting: str
) -> None:
    threshold = RESOURCES[alarm]["Properties"]["Threshold"]
    assert threshold == {"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, setting]}
    values = [TEMPLATE["Mappings"]["StageSettings"][stage][setting] for stage in STAGES]
    assert values[3] <= values[2] <= values[1]  # prod is the strictest


def test_the_dependency_alarm_sums_each_dependency_as_the_code_names_it() -> None:
    metrics = RESOURCES["DependencyUnavailableAlarm"]["Properties"]["Metrics"]
    dims = [m["MetricStat"]["Metric"]["Dimensions"][0] for m in metrics if "MetricStat" in m]
    assert all(d["Name"] == "dependency" for d in dims)
    assert {d["Value"] for d in dims} == {d.value for d in Dependency}


def test_the_audit_alarms_read_the_metrics_of_the_functions_that_emit_them() -> None:
    services = {
        fn: RESOURCES[fn]["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for fn in ("AuditConsumerFunction", "AuditRelayFunction")
    }
    lag = RESOURCES["AuditLagAlarm"]["Properties"]
    age = RESOURCES["OutboxOldestAgeAlarm"]["Properties"]
    assert lag["MetricName"] == Metric.AUDIT_LAG_SECONDS.value
    assert lag["Dimensions"] == [{"Name": "service", "Value": services["AuditConsumerFunction"]}]
    assert age["MetricName"] == Metric.OUTBOX_OLDEST_AGE_SECONDS.value
    assert age["Dimensions"] == [{"Name": "service", "Value": services["AuditRelayFunction"]}]


def test_the_functions_know_their_stage_namespace_and_whether_they_are_traced() -> None:
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Fn::Sub": "TodoApi/${Stage}"}
    assert variables["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["TracingEnabled", "false", "true"]}
