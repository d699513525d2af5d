"""Where an app connects and where it is reached: a host that resolved to nothing is a broken deploy.

A connection string rendered from an output the program never got (`rediss://:…@None:6379/0`)
deploys cleanly and fails at the first connection, so it is mandatory. A host still unknown in a
preview (an RDS or ElastiCache endpoint AWS computes on create) is normal for a first deploy and
cannot block it, but it is not "clean" either: an advisory says it could not be verified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs, StackValidationPolicy
from pulumi_policy.policy import Severity

from appcluster_policies.workloads import UNKNOWN, WORKLOAD_TYPES, Report, Workload, meta, plain, secrets

SERVICE_TYPE = "kubernetes:core/v1:Service"
INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress"
# Env vars that hold a host: named so, or valued as a URL or a Go DSN.
HOST_NAMES = re.compile(r"(^|_)(HOST|HOSTNAME|ENDPOINT)$")
URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# What a missing value turns into when formatted into a string.
NOTHING = {"", "none", "null", "undefined", "<nil>"}


def _host(value: str, named_host: bool) -> str | None:
    """The host in a connection value, or None when the value holds no host at all."""
    if "@tcp(" in value:
        return value.split("@tcp(", 1)[1].split(")", 1)[0].rsplit(":", 1)[0]
    if URL.match(value):
        netloc = value.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
        return netloc.rsplit(":", 1)[0] if not netloc.startswith("[") else netloc
    return value if named_host else None


def _hosts(resources: Iterable[Any]) -> Iterator[tuple[str, str, Any]]:
    """(urn, what, host or UNKNOWN) for every host the stack's workloads, Services and Ingresses name."""
    resources = list(resources)
    data = secrets(resources)
    for r in resources:
        props = plain(r.props)
        if r.resource_type in WORKLOAD_TYPES:
            w = Workload(r.urn, r.resource_type, props)
            for name, var in w.env(data).items():
                if "value" in var:
                    value = var["value"]
                else:
                    ref = (var.get("valueFrom") or {}).get("secretKeyRef") or {}
                    if ref.get("name") not in data:
                        continue  # a Secret from outside the stack: nothing to read
                    value = (
                        UNKNOWN if ref.get("key") is UNKNOWN else data[ref["name"]].get(str(ref.get("key")), UNKNOWN)
                    )
                if value is UNKNOWN:
                    if HOST_NAMES.search(name) or name.endswith(("_URL", "_DSN", "_CONN_STRING")):
                        yield r.urn, f"{w.name} env {name}", UNKNOWN
                    continue
                if isinstance(value, str) and (host := _host(value, bool(HOST_NAMES.search(name)))) is not None:
                    yield r.urn, f"{w.name} env {name}", host
        elif r.resource_type == SERVICE_TYPE and (props.get("spec") or {}).get("type") == "ExternalName":
            yield r.urn, f"Service {meta(props).get('name')} externalName", props["spec"].get("externalName")
        elif r.resource_type == INGRESS_TYPE:
            spec = props.get("spec") or {}
            for rule in spec.get("rules") or []:
                if "host" in rule:
                    yield r.urn, f"Ingress {meta(props).get('name')} host", rule["host"]


def _missing(host: Any) -> bool:
    if host is UNKNOWN:
        return False
    return not isinstance(host, str) or host.strip().lower() in NOTHING or "none" in host.lower().split(".")


def _resolved(args: StackValidationArgs, report: Report) -> None:
    for urn, what, host in _hosts(args.resources):
        if _missing(host):
            report(f"{what}: host is {host!r}, an output the program never got; the app would connect to nothing", urn)


def _known(args: StackValidationArgs, report: Report) -> None:
    for urn, what, host in _hosts(args.resources):
        if host is UNKNOWN:
            report(f"{what}: host unknown until the update creates it; cannot be verified in this preview", urn)


ENDPOINT_POLICIES = [
    StackValidationPolicy(
        name="hosts-resolved",
        description="Every connection string, host env var, ExternalName and Ingress host "
        "names a real host, never None/null/empty (an output rendered before it existed).",
        validate=_resolved,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
    StackValidationPolicy(
        name="hosts-verified",
        description="Hosts still unknown in a preview (computed on create) are reported as "
        "not verifiable; advisory, so a first preview stays useful.",
        validate=_known,
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.LOW,
    ),
]
