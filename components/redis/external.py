"""Redis variant external: an existing server, named by a URL (credentials included) from a config secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.redis.contract import RedisEndpoint, from_url
from components.shared import args as check


@dataclass(frozen=True, kw_only=True)
class ExternalRedis:
    kind: Literal["external"] = "external"
    url: pulumi.Input[str]  # redis:// or rediss://, with the password

    def __post_init__(self) -> None:
        check.require(self, bool(self.url), "url", "is required: set the stack secret redisUrl")

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> RedisEndpoint:
        return from_url(self.url)
