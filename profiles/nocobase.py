"""NocoBase in cluster mode (v1.6+): every node identical, Redis for every adapter, shared storage."""
from __future__ import annotations

from typing import TYPE_CHECKING

from profiles.base import AppSecret, Bind, EnvSpec, Profile

if TYPE_CHECKING:
    from config.stack import StackConfig

# The commercial adapter plugins that make cluster mode correct; enabled at first start.
CLUSTER_PLUGINS = ("pubsub-adapter-redis", "lock-adapter-redis", "queue-adapter-redis", "workerid-allocator-redis")


def _port(image: str) -> int:
    # The plain and -full images front Node with nginx on :80; the -no-nginx ones expose Node on :13000.
    return 13000 if "no-nginx" in image.rsplit(":", 1)[-1] else 80


def _env(cfg: "StackConfig") -> EnvSpec:
    env: dict[str, str | Bind] = {
        "APP_ENV": "production",
        "TZ": cfg.app.timezone,
        "APP_KEY": Bind("secret.APP_KEY"),
        "APP_AES_SECRET_KEY": Bind("secret.APP_AES_SECRET_KEY"),
        "DB_DIALECT": Bind("database.dialect"),
        "DB_HOST": Bind("database.host"),
        "DB_PORT": Bind("database.port"),
        "DB_DATABASE": Bind("database.name"),
        "DB_USER": Bind("database.user"),
        "DB_PASSWORD": Bind("database.password"),
        "CACHE_DEFAULT_STORE": "redis",
        "CACHE_REDIS_URL": Bind("redis.cache"),
        "PUBSUB_ADAPTER_REDIS_URL": Bind("redis.pubsub"),
        "LOCK_ADAPTER_DEFAULT": "redis",
        "LOCK_ADAPTER_REDIS_URL": Bind("redis.lock"),
        "QUEUE_ADAPTER": "redis",
        "QUEUE_ADAPTER_REDIS_URL": Bind("redis.queue"),
        "REDIS_URL": Bind("redis.workerId"),
        "APPEND_PRESET_BUILT_IN_PLUGINS": ",".join(cfg.app.plugins if cfg.app.plugins is not None else CLUSTER_PLUGINS),
    }
    if cfg.database.mode == "rds":
        # The RDS Proxy refuses clear text; this turns the driver's TLS on (the proxy's ACM
        # certificate is publicly trusted, so verification stays on).
        env["DB_DIALECT_OPTIONS_SSL_REJECT_UNAUTHORIZED"] = "true"
    # On Kubernetes one pod is one instance; PM2 processes each take one of the 32 worker IDs.
    if cfg.app.processes_per_instance > 1:
        env["CLUSTER_MODE"] = str(cfg.app.processes_per_instance)
    return env


NOCOBASE = Profile(
    name="nocobase",
    default_image="nocobase/nocobase:1.9.0",
    health_path="/api/__health_check",
    data_path="/app/nocobase/storage",
    secrets=(AppSecret("APP_KEY"), AppSecret("APP_AES_SECRET_KEY", "hex32")),
    env=_env,
    default_port=_port,
    # The image starts nginx and node as root and chowns storage at start.
    capabilities=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "NET_BIND_SERVICE"),
    # Stop all, upgrade one and verify, then start the rest: nodes of two versions must never mix.
    stop_all_before_upgrade=True,
)
