"""Where the app runs: the cluster connection and the namespace."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from config.base import DnsLabel, Model

_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _label_key(value: str) -> str:
    prefix, _, name = value.rpartition("/")
    if not _LABEL_NAME.match(name) or (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))):
        raise ValueError(
            "must be a node label key, [DNS prefix/]name with a name of at most 63 letters, digits, "
            "'-', '_' or '.', e.g. topology.kubernetes.io/zone"
        )
    return value


class KubernetesConfig(Model):
    namespace: DnsLabel = "appcluster"
    """The namespace every object goes in."""
    create_namespace: bool = True
    """Create the namespace (protected like the data); false uses an existing one."""
    # A kubeconfig path or its content; unset uses the ambient one (KUBECONFIG / ~/.kube/config).
    kubeconfig: str | None = None
    """A kubeconfig path or its content; unset uses the ambient one (KUBECONFIG / ~/.kube/config)."""
    context: str | None = None
    """The kubeconfig context; unset uses its current context."""
    # Write manifests to this folder instead of talking to a cluster (Pulumi's render mode).
    render_yaml_to_directory: str | None = None
    """Write manifests to this folder instead of talking to a cluster (Pulumi's render mode)."""
    # Spread instances over these topology keys (one constraint each, skew 1).
    spread_topology_keys: list[Annotated[str, AfterValidator(_label_key)]] = Field(
        default_factory=lambda: ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    )
    """Spread instances over these node label keys, one constraint each with skew 1 (zones, then hosts)."""


# The kubernetes platform implements every key (config/stack.py reads this beside the other platforms').
UNSUPPORTED: dict[str, str] = {}
