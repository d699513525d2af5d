"""Where the app runs: the cluster connection and the namespace."""
from __future__ import annotations

from typing import Optional

from config.base import DnsLabel, Model


class KubernetesConfig(Model):
    namespace: DnsLabel = "appcluster"
    create_namespace: bool = True
    # A kubeconfig path or its content; unset uses the ambient one (KUBECONFIG / ~/.kube/config).
    kubeconfig: Optional[str] = None
    context: Optional[str] = None
    # Write manifests to this folder instead of talking to a cluster (Pulumi's render mode).
    render_yaml_to_directory: Optional[str] = None
    # Spread instances over these topology keys (one constraint each, skew 1).
    spread_topology_keys: list[str] = ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
