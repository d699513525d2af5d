"""LoadBalancer: how traffic reaches the serving instances of both roles.

mode service: a Service (ClusterIP or LoadBalancer) selecting only serving pods, so instances that
are not ready (startup/readiness probes on the health path) get no traffic; optionally an Ingress
with TLS. A Service spreads connections evenly, so the vendor's 3/5 master/slave weights are
recorded as an annotation there and not enforced.
mode nlb: the Service becomes an AWS Network Load Balancer (AWS Load Balancer Controller), TLS on
443 with an ACM certificate, HTTP health checks on the health path.
mode alb: an Ingress of class alb: HTTPS with an ACM certificate, HTTP redirected to HTTPS, invalid
headers dropped, desync mitigation, health checks on the health path, optional stickiness, and for
New API the master/slave weights as weighted target groups (one Service per role).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import conventions as conv
from components.shared import args as check

ALB = "alb.ingress.kubernetes.io/"
NLB = "service.beta.kubernetes.io/aws-load-balancer-"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


Mode = Literal["service", "nlb", "alb"]
ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer"]


@dataclass(frozen=True, kw_only=True)
class LoadBalancerArgs:
    app_name: str  # names and labels: the Service is <app>
    namespace: pulumi.Input[str]  # where the Service and Ingress go
    pod_selector: Mapping[
        str, str
    ]  # the pods that serve (never workers or the maintenance page's, unless in maintenance)
    health_path: str = "/"  # what the cloud load balancer checks
    health_status: int = 200  # alb: what the health path answers when the instance serves
    health_by_tcp: bool = False  # nlb: check by TCP (the app's health path is rate limited)
    idle_timeout_seconds: int = 60  # alb: how long a request may go without a byte either way
    primary_only_paths: tuple[str, ...] = ()  # alb / Ingress: paths only the primary role answers
    mode: Mode = "service"  # a Service (and optional Ingress), an AWS NLB, or an AWS ALB
    service_type: ServiceType = "ClusterIP"  # mode service: the Service's type
    port: int = 80  # the port clients connect to
    sticky: bool = False  # keep a client on one instance
    sticky_timeout_seconds: int = 10800  # how long stickiness lasts
    weights: Mapping[str, int] = field(default_factory=dict)  # role -> weight (needs one Service per role)
    role_selectors: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # role -> its pods' selector
    ingress_host: str | None = None  # the host name an Ingress serves
    ingress_class: str | None = None  # the Ingress class (mode service)
    tls_secret_name: str | None = None  # the Ingress's TLS certificate Secret
    ingress_annotations: Mapping[str, str] = field(default_factory=dict)  # extra Ingress annotations
    certificate_arn: str | None = None  # nlb / alb: the ACM certificate that terminates TLS
    public: bool = True  # nlb / alb: internet-facing rather than internal
    access_logs_bucket: str | None = None  # alb: where access logs go
    deletion_protection: bool = True  # nlb / alb: the load balancer refuses deletion

    def __post_init__(self) -> None:
        check.one_of(self, "mode", Mode)
        check.one_of(self, "service_type", ServiceType)
        check.port(self, "port")
        check.absolute(self, "health_path")
        check.require(self, bool(self.pod_selector), "pod_selector", "must select the serving pods")
        if self.mode in ("nlb", "alb"):
            check.needs(self, f"by mode {self.mode} (it terminates TLS)", "certificate_arn")
        check.subset(self, "weights", self.role_selectors, "role_selectors (a weight needs its role's Service)")
        check.require(
            self,
            not self.primary_only_paths or "primary" in self.role_selectors,
            "primary_only_paths",
            "need role_selectors['primary']: they go to the primary's own Service",
        )
        check.require(
            self, 1 <= self.idle_timeout_seconds <= 4000, "idle_timeout_seconds", "must be 1-4000 (the ALB's range)"
        )
        check.require(self, all(w >= 0 for w in self.weights.values()), "weights", "must not be negative")


class LoadBalancer(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:LoadBalancer", name, None, opts)
        self._labels = conv.labels(args.app_name, "load-balancer")
        self._role_services: dict[str, k8s.core.v1.Service] = {}
        annotations: dict[str, str] = {}
        service_type, port = args.service_type, args.port
        if args.mode == "nlb":
            service_type, port = "LoadBalancer", 443
            annotations = self._nlb_annotations(args)
        elif args.weights and args.mode == "service":
            annotations["appcluster.io/weights"] = ",".join(f"{role}={w}" for role, w in args.weights.items())
        service = self._service(
            f"{name}-service", args, args.app_name, args.pod_selector, service_type, port, annotations
        )
        self.service_name = service.metadata.name
        self.url = pulumi.Output.concat(
            "http://",
            self.service_name,
            ".",
            args.namespace,
            ".svc.cluster.local",
            "" if args.port == 80 else f":{args.port}",
        )
        if args.mode == "nlb":
            self.url = pulumi.Output.from_input(f"https://{args.ingress_host}" if args.ingress_host else "")
        elif args.mode == "alb":
            self.url = self._alb(name, args, service)
        elif args.ingress_host:
            self.url = self._ingress(name, args, service)
        self.register_outputs({"service_name": self.service_name, "url": self.url})

    def _service(
        self,
        resource: str,
        args: LoadBalancerArgs,
        name: str,
        selector: Mapping[str, str],
        service_type: str,
        port: int,
        annotations: Mapping[str, str],
    ) -> k8s.core.v1.Service:
        spec: dict[str, Any] = {
            "type": service_type,
            "selector": dict(selector),
            "ports": [
                {"name": "http" if port != 443 else "https", "port": port, "targetPort": "http", "protocol": "TCP"}
            ],
        }
        if args.sticky and args.mode != "alb":
            spec.update(
                sessionAffinity="ClientIP",
                sessionAffinityConfig={"clientIP": {"timeoutSeconds": args.sticky_timeout_seconds}},
            )
        return k8s.core.v1.Service(
            resource,
            metadata={
                "name": name,
                "namespace": args.namespace,
                "labels": self._labels,
                "annotations": dict(annotations),
            },
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _role_service(self, name: str, args: LoadBalancerArgs, role: str) -> k8s.core.v1.Service:
        """The role's own Service (a weighted target group, or the primary's paths), declared once."""
        if role not in self._role_services:
            self._role_services[role] = self._service(
                f"{name}-{role}-service",
                args,
                f"{args.app_name}-{role}",
                args.role_selectors[role],
                "ClusterIP",
                args.port,
                {},
            )
        return self._role_services[role]

    def _ingress(self, name: str, args: LoadBalancerArgs, service: k8s.core.v1.Service) -> pulumi.Output[str]:
        annotations = dict(args.ingress_annotations)
        if (args.ingress_class or "").startswith("nginx"):
            # ingress-nginx's defaults: 60 s timeouts and a 1 MB body cap; it passes WebSocket upgrades.
            for key in ("proxy-read-timeout", "proxy-send-timeout"):
                annotations.setdefault(f"nginx.ingress.kubernetes.io/{key}", str(args.idle_timeout_seconds))
            annotations.setdefault("nginx.ingress.kubernetes.io/proxy-body-size", "0")
            if args.sticky:
                annotations.setdefault("nginx.ingress.kubernetes.io/affinity", "cookie")
        backend = {"service": {"name": service.metadata.name, "port": {"name": "http"}}}
        tls = [{"hosts": [args.ingress_host], "secretName": args.tls_secret_name}] if args.tls_secret_name else []
        self._declare_ingress(name, args, args.ingress_class, annotations, backend, tls)
        return pulumi.Output.from_input(f"{'https' if tls else 'http'}://{args.ingress_host}")

    def _declare_ingress(
        self,
        name: str,
        args: LoadBalancerArgs,
        ingress_class: str | None,
        annotations: Mapping[str, pulumi.Input[str]],
        backend: dict[str, Any],
        tls: list[dict[str, Any]],
    ) -> None:
        paths = []
        if args.primary_only_paths:
            primary = {
                "service": {"name": self._role_service(name, args, "primary").metadata.name, "port": {"name": "http"}}
            }
            paths = [{"path": p, "pathType": "Prefix", "backend": primary} for p in args.primary_only_paths]
        rule: dict[str, Any] = {"http": {"paths": [*paths, {"path": "/", "pathType": "Prefix", "backend": backend}]}}
        if args.ingress_host:
            rule["host"] = args.ingress_host
        spec: dict[str, Any] = {"rules": [rule]}
        if ingress_class:
            spec["ingressClassName"] = ingress_class
        if tls:
            spec["tls"] = tls
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={
                "name": args.app_name,
                "namespace": args.namespace,
                "labels": self._labels,
                "annotations": dict(annotations),
            },
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _nlb_annotations(self, args: LoadBalancerArgs) -> dict[str, str]:
        assert args.certificate_arn is not None  # __post_init__ requires it for mode nlb
        attributes = [f"deletion_protection.enabled={str(args.deletion_protection).lower()}"]
        if args.access_logs_bucket:
            attributes += ["access_logs.s3.enabled=true", f"access_logs.s3.bucket={args.access_logs_bucket}"]
        annotations = {
            f"{NLB}type": "external",
            f"{NLB}nlb-target-type": "ip",
            f"{NLB}scheme": "internet-facing" if args.public else "internal",
            f"{NLB}ssl-cert": args.certificate_arn,
            f"{NLB}ssl-ports": "443",
            f"{NLB}ssl-negotiation-policy": TLS_POLICY,
            f"{NLB}healthcheck-port": "traffic-port",
            f"{NLB}load-balancer-attributes": ",".join(attributes),
        }
        if args.health_by_tcp:
            annotations[f"{NLB}healthcheck-protocol"] = "TCP"
        else:
            annotations.update({f"{NLB}healthcheck-protocol": "HTTP", f"{NLB}healthcheck-path": args.health_path})
        # IP targets behind TCP/TLS see the NLB's own addresses unless this is on: every client would share
        # the few buckets of a per-client-IP rate limit (New API's), and the pods' logs would name no client.
        target_group = ["preserve_client_ip.enabled=true"]
        if args.sticky:
            target_group += ["stickiness.enabled=true", "stickiness.type=source_ip"]
        annotations[f"{NLB}target-group-attributes"] = ",".join(target_group)
        return annotations

    def _alb(self, name: str, args: LoadBalancerArgs, service: k8s.core.v1.Service) -> pulumi.Output[str]:
        attributes = [
            f"deletion_protection.enabled={str(args.deletion_protection).lower()}",
            "routing.http.drop_invalid_header_fields.enabled=true",
            "routing.http.desync_mitigation_mode=strictest",
            # The default 60 s cuts long LLM calls and quiet WebSockets.
            f"idle_timeout.timeout_seconds={args.idle_timeout_seconds}",
        ]
        if args.access_logs_bucket:
            attributes += ["access_logs.s3.enabled=true", f"access_logs.s3.bucket={args.access_logs_bucket}"]
        assert args.certificate_arn is not None  # __post_init__ requires it for mode alb
        annotations: dict[str, pulumi.Input[str]] = {
            f"{ALB}scheme": "internet-facing" if args.public else "internal",
            f"{ALB}target-type": "ip",
            f"{ALB}listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
            f"{ALB}ssl-redirect": "443",
            f"{ALB}certificate-arn": args.certificate_arn,
            f"{ALB}ssl-policy": TLS_POLICY,
            f"{ALB}healthcheck-path": args.health_path,
            f"{ALB}success-codes": str(args.health_status),
            f"{ALB}load-balancer-attributes": ",".join(attributes),
        }
        if args.sticky:
            annotations[f"{ALB}target-group-attributes"] = (
                f"stickiness.enabled=true,stickiness.lb_cookie.duration_seconds={args.sticky_timeout_seconds}"
            )
        backend: dict[str, Any] = {"service": {"name": service.metadata.name, "port": {"name": "http"}}}
        if args.weights:
            # Weighted target groups: one Service per role, and a forward action that splits between them.
            groups = []
            for role, weight in args.weights.items():
                role_service = self._role_service(name, args, role)
                groups.append(
                    {"serviceName": role_service.metadata.name, "servicePort": str(args.port), "weight": weight}
                )
            annotations[f"{ALB}actions.weighted"] = pulumi.Output.all(*[g["serviceName"] for g in groups]).apply(
                lambda names: json.dumps(
                    {
                        "type": "forward",
                        "forwardConfig": {
                            "targetGroups": [{**g, "serviceName": n} for g, n in zip(groups, names, strict=False)]
                        },
                    }
                )
            )
            backend = {"service": {"name": "weighted", "port": {"name": "use-annotation"}}}
        self._declare_ingress(name, args, "alb", annotations, backend, [])
        return pulumi.Output.from_input(f"https://{args.ingress_host}" if args.ingress_host else "")
