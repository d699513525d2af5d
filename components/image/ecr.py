"""AppImage variant ecr: the app image's ECR repository (scan on push, immutable tags, a lifecycle
policy) and a short-lived token to push with; EKS nodes pull with their own role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.aws.network import physical_name
from components.image.contract import RegistryEndpoint
from components.shared import args as check


@dataclass(frozen=True, kw_only=True)
class EcrRegistry:
    kind: Literal["ecr"] = "ecr"
    repository: str | None = None  # None names it after the app
    keep_images: int = 30  # tagged images the lifecycle policy keeps

    def __post_init__(self) -> None:
        check.require(self, self.keep_images >= 1, "keep_images", "must be 1 or more")

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> RegistryEndpoint:
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=self.repository or physical_name(app_name, "app"),
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "AES256"}],
            force_delete=False,
            opts=pulumi.ResourceOptions(parent=parent, protect=protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": "drop untagged layers after a week",
                            "selection": {
                                "tagStatus": "untagged",
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": 7,
                            },
                            "action": {"type": "expire"},
                        },
                        {
                            "rulePriority": 2,
                            "description": f"keep the last {self.keep_images} images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": self.keep_images,
                            },
                            "action": {"type": "expire"},
                        },
                    ]
                }
            ),
            opts=pulumi.ResourceOptions(parent=repository),
        )
        token = aws.ecr.get_authorization_token_output(
            registry_id=repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=parent)
        )
        return RegistryEndpoint(
            image_name=repository.repository_url,
            server=repository.repository_url,
            username=token.user_name,
            password=pulumi.Output.secret(token.password),
        )
