"""LoadBalancer: how traffic reaches the serving instances of both roles.

A Service (ClusterIP or LoadBalancer) that selects only serving pods, so instances that are not
ready (the startup and readiness probes on the health path) get no traffic; optionally an Ingress
with TLS. A Kubernetes Service spreads connections evenly: the vendor's 3/5 master/slave weights
need a load balancer with weighted targets (the AWS ALB mode), so here they are recorded on the
Service as an annotation and not enforced.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from components import k8s as conv


@dataclass
class LoadBalancerArgs:
    app_name: str
    namespace: pulumi.Input[str]
    pod_selector: Mapping[str, str]
    service_type: str = "ClusterIP"
    port: int = 80
    sticky: bool = False
    sticky_timeout_seconds: int = 10800
    weights: Mapping[str, int] = field(default_factory=dict)
    ingress_host: Optional[str] = None
    ingress_class: Optional[str] = None
    tls_secret_name: Optional[str] = None
    ingress_annotations: Mapping[str, str] = field(default_factory=dict)


class LoadBalancer(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:LoadBalancer", name, None, opts)
        labels = conv.labels(args.app_name, "load-balancer")
        spec: dict = {
            "type": args.service_type,
            "selector": dict(args.pod_selector),
            "ports": [{"name": "http", "port": args.port, "targetPort": "http", "protocol": "TCP"}],
        }
        if args.sticky:
            spec.update(sessionAffinity="ClientIP",
                        sessionAffinityConfig={"clientIP": {"timeoutSeconds": args.sticky_timeout_seconds}})
        annotations = {}
        if args.weights:
            annotations["appcluster.io/weights"] = ",".join(f"{role}={w}" for role, w in args.weights.items())
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": args.app_name, "namespace": args.namespace, "labels": labels, "annotations": annotations},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.service_name = service.metadata.name
        self.url = pulumi.Output.concat("http://", self.service_name, ".", args.namespace, ".svc.cluster.local",
                                        "" if args.port == 80 else f":{args.port}")
        if args.ingress_host:
            self.url = self._ingress(name, args, labels, service)
        self.register_outputs({"service_name": self.service_name, "url": self.url})

    def _ingress(self, name: str, args: LoadBalancerArgs, labels: dict, service: k8s.core.v1.Service) -> pulumi.Output[str]:
        annotations = dict(args.ingress_annotations)
        if args.sticky and (args.ingress_class or "").startswith("nginx"):
            annotations.setdefault("nginx.ingress.kubernetes.io/affinity", "cookie")
        spec: dict = {
            "rules": [{"host": args.ingress_host, "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": service.metadata.name, "port": {"name": "http"}}},
            }]}}],
        }
        if args.ingress_class:
            spec["ingressClassName"] = args.ingress_class
        if args.tls_secret_name:
            spec["tls"] = [{"hosts": [args.ingress_host], "secretName": args.tls_secret_name}]
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={"name": args.app_name, "namespace": args.namespace, "labels": labels, "annotations": annotations},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )
        scheme = "https" if args.tls_secret_name else "http"
        return pulumi.Output.from_input(f"{scheme}://{args.ingress_host}")
