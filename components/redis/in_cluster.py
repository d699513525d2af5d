"""Redis variant in_cluster: a single-replica StatefulSet with AUTH and an append-only file on a
PVC, behind a ClusterIP Service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.kubernetes import conventions as conv
from components.redis.contract import (
    DATA_DIR,
    PASSWORD_ENV,
    PERSISTENCE_FLAGS,
    PING_SHELL,
    PORT,
    REDIS_UID,
    RedisEndpoint,
    endpoint,
)


@dataclass(frozen=True, kw_only=True)
class InClusterRedis:
    kind: Literal["in_cluster"] = "in_cluster"
    namespace: pulumi.Input[str]  # where the server and its Service go
    server: conv.ServerArgs  # how to run the server

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> RedisEndpoint:
        server = self.server
        ping = ["sh", "-c", PING_SHELL]
        host = conv.single_stateful_server(
            parent,
            name,
            app=app_name,
            component="redis",
            namespace=self.namespace,
            port=PORT,
            server=server,
            uid=REDIS_UID,
            data_path=DATA_DIR,
            grace_seconds=30,
            container={
                "name": "redis",
                "args": ["--requirepass", f"$({PASSWORD_ENV})", *PERSISTENCE_FLAGS],
                "env": [
                    {
                        "name": PASSWORD_ENV,
                        "valueFrom": {"secretKeyRef": {"name": server.secret_name, "key": server.password_key}},
                    }
                ],
                "readinessProbe": conv.exec_probe(ping, period=5),
                "livenessProbe": conv.exec_probe(ping, period=15, failures=4),
            },
        )
        return endpoint(host, server.password, tls=False)
