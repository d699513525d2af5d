"""Building the app image (e.g. NocoBase with plugins preinstalled) and pushing it to a registry."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from config.base import Model, matching

RegistryServer = Annotated[
    str,
    matching(
        r"[a-z0-9.-]+(:\d+)?",
        "must be a registry host, lower-case, with an optional :port and no scheme, e.g. registry.example.com:5000",
    ),
]
# ECR's own rule (CreateRepository: 2-256 characters, lower-case components separated by . _ - or /).
RepositoryName = Annotated[
    str,
    matching(
        r"(?=.{2,256}\Z)[a-z0-9]+([._/-][a-z0-9]+)*",
        "must be a repository name of 2-256 characters: lower-case letters and digits, in parts "
        "joined by one '.', '_', '-' or '/', e.g. team/nocobase",
    ),
]
ImageTag = Annotated[
    str,
    matching(
        r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
        "must be a Docker tag: up to 128 letters, digits, '_', '.' "
        "and '-', not starting with '.' or '-', e.g. 2.2.15-p1",
    ),
]
RelativePath = Annotated[
    str, matching(r"[^/].*", "must be a path relative to the project folder (no leading '/'), e.g. images/nocobase")
]


class RegistryConfig(Model):
    # ecr: a repository the stack creates (scan on push, immutable tags, lifecycle policy);
    # registry: an existing one (server + username here, password in secrets.registryPassword).
    mode: Literal["ecr", "registry"] = "ecr"
    """ecr: a repository the stack creates (scan on push, immutable tags, lifecycle policy); registry: an existing one."""
    server: RegistryServer | None = None
    """The registry host of mode registry."""
    repository: RepositoryName | None = None
    """The repository name."""
    username: str | None = None
    """The registry user of mode registry (the password goes in secrets.registryPassword)."""
    # ecr: how many tagged images to keep.
    keep_images: int = Field(30, ge=1, le=1000)
    """ecr: how many tagged images to keep."""

    @model_validator(mode="after")
    def _registry(self) -> RegistryConfig:
        if self.mode == "registry" and not (self.server and self.repository and self.username):
            raise ValueError(
                "mode registry needs server, repository and username (the password goes in secrets.registryPassword)"
            )
        return self


MOVING_TAGS = {"latest", "stable", "main", "master", "dev", "develop", "edge", "nightly", "current", "prod"}


class BuildConfig(Model):
    # The Docker build context, relative to the project (it holds the Dockerfile).
    context: RelativePath
    """The Docker build context, a folder of this project holding the Dockerfile."""
    dockerfile: str = "Dockerfile"
    """The Dockerfile, relative to the context."""
    # Tags are immutable: every build that changes the image needs a new tag (it names the upgrade).
    tag: ImageTag
    """The image's tag; immutable, so every build that changes the image needs a new one (it names the upgrade)."""

    @field_validator("tag")
    @classmethod
    def _not_moving(cls, value: str) -> str:
        # An immutable repository refuses a second push of the same tag, and a moving name names no upgrade.
        if value.lower() in MOVING_TAGS:
            raise ValueError(
                f"names no version ('{value}' moves; the repository's tags are immutable): use one that "
                "names this build, e.g. 2.2.15-p1"
            )
        return value

    platform: str = "linux/amd64"
    """The platform the image is built for."""
    args: dict[str, str] = Field(default_factory=dict)
    """Build arguments."""
    registry: RegistryConfig = RegistryConfig()
    """Where the built image is pushed."""
