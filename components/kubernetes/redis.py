"""Redis: one server for cache, pub/sub, locks, queue and worker IDs, one DB index per use.

mode in-cluster: a single-replica StatefulSet with AUTH and an append-only file on a PVC, behind a
ClusterIP Service. mode elasticache: an ElastiCache replication group (components/aws/redis.py),
loaded only for that mode. mode external: an existing server whose URL comes from a config secret.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Mapping, Optional
from urllib.parse import urlsplit

import pulumi

from components.kubernetes import conventions as conv
from components.shared import args as check
from components.shared.redis import (DATA_DIR, PASSWORD_ENV, PERSISTENCE_FLAGS, PING_SHELL, PORT, REDIS_UID,
                                     server_url, urls_per_use)

if TYPE_CHECKING:
    from components.aws.network import Network
    from components.aws.redis import CacheSettings


Mode = Literal["in-cluster", "elasticache", "external"]


@dataclass(frozen=True, kw_only=True)
class RedisArgs:
    app_name: str  # names and labels: <app>-redis
    namespace: pulumi.Input[str]  # where the in-cluster server and its Service go
    mode: Mode  # which server the URLs point at
    in_cluster: Optional[conv.ServerArgs] = None  # mode in-cluster: how to run the server
    elasticache: Optional[CacheSettings] = None  # mode elasticache: engine, version, nodes, snapshots
    network: Optional[Network] = None  # mode elasticache: the EKS cluster's VPC, subnets and node security group
    password: Optional[pulumi.Input[str]] = None  # mode elasticache: the AUTH token (a Pulumi secret)
    protect: bool = True  # protect the server and its data from deletion
    url: Optional[pulumi.Input[str]] = None  # mode external: the server's URL, credentials included

    def __post_init__(self) -> None:
        check.mode(self, Mode, {"in-cluster": ("in_cluster",), "elasticache": ("elasticache", "network", "password"),
                                "external": ("url",)})


class Redis(pulumi.ComponentResource):
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    # One URL (with credentials, so secret) per use: cache, pubsub, lock, queue, workerId.
    urls: dict[str, pulumi.Output[str]]
    pod_labels: Mapping[str, str]

    def __init__(self, name: str, args: RedisArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:Redis", name, None, opts)
        self.pod_labels = conv.selector(args.app_name, "redis")
        if args.mode == "external":
            base = pulumi.Output.secret(args.url)
            self.host = base.apply(lambda u: urlsplit(u).hostname or "")
            self.port = base.apply(lambda u: urlsplit(u).port or PORT)
        elif args.mode == "elasticache":
            from components.aws.redis import elasticache

            base = elasticache(self, name, args)
        else:
            base = self._in_cluster(name, args)
        self.urls = urls_per_use(base)
        self.register_outputs({"host": self.host, "port": self.port})

    def _in_cluster(self, name: str, args: RedisArgs) -> pulumi.Output[str]:
        server = args.in_cluster
        ping = ["sh", "-c", PING_SHELL]
        self.host = conv.single_stateful_server(
            self, name, app=args.app_name, component="redis", namespace=args.namespace, port=PORT,
            server=server, uid=REDIS_UID, data_path=DATA_DIR, grace_seconds=30,
            container={
                "name": "redis",
                "args": ["--requirepass", f"$({PASSWORD_ENV})", *PERSISTENCE_FLAGS],
                "env": [{
                    "name": PASSWORD_ENV,
                    "valueFrom": {"secretKeyRef": {"name": server.secret_name, "key": server.password_key}},
                }],
                "readinessProbe": conv.exec_probe(ping, period=5),
                "livenessProbe": conv.exec_probe(ping, period=15, failures=4),
            },
        )
        self.port = pulumi.Output.from_input(PORT)
        return server_url(server.password, self.host)
