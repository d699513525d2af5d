"""Redis variant container: the official image in one Docker container on the app's network, with
AUTH and an append-only file on a named volume (components/docker/server.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.docker.server import DockerServer, DockerServerArgs
from components.redis.contract import DATA_DIR, PASSWORD_ENV, PERSISTENCE_FLAGS, PING_SHELL, RedisEndpoint, endpoint


@dataclass(frozen=True, kw_only=True)
class ContainerRedis:
    kind: Literal["container"] = "container"
    image: str
    network: pulumi.Input[str]  # the app's Docker network
    password: pulumi.Input[str]  # a Pulumi secret

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> RedisEndpoint:
        server = DockerServer(
            name,
            DockerServerArgs(
                app_name=app_name,
                component="redis",
                image=self.image,
                network=self.network,
                data_path=DATA_DIR,
                env={PASSWORD_ENV: self.password},
                command=[
                    "sh",
                    "-c",
                    f'exec redis-server --requirepass "${PASSWORD_ENV}" ' + " ".join(PERSISTENCE_FLAGS),
                ],
                health_shell=PING_SHELL,
                protect=protect,
            ),
            # It was a root resource before the Redis component owned it: the alias moves it (and its
            # volume) under the component instead of replacing it.
            opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]),
        )
        return endpoint(server.host, self.password, tls=False)
