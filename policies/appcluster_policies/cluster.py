"""Cluster invariants: what a cluster-mode app needs to be correct at all. Mandatory everywhere."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pulumi_policy import EnforcementLevel, StackValidation, StackValidationArgs, StackValidationPolicy
from pulumi_policy.policy import Severity

from appcluster_policies.workloads import (
    DATA_PATHS,
    PROFILE_SECRETS,
    PVC_TYPE,
    UNKNOWN,
    Report,
    app_clusters,
    env_value,
    fails,
    meta,
    plain,
    redis_db,
    secrets,
)
from profiles import MAX_INSTANCES

NOCOBASE_REDIS = {
    "CACHE_REDIS_URL": "cache",
    "PUBSUB_ADAPTER_REDIS_URL": "pubsub",
    "LOCK_ADAPTER_REDIS_URL": "lock",
    "QUEUE_ADAPTER_REDIS_URL": "queue",
    "REDIS_URL": "worker-id",
}
NOCOBASE_FLAGS = {"CACHE_DEFAULT_STORE": "redis", "LOCK_ADAPTER_DEFAULT": "redis", "QUEUE_ADAPTER": "redis"}


def _max_32(args: StackValidationArgs, report: Report) -> None:
    for cluster in app_clusters(args.resources):
        if cluster.instances > MAX_INSTANCES:
            report(
                f"app cluster '{cluster.name}' can run {cluster.instances} instances (replicas, HPA maxReplicas "
                f"and CLUSTER_MODE processes); worker IDs run 0-31, so at most {MAX_INSTANCES}"
            )


def _shared_secrets(args: StackValidationArgs, report: Report) -> None:
    declared = secrets(args.resources)
    for cluster in app_clusters(args.resources):
        keys = PROFILE_SECRETS.get(cluster.profile or "")
        if not keys:
            continue
        for key in keys:
            refs = set()
            for w in cluster.workloads:
                var = w.env(declared).get(key)
                if var is None:
                    report(f"{w.name} does not set {key}; every instance must read it from the shared Secret", w.urn)
                    continue
                if "value" in var:
                    report(f"{w.name} sets {key} as a literal value; read it with secretKeyRef from one Secret", w.urn)
                    continue
                ref = (var.get("valueFrom") or {}).get("secretKeyRef") or {}
                if UNKNOWN in (ref.get("name"), ref.get("key")):
                    continue  # a Secret created in this same update: its name is known only after
                refs.add((ref.get("name"), ref.get("key")))
                if ref.get("name") not in declared:
                    report(
                        f"{w.name} reads {key} from Secret '{ref.get('name')}', which this stack does not declare",
                        w.urn,
                    )
            if len(refs) > 1:
                report(
                    f"app cluster '{cluster.name}' reads {key} from different Secrets/keys {sorted(map(str, refs))}; "
                    "all instances must share one"
                )


def _needs_redis(args: StackValidationArgs, report: Report) -> None:
    data = secrets(args.resources)
    for cluster in app_clusters(args.resources):
        if cluster.instances <= 1:
            continue
        for w in cluster.workloads:
            env = w.env(data)
            if cluster.profile == "new-api" and "REDIS_CONN_STRING" not in env:
                report(
                    f"{w.name}: New API with {cluster.instances} instances needs REDIS_CONN_STRING for cache sync",
                    w.urn,
                )
            if cluster.profile != "nocobase":
                continue
            for name, wanted in NOCOBASE_FLAGS.items():
                if fails((env.get(name) or {}).get("value"), wanted):
                    report(f"{w.name}: NocoBase in cluster mode needs {name}={wanted}", w.urn)
            indexes: dict[int, str] = {}
            for name, use in NOCOBASE_REDIS.items():
                if name not in env:
                    report(f"{w.name}: NocoBase in cluster mode needs {name} (the {use} adapter)", w.urn)
                    continue
                url = env_value(env[name], data)
                if url is None:
                    continue  # unknown during preview, or a Secret from outside the stack
                index = redis_db(url)
                if index is None:
                    report(f"{w.name}: {name} is not a redis:// or rediss:// URL with a host", w.urn)
                elif index in indexes:
                    report(
                        f"{w.name}: {name} and {indexes[index]} share Redis DB {index}; give each use its own", w.urn
                    )
                else:
                    indexes[index] = name


def _needs_shared_storage(args: StackValidationArgs, report: Report) -> None:
    claims = {
        str(meta(plain(r.props)).get("name")): plain(r.props) for r in args.resources if r.resource_type == PVC_TYPE
    }
    for cluster in app_clusters(args.resources):
        path = DATA_PATHS.get(cluster.profile or "")
        if cluster.instances <= 1 or not path:
            continue
        for w in cluster.workloads:
            volumes = {v.get("name"): v for v in w.pod.get("volumes") or []}
            mounts = [m for c in w.containers for m in c.get("volumeMounts") or [] if m.get("mountPath") == path]
            if not mounts:
                report(
                    f"{w.name}: {path} is not on a volume; {cluster.instances} instances need it shared (ReadWriteMany)",
                    w.urn,
                )
                continue
            claim = (volumes.get(mounts[0].get("name")) or {}).get("persistentVolumeClaim", {}).get("claimName")
            modes = (claims.get(str(claim)) or {}).get("spec", {}).get("accessModes") or []
            if "ReadWriteMany" not in modes:
                report(
                    f"{w.name}: {path} must be a ReadWriteMany PersistentVolumeClaim declared in the stack "
                    f"(found claim {claim!r} with {modes or 'no'} access modes)",
                    w.urn,
                )


def _db_host(env: dict[str, dict[str, Any]], data: dict[str, dict[str, Any]]) -> str | None:
    if "DB_HOST" in env:
        return env_value(env["DB_HOST"], data)
    dsn = env_value(env["SQL_DSN"], data) if "SQL_DSN" in env else None
    if not dsn:
        return None
    if "@tcp(" in dsn:
        return dsn.split("@tcp(", 1)[1].split(")", 1)[0].rsplit(":", 1)[0]
    return urlsplit(dsn).hostname


def _single_entrypoint(args: StackValidationArgs, report: Report) -> None:
    data = secrets(args.resources)
    for cluster in app_clusters(args.resources):
        hosts = {}
        for w in cluster.workloads:
            host = _db_host(w.env(), data)
            if host is None:
                continue
            hosts[w.name] = host
            if host.endswith(".rds.amazonaws.com") and ".proxy-" not in host:
                report(
                    f"{w.name}: database host {host} is an RDS instance endpoint; connect through the RDS Proxy", w.urn
                )
        if len(set(hosts.values())) > 1:
            report(
                f"app cluster '{cluster.name}' connects to several database hosts {sorted(set(hosts.values()))}; "
                "use one entry point"
            )


def _one_primary(args: StackValidationArgs, report: Report) -> None:
    for cluster in app_clusters(args.resources):
        if cluster.instances == 0:
            continue  # stopped (maintenance): no primary is the right number
        if cluster.profile == "new-api":
            masters = [w for w in cluster.workloads if (w.env().get("NODE_TYPE") or {}).get("value") != "slave"]
            count = sum(cluster.replicas_of(w) for w in masters)
            if count != 1:
                report(
                    f"app cluster '{cluster.name}' runs {count} New API masters (instances without NODE_TYPE=slave); "
                    "exactly one may run, or migrations race"
                )
        else:
            masters = [
                w for w in cluster.workloads if meta(w.props).get("labels", {}).get("appcluster.io/role") == "primary"
            ]
            if cluster.profile != "nocobase" or (not masters and cluster.instances <= 1):
                continue
            if len(masters) != 1 or cluster.replicas_of(masters[0]) != 1:
                report(
                    f"app cluster '{cluster.name}' needs exactly one primary instance (label appcluster.io/role=primary, "
                    "replicas 1) to install plugins and migrate first"
                )
        for w in masters:
            if w.type.endswith("Deployment") and (w.spec.get("strategy") or {}).get("type") != "Recreate":
                report(f"{w.name}: the primary must use strategy Recreate so an update never runs two at once", w.urn)


def _policy(name: str, description: str, validate: StackValidation, severity: Severity) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=severity,
    )


CLUSTER_POLICIES = [
    _policy(
        "max-32-instances",
        "Per app cluster, replicas x processes (and HPA maxReplicas) never exceed 32 "
        "(snowflake worker IDs 0-31). Anchor: Polaris/kube-linter availability, HPA max <= 32.",
        _max_32,
        Severity.CRITICAL,
    ),
    _policy(
        "shared-secrets",
        "Every instance reads the app secrets (APP_KEY/APP_AES_SECRET_KEY or "
        "SESSION_SECRET/CRYPTO_SECRET) from one Secret and key, never a literal. Anchor: CKV_K8S_35.",
        _shared_secrets,
        Severity.CRITICAL,
    ),
    _policy(
        "cluster-needs-redis",
        "More than one instance needs the Redis adapters configured with distinct DB indexes.",
        _needs_redis,
        Severity.HIGH,
    ),
    _policy(
        "cluster-needs-shared-storage",
        "More than one instance needs the data path on a ReadWriteMany volume.",
        _needs_shared_storage,
        Severity.HIGH,
    ),
    _policy(
        "single-database-entrypoint",
        "The app connects to one database entry point, never an RDS instance endpoint.",
        _single_entrypoint,
        Severity.HIGH,
    ),
    _policy(
        "one-primary",
        "Exactly one primary (New API: one non-slave), with a strategy that never runs two.",
        _one_primary,
        Severity.CRITICAL,
    ),
]
