"""NetworkPolicy: Redis and the database accept connections only from the pods of ours that use them
(the app's instances, its task-only workers, the backup Jobs), and the app pods only on their HTTP port."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv
from components.shared import args as check


@dataclass(frozen=True)
class Protected:
    """Pods (by selector) that only our own clients may reach, on one port. `clients` are the
    app.kubernetes.io/component values of the pods that connect (app, worker, backup)."""

    component: str
    pod_selector: Mapping[str, str]
    port: int
    clients: Sequence[str] = ("app",)


@dataclass(frozen=True, kw_only=True)
class NetworkPolicyArgs:
    app_name: str
    namespace: pulumi.Input[str]
    app_selector: Mapping[str, str]
    app_port: int
    protected: Sequence[Protected]

    def __post_init__(self) -> None:
        check.port(self, "app_port")
        check.require(self, bool(self.app_selector), "app_selector", "must select the app's pods")


class NetworkPolicy(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkPolicyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:NetworkPolicy", name, None, opts)
        rules = [Protected("app", args.app_selector, args.app_port, clients=()), *list(args.protected)]
        for target in rules:
            rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": target.port}]}
            # The app itself is reached by the load balancer / ingress controller, from anywhere.
            if target.clients:
                rule["from"] = [
                    {
                        "podSelector": {
                            "matchLabels": {"app.kubernetes.io/instance": args.app_name},
                            "matchExpressions": [
                                {
                                    "key": "app.kubernetes.io/component",
                                    "operator": "In",
                                    "values": sorted(target.clients),
                                }
                            ],
                        }
                    }
                ]
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{target.component}",
                metadata={
                    "name": f"{args.app_name}-{target.component}",
                    "namespace": args.namespace,
                    "labels": conv.labels(args.app_name, target.component),
                },
                spec={
                    "podSelector": {"matchLabels": dict(target.pod_selector)},
                    "policyTypes": ["Ingress"],
                    "ingress": [rule],
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})
