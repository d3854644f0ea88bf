#!/usr/bin/env python3
"""Install, start, wait for and stop the local servers behind `make dev` and `make test`.

    python scripts/servers.py install
    python scripts/servers.py env --profile dev|test|bench
    python scripts/servers.py run --profile dev|test|bench -- CMD [ARGS...]
    python scripts/servers.py provision --endpoint http://127.0.0.1:5000 [--stage local]

Servers: FerretDB (MongoDB protocol, SQLite backend), Redis and an SQS, KMS and S3 endpoint
(moto: one server, one port, every service).
`run` installs what is missing, starts the servers, waits until each answers, creates the
audit queues, the audit digest signing key (ECC_NIST_P256, alias/todo-audit-digests), the
digest store (an S3 bucket with Object Lock, todo-audit-digests), the token signing key
(alias/todo-tokens), the webhook delivery queues and the webhook secrets' key
(alias/todo-webhook-secrets), runs CMD with DATABASE_URI, DATABASE_SERVER, DATABASE_NAME,
REDIS_HOST, REDIS_PORT, AWS_ENDPOINT_URL_SQS, AUDIT_QUEUE_URL, AWS_ENDPOINT_URL_KMS,
AUDIT_DIGEST_KEY_ID, AWS_ENDPOINT_URL_S3, AUDIT_DIGEST_BUCKET, SECURITY_JWT_SIGNING_KEY_ID
(and dummy AWS credentials) in its environment, stops everything it started and exits with
CMD's exit code.
The process id of each server it started is in LOCAL_MONGO_PID, LOCAL_REDIS_PID and
LOCAL_SQS_PID (the fault tests stop and resume them). moto keeps its state in memory; for dev,
devtools/moto_server.py keeps its KMS keys in the data folder, so digests signed before a
restart still verify.

Ports: dev 27017/6379/9324, test 27117/6479/9424, bench 27217/6579/9524; override with
LOCAL_MONGO_PORT, LOCAL_REDIS_PORT, LOCAL_SQS_PORT. Data and logs live in <repo>/.local/<profile>/
(logs in logs/<name>.log), or under LOCAL_DATA_DIR; test and bench start from an empty folder,
dev keeps its data.
Servers that are already configured are used instead: DATABASE_URI (or DATABASE_HOST /
DATABASE_PORT), REDIS_HOST (+ REDIS_PORT), AWS_ENDPOINT_URL_SQS. FerretDB is built once
with Go into ${TODO_API_CACHE:-~/.cache/todo-api}; redis-server comes from apt-get.

`provision` creates the same keys, digest bucket and secrets todo/<stage>/* on a moto that
something else runs (docker-compose.yml's, for `sam local start-api`: docs/local-sam.md), with
values for a Lambda container on the compose network; what exists already is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import importlib
import importlib.util
import ipaddress
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TODO_API_CACHE") or Path.home() / ".cache" / "todo-api")
FERRETDB_VERSION = "v1.24.2"
FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
FERRETDB_BIN = CACHE / f"ferretdb-{FERRETDB_VERSION}" / "ferretdb"
HOST = "127.0.0.1"
PORTS = {
    "dev": {"mongo": 27017, "redis": 6379, "sqs": 9324},
    "test": {"mongo": 27117, "redis": 6479, "sqs": 9424},
    "bench": {"mongo": 27217, "redis": 6579, "sqs": 9524},
}
QUEUE, DLQ = "todo-audit", "todo-audit-dlq"
DIGEST_KEY_ALIAS = "alias/todo-audit-digests"
DIGEST_KEY_DESCRIPTION = "Signs audit digests (local)"
DIGEST_BUCKET = "todo-audit-digests"  # the write-once digest store (moto's S3), one per profile
DIGEST_BUCKET_RETENTION_DAYS = 1  # as template.yaml's dev stage
TOKEN_KEY_ALIAS = "alias/todo-tokens"
TOKEN_KEY_DESCRIPTION = "Signs access and refresh tokens (local)"
# -- webhooks (issue 20): the delivery queue, its DLQ and the key of the signing secrets --------
WEBHOOK_QUEUE, WEBHOOK_DLQ = "todo-webhook-deliveries", "todo-webhook-deliveries-dlq"
WEBHOOK_SECRET_KEY_ALIAS = "alias/todo-webhook-secrets"
WEBHOOK_SECRET_KEY_DESCRIPTION = "Encrypts webhook signing secrets' data keys (local)"
# Local receivers for `make dev` and the tests: plain http, on loopback addresses.
WEBHOOK_LOCAL_SETTINGS = {"WEBHOOKS_ALLOW_HTTP": "true", "WEBHOOKS_ALLOW_LOOPBACK": "true"}
# Tests and benchmarks: loopback receivers only, no name resolved through DNS (a URL a fuzzer
# makes up never causes traffic beyond this machine).
WEBHOOK_TEST_SETTINGS = {"WEBHOOKS_LOOPBACK_ONLY": "true"}
# ----------------------------------------------------------------------------------------------
MOTO_ACCOUNT = "123456789012"  # moto's default account id, part of its queue URLs
START_TIMEOUT = 30.0
STOP_GRACE = 5.0
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Fail(Exception):
    """A problem the user has to fix; printed without a traceback."""


class Interrupted(Exception):
    """A signal arrived while no command was running."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def say(message: str) -> None:
    print(f"servers: {message}", file=sys.stderr, flush=True)


# --- probes: does something answer on a port? -------------------------------------------


def tcp_answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def mongo_ping(port: int) -> bool:
    """A real `ping` command (OP_MSG with a hand-made BSON document), stdlib only."""
    elements = b"\x10ping\x00" + struct.pack("<i", 1) + b"\x02$db\x00" + struct.pack("<i", 6)
    document = struct.pack("<i", len(elements) + 11) + elements + b"admin\x00\x00"
    body = struct.pack("<I", 0) + b"\x00" + document  # flagBits, section of kind 0
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1) as sock:
        sock.sendall(struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body)  # 2013: OP_MSG
        reply = sock.recv(4096)
        while 4 <= len(reply) < struct.unpack_from("<i", reply)[0]:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
        return b"\x01ok\x00" + struct.pack("<d", 1.0) in reply
    return False


def redis_ping(port: int, password: str | None = None) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1) as sock:
        if password is not None:
            sock.sendall(f"AUTH {password}\r\n".encode())
            if not sock.recv(64).startswith(b"+OK"):
                return False
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")
    return False


def http_answers(port: int) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        opener.open(f"http://{HOST}:{port}/", timeout=1).close()
    except urllib.error.HTTPError:
        return True  # an error status is still an answer
    except OSError:
        return False
    return True


# --- installing -------------------------------------------------------------------------


def ferretdb_works() -> bool:
    if not FERRETDB_BIN.is_file():
        return False
    result = subprocess.run(
        [FERRETDB_BIN, "--version"], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and FERRETDB_VERSION in result.stdout


def install_ferretdb() -> None:
    """Build FerretDB from its module source with Go.

    Plain `go install ...@v1.24.2` builds a binary that panics at start: the module zip lacks
    build/version/version.txt, which `bin/task gen-version` writes from git. So copy the
    module source, write that file and `go build` it.
    """
    if ferretdb_works():
        return
    go = shutil.which("go")
    if go is None:
        raise Fail(
            f"FerretDB {FERRETDB_VERSION} is not built yet ({FERRETDB_BIN} is missing) and `go` "
            "is not on PATH. Install Go 1.24 or newer and run again, or set DATABASE_URI to a "
            "running MongoDB."
        )
    say(f"building FerretDB {FERRETDB_VERSION} into {FERRETDB_BIN} (first time only, minutes)")
    fetched = subprocess.run(
        [go, "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if fetched.returncode != 0:
        output = fetched.stdout + fetched.stderr
        raise Fail(f"`go mod download {FERRETDB_MODULE}@{FERRETDB_VERSION}` failed:\n{output}")
    FERRETDB_BIN.parent.mkdir(parents=True, exist_ok=True)
    partial = FERRETDB_BIN.with_name(f"ferretdb.{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        shutil.copytree(json.loads(fetched.stdout)["Dir"], source, copy_function=shutil.copyfile)
        for folder, _, _ in os.walk(source):
            Path(folder).chmod(0o755)  # the module cache is read-only
        (source / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        build = [go, "build", "-trimpath", "-buildvcs=false", "-o", str(partial), "./cmd/ferretdb"]
        if subprocess.run(build, cwd=source, check=False).returncode != 0:
            raise Fail("building FerretDB failed (see the Go output above)")
    partial.replace(FERRETDB_BIN)
    if not ferretdb_works():
        raise Fail(f"{FERRETDB_BIN} was built but `--version` does not work")
    say(f"built {FERRETDB_BIN}")


def install_redis() -> None:
    if shutil.which("redis-server"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Fail(
            "redis-server is not on PATH. Install it (Debian/Ubuntu: `sudo apt-get install -y "
            "redis-server`, macOS: `brew install redis`), or set REDIS_HOST to a running Redis."
        )
    say("installing redis-server with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", "redis-server"]):
        if subprocess.run(step, env=env, check=False).returncode != 0:
            raise Fail(f"`{shlex.join(step)}` failed")
    if not shutil.which("redis-server"):
        raise Fail("apt-get installed redis-server but it is still not on PATH")


def check_moto() -> None:
    missing = [name for name in ("moto", "flask", "boto3") if not importlib.util.find_spec(name)]
    if missing:
        raise Fail(
            f"{', '.join(missing)} not importable by {sys.executable}: moto[server] and boto3 are "
            "needed. Install the dev requirements (pip install -r requirements/dev.in) into the "
            "virtual environment and run this script with its python."
        )


# --- the servers --------------------------------------------------------------------------


LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """Runs in a server's process before exec: Linux will SIGTERM it if we die, even by SIGKILL."""
    if LIBC is not None:
        LIBC.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


@dataclass
class Server:
    """One local server that this script starts and stops."""

    # The variable that tells CMD this server's process id.
    PID_VARIABLE: ClassVar[str]

    name: str
    port: int
    datadir: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0

    @property
    def log(self) -> Path:
        return self.datadir / "logs" / f"{self.name}.log"

    def install(self) -> None:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def exports(self) -> dict[str, str]:
        raise NotImplementedError

    def start(self) -> None:
        argv = self.command()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {shlex.join(argv)}\n".encode())
            log.flush()
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, away from the terminal's signals
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads run at this point)
            )

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def fail_if_stuck(self) -> None:
        """Fail, showing the log's tail, if the server has exited or is past its time."""
        code = self.proc.poll() if self.proc is not None else None
        if code is not None:
            why = f"exited with code {code}"
        elif self.elapsed() > START_TIMEOUT:
            why = f"did not answer within {START_TIMEOUT:.0f} s"
        else:
            return
        raise Fail(f"{self.name} {why}; last lines of {self.log}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"


@dataclass
class FerretDB(Server):
    PID_VARIABLE = "LOCAL_MONGO_PID"

    def install(self) -> None:
        install_ferretdb()

    def command(self) -> list[str]:
        folder = self.datadir / "ferretdb"
        folder.mkdir(parents=True, exist_ok=True)
        return [
            str(FERRETDB_BIN),
            "--handler=sqlite",
            f"--sqlite-url=file:{urllib.parse.quote(str(folder))}/",
            f"--state-dir={folder}",
            f"--listen-addr={HOST}:{self.port}",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ]

    def ready(self) -> bool:
        return mongo_ping(self.port)

    def exports(self) -> dict[str, str]:
        # DATABASE_SERVER picks the layer's FerretDB adapter (todo_common/database_server.py).
        # The URI itself goes into the secret todo/local/database-uri (issue 19, below).
        return {"DATABASE_URI_SECRET": LOCAL_SECRETS["database-uri"], "DATABASE_SERVER": "ferretdb"}

    def uri(self) -> str:
        return f"mongodb://{HOST}:{self.port}/"


@dataclass
class Redis(Server):
    PID_VARIABLE = "LOCAL_REDIS_PID"

    persist: bool = False

    def install(self) -> None:
        install_redis()

    def command(self) -> list[str]:
        folder = self.datadir / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        options = {"bind": HOST, "port": str(self.port), "dir": str(folder), "daemonize": "no"}
        options |= {"requirepass": local_secret(self.datadir, "redis-password")}  # issue 19
        options |= {"logfile": "", "loglevel": "warning"}  # the log goes to stdout
        options |= {"appendonly": "yes"} if self.persist else {"appendonly": "no", "save": ""}
        return [
            "redis-server",
            *(arg for key, value in options.items() for arg in (f"--{key}", value)),
        ]

    def ready(self) -> bool:
        return redis_ping(self.port, local_secret(self.datadir, "redis-password"))

    def exports(self) -> dict[str, str]:
        secret = LOCAL_SECRETS["redis-password"]
        return {"REDIS_HOST": HOST, "REDIS_PORT": str(self.port), "REDIS_PASSWORD_SECRET": secret}


@dataclass
class Sqs(Server):
    """moto, serving SQS and KMS. For dev, its KMS keys outlive a restart (devtools/moto_server.py):
    the digests in the dev database stay verifiable with the key that signed them."""

    PID_VARIABLE = "LOCAL_SQS_PID"
    persist_kms: bool = False

    def install(self) -> None:
        check_moto()

    def command(self) -> list[str]:
        address = ["-H", HOST, "-p", str(self.port)]
        if self.persist_kms:
            state = self.datadir / "moto" / "kms-keys.json"
            launcher = ROOT / "devtools" / "moto_server.py"
            # The digest store too: the dev database's copies of the digests outlive a restart.
            store = ["--s3-state", str(self.datadir / "moto" / "digests.jsonl")]
            store += ["--s3-bucket", DIGEST_BUCKET]
            return [sys.executable, str(launcher), "--kms-state", str(state), *store, *address]
        return [sys.executable, "-m", "moto.server", *address]

    def ready(self) -> bool:
        return http_answers(self.port)

    def exports(self) -> dict[str, str]:
        endpoint = f"http://{HOST}:{self.port}"
        return {
            "AWS_ENDPOINT_URL_SQS": endpoint,
            "AWS_ENDPOINT_URL_KMS": endpoint,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
            "SECURITY_HASH_KEY_SECRET": LOCAL_SECRETS["hash-key"],
        }


# --- planning: which servers to start, which to reuse ------------------------------------


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name) or str(default)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise Fail(f"{name}={value!r} is not a port number")
    return int(value)


def _elsewhere(env: Mapping[str, str], host_var: str, port_var: str, default: int) -> bool:
    """True if HOST/PORT variables point at a server; fail if they do but nothing answers."""
    if not (env.get(host_var) or env.get(port_var)):
        return False
    host, port = env.get(host_var) or "localhost", _port(env, port_var, default)
    if not tcp_answers(host, port):
        raise Fail(
            f"{host_var}/{port_var} point at {host}:{port} but nothing answers there "
            f"(start that server, or unset {host_var} and {port_var} to use a local one)"
        )
    return True


def data_root() -> Path:
    """Where each profile's data, logs and lock live: <repo>/.local, or LOCAL_DATA_DIR."""
    return Path(os.environ.get("LOCAL_DATA_DIR") or ROOT / ".local")


def plan(profile: str, env: Mapping[str, str]) -> list[Server]:
    datadir = data_root() / profile
    ports = PORTS[profile]
    servers: list[Server] = []
    if not env.get("DATABASE_URI") and not _elsewhere(env, "DATABASE_HOST", "DATABASE_PORT", 27017):
        port = _port(env, "LOCAL_MONGO_PORT", ports["mongo"])
        servers.append(FerretDB("ferretdb", port, datadir))
    if not _elsewhere(env, "REDIS_HOST", "REDIS_PORT", 6379):
        port = _port(env, "LOCAL_REDIS_PORT", ports["redis"])
        servers.append(Redis("redis", port, datadir, persist=profile == "dev"))
    if not env.get("AWS_ENDPOINT_URL_SQS"):
        port = _port(env, "LOCAL_SQS_PORT", ports["sqs"])
        servers.append(Sqs("sqs", port, datadir, persist_kms=profile == "dev"))
    return servers


def needs_digest_key(env: Mapping[str, str], servers: list[Server]) -> bool:
    """Our own moto always needs it; an external KMS endpoint only without AUDIT_DIGEST_KEY_ID."""
    if any(isinstance(server, Sqs) for server in servers):
        return not env.get("AWS_ENDPOINT_URL_KMS")
    return bool(env.get("AWS_ENDPOINT_URL_KMS")) and not env.get("AUDIT_DIGEST_KEY_ID")


# --- the audit digest store (issue 18): an S3 bucket with Object Lock, on our own moto -------


def needs_digest_bucket(env: Mapping[str, str], servers: list[Server]) -> bool:
    """Our own moto always needs it; an S3 endpoint of its own only without AUDIT_DIGEST_BUCKET."""
    if any(isinstance(server, Sqs) for server in servers):
        return not env.get("AWS_ENDPOINT_URL_S3")
    return bool(env.get("AWS_ENDPOINT_URL_S3")) and not env.get("AUDIT_DIGEST_BUCKET")


def digest_bucket_exports(env: Mapping[str, str], added: Mapping[str, str]) -> dict[str, str]:
    """AUDIT_DIGEST_BUCKET, and moto's endpoint as AWS_ENDPOINT_URL_S3 unless one is set."""
    exports = {"AUDIT_DIGEST_BUCKET": DIGEST_BUCKET}
    if not env.get("AWS_ENDPOINT_URL_S3"):
        exports["AWS_ENDPOINT_URL_S3"] = added.get("AWS_ENDPOINT_URL_SQS") or env.get(
            "AWS_ENDPOINT_URL_SQS", ""
        )
    return exports


def create_digest_bucket(env: Mapping[str, str]) -> None:
    """The digest store as template.yaml's AuditDigestBucket: versioned, Object Lock in
    compliance mode (idempotent: a bucket that exists is kept)."""
    boto3: Any = importlib.import_module("boto3")
    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL_S3"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    bucket = env["AUDIT_DIGEST_BUCKET"]
    # Not CreateBucket's error: in us-east-1 (moto's too) creating one's own bucket again succeeds.
    if any(b["Name"] == bucket for b in s3.list_buckets().get("Buckets", [])):
        return  # kept as it is (for dev, with the objects moto_server.py put back)
    options: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}  # versioned
    if env["AWS_DEFAULT_REGION"] != "us-east-1":  # S3 refuses a bucket elsewhere, unless named
        options["CreateBucketConfiguration"] = {"LocationConstraint": env["AWS_DEFAULT_REGION"]}
    s3.create_bucket(**options)
    rule = {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": DIGEST_BUCKET_RETENTION_DAYS}}
    s3.put_object_lock_configuration(
        Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule}
    )


def needs_queues(env: Mapping[str, str], servers: list[Server]) -> bool:
    """Our own moto always needs them; an external endpoint only without AUDIT_QUEUE_URL."""
    return any(isinstance(server, Sqs) for server in servers) or not env.get("AUDIT_QUEUE_URL")


def exports_for(profile: str, env: Mapping[str, str], servers: list[Server]) -> dict[str, str]:
    """The variables to add to CMD's environment (AUDIT_QUEUE_URL as moto will name it)."""
    added: dict[str, str] = {}
    for server in servers:
        added.update(server.exports())
    if env.get("AWS_ENDPOINT_URL_KMS"):  # a KMS endpoint of its own: moto serves SQS only
        added.pop("AWS_ENDPOINT_URL_KMS", None)
    if not needs_secrets(env, servers):  # no moto of ours holds them: the values outright
        for name in ("DATABASE_URI_SECRET", "REDIS_PASSWORD_SECRET", "SECURITY_HASH_KEY_SECRET"):
            added.pop(name, None)
        added.pop("AWS_ENDPOINT_URL_SECRETS_MANAGER", None)
        outright = outright_secrets(profile, servers)
        added.update({name: value for name, value in outright.items() if not env.get(name)})
    defaults = {
        "DATABASE_NAME": "todo" if profile == "dev" else f"todo_{profile}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    added.update({key: value for key, value in defaults.items() if not env.get(key)})
    if needs_queues(env, servers):
        endpoint = added.get("AWS_ENDPOINT_URL_SQS") or env.get("AWS_ENDPOINT_URL_SQS", "")
        added["AUDIT_QUEUE_URL"] = f"{endpoint}/{MOTO_ACCOUNT}/{QUEUE}"
    if needs_digest_key(env, servers):
        added["AUDIT_DIGEST_KEY_ID"] = DIGEST_KEY_ALIAS
    if needs_digest_bucket(env, servers):
        added.update(digest_bucket_exports(env, added))
    if needs_token_key(env, servers):
        # As template.yaml gives them: every API function verifies, the users function signs.
        added["SECURITY_JWT_SIGNING_KEY_ID"] = TOKEN_KEY_ALIAS
        added["SECURITY_JWT_VERIFY_KEY_IDS"] = TOKEN_KEY_ALIAS
    added.update(webhook_exports(profile, env, servers, added))
    return added


# -- webhooks (issue 20) ----------------------------------------------------------------------


def webhook_exports(
    profile: str, env: Mapping[str, str], servers: list[Server], added: Mapping[str, str]
) -> dict[str, str]:
    """WEBHOOKS_QUEUE_URL and WEBHOOKS_SECRET_KEY_ID as moto will name them, and the local
    settings that let receivers on 127.0.0.1 through (unless already set)."""
    local = WEBHOOK_LOCAL_SETTINGS | ({} if profile == "dev" else WEBHOOK_TEST_SETTINGS)
    exports = {key: value for key, value in local.items() if not env.get(key)}
    if needs_queues(env, servers) and not env.get("WEBHOOKS_QUEUE_URL"):
        endpoint = added.get("AWS_ENDPOINT_URL_SQS") or env.get("AWS_ENDPOINT_URL_SQS", "")
        exports["WEBHOOKS_QUEUE_URL"] = f"{endpoint}/{MOTO_ACCOUNT}/{WEBHOOK_QUEUE}"
    if needs_digest_key(env, servers) and not env.get("WEBHOOKS_SECRET_KEY_ID"):
        exports["WEBHOOKS_SECRET_KEY_ID"] = WEBHOOK_SECRET_KEY_ALIAS
    return exports


def create_webhook_queues(env: Mapping[str, str]) -> str:
    """The delivery queue and its DLQ, as template.yaml's (idempotent); the queue's URL."""
    boto3: Any = importlib.import_module("boto3")
    sqs = boto3.client(
        "sqs",
        endpoint_url=env["AWS_ENDPOINT_URL_SQS"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    dlq = sqs.create_queue(QueueName=WEBHOOK_DLQ)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    policy = json.dumps({"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": 5})
    attributes = {"RedrivePolicy": policy, "VisibilityTimeout": "60"}
    return str(sqs.create_queue(QueueName=WEBHOOK_QUEUE, Attributes=attributes)["QueueUrl"])


def create_webhook_secret_key(env: Mapping[str, str]) -> None:
    """The symmetric key of template.yaml's WebhookSecretKey (idempotent by its alias). moto
    keeps no symmetric key across a restart, so in dev a subscription made before one cannot
    be signed for: rotate its secret."""
    boto3: Any = importlib.import_module("boto3")
    kms = boto3.client(
        "kms",
        endpoint_url=env["AWS_ENDPOINT_URL_KMS"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    if any(a["AliasName"] == WEBHOOK_SECRET_KEY_ALIAS for a in kms.list_aliases()["Aliases"]):
        return
    created = kms.create_key(
        KeySpec="SYMMETRIC_DEFAULT",
        KeyUsage="ENCRYPT_DECRYPT",
        Description=WEBHOOK_SECRET_KEY_DESCRIPTION,
    )
    kms.create_alias(
        AliasName=WEBHOOK_SECRET_KEY_ALIAS, TargetKeyId=created["KeyMetadata"]["KeyId"]
    )


# ----------------------------------------------------------------------------------------------


def create_queues(env: Mapping[str, str]) -> str:
    """Create the DLQ and the audit queue (idempotent); return the audit queue's URL."""
    boto3: Any = importlib.import_module("boto3")  # lazily, and untyped on purpose
    client_error: Any = importlib.import_module("botocore.exceptions").ClientError
    sqs = boto3.client(
        "sqs",
        endpoint_url=env["AWS_ENDPOINT_URL_SQS"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )

    def create(name: str, attributes: dict[str, str]) -> str:
        try:
            return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        except client_error as error:  # exists with other attributes: keep it as it is
            if error.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
                raise
            return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])

    dlq = create(DLQ, {})
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    policy = json.dumps({"deadLetterTargetArn": attributes["QueueArn"], "maxReceiveCount": 3})
    return create(QUEUE, {"RedrivePolicy": policy, "VisibilityTimeout": "60"})


def create_digest_key(env: Mapping[str, str]) -> None:
    """The asymmetric key that signs audit digests, as template.yaml's AuditDigestKey (idempotent
    by its alias)."""
    ensure_signing_key(env, DIGEST_KEY_ALIAS, DIGEST_KEY_DESCRIPTION)


def ensure_signing_key(env: Mapping[str, str], alias: str, description: str) -> None:
    """An ECC_NIST_P256 SIGN_VERIFY key under `alias`: the one kept by an earlier dev run (found
    by its `description`), or a new one."""
    boto3: Any = importlib.import_module("boto3")
    kms = boto3.client(
        "kms",
        endpoint_url=env["AWS_ENDPOINT_URL_KMS"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    aliases = kms.list_aliases()["Aliases"]
    if any(entry["AliasName"] == alias for entry in aliases):
        return
    # moto keeps no aliases across a restart, but for dev it keeps the keys themselves.
    kept = [
        meta["KeyId"]
        for key in kms.list_keys()["Keys"]
        if (meta := kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"])["Description"]
        == description
    ]
    key_id = kept[0] if kept else None
    if key_id is None:
        created = kms.create_key(
            KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description=description
        )
        key_id = created["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)


# --- token keys (issue 19): the key that signs the API's tokens, as template.yaml's TokenKeyBlue


def needs_token_key(env: Mapping[str, str], servers: list[Server]) -> bool:
    """Our own moto always needs it; an external KMS only without SECURITY_JWT_SIGNING_KEY_ID."""
    if any(isinstance(server, Sqs) for server in servers):
        return not env.get("AWS_ENDPOINT_URL_KMS")
    return bool(env.get("AWS_ENDPOINT_URL_KMS")) and not env.get("SECURITY_JWT_SIGNING_KEY_ID")


def create_token_key(env: Mapping[str, str]) -> None:
    ensure_signing_key(env, TOKEN_KEY_ALIAS, TOKEN_KEY_DESCRIPTION)


# --- secrets (issue 19): read from Secrets Manager (moto) at run time, as in AWS ---------------

LOCAL_SECRETS = {
    "database-uri": "todo/local/database-uri",
    "redis-password": "todo/local/redis-password",
    "hash-key": "todo/local/hash-key",
}


def local_secret(datadir: Path, name: str) -> str:
    """A random value kept in the profile's data folder (the Redis password, the hash key): dev
    keeps it across restarts, test and bench start from an empty folder."""
    path = datadir / "secrets" / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _secret_values(profile: str, servers: list[Server]) -> dict[str, str]:
    values = {"hash-key": local_secret(data_root() / profile, "hash-key")}
    for server in servers:
        if isinstance(server, FerretDB):
            values["database-uri"] = server.uri()
        if isinstance(server, Redis):
            values["redis-password"] = local_secret(server.datadir, "redis-password")
    return values


def needs_secrets(env: Mapping[str, str], servers: list[Server]) -> bool:
    """Our own moto holds them, unless another Secrets Manager endpoint is given."""
    ours = any(isinstance(server, Sqs) for server in servers)
    return ours and not env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER")


def outright_secrets(profile: str, servers: list[Server]) -> dict[str, str]:
    """Without a Secrets Manager of ours, the values themselves (a local run only, SPEC §9)."""
    values = _secret_values(profile, servers)
    names = {"database-uri": "DATABASE_URI", "redis-password": "REDIS_PASSWORD"}
    return {names.get(key, "SECURITY_HASH_KEY"): value for key, value in values.items()}


def create_secrets(profile: str, env: Mapping[str, str], servers: list[Server]) -> None:
    """Put each server's secret into moto's Secrets Manager, as `docs/deploy.md` has them."""
    boto3: Any = importlib.import_module("boto3")
    manager = boto3.client(
        "secretsmanager",
        endpoint_url=env["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    for key, value in _secret_values(profile, servers).items():
        manager.create_secret(Name=LOCAL_SECRETS[key], SecretString=value)


def ensure_secret(env: Mapping[str, str], name: str, value: str, *, replace: bool) -> str:
    """The secret `name` on the Secrets Manager of `env`: created with `value`, or, when it
    exists, given `value` if `replace` (else kept as it is). What was done, for a log line."""
    boto3: Any = importlib.import_module("boto3")
    client_error: Any = importlib.import_module("botocore.exceptions").ClientError
    manager = boto3.client(
        "secretsmanager",
        endpoint_url=env["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        current = manager.get_secret_value(SecretId=name)["SecretString"]
    except client_error as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        manager.create_secret(Name=name, SecretString=value)
        return "created"
    if current == value or not replace:
        return "kept"
    manager.put_secret_value(SecretId=name, SecretString=value)
    return "updated"


# --- provision (sam local): the same keys, bucket and secrets on a moto of someone else's ------

# What a function in a Lambda container on docker-compose.yml's network reaches, and the
# password the compose Redis is started with (TODO_REDIS_PASSWORD there too).
COMPOSE_DATABASE_URI = "mongodb://mongo:27017/"
COMPOSE_REDIS_PASSWORD = os.environ.get("TODO_REDIS_PASSWORD") or "todo-local-redis"
# Kept when it exists: a new hash key would orphan the idempotency records made with the old one.
KEPT_SECRETS = frozenset({"hash-key"})


def loopback_endpoint(url: str) -> tuple[str, int]:
    """`url`'s host and port, refused unless it is on this machine: provisioning creates keys and
    secrets, and an endpoint mistyped as AWS's own must not create them there."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        loopback, port = False, 0
    if parts.scheme not in ("http", "https") or not loopback:
        raise Fail(
            f"--endpoint {url!r} is not an http URL on this machine (localhost, 127.0.0.0/8, "
            "::1): provision fills a local moto only, such as docker-compose.yml's "
            "(http://127.0.0.1:5000)"
        )
    return host, port


def provision_env(endpoint: str, region: str, bucket: str) -> dict[str, str]:
    """The environment this script's own steps read, for moto at `endpoint`. Dummy credentials,
    never the caller's: moto takes any, and real ones have no business here."""
    return {
        "AWS_ENDPOINT_URL_KMS": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AUDIT_DIGEST_BUCKET": bucket,
    }


def cmd_provision(
    endpoint: str, stage: str, region: str, bucket: str, secret_values: Mapping[str, str]
) -> int:
    host, port = loopback_endpoint(endpoint)
    if not tcp_answers(host, port):
        raise Fail(f"nothing answers at {endpoint}: start moto first (`docker compose up -d`)")
    env = provision_env(endpoint.rstrip("/"), region, bucket)
    for step in (create_token_key, create_digest_key, create_webhook_secret_key):
        step(env)
    create_digest_bucket(env)
    say(f"keys: {TOKEN_KEY_ALIAS}, {DIGEST_KEY_ALIAS}, {WEBHOOK_SECRET_KEY_ALIAS} ({region})")
    say(f"digest bucket: {bucket} (Object Lock, compliance, {DIGEST_BUCKET_RETENTION_DAYS} day)")
    for key, value in secret_values.items():
        name = f"todo/{stage}/{key}"
        done = ensure_secret(env, name, value, replace=key not in KEPT_SECRETS)
        say(f"secret {name}: {done}")
    return 0


# --- running ----------------------------------------------------------------------------


@contextlib.contextmanager
def profile_lock(profile: str) -> Iterator[None]:
    """Hold <repo>/.local/<profile>.lock, so that two runs never share (or wipe) one data folder."""
    path = data_root() / f"{profile}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Fail(
                f"another `servers.py run --profile {profile}` (`make dev`/`make test`) is running "
                f"in this checkout (it holds {path}); stop that one first"
            ) from None
        yield


def _owns_terminal() -> bool:
    """True if we are in the terminal's foreground group, so Ctrl-C reaches CMD directly."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    return False


class Supervisor:
    """Starts the servers, runs CMD, forwards signals to it and stops everything it started."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.child: subprocess.Popen[bytes] | None = None
        self.interactive = _owns_terminal()

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        child = self.child
        if child is None or child.poll() is not None:
            raise Interrupted(signum)
        if not self.interactive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signum)  # CMD has its own process group
        elif signum == signal.SIGTERM:
            child.send_signal(signum)  # the terminal's SIGINT/SIGHUP reach CMD without us

    def start(self) -> None:
        for server in self.servers:
            server.start()
        pending = list(self.servers)
        while pending:
            for server in list(pending):
                if server.ready():
                    pending.remove(server)
                    took = server.elapsed()
                    say(f"{server.name} ready on {HOST}:{server.port} after {took:.2f} s")
                else:
                    server.fail_if_stuck()
            time.sleep(0.05)

    def run(self, argv: list[str], env: dict[str, str]) -> int:
        self.child = subprocess.Popen(
            argv,
            env=env,
            process_group=None if self.interactive else 0,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads run at this point)
        )
        code = self.child.wait()
        if not self.interactive:  # leftovers of CMD (e.g. its workers)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pid, signal.SIGTERM)
        return 128 - code if code < 0 else code

    def stop(self) -> None:
        running = [s.proc for s in self.servers if s.proc is not None and s.proc.poll() is None]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for proc in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the leader if it hung, or what it left behind
            proc.wait()


def cmd_run(profile: str, argv: list[str]) -> int:
    if not argv:
        raise Fail("`run` needs a command: servers.py run --profile test -- pytest")
    env = dict(os.environ)
    servers = plan(profile, env)
    for server in servers:
        server.install()
    with profile_lock(profile) if servers else contextlib.nullcontext():
        return _run_locked(profile, argv, env, servers)


Step = Callable[[dict[str, str]], None]


def provisioning(profile: str, env: Mapping[str, str], servers: list[Server]) -> list[Step]:
    """What to create on the servers once they answer: decided from the environment as given,
    before the exports fill it (a queue, key or secret the caller named is the caller's)."""
    steps: list[Step] = []
    if needs_queues(env, servers):
        steps += [_audit_queues, _webhook_queues]
    if needs_digest_key(env, servers):
        steps += [create_digest_key, _webhook_secret_key]
    if needs_digest_bucket(env, servers):
        steps.append(create_digest_bucket)
    if needs_token_key(env, servers):
        steps.append(create_token_key)
    if needs_secrets(env, servers):
        steps.append(lambda env: create_secrets(profile, env, servers))
    return steps


def _audit_queues(env: dict[str, str]) -> None:
    env["AUDIT_QUEUE_URL"] = create_queues(env)


def _webhook_queues(env: dict[str, str]) -> None:
    if env.get("WEBHOOKS_QUEUE_URL", "").endswith(f"/{WEBHOOK_QUEUE}"):
        env["WEBHOOKS_QUEUE_URL"] = create_webhook_queues(env)


def _webhook_secret_key(env: dict[str, str]) -> None:
    if env.get("WEBHOOKS_SECRET_KEY_ID") == WEBHOOK_SECRET_KEY_ALIAS:
        create_webhook_secret_key(env)


def _run_locked(profile: str, argv: list[str], env: dict[str, str], servers: list[Server]) -> int:
    for server in servers:
        if tcp_answers(HOST, server.port):
            raise Fail(
                f"port {server.port} ({server.name}) is already in use, perhaps by another "
                "`make dev`/`make test`. Stop that, choose other ports with LOCAL_MONGO_PORT/"
                "LOCAL_REDIS_PORT/LOCAL_SQS_PORT, or use the running server explicitly with "
                "DATABASE_URI, REDIS_HOST or AWS_ENDPOINT_URL_SQS."
            )
    datadir = data_root() / profile
    if profile != "dev" and servers:
        shutil.rmtree(datadir, ignore_errors=True)
    steps = provisioning(profile, env, servers)
    env.update(exports_for(profile, env, servers))
    supervisor = Supervisor(servers)
    previous = {signum: signal.signal(signum, supervisor.on_signal) for signum in FORWARDED}
    try:
        supervisor.start()
        env.update({server.PID_VARIABLE: str(server.proc.pid) for server in servers if server.proc})
        for step in steps:
            step(env)
        return supervisor.run(argv, env)
    except Interrupted as interrupted:
        say(f"interrupted by {interrupted}")
        return 128 + interrupted.signum
    finally:
        for signum in FORWARDED:
            signal.signal(signum, signal.SIG_IGN)  # let the clean-up finish
        supervisor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def cmd_install() -> int:
    install_ferretdb()
    say(f"ferretdb: {FERRETDB_BIN} works")
    install_redis()
    say(f"redis: {shutil.which('redis-server')}")
    check_moto()
    say(f"sqs: moto[server] and boto3 importable by {sys.executable}")
    return 0


def cmd_env(profile: str) -> int:
    for key, value in exports_for(profile, os.environ, plan(profile, os.environ)).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def _stage(value: str) -> str:
    if not value.replace("-", "").isalnum() or not value[:1].isalpha() or value != value.lower():
        raise argparse.ArgumentTypeError(f"{value!r} is not a stage name such as local")
    return value


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install what is missing")
    env = commands.add_parser("env", help="print the export lines for a shell")
    run = commands.add_parser("run", help="run CMD with the servers")
    for sub in (env, run):
        sub.add_argument("--profile", choices=sorted(PORTS), required=True)
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    provision = commands.add_parser(
        "provision", help="create the keys, digest bucket and secrets on a running moto"
    )
    provision.add_argument("--endpoint", required=True, help="moto's URL, on this machine")
    provision.add_argument("--stage", default="local", type=_stage, help="secrets todo/STAGE/*")
    provision.add_argument("--region", default="us-east-1", help="the Region SAM passes")
    provision.add_argument("--digest-bucket", default=DIGEST_BUCKET)
    provision.add_argument("--database-uri", default=COMPOSE_DATABASE_URI)
    provision.add_argument("--redis-password", default=COMPOSE_REDIS_PASSWORD)
    options = parser.parse_args(args)
    try:
        if options.command == "install":
            return cmd_install()
        if options.command == "env":
            return cmd_env(options.profile)
        if options.command == "provision":
            values = {
                "database-uri": options.database_uri,
                "redis-password": options.redis_password,
                "hash-key": secrets.token_urlsafe(32),
            }
            return cmd_provision(
                options.endpoint, options.stage, options.region, options.digest_bucket, values
            )
        argv = options.cmd[1:] if options.cmd[:1] == ["--"] else options.cmd
        return cmd_run(options.profile, argv)
    except Fail as failure:
        say(f"error: {failure}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
