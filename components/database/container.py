"""Database variant container: the official postgres or mysql image in one Docker container on the
app's network, its data on a named volume (components/docker/server.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.database.contract import DatabaseEndpoint, Engine, endpoint, server_image
from components.docker.server import DockerServer, DockerServerArgs


@dataclass(frozen=True, kw_only=True)
class ContainerDatabase:
    kind: Literal["container"] = "container"
    image: str
    network: pulumi.Input[str]  # the app's Docker network
    password: pulumi.Input[str]  # a Pulumi secret

    def declare(
        self,
        parent: pulumi.Resource,
        name: str,
        *,
        app_name: str,
        engine: Engine,
        port: int,
        database: str,
        user: str,
        protect: bool,
    ) -> DatabaseEndpoint:
        image = server_image(engine, database, user)
        server = DockerServer(
            name,
            DockerServerArgs(
                app_name=app_name,
                component="database",
                image=self.image,
                network=self.network,
                data_path=image.data_dir,
                env={**image.settings, **{env: self.password for env in image.password_env}},
                health_shell=image.ready_shell,
                protect=protect,
            ),
            # It was a root resource before the Database component owned it: the alias moves it (and
            # its volume) under the component instead of replacing it.
            opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]),
        )
        return endpoint(engine, server.host, port, database, user, self.password)
