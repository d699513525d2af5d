"""AppImage variant registry: an existing registry, with the password from a config secret."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Literal

import pulumi

from components.image.contract import RegistryEndpoint
from components.shared import args as check


@dataclass(frozen=True, kw_only=True)
class ExistingRegistry:
    kind: Literal["registry"] = "registry"
    server: str
    repository: str
    username: str
    password: str  # from secrets.registryPassword; only ever handed on as a secret Output

    def __post_init__(self) -> None:
        for field in ("server", "repository", "username", "password"):
            check.require(self, bool(getattr(self, field)), field, "must not be empty for an existing registry")

    def __repr__(self) -> str:
        # A dataclass repr would print the password (an ArgsError quotes the Args it refuses).
        return f"ExistingRegistry(server={self.server!r}, repository={self.repository!r}, username={self.username!r})"

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> RegistryEndpoint:
        auth = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return RegistryEndpoint(
            image_name=pulumi.Output.from_input(f"{self.server}/{self.repository}"),
            server=self.server,
            username=self.username,
            password=pulumi.Output.secret(self.password),
            pull_config=pulumi.Output.secret(json.dumps({"auths": {self.server: {"auth": auth}}})),
        )
