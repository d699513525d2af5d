"""Redis: one server for cache, pub/sub, locks, queue and worker IDs, one DB index per use.

mode in-cluster: a single-replica StatefulSet with AUTH and an append-only file on a PVC, behind a
ClusterIP Service. mode elasticache: an ElastiCache replication group (cluster mode disabled, since
DB indexes are used; Multi-AZ with failover, encrypted at rest and in transit, AUTH token).
mode external: an existing server whose URL comes from a config secret.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import quote, urlsplit, urlunsplit

import pulumi
import pulumi_aws as aws

from components import k8s as conv
from components.aws import Network, physical_name, service_security_group
from config.aws import ElastiCacheConfig
from profiles import REDIS_DB_INDEX

PORT = 6379
REDIS_UID = 999  # the official image's redis user
DATA_DIR = "/data"
# The password reaches redis-server through this variable, never the command line of a manifest.
PASSWORD_ENV = "REDIS_PASSWORD"
# An append-only file on the data volume: locks, queues and worker IDs survive a restart. The cache
# shares the server with them, so a full memory must refuse writes, never evict a lock or a worker ID.
PERSISTENCE_FLAGS = ["--appendonly", "yes", "--dir", DATA_DIR, "--maxmemory-policy", "noeviction"]
PING_SHELL = f'REDISCLI_AUTH="${PASSWORD_ENV}" redis-cli -h 127.0.0.1 ping | grep -q PONG'


@dataclass
class RedisArgs:
    app_name: str
    namespace: pulumi.Input[str]
    mode: str
    in_cluster: Optional[conv.ServerArgs] = None
    # mode elasticache
    elasticache: Optional[ElastiCacheConfig] = None
    network: Optional[Network] = None
    password: Optional[pulumi.Input[str]] = None
    protect: bool = True
    # mode external: the server's URL, credentials included
    url: Optional[pulumi.Input[str]] = None


def _with_db(base: str, index: int) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{index}", parts.query, ""))


def server_url(password: pulumi.Input[str], host: pulumi.Input[str], scheme: str = "redis") -> pulumi.Output[str]:
    """The server's URL with its password and no DB index (urls_per_use adds one per use)."""
    return pulumi.Output.all(password, host).apply(lambda v: f"{scheme}://:{quote(v[0], safe='')}@{v[1]}:{PORT}")


def urls_per_use(base: pulumi.Input[str]) -> dict[str, pulumi.Output[str]]:
    """One URL per use (cache, pubsub, lock, queue, workerId), each on its own DB index; secret,
    since the base carries the password."""
    base = pulumi.Output.from_input(base)
    return {use: pulumi.Output.secret(base.apply(lambda u, i=i: _with_db(u, i))) for use, i in REDIS_DB_INDEX.items()}


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
            base = self._elasticache(name, args)
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

    def _elasticache(self, name: str, args: RedisArgs) -> pulumi.Output[str]:
        cache, network = args.elasticache, args.network
        child = pulumi.ResourceOptions(parent=self)
        group_id = physical_name(args.app_name, "redis")
        security_group = service_security_group(self, name, network=network, service="redis", port=PORT)
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets", name=group_id, subnet_ids=list(network.subnet_ids),
            description=f"{args.app_name} Redis: the EKS cluster's private subnets", opts=child)
        family = f"{cache.engine}{cache.engine_version.split('.')[0]}"
        parameters = aws.elasticache.ParameterGroup(
            f"{name}-parameters", name=f"{group_id}-{family}", family=family,
            description=f"{args.app_name} Redis: never evict (locks, queues and worker IDs live here)",
            parameters=[{"name": "maxmemory-policy", "value": "noeviction"}], opts=child)
        group = aws.elasticache.ReplicationGroup(
            f"{name}-replication-group",
            replication_group_id=group_id,
            description=f"{args.app_name}: cache, pub/sub, locks, queue and worker IDs",
            engine=cache.engine,
            engine_version=cache.engine_version,
            node_type=cache.node_type,
            num_cache_clusters=cache.num_cache_clusters,
            port=PORT,
            cluster_mode="disabled",  # DB indexes 0..4 exist only with cluster mode off
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            auth_token=pulumi.Output.secret(args.password),
            subnet_group_name=subnets.name,
            security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            snapshot_retention_limit=cache.snapshot_retention_days,
            final_snapshot_identifier=f"{group_id}-final",
            auto_minor_version_upgrade=True,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, delete_before_replace=True),
        )
        self.host = group.primary_endpoint_address
        self.port = pulumi.Output.from_input(PORT)
        return server_url(args.password, self.host, scheme="rediss")
