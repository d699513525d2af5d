"""Database: the single entry point every instance connects to.

mode in-cluster: a PostgreSQL or MySQL StatefulSet behind one ClusterIP Service (the entry point).
mode rds: an RDS instance behind an RDS Proxy (components/aws/database.py), loaded only for that mode.
mode external: an existing server, proxy or pooler, from a DSN URL in a config secret.
Exposes the connection in every form the profiles bind to (components/shared/database.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional

import pulumi

from components.kubernetes import conventions as conv
from components.shared import args as check
from components.shared.database import DB_UID, TLS_PARAMS, connection_bindings, parse_url, server_image
from profiles.wiring import Source

if TYPE_CHECKING:
    from components.aws.network import Network
    from components.aws.database import RdsSettings


Mode = Literal["in-cluster", "rds", "external"]
Engine = Literal["postgres", "mysql"]


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    app_name: str  # names and labels: <app>-database
    namespace: pulumi.Input[str]  # where the in-cluster server and its Service go
    mode: Mode  # which kind of server sits behind the one entry point
    engine: Engine  # postgres or mysql
    port: int  # the entry point's port
    name: str = "appcluster"  # the database
    user: str = "appcluster"  # the app's user
    in_cluster: Optional[conv.ServerArgs] = None  # mode in-cluster: how to run the server
    rds: Optional[RdsSettings] = None  # mode rds: instance class, storage, versions, retention
    network: Optional[Network] = None  # mode rds: the EKS cluster's VPC, subnets and node security group
    password: Optional[pulumi.Input[str]] = None  # mode rds: the master password (a Pulumi secret)
    protect: bool = True  # protect the server and its data from deletion
    url: Optional[str] = None  # mode external: the whole URL, credentials included

    def __post_init__(self) -> None:
        check.mode(self, Mode, {"in-cluster": ("in_cluster",), "rds": ("rds", "network", "password"),
                                "external": ("url",)})
        check.one_of(self, "engine", Engine)
        check.port(self, "port")


class Database(pulumi.ComponentResource):
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    name: pulumi.Output[str]
    user: pulumi.Output[str]
    pod_labels: Mapping[str, str]
    bindings: dict[str, Source]
    # mode rds: the RDS instance, what backups point at
    instance: Optional[Any] = None

    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("appcluster:index:Database", name, None, opts)
        self.pod_labels = conv.selector(args.app_name, "database")
        if args.mode == "external":
            host, port, db, user, plain_password = parse_url(args.url or "", args.port, args.name, args.user)
            password: pulumi.Input[str] = pulumi.Output.secret(plain_password)
            self.host = pulumi.Output.from_input(host)
        elif args.mode == "rds":
            db, user, port = args.name, args.user, args.port
            password = pulumi.Output.secret(args.password)
            from components.aws.database import rds

            self.host = rds(self, name, args)
        else:
            db, user, port = args.name, args.user, args.port
            password = pulumi.Output.secret(args.in_cluster.password)
            self.host = self._in_cluster(name, args)
        params = TLS_PARAMS[args.engine] if args.mode == "rds" else ""

        self.port = pulumi.Output.from_input(port)
        self.name = pulumi.Output.from_input(db)
        self.user = pulumi.Output.from_input(user)
        self.bindings = connection_bindings(args.engine, self.host, port, db, user, password, params)
        self.register_outputs({"host": self.host, "port": self.port, "name": self.name, "user": self.user})

    def _in_cluster(self, name: str, args: DatabaseArgs) -> pulumi.Output[str]:
        server = args.in_cluster
        image = server_image(args.engine, args.name, args.user)
        secret_ref = {"secretKeyRef": {"name": server.secret_name, "key": server.password_key}}
        env = [{"name": k, "value": v} for k, v in image.settings.items()]
        env += [{"name": k, "valueFrom": secret_ref} for k in image.password_env]
        ready = ["sh", "-c", image.ready_shell]
        data_dir, scratch = image.data_dir, image.scratch

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
