"""AppImage: build the app's image from a Dockerfile in the repo and push it to a registry; the
cluster then runs it by digest, so every instance runs exactly the bytes that were built.

registry mode ecr: a repository this stack creates (scan on push, immutable tags, a lifecycle
policy) and a short-lived token from ECR. registry mode registry: an existing registry, with the
password from a config secret. Credentials are Pulumi secrets throughout.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components.aws import physical_name
from config.image import BuildConfig


@dataclass
class AppImageArgs:
    app_name: str
    build: BuildConfig
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
            repository = aws.ecr.Repository(
                f"{name}-repository",
                name=registry.repository or physical_name(args.app_name, "app"),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "AES256"}],
                force_delete=False,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-lifecycle", repository=repository.name,
                policy=json.dumps({"rules": [
                    {"rulePriority": 1, "description": "drop untagged layers after a week",
                     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                   "countNumber": 7}, "action": {"type": "expire"}},
                    {"rulePriority": 2, "description": f"keep the last {registry.keep_images} images",
                     "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                   "countNumber": registry.keep_images}, "action": {"type": "expire"}},
                ]}),
                opts=pulumi.ResourceOptions(parent=repository))
            token = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id,
                                                           opts=pulumi.InvokeOutputOptions(parent=self))
            image_name = repository.repository_url
            credentials = docker.RegistryArgs(server=repository.repository_url, username=token.user_name,
                                              password=pulumi.Output.secret(token.password))
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
