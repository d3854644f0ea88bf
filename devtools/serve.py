"""`make dev`: prepare the database, then serve the whole API through the local gateway.

Run under `scripts/servers.py run --profile dev`, which starts MongoDB (FerretDB), Redis and SQS
(moto) unless the environment points at running ones. Steps: create indexes, create the
development ADMIN (`DEV_ADMIN_EMAIL` / `DEV_ADMIN_PASSWORD`) when no ADMIN exists, and serve
`template.yaml`'s routes on `APP_HOST:APP_PORT`, with the worker that feeds the audit queue to its
consumer and runs the outbox relay.

`APP_RELOAD=true` (the Python runtime only) serves from a process that uvicorn's reloader starts
anew whenever a `.py` file of the functions, the layer or devtools changes: the gateway and its
worker are built again there (`reloading_gateway`), so a code change needs no Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "common"
RELOAD_DIRS = (ROOT / "functions", LAYER / "todo_common", ROOT / "devtools")
TEMPLATE_ENV = "TODO_DEV_TEMPLATE"  # how the reloader's fresh process finds the template


def reloading_gateway() -> object:
    """The ASGI app of one reloader process: a gateway over the template, with its worker (the
    worker's threads end with the process when the reloader replaces it)."""
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))
    from devtools.gateway import LocalGateway
    from devtools.template import load_template
    from devtools.worker import Worker

    template = load_template(Path(os.environ[TEMPLATE_ENV]))
    gateway = LocalGateway(template)
    gateway.warm_up()
    Worker(template).start()
    return gateway


def _dev_secret() -> str:
    """A random hash key kept in the git-ignored data folder, so idempotency records survive
    restarts."""
    path = ROOT / ".local" / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--log-level", default="warning", help="uvicorn's access/error log level")
    parser.add_argument(
        "--runtime",
        choices=("python", "lambda"),
        default=os.environ.get("RUNTIME") or "python",
        help="python: import the handlers here (default); lambda: the built artifacts, each "
        "function in its own Lambda Runtime Interface Emulator process (devtools/rie.py)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)

    os.environ.setdefault("TODO_LOCAL_GATEWAY", "1")
    if not os.environ.get("SECURITY_HASH_KEY") and not os.environ.get("SECURITY_HASH_KEY_SECRET"):
        os.environ["SECURITY_HASH_KEY"] = _dev_secret()  # outside `make dev` (scripts/servers.py)
    sys.path.insert(0, str(LAYER))

    import uvicorn

    from devtools.gateway import LocalGateway
    from devtools.template import load_template
    from devtools.worker import Worker
    from todo_common.cli import create_admin
    from todo_common.clients import get_database
    from todo_common.indexes import ensure_indexes
    from todo_common.settings import get_settings

    settings = get_settings()
    declared = ensure_indexes(get_database())
    print(f"Indexes: {sum(map(len, declared.values()))} on {', '.join(declared)}.", flush=True)
    create_admin(
        os.environ.get("DEV_ADMIN_EMAIL", "admin@example.com"),
        os.environ.get("DEV_ADMIN_PASSWORD", "admin-password-123"),
        "admin",
        "Development Admin",
        only_if_none=True,
    )
    host = args.host or settings.app.host
    port = args.port or settings.app.port
    # API Gateway's sourceIp is the TCP peer: no X-Forwarded-For or Forwarded is believed here,
    # or a throttled client would get a new address by sending a header.
    served = {
        "host": host,
        "port": port,
        "log_level": args.log_level,
        "lifespan": "off",
        "proxy_headers": False,
        "forwarded_allow_ips": "",
    }
    if settings.app.reload and args.runtime == "python":
        os.environ[TEMPLATE_ENV] = str(args.template.resolve())
        print(f"Todo API on http://{host}:{port}, reloading on code changes.", flush=True)
        uvicorn.run(
            "devtools.serve:reloading_gateway",
            factory=True,
            reload=True,
            reload_dirs=[str(d) for d in RELOAD_DIRS],
            **served,
        )
        return 0
    template = load_template(args.template)
    fleet = None
    if args.runtime == "lambda":
        from devtools.artifacts import build_for_host
        from devtools.rie import RieFleet

        fleet = RieFleet(template, build_for_host(template))
        print(f"Lambda runtime: one RIE per function; logs in {fleet.log_dir}", flush=True)
        gateway = LocalGateway(template, loader=fleet.loader)
        worker = Worker(template, loader=fleet.loader)
    else:
        gateway = LocalGateway(template)
        worker = Worker(template)
    gateway.warm_up()
    worker.start()
    print(
        f"Todo API on http://{host}:{port} (docs: http://{host}:{port}/docs); Ctrl-C stops it.",
        flush=True,
    )
    print(
        f"Worker: {len(worker.pollers)} queue consumer(s), {len(worker.schedules)} schedule(s).",
        flush=True,
    )
    try:
        uvicorn.run(gateway, **served)
    finally:
        worker.stop()
        if fleet is not None:
            fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
