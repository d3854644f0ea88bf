"""Reads what the local gateway needs from `template.yaml`: functions, HTTP API routes, triggers.

The template stays the single source of routes: a function added there is served by `make dev`
with no change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """PyYAML loader that keeps CloudFormation short-form tags (`!Ref X` -> {"Ref": "X"})."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    code_uri: Path
    handler: str  # "module.attribute"
    timeout: int
    memory_size: int = 128
    # Globals' variables with the function's own on top, as CloudFormation values (`!Ref`…):
    # devtools/lambda_env.py resolves them for the RIE mode.
    environment: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # API Gateway syntax: /users/{id}, /files/{proxy+}
    function: str  # logical id
    pattern: re.Pattern[str] = field(compare=False)
    specificity: tuple[int, int] = field(compare=False)

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class QueueTrigger:
    function: str
    queue: str  # the queue's logical id
    queue_url_env: str | None  # the function env var set to `!Ref <queue>`: the local URL's name
    batch_size: int
    reports_failures: bool


@dataclass(frozen=True)
class ScheduleTrigger:
    function: str
    expression: str  # rate(1 minute)


@dataclass(frozen=True)
class Template:
    functions: dict[str, FunctionDef]
    routes: list[Route]
    default_route: str | None  # the function of the `$default` route, if any
    queue_triggers: list[QueueTrigger] = field(default_factory=list)
    schedules: list[ScheduleTrigger] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)  # their defaults
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)


def _route_pattern(path: str) -> tuple[re.Pattern[str], tuple[int, int]]:
    parts = []
    greedy = 0
    params = 0
    for segment in path.strip("/").split("/"):
        match = re.fullmatch(r"\{([A-Za-z0-9_]+)(\+?)\}", segment)
        if match is None:
            parts.append(re.escape(segment))
        elif match.group(2):
            greedy += 1
            parts.append(f"(?P<{match.group(1)}>.+)")
        else:
            params += 1
            parts.append(f"(?P<{match.group(1)}>[^/]+)")
    # API Gateway prefers literal segments over parameters, and parameters over greedy ones.
    return re.compile("^/" + "/".join(parts) + "$"), (greedy, params)


def load_template(path: Path) -> Template:
    doc = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    resources: dict[str, Any] = doc.get("Resources", {})
    globals_fn = (doc.get("Globals") or {}).get("Function") or {}
    root = path.parent
    functions: dict[str, FunctionDef] = {}
    routes: list[Route] = []
    default_route: str | None = None
    queue_triggers: list[QueueTrigger] = []
    schedules: list[ScheduleTrigger] = []
    # Which variable holds a queue's URL (`NAME: !Ref Queue`), in Globals or any function.
    env_refs = {
        value["Ref"]: name
        for variables in [
            (globals_fn.get("Environment") or {}).get("Variables") or {},
            *(
                ((r.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
                for r in resources.values()
            ),
        ]
        for name, value in variables.items()
        if isinstance(value, dict) and "Ref" in value
    }

    for logical_id, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        functions[logical_id] = FunctionDef(
            logical_id=logical_id,
            code_uri=root / str(props.get("CodeUri", ".")),
            handler=str(props.get("Handler", globals_fn.get("Handler", "app.handler"))),
            timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            memory_size=int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
            environment={
                **((globals_fn.get("Environment") or {}).get("Variables") or {}),
                **((props.get("Environment") or {}).get("Variables") or {}),
            },
        )
        for event in (props.get("Events") or {}).values():
            ev = event.get("Properties") or {}
            if event.get("Type") == "SQS":
                queue = (ev.get("Queue") or {}).get("Fn::GetAtt", [None])[0]
                queue_triggers.append(
                    QueueTrigger(
                        function=logical_id,
                        queue=str(queue),
                        queue_url_env=env_refs.get(queue),
                        batch_size=int(ev.get("BatchSize", 10)),
                        reports_failures="ReportBatchItemFailures"
                        in (ev.get("FunctionResponseTypes") or []),
                    )
                )
                continue
            if event.get("Type") == "Schedule":
                schedules.append(ScheduleTrigger(logical_id, str(ev.get("Schedule", ""))))
                continue
            if event.get("Type") != "HttpApi":
                continue
            if "Path" not in ev and "Method" not in ev:
                default_route = logical_id  # SAM's `$default` route: what no route matches
                continue
            pattern, specificity = _route_pattern(str(ev["Path"]))
            routes.append(
                Route(
                    method=str(ev.get("Method", "ANY")).upper(),
                    path=str(ev["Path"]),
                    function=logical_id,
                    pattern=pattern,
                    specificity=specificity,
                )
            )
    routes.sort(key=lambda r: r.specificity)
    parameters = {
        name: str(spec.get("Default", "")) for name, spec in (doc.get("Parameters") or {}).items()
    }
    return Template(
        functions,
        routes,
        default_route,
        queue_triggers,
        schedules,
        parameters=parameters,
        mappings=doc.get("Mappings") or {},
        conditions=doc.get("Conditions") or {},
    )
