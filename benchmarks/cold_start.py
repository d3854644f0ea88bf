"""Cold start where it happens: each function's INIT in the Lambda runtime (RIE + awslambdaric),
from the built artifacts, beside a floor measured the same way in the same run.

A run starts a fresh RIE process, invokes it once and reads the INIT duration from the RIE's
`INIT REPORT` line (its `REPORT` line's "Init Duration" measures something else, ~1 ms). The
floor is a function whose module only imports the packages the card names for an API function
(`fastapi, mangum, pymongo, redis, jwt, aws_lambda_powertools.logging`), from the same layer, on
the same interpreter. A function that serves no HTTP is held to the floor of what such a function
uses: MongoDB, the settings and the logger (`worker`), and Powertools' SQS batch processing too
where it takes SQS batches (`sqs-worker`).
Target: INIT <= 1.25x its floor. Printed, never asserted.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measure import row
from devtools.artifacts import HostBuild, build_for_host
from devtools.lambda_env import function_environment
from devtools.lambda_local import HttpRequest
from devtools.rie import FunctionError, FunctionProcess
from devtools.template import FunctionDef, Template, load_template
from devtools.worker import scheduled_event

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.25
FLOORS = {
    "api": "fastapi, mangum, pymongo, redis, jwt, aws_lambda_powertools.logging",
    # What the functions that serve no HTTP use: MongoDB, the settings, the logger; those fed by
    # SQS, Powertools' batch processing.
    "sqs-worker": "pymongo, pydantic_settings, aws_lambda_powertools.logging, "
    "aws_lambda_powertools.utilities.batch",
    "worker": "pymongo, pydantic_settings, aws_lambda_powertools.logging",
}
FLOOR_OF = {
    "AuditConsumerFunction": "sqs-worker",
    "WebhookDeliveryFunction": "sqs-worker",
    "WebhookSweepFunction": "sqs-worker",  # the delivery worker's module, another handler
    "AuditRelayFunction": "worker",
    "AuditDigestFunction": "worker",
}


def _event(fn: FunctionDef) -> dict[str, Any]:
    """An event the function accepts without touching a database where it can."""
    if fn.logical_id == "AuditRelayFunction":
        return scheduled_event("bench")
    if fn.logical_id == "AuditConsumerFunction":
        return {"Records": []}
    # Unrouted: the `$default` route, a 404 from the function itself.
    return HttpRequest.of("GET", "/__cold_start__", token="x").event()


def _floor_function(folder: Path, name: str, imports: str) -> FunctionDef:
    (folder / f"floor_{name}.py").write_text(
        f"import {imports}\n\n\ndef handler(event, context):\n    return {{}}\n"
    )
    return FunctionDef(
        f"Floor_{name}", folder, f"floor_{name}.handler", timeout=30, memory_size=512
    )


def _init_ms(fn: FunctionDef, build: HostBuild, env: dict[str, str], logs: Path) -> float:
    log = logs / f"{fn.logical_id}-{len(list(logs.glob(fn.logical_id + '-*')))}.log"
    floor = fn.logical_id.startswith("Floor_")
    process = FunctionProcess(fn, build, env, log, task=fn.code_uri if floor else None)
    process.start()
    try:
        with contextlib.suppress(FunctionError):  # INIT happened: the event only started it
            process.invoke(_event(fn))
    finally:
        process.stop()
    durations = process.init_durations_ms()
    if not durations:
        raise RuntimeError(f"{fn.logical_id}: no INIT REPORT in {log}")
    return durations[0]


def cold_starts(runs: int = 5, template: Template | None = None) -> None:
    template = template or load_template(ROOT / "template.yaml")
    build = build_for_host(template)
    with tempfile.TemporaryDirectory(prefix="todo-cold-") as tmp:
        folder = Path(tmp) / "floors"
        folder.mkdir()
        logs = Path(tmp) / "logs"
        logs.mkdir()
        floors = {name: _floor_function(folder, name, imports) for name, imports in FLOORS.items()}
        functions = list(template.functions.values())
        timings: dict[str, list[float]] = {fn.logical_id: [] for fn in functions}
        floor_timings: dict[str, list[float]] = {name: [] for name in floors}
        print(
            f"\n# Cold start: INIT in the Lambda runtime (RIE, {build.python.name}, "
            f"built artifacts with bytecode), {runs} fresh processes each, each function right "
            "after its floor"
        )
        # Pairs, so that a burst of load on the machine hits a function and its floor alike.
        for _ in range(runs):
            for fn in functions:
                env = function_environment(template, fn, os.environ)
                floor_name = FLOOR_OF.get(fn.logical_id, "api")
                floor_timings[floor_name].append(_init_ms(floors[floor_name], build, env, logs))
                timings[fn.logical_id].append(_init_ms(fn, build, env, logs))
        for name in floors:
            row(f"floor ({name}): {FLOORS[name][:28]}…", floor_timings[name])
        for fn in functions:
            floor_name = FLOOR_OF.get(fn.logical_id, "api")
            row(
                f"{fn.logical_id} INIT (floor: {floor_name})",
                timings[fn.logical_id],
                floor_timings[floor_name],
                TARGET,
            )


if __name__ == "__main__":
    cold_starts(int(os.environ.get("BENCH_COLD_RUNS", "5")))
