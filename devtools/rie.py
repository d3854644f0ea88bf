"""The functions in the real Lambda runtime, locally and without Docker (`make dev RUNTIME=lambda`).

One AWS Lambda Runtime Interface Emulator (RIE) process per function, each running
`python -m awslambdaric <handler>` (the runtime interface client AWS's Python runtime is built on)
with nothing but the function's built folder and the layer's `python/` folder on `PYTHONPATH`
(devtools/artifacts.py builds them), and the environment `template.yaml` gives the function
(devtools/lambda_env.py). The local gateway and worker invoke them over the RIE's HTTP API instead
of importing the handlers: what `sam local start-api` does with a container per function.

The RIE is a Go program with no release tags: `go install` builds the pinned pseudo-version once
into ${TODO_API_CACHE:-~/.cache/todo-api}, as scripts/servers.py builds FerretDB.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from devtools.artifacts import HostBuild
from devtools.lambda_env import function_environment
from devtools.template import FunctionDef, Template

RIE_MODULE = "github.com/aws/aws-lambda-runtime-interface-emulator"
RIE_VERSION = "v0.0.0-20261030222936-bef5c4ba774d"  # the module has no tags: main's pseudo-version
CACHE = Path(os.environ.get("TODO_API_CACHE") or Path.home() / ".cache" / "todo-api")
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
_INIT_REPORT = re.compile(r"INIT[ _]REPORT.*?(?:durationMs: |Init Duration: )([0-9.]+)")


class FunctionError(RuntimeError):
    """The function raised: the runtime answered with an error document instead of a result."""


def rie_binary() -> Path:
    """The emulator, built with `go install` on first use."""
    path = CACHE / f"rie-{RIE_VERSION}" / "aws-lambda-rie"
    if path.is_file():
        return path
    go = shutil.which("go")
    if go is None:
        raise RuntimeError(
            "the Lambda Runtime Interface Emulator is built with Go; install Go 1.24 or newer"
        )
    print(f"Building {RIE_MODULE} {RIE_VERSION} into {path.parent}", flush=True)
    subprocess.run(
        [go, "install", f"{RIE_MODULE}/cmd/aws-lambda-rie@{RIE_VERSION}"],
        env={**os.environ, "GOBIN": str(path.parent)},
        check=True,
    )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FunctionProcess:
    """One function in its own RIE: started once, invoked one event at a time (as Lambda does)."""

    fn: FunctionDef
    build: HostBuild
    environment: dict[str, str]
    log_path: Path
    task: Path | None = None  # the function's folder; default: its folder in `build`
    port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    _proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        task = self.task or self.build.function(self.fn.logical_id)
        env = {
            **self.environment,
            # As Lambda: /var/task (the function) first, then /opt/python (the layer).
            "PYTHONPATH": f"{task}:{self.build.layer / 'python'}",
            "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's file system is read-only
            "LAMBDA_TASK_ROOT": str(task),
            "AWS_LAMBDA_FUNCTION_NAME": self.fn.logical_id,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.fn.timeout),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.fn.memory_size),
            "TZ": ":UTC",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        }
        argv = [
            str(rie_binary()),
            "--log-level",
            "info",
            # Both addresses: the runtime API defaults to 127.0.0.1:9001 in every process.
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{self.api_port}",
            str(self.build.python),
            "-s",  # no user site-packages: only the artifacts
            "-m",
            "awslambdaric",
            self.fn.handler,
        ]
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            argv, cwd=task, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.fn.logical_id}: the RIE did not start; see {self.log_path}"
                )
            time.sleep(0.02)

    def invoke(self, event: Mapping[str, Any], context: object = None) -> Any:
        """One invocation through the RIE's HTTP API; the function's error is raised."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{INVOKE_PATH}",
            data=json.dumps(event).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with self._lock, urllib.request.urlopen(request, timeout=self.fn.timeout + 30) as reply:  # noqa: S310
                body = reply.read()
        except urllib.error.HTTPError as error:  # the runtime crashed or timed out (502)
            detail = error.read().decode(errors="replace")
            raise FunctionError(f"{self.fn.logical_id}: HTTP {error.code}: {detail}") from error
        result = json.loads(body) if body else None
        if isinstance(result, dict) and {"errorType", "errorMessage"} <= result.keys():
            raise FunctionError(
                f"{self.fn.logical_id}: {result['errorType']}: {result['errorMessage']}"
            )
        return result

    def __call__(self, event: dict[str, Any], context: object) -> Any:
        return self.invoke(event, context)

    def init_durations_ms(self) -> list[float]:
        """The INIT durations the RIE logged (one per cold start)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [float(m.group(1)) for m in _INIT_REPORT.finditer(text)]

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._log is not None:
            self._log.close()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class RieFleet:
    """An RIE process per function of the template, started on first use; a gateway loader."""

    def __init__(self, template: Template, build: HostBuild, log_dir: Path | None = None) -> None:
        self.template = template
        self.build = build
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="todo-rie-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, FunctionProcess] = {}
        self._lock = threading.Lock()

    def process(self, fn: FunctionDef) -> FunctionProcess:
        with self._lock:
            if fn.logical_id not in self.processes:
                process = FunctionProcess(
                    fn,
                    self.build,
                    function_environment(self.template, fn, os.environ),
                    self.log_dir / f"{fn.logical_id}.log",
                )
                process.start()
                self.processes[fn.logical_id] = process
            return self.processes[fn.logical_id]

    def loader(self, fn: FunctionDef) -> FunctionProcess:
        """For LocalGateway and Worker: the handler is the process (callable as event, context)."""
        return self.process(fn)

    def stop(self) -> None:
        with self._lock:
            for process in self.processes.values():
                process.stop()
            self.processes.clear()


@contextmanager
def running(
    template: Template, build: HostBuild, log_dir: Path | None = None
) -> Iterator[RieFleet]:
    fleet = RieFleet(template, build, log_dir)
    try:
        yield fleet
    finally:
        fleet.stop()
