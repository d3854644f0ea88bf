"""The environment `template.yaml` gives a function, resolved for a local run (RIE mode).

What `sam local start-api --env-vars` does, without Docker: the template's variables (Globals,
then the function's own) are evaluated for the `local` stage; a variable the local environment
sets (the local servers' endpoints, the development key) replaces the template's value, as an
`env.json` would; a value only AWS can supply (a Secrets Manager reference, a queue's URL) is left
out unless the local environment has it. Nothing else of the caller's environment is passed on,
except what the Lambda service itself puts in every function's environment (credentials, Region)
and where the local AWS services are (`AWS_ENDPOINT_URL_*`: moto).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from devtools.template import FunctionDef, Template

# The `local` stage of samconfig.toml, plus what its env.json would say about Redis TLS.
LOCAL_PARAMETERS = {"Stage": "local", "RedisSsl": "false", "RedisHost": "127.0.0.1"}
# Set by the Lambda service in every function's environment (the role's credentials, the Region),
# and what `scripts/servers.py` says about the local database server (FerretDB's adapter), which
# the template does not declare: in AWS the database is MongoDB, the default.
RUNTIME_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "DATABASE_SERVER",
)
# Where AWS is. In Lambda a function reaches KMS, Secrets Manager and S3 at their regional
# endpoints without being told; on this machine AWS is moto, and only the local environment knows
# where: its endpoints are passed on, so a function never looks up or calls a real AWS endpoint.
LOCAL_AWS_ENDPOINTS = re.compile(r"^AWS_ENDPOINT_URL(_[A-Z0-9_]+)?$")


class Unresolved(Exception):
    """A value only AWS can supply here (a resource's Ref, a dynamic reference, NoValue)."""


class _Resolver:
    def __init__(self, template: Template, parameters: Mapping[str, str]) -> None:
        self.template = template
        self.parameters = {**template.parameters, **parameters}

    def value(self, node: Any) -> str:
        if isinstance(node, bool):
            return "true" if node else "false"
        if isinstance(node, (str, int, float)):
            text = str(node)
            if "{{resolve:" in text:
                raise Unresolved(text)
            return text
        if not isinstance(node, dict) or len(node) != 1:
            raise Unresolved(repr(node))
        [(name, arg)] = node.items()
        if name == "Ref":
            if arg in self.parameters:
                return self.parameters[arg]
            raise Unresolved(arg)  # a resource, or AWS::NoValue
        if name == "Fn::FindInMap":
            mapping, first, second = (self.value(part) for part in arg)
            return self.value(self.template.mappings[mapping][first][second])
        if name == "Fn::Sub" and isinstance(arg, str):
            return self.value(re.sub(r"\$\{([A-Za-z0-9:]+)\}", lambda m: self.ref(m.group(1)), arg))
        if name == "Fn::If":
            condition, if_true, if_false = arg
            return self.value(if_true if self.condition(condition) else if_false)
        raise Unresolved(name)

    def ref(self, name: str) -> str:
        return self.value({"Ref": name})

    def condition(self, node: Any) -> bool:
        if isinstance(node, str):
            return self.condition(self.template.conditions[node])
        [(name, arg)] = node.items()
        if name == "Fn::Equals":
            return self.value(arg[0]) == self.value(arg[1])
        if name == "Fn::Not":
            return not self.condition(arg[0])
        if name == "Fn::And":
            return all(self.condition(part) for part in arg)
        if name == "Fn::Or":
            return any(self.condition(part) for part in arg)
        if name == "Condition":
            return self.condition(arg)
        raise Unresolved(name)


def function_environment(
    template: Template, fn: FunctionDef, local: Mapping[str, str]
) -> dict[str, str]:
    """`fn`'s variables for a local run: the template's, with the local environment's values."""
    resolver = _Resolver(template, LOCAL_PARAMETERS)
    env: dict[str, str] = {}
    for name, node in fn.environment.items():
        if local.get(name):
            env[name] = local[name]
            continue
        try:
            env[name] = resolver.value(node)
        except Unresolved:
            continue
    env.update({name: local[name] for name in RUNTIME_VARIABLES if local.get(name)})
    env.update({n: v for n, v in local.items() if LOCAL_AWS_ENDPOINTS.match(n) and v})
    return env
