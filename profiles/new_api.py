"""New API, master/slave: one master migrates and writes, slaves carry NODE_TYPE=slave."""
from __future__ import annotations

from typing import TYPE_CHECKING

from profiles.base import AppSecret, Bind, EnvSpec, Profile, Refused, Release

if TYPE_CHECKING:
    from config.stack import StackConfig


def _env(cfg: "StackConfig") -> EnvSpec:
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


def _replica_env(cfg: "StackConfig") -> dict[str, str]:
    env = {"NODE_TYPE": "slave"}
    # Read on slaves only (router/main.go: "FRONTEND_BASE_URL is ignored on master node"): a slave
    # redirects every non-API route there, so it is set only for a separate frontend host.
    if cfg.app.frontend_base_url:
        env["FRONTEND_BASE_URL"] = str(cfg.app.frontend_base_url).rstrip("/")
    return env


def _check(cfg: "StackConfig") -> None:
    url = cfg.app.frontend_base_url
    if url and url.host == cfg.load_balancer.ingress.host:
        raise Refused("app.frontendBaseUrl", str(url),
                      "New API slaves redirect every non-API route to it, so it must be a separate frontend host, not "
                      f"the load balancer's own ({cfg.load_balancer.ingress.host}); remove it to serve the console from "
                      "every node")


NEW_API = Profile(
    name="new-api",
    default_image="calciumion/new-api:v0.9.0",
    health_path="/api/status",
    data_path="/data",
    releases=(
        # SESSION_SECRET / CRYPTO_SECRET shared by every node, NODE_TYPE=slave, FRONTEND_BASE_URL on
        # slaves only (QuantumNous/new-api v0.9.0: common/init.go, router/main.go).
        Release((0, 9, 0), (0, 10, 0), (AppSecret("SESSION_SECRET"), AppSecret("CRYPTO_SECRET")),
                source="QuantumNous/new-api v0.9.0 common/init.go, router/main.go"),
    ),
    env=_env,
    default_port=lambda image: 3000,
    replica_env=_replica_env,
    reserved_env=frozenset({"NODE_TYPE", "FRONTEND_BASE_URL", "SQL_DSN", "LOG_SQL_DSN"}),
    # Its log files (/app/logs, beside the /data it shares): per pod and bounded, not on the shared
    # volume where every instance would append without end (the vendor compose mounts ./logs there).
    local_paths={"/app/logs": "1Gi"},
    # The image runs as root and writes /data and /app/logs; it needs no capabilities beyond file ownership.
    capabilities=("CHOWN", "DAC_OVERRIDE", "FOWNER"),
    # Without SQL_DSN it keeps its data in SQLite: possible for a single node only.
    database_engines=frozenset({"postgres", "mysql", "sqlite"}),
    log_database=True,
    # Master and slaves get Services of their own, so the load balancer can weight them (loadBalancer.weights).
    weighted_roles=True,
    check=_check,
)
