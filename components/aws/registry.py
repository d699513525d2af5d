"""The app image's ECR repository: scan on push, immutable tags, a lifecycle policy, and a
short-lived token to push with; declared under the AppImage component."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.aws.network import physical_name

if TYPE_CHECKING:
    from components.docker.app_image import AppImage, AppImageArgs


def ecr(component: AppImage, name: str, args: AppImageArgs) -> tuple[pulumi.Output[str], pulumi.Output[str],
                                                                      pulumi.Output[str]]:
    """The repository (children of `component`); returns its URL and the push credentials (user, secret password)."""
    registry = args.build.registry
    repository = aws.ecr.Repository(
        f"{name}-repository",
        name=registry.repository or physical_name(args.app_name, "app"),
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration={"scan_on_push": True},
        encryption_configurations=[{"encryption_type": "AES256"}],
        force_delete=False,
        opts=pulumi.ResourceOptions(parent=component, protect=args.protect),
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
                                                   opts=pulumi.InvokeOutputOptions(parent=component))
    return repository.repository_url, token.user_name, pulumi.Output.secret(token.password)
