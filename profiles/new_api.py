"""New API, master/slave: one master migrates and writes, slaves carry NODE_TYPE=slave."""

from __future__ import annotations

from typing import TYPE_CHECKING

from profiles.base import AppSecret, Bind, EnvSpec, OpenCheck, Profile, Refused, Release

if TYPE_CHECKING:
    from config.stack import StackConfig


def _env(cfg: StackConfig) -> EnvSpec:
    app = cfg.app
    env: dict[str, str | Bind] = {
        "PORT": str(cfg.app_port),
        "TZ": app.timezone,
        "SESSION_SECRET": Bind("secret.SESSION_SECRET"),
        "CRYPTO_SECRET": Bind("secret.CRYPTO_SECRET"),
        "NODE_NAME": Bind("pod.name"),
        "SYNC_FREQUENCY": str(app.sync_frequency_seconds),
        "BATCH_UPDATE_ENABLED": "true",
        "BATCH_UPDATE_INTERVAL": str(app.batch_update_interval_seconds),
        "REDIS_CONN_STRING": Bind("redis.cache"),
    }
    if cfg.database.engine != "sqlite":
        env["SQL_DSN"] = Bind("database.dsn")
    if cfg.database.log_database:
        env["LOG_SQL_DSN"] = Bind("logDatabase.dsn")
    return env


def _replica_env(cfg: StackConfig) -> dict[str, str]:
    env = {"NODE_TYPE": "slave"}
    # Read on slaves only (router/main.go: "FRONTEND_BASE_URL is ignored on master node"): a slave
    # redirects every non-API route there, so it is set only for a separate frontend host.
    if cfg.app.frontend_base_url:
        env["FRONTEND_BASE_URL"] = str(cfg.app.frontend_base_url).rstrip("/")
    return env


# The traffic facts below (paths under QuantumNous/new-api) were read at two releases around the v0.9.0 we
# pin, and each holds in both: Calcium-Ion/new-api v0.6.3.1.1 (the repository's former name, fetched here)
# and QuantumNous/new-api main as stored in 2026. The v0.9.0 snapshot is too large to fetch on this machine.

# How long after a pod starts terminating endpoints, kube-proxy and the cloud load balancers may still
# send it new requests (the removal propagates asynchronously; the AWS LB controller deregisters by API).
ENDPOINT_PROPAGATION_SECONDS = 10
# What a terminating instance needs after the drain: the process exits at once on SIGTERM (main.go
# installs no signal handler, so Go's default applies); seconds for the kubelet to see it gone.
EXIT_SECONDS = 5


def _drain_seconds(cfg: StackConfig) -> int:
    """New API keeps quota and usage updates in memory for BATCH_UPDATE_INTERVAL seconds
    (model/utils.go InitBatchUpdater) and loses them on SIGTERM: a stopping pod keeps running until no
    load balancer sends it requests any more and one more batch has been written."""
    return ENDPOINT_PROPAGATION_SECONDS + cfg.app.batch_update_interval_seconds


def _check(cfg: StackConfig) -> None:
    grace, drain = cfg.app.termination_grace_period_seconds, _drain_seconds(cfg)
    if grace < drain + EXIT_SECONDS:
        raise Refused(
            "app.terminationGracePeriodSeconds",
            grace,
            f"New API exits at once on SIGTERM, so a stopping pod first drains for {drain} s (endpoint "
            f"propagation {ENDPOINT_PROPAGATION_SECONDS} s + batchUpdateIntervalSeconds "
            f"{cfg.app.batch_update_interval_seconds} s) inside its grace period: set at least "
            f"{drain + EXIT_SECONDS}",
        )
    url = cfg.app.frontend_base_url
    if url and url.host == cfg.load_balancer.ingress.host:
        raise Refused(
            "app.frontendBaseUrl",
            str(url),
            "New API slaves redirect every non-API route to it, so it must be a separate frontend host, not "
            f"the load balancer's own ({cfg.load_balancer.ingress.host}); remove it to serve the console from "
            "every node",
        )


NEW_API = Profile(
    name="new-api",
    default_image="calciumion/new-api:v0.9.0",
    health_path="/api/status",
    data_path="/data",
    releases=(
        # SESSION_SECRET / CRYPTO_SECRET shared by every node, NODE_TYPE=slave, FRONTEND_BASE_URL on
        # slaves only (QuantumNous/new-api v0.9.0: common/init.go, router/main.go).
        Release(
            (0, 9, 0),
            (0, 10, 0),
            (AppSecret("SESSION_SECRET"), AppSecret("CRYPTO_SECRET")),
            source="QuantumNous/new-api v0.9.0 common/init.go, router/main.go",
        ),
    ),
    env=_env,
    default_port=lambda image: 3000,
    replica_env=_replica_env,
    reserved_env=frozenset({"NODE_TYPE", "FRONTEND_BASE_URL", "SQL_DSN", "LOG_SQL_DSN"}),
    # Its log files (/app/logs, beside the /data it shares): per pod and bounded, not on the shared
    # volume where every instance would append without end (the vendor compose mounts ./logs there).
    local_paths={"/app/logs": "1Gi"},
    # The image's WORKDIR is /data and --log-dir defaults to ./logs (Dockerfile, common/init.go): without
    # this flag every pod appends its logs to the shared volume. The vendor's compose passes the same flag.
    args=("--log-dir", "/app/logs"),
    # /api/status is behind GlobalAPIRateLimit (router/api-router.go: the /api group), 180 requests per
    # 180 s per client IP by default, counted in Redis across the cluster (common/init.go,
    # middleware/rate-limit.go). /v1/models is registered outside every rate limiter (router/relay-router.go:
    # only TokenAuth) and answers 401 without a token before any database read (model/token.go
    # ValidateUserToken). The port opens only after the database, options and Redis are up (main.go:
    # server.Run comes last), so kubelet probes go by TCP.
    open_check=OpenCheck("/v1/models", 401),
    drain_seconds=_drain_seconds,
    # STREAMING_TIMEOUT: a stream may wait that long between chunks (constant/env.go; 300 s by default at
    # v0.9.0 as issue 16 found, 60 s at v0.6.3.1.1); a non-streaming relay has no timeout of its own
    # (RELAY_TIMEOUT 0, common/init.go). 10 s more, so that the app ends a stalled stream with its own error.
    idle_timeout_seconds=310,
    # First-run setup (controller/setup.go PostSetup) checks constant.Setup, which each node reads once at
    # start (model/main.go CheckSetup): a slave started before the setup would run it again.
    primary_only_paths=("/api/setup",),
    # The image runs as root and writes /data and /app/logs; it needs no capabilities beyond file ownership.
    capabilities=("CHOWN", "DAC_OVERRIDE", "FOWNER"),
    # Without SQL_DSN it keeps its data in SQLite: possible for a single node only.
    database_engines=frozenset({"postgres", "mysql", "sqlite"}),
    log_database=True,
    # Master and slaves get Services of their own, so the load balancer can weight them (loadBalancer.weights).
    weighted_roles=True,
    check=_check,
    settings=frozenset({"frontend_base_url", "sync_frequency_seconds", "batch_update_interval_seconds"}),
)
