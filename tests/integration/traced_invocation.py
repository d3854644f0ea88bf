"""Run by `test_tracing_xray.py` in a process of its own, as a traced Lambda environment:
invoke the users function's handler once with a login event, then let the audit sender finish.

The environment (LAMBDA_TASK_ROOT, _X_AMZN_TRACE_ID, AWS_XRAY_DAEMON_ADDRESS) comes from the test.
Usage: python -m tests.integration.traced_invocation <email> <password> <request id>
"""

from __future__ import annotations

import json
import sys

from devtools.lambda_local import HttpRequest, context_of, function_at, load_handler
from todo_common import container, tracing


def main(email: str, password: str, request_id: str) -> int:
    users = function_at("users")
    request = HttpRequest.of(
        "POST",
        "/auth/login",
        json={"email": email, "password": password},
        headers={"X-Request-Id": request_id},
    )
    result = load_handler(users)(request.event(), context_of(users))
    container.audit_trail().flush()
    report = {
        "status": result["statusCode"],
        "traced": tracing.enabled(),
        "xray_sdk_loaded": "aws_xray_sdk.core" in sys.modules,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
