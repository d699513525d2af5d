"""DockerServer: one stateful container (Redis or a database) on the app's network, its data on a
named volume that outlives the container (protected and retained where the stack protects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_docker as docker

from components.docker.common import SECURITY_OPTS, env_list, pulled
from components.shared import args as check


@dataclass(frozen=True, kw_only=True)
class DockerServerArgs:
    app_name: str
    component: Literal["redis", "database"]  # names, labels, the data volume
    image: str
    network: pulumi.Input[str]
    data_path: str
    # A shell command that succeeds once the server accepts clients.
    health_shell: str
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    command: Sequence[str] | None = None
    protect: bool = True

    def __post_init__(self) -> None:
        check.one_of(self, "component", ("redis", "database"))
        check.absolute(self, "data_path")
        check.require(
            self,
            bool(self.health_shell.strip()),
            "health_shell",
            "must be a command that succeeds once the server accepts clients",
        )


class DockerServer(pulumi.ComponentResource):
    host: pulumi.Output[str]

    def __init__(self, name: str, args: DockerServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:DockerServer", name, None, opts)
        container_name = f"{args.app_name}-{args.component}"
        volume = docker.Volume(
            f"{name}-data",
            name=f"{container_name}-data",
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        container = docker.Container(
            f"{name}-container",
            name=container_name,
            image=pulled(self, name, args.image),
            command=list(args.command) if args.command else None,
            envs=env_list(args.env),
            networks_advanced=[{"name": args.network, "aliases": [container_name]}],
            volumes=[{"volume_name": volume.name, "container_path": args.data_path}],
            healthcheck={"tests": ["CMD-SHELL", args.health_shell], "interval": "5s", "timeout": "5s", "retries": 10},
            restart="unless-stopped",
            security_opts=SECURITY_OPTS,
            # Created and healthy before anything that depends on it starts.
            wait=True,
            wait_timeout=300,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.host = container.name
        self.register_outputs({"host": self.host})
