"""AppImage: build the app's image from a Dockerfile in the repo and push it to a registry; the
cluster then runs it by digest, so every instance runs exactly the bytes that were built.

registry mode ecr: a repository this stack creates (components/aws/registry.py, loaded only for that
mode) and a short-lived token from ECR. registry mode registry: an existing registry, with the
password from a config secret. Credentials are Pulumi secrets throughout.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Literal, Mapping, Optional, Protocol

import pulumi
import pulumi_docker as docker



class Registry(Protocol):
    """Where the image goes: an ECR repository the stack creates, or an existing registry."""

    mode: Literal["ecr", "registry"]
    server: Optional[str]
    repository: Optional[str]  # ecr: None names it after the app
    username: Optional[str]
    keep_images: int  # ecr: tagged images the lifecycle policy keeps


class ImageBuild(Protocol):
    """What to build (the stack config's app.build has this shape)."""

    context: str  # the project folder holding the Dockerfile
    dockerfile: str
    tag: str  # immutable: names this build
    platform: str
    args: Mapping[str, str]
    registry: Registry


@dataclass(frozen=True, kw_only=True)
class AppImageArgs:
    app_name: str
    build: ImageBuild
    # registry mode: the password from secrets.registryPassword
    registry_password: Optional[str] = None
    protect: bool = True


class AppImage(pulumi.ComponentResource):
    # repository@sha256:…, what the Deployments run
    image: pulumi.Output[str]
    # registry mode: a docker config JSON (secret) the cluster pulls with; ECR on EKS pulls with the nodes' role.
    pull_config: Optional[pulumi.Output[str]] = None

    def __init__(self, name: str, args: AppImageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:AppImage", name, None, opts)
        build, registry = args.build, args.build.registry
        if registry.mode == "ecr":
            from components.aws.registry import ecr

            image_name, username, password = ecr(self, name, args)
            credentials = docker.RegistryArgs(server=image_name, username=username, password=password)
        else:
            image_name = pulumi.Output.from_input(f"{registry.server}/{registry.repository}")
            credentials = docker.RegistryArgs(server=registry.server, username=registry.username,
                                              password=pulumi.Output.secret(args.registry_password))
            auth = base64.b64encode(f"{registry.username}:{args.registry_password}".encode()).decode()
            self.pull_config = pulumi.Output.secret(json.dumps({"auths": {registry.server: {"auth": auth}}}))
        built = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(image_name, ":", build.tag),
            build=docker.DockerBuildArgs(context=build.context, dockerfile=f"{build.context}/{build.dockerfile}",
                                         platform=build.platform, args=dict(build.args)),
            registry=credentials,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.image = built.repo_digest
        self.register_outputs({"image": self.image})
