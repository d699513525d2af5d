"""DockerAppCluster: the app's instances as containers on one Docker host, in the same roles as on
Kubernetes: the primary first (health-checked, waited for), then the replicas and task workers;
every instance with the same environment (the profile's, resolved like on Kubernetes) and the same
named volume at the data path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.docker.common import SECURITY_OPTS, env_list, http_check, pulled
from components.shared.app import AppSpec
from profiles.wiring import PodName, Resolved, SharedSecretKey


@dataclass(frozen=True, kw_only=True)
class DockerAppClusterArgs:
    app: AppSpec  # the instances, roles and wiring, as every target runs them
    network: pulumi.Input[str]  # the Docker network the servers and the load balancer share
    shared_secrets: Mapping[str, pulumi.Input[str]]  # the shared secrets' values, by key (container env)
    protect: bool = True  # keep the data volume from deletion


@dataclass(frozen=True)
class Instance:
    """A serving instance the load balancer sends traffic to."""

    host: str
    role: str
    # Changes whenever the container is replaced (and so gets a new address).
    container_id: pulumi.Input[str] = ""


class DockerAppCluster(pulumi.ComponentResource):
    instances: list[Instance]

    def __init__(self, name: str, args: DockerAppClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:DockerAppCluster", name, None, opts)
        self._args = args
        self._image = pulled(self, name, args.app.image)
        self._volume = docker.Volume(
            f"{name}-storage",
            name=f"{args.app.app_name}-storage",
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        self.instances = []
        primary = self._container(name, "primary", f"{args.app.app_name}-primary", {})
        for i in range(1, args.app.replicas):
            self._container(name, "replicas", f"{args.app.app_name}-replica-{i}", args.app.replica_env, after=primary)
        for worker in args.app.workers:
            for i in range(1, worker.replicas + 1):
                self._container(
                    name,
                    "worker",
                    f"{args.app.app_name}-worker-{worker.name}-{i}",
                    {"WORKER_MODE": worker.mode},
                    after=primary,
                    serves=False,
                )
        self.register_outputs({})

    def _container(
        self,
        name: str,
        role: str,
        container_name: str,
        extra_env: Mapping[str, str],
        after: docker.Container | None = None,
        serves: bool = True,
    ) -> docker.Container:
        args = self._args

        def value(resolved: Resolved) -> pulumi.Input[str]:
            if isinstance(resolved, SharedSecretKey):
                return args.shared_secrets[resolved.key]
            if isinstance(resolved, PodName):
                return container_name  # unique per instance, like the pod name on Kubernetes
            return resolved.value

        env = {key: value(v) for key, v in args.app.env.items()}
        env.update(extra_env)
        running = not args.app.maintenance
        container = docker.Container(
            f"{name}-{container_name.removeprefix(args.app.app_name + '-')}",
            name=container_name,
            image=self._image,
            # Docker's entrypoint replaces the image's and drops its CMD: the whole command goes here.
            entrypoints=list(args.app.command) or None,
            envs=env_list(env),
            networks_advanced=[{"name": args.network, "aliases": [container_name]}],
            volumes=[{"volume_name": self._volume.name, "container_path": args.app.data_path}],
            command=list(args.app.args) or None,
            healthcheck=(
                http_check(args.app.port, args.app.open_check.path, args.app.open_check.status)
                if args.app.open_check
                else http_check(args.app.port, args.app.health_path)
            ),
            labels=[{"label": "appcluster.io/role", "value": role}],
            restart="unless-stopped",
            security_opts=SECURITY_OPTS,
            destroy_grace_seconds=args.app.grace_seconds,
            # In maintenance every instance is created stopped; otherwise Pulumi waits for healthy.
            start=running,
            must_run=running,
            wait=running,
            wait_timeout=900,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[after] if after else []),
        )
        if serves:
            self.instances.append(Instance(container_name, role, container.id))
        return container
