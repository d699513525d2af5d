"""Evaluate a Pulumi policy pack in-process against a recorded run.

The policies are the very objects `policies/__main__.py` hands to PolicyPack; this module only
builds the arguments the analyzer would (camelCase props, secrets unwrapped without a marker).
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from tools.offline.harness import Declared, Run, reveal
from tools.offline.sdk import unknown_checking_proxy

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"{self.policy}  {self.resource}  {self.message}"


def load_policies(policies_dir: Path = POLICIES_DIR) -> list:
    if str(policies_dir) not in sys.path:
        sys.path.insert(0, str(policies_dir))
    from appcluster_policies import POLICIES

    return POLICIES


def _options(r: Declared) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=r.protect,
        ignore_changes=r.ignore_changes,
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=r.parent or None,
    )


def _call(fn, *args) -> None:
    result = fn(*args)
    if inspect.isawaitable(result):
        asyncio.run(result)


def strictest(policies: list | None = None) -> dict[str, Any]:
    """Every policy mandatory, every requirement on: the levels for an environment nobody configured."""
    out: dict[str, Any] = {}
    for p in policies if policies is not None else load_policies():
        schema = getattr(p, "config_schema", None)
        out[p.name] = {
            "enforcementLevel": "mandatory",
            **({"required": True} if schema and "required" in (schema.properties or {}) else {}),
        }
    return out


def _level(policy, config: Mapping[str, Any]) -> EnforcementLevel:
    chosen = config.get(policy.name, config.get("all"))
    if isinstance(chosen, Mapping):
        chosen = chosen.get("enforcementLevel")
    if chosen:
        return EnforcementLevel(chosen)
    return policy.enforcement_level or EnforcementLevel.ADVISORY


def evaluate(run: Run, config: Mapping[str, Any] | None = None, policies: list | None = None) -> list[Violation]:
    config = config or {}
    policies = policies if policies is not None else load_policies()
    custom = [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    # Exactly what the analyzer hands a policy: secrets unwrapped, inside unknown-checking proxies.
    props = {r.urn: unknown_checking_proxy(reveal(r.inputs)) for r in run.resources}
    stack_resources: dict[str, PolicyResource] = {}
    for r in run.resources:
        stack_resources[r.urn] = PolicyResource(
            r.type, props[r.urn], r.urn, r.name, _options(r), None, stack_resources.get(r.parent), [], {}
        )
    for r in run.resources:
        stack_resources[r.urn].dependencies = [stack_resources[d] for d in r.dependencies if d in stack_resources]

    violations: list[Violation] = []
    for policy in policies:
        level = _level(policy, config)
        if level == EnforcementLevel.DISABLED:
            continue
        policy_config = config.get(policy.name) if isinstance(config.get(policy.name), Mapping) else None

        def report(message: str, urn: str | None = None, _policy=policy, _level=level) -> None:
            violations.append(Violation(_policy.name, _level.value, (urn or "stack").split("::")[-1], message))

        if isinstance(policy, ResourceValidationPolicy):
            for r in custom:
                args = ResourceValidationArgs(
                    r.type,
                    props[r.urn],
                    r.urn,
                    r.name,
                    _options(r),
                    PolicyProviderResource("pulumi:providers:kubernetes", {}, r.provider, "default")
                    if r.provider
                    else None,
                    policy_config,
                )
                for validate in policy.validate if isinstance(policy.validate, list) else [policy.validate]:
                    _call(validate, args, lambda m, u=None, _r=r: report(m, u or _r.urn))
        elif isinstance(policy, StackValidationPolicy):
            _call(
                policy.validate,
                StackValidationArgs([stack_resources[r.urn] for r in run.resources if r.custom], policy_config),
                report,
            )
    return violations
