"""A Lambda context for an invocation the Lambda runtime did not make.

In Lambda, the SnapStart warm-up request (`todo_common.http.app`) has no context of the runtime's
to pass; on a developer's machine, `devtools.lambda_local` passes one to every handler it runs
(the gateway, the worker, the tests, the benchmarks). One class for both, here, because the layer
ships without devtools.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


@dataclass
class LocalContext:
    """The attributes of the Lambda context object that Powertools, Mangum and the handlers read;
    the remaining time counts down from `timeout_seconds`, as a real invocation's does."""

    function_name: str
    timeout_seconds: float = 60
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    account_id: str = ACCOUNT_ID
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{self.account_id}:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
