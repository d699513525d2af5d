"""What an AppImage registry variant hands back: where the image goes and how to push and pull it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import pulumi


class ImageBuild(Protocol):
    """What to build (the stack config's app.build has this shape)."""

    @property
    def context(self) -> str: ...  # the project folder holding the Dockerfile
    @property
    def dockerfile(self) -> str: ...
    @property
    def tag(self) -> str: ...  # immutable: names this build
    @property
    def platform(self) -> str: ...
    @property
    def args(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class RegistryEndpoint:
    image_name: pulumi.Output[str]  # server/repository, without tag
    server: pulumi.Input[str]  # what the push logs in to
    username: pulumi.Input[str]
    password: pulumi.Output[str]  # secret
    # A docker config JSON (secret) the cluster pulls with; None where the nodes pull with their own role (ECR on EKS).
    pull_config: pulumi.Output[str] | None = None
