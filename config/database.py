"""The database: one entry point, whatever sits behind it."""

from __future__ import annotations

from typing import Annotated, Literal

from config.aws import RdsConfig
from config.base import ByteSize, Image, Model, Resources, matching

DEFAULT_IMAGES = {"postgres": "postgres:17.6", "mysql": "mysql:8.4.6"}
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}


# Both engines' unquoted identifiers; a Postgres name is at most 63 bytes, a MySQL user 32 characters.
DatabaseName = Annotated[
    str,
    matching(
        r"[A-Za-z_][A-Za-z0-9_]{0,62}",
        "must be a SQL identifier of at most 63 letters, digits and '_', not starting with a digit, e.g. shop",
    ),
]
DatabaseUser = Annotated[
    str,
    matching(
        r"[A-Za-z_][A-Za-z0-9_]{0,31}",
        "must be a SQL identifier of at most 32 letters, digits and '_', not starting with a digit, e.g. shop",
    ),
]


class DatabaseConfig(Model):
    # in-cluster: a StatefulSet here; rds: RDS behind RDS Proxy; external: `secrets.databaseUrl`.
    mode: Literal["in-cluster", "rds", "external"] = "in-cluster"
    """in-cluster: a StatefulSet here; rds: RDS behind RDS Proxy; external: `secrets.databaseUrl`."""
    engine: Literal["postgres", "mysql", "sqlite"] = "postgres"
    """postgres, mysql, or sqlite (a single New API instance only)."""
    image: Image | None = None
    """The in-cluster server image, pinned; unset uses the engine's default (postgres:17.6, mysql:8.4.6)."""
    name: DatabaseName = "appcluster"
    """The database's name."""
    user: DatabaseUser = "appcluster"
    """The user the app connects as."""
    storage_size: ByteSize = "20Gi"
    """The in-cluster database volume's size."""
    storage_class: str | None = None
    """The in-cluster database volume's storage class; unset uses the cluster's default."""
    resources: Resources = Resources(cpu_request="250m", memory_request="512Mi", cpu_limit="2", memory_limit="2Gi")
    """CPU and memory of the in-cluster database container."""
    rds: RdsConfig = RdsConfig()
    """The RDS instance of mode rds."""
    # New API: a second database of the same mode and engine for logs (LOG_SQL_DSN).
    log_database: bool = False
    """New API: a second database of the same mode and engine for logs (LOG_SQL_DSN)."""

    @property
    def resolved_image(self) -> str:
        return self.image or DEFAULT_IMAGES[self.engine]

    @property
    def port(self) -> int:
        return DEFAULT_PORTS[self.engine]
