"""Database: the single entry point every instance connects to.

mode in-cluster: a PostgreSQL or MySQL StatefulSet behind one ClusterIP Service (the entry point).
mode external: an existing server, proxy or pooler, from a DSN URL in a config secret.
Exposes the connection in every form the profiles bind to: host, port, name, user, password,
`url` (scheme://user:pass@host:port/db) and `dsn` (what Go drivers take: MySQL's
user:pass@tcp(host:port)/db, PostgreSQL's URL).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import quote, unquote, urlsplit

import pulumi

from components import k8s as conv
from components.shared_secrets import DATABASE_PASSWORD
from profiles.wiring import Plain, Sensitive, Source

DB_UID = 999  # the postgres and mysql images' own users
URL_SCHEME = {"postgres": "postgres", "mysql": "mysql"}
DIALECT = {"postgres": "postgres", "mysql": "mysql"}


@dataclass
class DatabaseArgs:
    app_name: str
    namespace: pulumi.Input[str]
    mode: str
    engine: str
    port: int
    name: str = "appcluster"
    user: str = "appcluster"
    in_cluster: Optional[conv.ServerArgs] = None
    # mode external: the whole URL, credentials included (read at plan time from the config secret)
    url: Optional[str] = None


def _go_dsn(engine: str, user: str, password: str, host: str, port: int, db: str) -> str:
    if engine == "mysql":
        return f"{user}:{password}@tcp({host}:{port})/{db}"
    return f"postgres://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{db}"


class Database(pulumi.ComponentResource):
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    name: pulumi.Output[str]
    user: pulumi.Output[str]
    pod_labels: Mapping[str, str]
    bindings: dict[str, Source]

    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:Database", name, None, opts)
        self.pod_labels = conv.selector(args.app_name, "database")
        if args.mode == "external":
            parts = urlsplit(args.url or "")
            host, port = parts.hostname or "", parts.port or args.port
            db, user = parts.path.lstrip("/") or args.name, unquote(parts.username or args.user)
            password: pulumi.Input[str] = pulumi.Output.secret(unquote(parts.password or ""))
            self.host = pulumi.Output.from_input(host)
        else:
            db, user, port = args.name, args.user, args.port
            password = pulumi.Output.secret(args.in_cluster.password)
            self.host = self._in_cluster(name, args)

        self.port = pulumi.Output.from_input(port)
        self.name = pulumi.Output.from_input(db)
        self.user = pulumi.Output.from_input(user)
        secret = lambda fn: Sensitive(pulumi.Output.secret(pulumi.Output.all(password, self.host).apply(fn)))  # noqa: E731
        self.bindings = {
            "database.dialect": Plain(DIALECT[args.engine]),
            "database.host": Plain(self.host),
            "database.port": Plain(str(port)),
            "database.name": Plain(db),
            "database.user": Plain(user),
            "database.password": Sensitive(password),
            "database.url": secret(lambda v: f"{URL_SCHEME[args.engine]}://{quote(user, safe='')}:{quote(v[0], safe='')}@{v[1]}:{port}/{db}"),
            "database.dsn": secret(lambda v: _go_dsn(args.engine, user, v[0], v[1], port, db)),
        }
        self.register_outputs({"host": self.host, "port": self.port, "name": self.name, "user": self.user})

    def _in_cluster(self, name: str, args: DatabaseArgs) -> pulumi.Output[str]:
        server = args.in_cluster
        secret_ref = {"secretKeyRef": {"name": server.secret_name, "key": DATABASE_PASSWORD}}
        if args.engine == "postgres":
            data_dir = "/var/lib/postgresql/data"
            env = [
                {"name": "POSTGRES_DB", "value": args.name},
                {"name": "POSTGRES_USER", "value": args.user},
                {"name": "POSTGRES_PASSWORD", "valueFrom": secret_ref},
                # A subdirectory: the volume's root may hold lost+found, which initdb refuses.
                {"name": "PGDATA", "value": f"{data_dir}/pgdata"},
            ]
            ready = ["pg_isready", "-h", "127.0.0.1", "-U", args.user, "-d", args.name]
            scratch = ["/var/run/postgresql", "/tmp"]
        else:
            data_dir = "/var/lib/mysql"
            env = [
                {"name": "MYSQL_DATABASE", "value": args.name},
                {"name": "MYSQL_USER", "value": args.user},
                {"name": "MYSQL_PASSWORD", "valueFrom": secret_ref},
                {"name": "MYSQL_ROOT_PASSWORD", "valueFrom": secret_ref},
            ]
            ready = ["sh", "-c", 'MYSQL_PWD="$MYSQL_PASSWORD" mysqladmin ping -h 127.0.0.1 -u "$MYSQL_USER" --silent']
            scratch = ["/var/run/mysqld", "/tmp"]

        return conv.single_stateful_server(
            self, name, app=args.app_name, component="database", namespace=args.namespace, port=args.port,
            server=server, uid=DB_UID, data_path=data_dir, scratch_paths=scratch,
            # Let the server checkpoint and close cleanly on shutdown.
            grace_seconds=120,
            container={
                "name": args.engine,
                "env": env,
                "readinessProbe": conv.exec_probe(ready, period=5),
                "livenessProbe": conv.exec_probe(ready, period=20, failures=6),
                "startupProbe": conv.exec_probe(ready, period=5, failures=120),
            },
        )
