"""New API, master/slave: one master migrates and writes, slaves carry NODE_TYPE=slave."""
from __future__ import annotations

from typing import TYPE_CHECKING

from profiles.base import AppSecret, Bind, EnvSpec, Profile

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
    if app.frontend_base_url:
        env["FRONTEND_BASE_URL"] = str(app.frontend_base_url).rstrip("/")
    return env


NEW_API = Profile(
    name="new-api",
    default_image="calciumion/new-api:v0.9.0",
    health_path="/api/status",
    data_path="/data",
    secrets=(AppSecret("SESSION_SECRET"), AppSecret("CRYPTO_SECRET")),
    env=_env,
    default_port=lambda image: 3000,
    replica_env={"NODE_TYPE": "slave"},
    # The image runs as root and writes /data and /app/logs; it needs no capabilities beyond file ownership.
    capabilities=("CHOWN", "DAC_OVERRIDE", "FOWNER"),
)
