"""DockerLoadBalancer: nginx in front of the app's containers, its upstream generated from the
config (weights per role, ip_hash for stickiness, passive health checks), or the 503 page while
the stack is in maintenance."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from components.docker.app import Instance
from components.docker.common import SECURITY_OPTS, pulled
from components.shared import args as check
from components.shared.nginx import (
    HEALTH_PATH,
    IMAGE,
    LB_HEALTH_PATH,
    LISTEN_PORT,
    MESSAGE,
    Upstream,
    load_balancer_config,
    maintenance_config,
    maintenance_page,
)

UPSTREAMS_LABEL = "appcluster.io/upstreams"


def upstreams_fingerprint(instances: Sequence[Instance]) -> pulumi.Output[str]:
    return pulumi.Output.all(*[i.container_id for i in instances]).apply(
        lambda ids: hashlib.sha256(",".join(ids).encode()).hexdigest()[:16]
    )


@dataclass(frozen=True, kw_only=True)
class DockerLoadBalancerArgs:
    app_name: str
    network: pulumi.Input[str]
    instances: Sequence[Instance]
    port: int
    publish_port: int
    weights: Mapping[str, int] = field(default_factory=dict)
    sticky: bool = False
    maintenance: bool = False
    idle_timeout_seconds: int = 60  # how long a request may go without a byte either way
    primary_only_paths: Sequence[str] = ()  # answered by the primary alone

    def __post_init__(self) -> None:
        check.port(self, "port", "publish_port")
        check.subset(self, "weights", ("primary", "replicas"), "the roles (primary, replicas)")
        check.require(
            self,
            bool(self.instances) or self.maintenance,
            "instances",
            "must not be empty outside maintenance: nothing would answer",
        )
        check.require(self, self.idle_timeout_seconds > 0, "idle_timeout_seconds", "must be positive")


class DockerLoadBalancer(pulumi.ComponentResource):
    url: pulumi.Output[str]
    config: str

    def __init__(self, name: str, args: DockerLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:DockerLoadBalancer", name, None, opts)
        uploads: list[docker.ContainerUploadArgsDict] = []
        if args.maintenance:
            self.config, health = maintenance_config(), HEALTH_PATH
            uploads.append(
                {"file": "/usr/share/nginx/html/maintenance.html", "content": maintenance_page(args.app_name, MESSAGE)}
            )
        else:
            servers = [
                Upstream(i.host, args.port, args.weights.get(i.role, 1), primary=i.role == "primary")
                for i in args.instances
            ]
            self.config = load_balancer_config(servers, args.sticky, args.idle_timeout_seconds, args.primary_only_paths)
            health = LB_HEALTH_PATH
        uploads.append({"file": "/etc/nginx/conf.d/default.conf", "content": self.config})
        docker.Container(
            f"{name}-container",
            name=f"{args.app_name}-lb",
            image=pulled(self, name, IMAGE),
            networks_advanced=[{"name": args.network}],
            ports=[{"internal": LISTEN_PORT, "external": args.publish_port}],
            uploads=uploads,
            # nginx resolves upstream names once, at start: when an instance is replaced (a new
            # address), a new load balancer container starts and resolves them again.
            labels=[{"label": UPSTREAMS_LABEL, "value": upstreams_fingerprint(args.instances)}],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD-SHELL", f"wget -q -O /dev/null http://127.0.0.1:{LISTEN_PORT}{health}"],
                interval="5s",
                timeout="3s",
                retries=3,
            ),
            restart="unless-stopped",
            security_opts=SECURITY_OPTS,
            wait=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = pulumi.Output.from_input(f"http://localhost:{args.publish_port}")
        self.register_outputs({"url": self.url})
