"""What every Database variant returns (DatabaseEndpoint): the connection in every form the
profiles bind to, and how the official postgres and mysql images are run, whichever target runs
them or whatever sits behind the entry point.

`url` is scheme://user:pass@host:port/db; `dsn` is what Go drivers take (MySQL's
user:pass@tcp(host:port)/db, PostgreSQL's URL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

import pulumi

from profiles.wiring import Plain, Sensitive, Source

Engine = Literal["postgres", "mysql"]
DB_UID = 999  # the postgres and mysql images' own users
URL_SCHEME = {"postgres": "postgres", "mysql": "mysql"}
DIALECT = {"postgres": "postgres", "mysql": "mysql"}
# Connection parameters that make the client insist on TLS (the RDS proxy requires it).
TLS_PARAMS = {"postgres": "?sslmode=require", "mysql": "?tls=true"}


def _go_dsn(engine: str, user: str, password: str, host: str, port: int, db: str, params: str) -> str:
    if engine == "mysql":
        return f"{user}:{password}@tcp({host}:{port})/{db}{params}"
    return f"postgres://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{db}{params}"


@dataclass(frozen=True)
class ServerImage:
    """How the official postgres / mysql images are run, whichever platform runs them."""

    data_dir: str
    settings: dict[str, str]
    # The variables that receive the password (from a Secret, or the container's environment).
    password_env: tuple[str, ...]
    # Succeeds once the server accepts clients.
    ready_shell: str
    # Writable paths a read-only root filesystem must still provide.
    scratch: tuple[str, ...]


def server_image(engine: str, name: str, user: str) -> ServerImage:
    if engine == "postgres":
        data_dir = "/var/lib/postgresql/data"
        return ServerImage(
            data_dir=data_dir,
            # A subdirectory: the volume's root may hold lost+found, which initdb refuses.
            settings={"POSTGRES_DB": name, "POSTGRES_USER": user, "PGDATA": f"{data_dir}/pgdata"},
            password_env=("POSTGRES_PASSWORD",),
            ready_shell='pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
            scratch=("/var/run/postgresql", "/tmp"),
        )
    return ServerImage(
        data_dir="/var/lib/mysql",
        settings={"MYSQL_DATABASE": name, "MYSQL_USER": user},
        password_env=("MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"),
        ready_shell='MYSQL_PWD="$MYSQL_PASSWORD" mysqladmin ping -h 127.0.0.1 -u "$MYSQL_USER" --silent',
        scratch=("/var/run/mysqld", "/tmp"),
    )


def parse_url(url: str, port: int, name: str, user: str) -> tuple[str, int, str, str, str]:
    """host, port, database, user and password of a DSN URL, with defaults for what it leaves out."""
    parts = urlsplit(url)
    return (
        parts.hostname or "",
        parts.port or port,
        parts.path.lstrip("/") or name,
        unquote(parts.username or user),
        unquote(parts.password or ""),
    )


def connection_bindings(
    engine: str, host: pulumi.Input[str], port: int, db: str, user: str, password: pulumi.Input[str], params: str = ""
) -> dict[str, Source]:
    """The connection in every form a profile binds to; anything holding the password is Sensitive."""

    def secret(fn: Callable[[list[str]], str]) -> Sensitive:
        return Sensitive(pulumi.Output.secret(pulumi.Output.all(password, host).apply(fn)))

    return {
        "database.dialect": Plain(DIALECT[engine]),
        "database.host": Plain(host),
        "database.port": Plain(str(port)),
        "database.name": Plain(db),
        "database.user": Plain(user),
        "database.password": Sensitive(pulumi.Output.secret(password)),
        "database.url": secret(
            lambda v: f"{URL_SCHEME[engine]}://{quote(user, safe='')}:{quote(v[0], safe='')}@{v[1]}:{port}/{db}{params}"
        ),
        "database.dsn": secret(lambda v: _go_dsn(engine, user, v[0], v[1], port, db, params)),
    }


@dataclass(frozen=True, kw_only=True)
class RdsInstanceRef:
    """The RDS instance behind the proxy: what the pre-upgrade snapshot and AWS Backup point at."""

    identifier: pulumi.Output[str]
    arn: pulumi.Output[str]


@dataclass(frozen=True, kw_only=True)
class DumpSource:
    """A server the backups dump from inside the cluster: its image has the client, the Secret the password."""

    engine: Engine
    image: str
    host: pulumi.Output[str]
    name: str
    user: str
    secret_name: pulumi.Input[str]
    password_key: str


@dataclass(frozen=True, kw_only=True)
class DatabaseEndpoint:
    """How clients reach the entry point, and what the backups need of the server behind it."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    name: pulumi.Output[str]
    user: pulumi.Output[str]
    password: pulumi.Output[str]  # secret
    # Every form a profile binds to (connection_bindings): database.url, database.dsn, ...
    bindings: dict[str, Source]
    rds: RdsInstanceRef | None = None  # variant rds
    dump: DumpSource | None = None  # variant in_cluster
    # The server's pod labels, for the NetworkPolicy that admits its clients (variant in_cluster).
    pod_labels: Mapping[str, str] = field(default_factory=dict)


def endpoint(
    engine: str,
    host: pulumi.Input[str],
    port: int,
    db: str,
    user: str,
    password: pulumi.Input[str],
    *,
    params: str = "",
    rds: RdsInstanceRef | None = None,
    dump: DumpSource | None = None,
    pod_labels: Mapping[str, str] | None = None,
) -> DatabaseEndpoint:
    """The endpoint of a server at `host`:`port`, its bindings built once here for every variant."""
    secret = pulumi.Output.secret(password)
    return DatabaseEndpoint(
        host=pulumi.Output.from_input(host),
        port=pulumi.Output.from_input(port),
        name=pulumi.Output.from_input(db),
        user=pulumi.Output.from_input(user),
        password=secret,
        bindings=connection_bindings(engine, host, port, db, user, secret, params),
        rds=rds,
        dump=dump,
        pod_labels=dict(pod_labels or {}),
    )
