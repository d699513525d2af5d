"""The Redis component: declares the chosen variant's resources under itself and exposes the
endpoint it returns. Loads no provider SDK: the variant's module does, and only that one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union, get_args

import pulumi

from components.redis.contract import RedisEndpoint
from components.shared import args as check

if TYPE_CHECKING:
    from components.redis.container import ContainerRedis
    from components.redis.elasticache import ElastiCacheRedis
    from components.redis.external import ExternalRedis
    from components.redis.in_cluster import InClusterRedis

# The variants: a new one is its module plus its line here.
RedisVariant = Union[
    "InClusterRedis",
    "ElastiCacheRedis",
    "ExternalRedis",
    "ContainerRedis",
]


@dataclass(frozen=True, kw_only=True)
class RedisArgs:
    app_name: str  # names and labels: <app>-redis
    variant: RedisVariant  # which server the URLs point at, and how it is declared
    protect: bool = True  # protect the server and its data from deletion

    def __post_init__(self) -> None:
        # The union names its members as strings (no variant is imported at run time): a variant left
        # out of it would pass mypy unseen wherever it is built untyped, so it is refused here too.
        names = {ref.__forward_arg__ for ref in get_args(RedisVariant)}
        check.require(
            self,
            type(self.variant).__name__ in names,
            "variant",
            f"is not in RedisVariant ({', '.join(sorted(names))}): add its line in components/redis/component.py",
        )


class Redis(pulumi.ComponentResource):
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    tls: pulumi.Output[bool]
    # One URL (with credentials, so secret) per use: cache, pubsub, lock, queue, workerId.
    urls: dict[str, pulumi.Output[str]]
    endpoint: RedisEndpoint

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:Redis", name, None, opts)
        self.endpoint = args.variant.declare(self, name, app_name=args.app_name, protect=args.protect)
        self.host, self.port, self.tls = self.endpoint.host, self.endpoint.port, self.endpoint.tls
        self.urls = self.endpoint.urls
        self.register_outputs({"host": self.host, "port": self.port})
