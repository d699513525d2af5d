"""The AppImage component: its registry variant says where the image goes; the build and push are
the component's own (pulumi_docker, which a Kubernetes stack loads only when it builds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_docker as docker

from components.image.contract import ImageBuild

if TYPE_CHECKING:
    from components.image.ecr import EcrRegistry
    from components.image.registry import ExistingRegistry

    RegistryVariant = EcrRegistry | ExistingRegistry


@dataclass(frozen=True, kw_only=True)
class AppImageArgs:
    app_name: str
    build: ImageBuild
    variant: RegistryVariant  # where the image goes
    protect: bool = True


class AppImage(pulumi.ComponentResource):
    # repository@sha256:…, what the Deployments run
    image: pulumi.Output[str]
    # A docker config JSON (secret) the cluster pulls with; None where the nodes pull with their own role.
    pull_config: pulumi.Output[str] | None

    def __init__(self, name: str, args: AppImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:AppImage", name, None, opts)
        build = args.build
        registry = args.variant.declare(self, name, app_name=args.app_name, protect=args.protect)
        self.pull_config = registry.pull_config
        built = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(registry.image_name, ":", build.tag),
            build=docker.DockerBuildArgs(
                context=build.context,
                dockerfile=f"{build.context}/{build.dockerfile}",
                platform=build.platform,
                args=dict(build.args),
            ),
            registry=docker.RegistryArgs(
                server=registry.server, username=registry.username, password=registry.password
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.image = built.repo_digest
        self.register_outputs({"image": self.image})
