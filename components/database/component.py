"""The Database component: declares the chosen variant's resources under itself and exposes the
endpoint it returns. Loads no provider SDK: the variant's module does, and only that one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union, get_args

import pulumi

from components.database.contract import DatabaseEndpoint, DumpSource, Engine, RdsInstanceRef
from components.shared import args as check
from profiles.wiring import Source

if TYPE_CHECKING:
    from components.database.container import ContainerDatabase
    from components.database.external import ExternalDatabase
    from components.database.in_cluster import InClusterDatabase
    from components.database.rds import RdsDatabase

# The variants: a new one is its module plus its line here.
DatabaseVariant = Union[
    "InClusterDatabase",
    "RdsDatabase",
    "ExternalDatabase",
    "ContainerDatabase",
]


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    app_name: str  # names and labels: <app>-database
    variant: DatabaseVariant  # which server sits behind the one entry point, and how it is declared
    engine: Engine  # postgres or mysql
    port: int  # the entry point's port
    name: str = "appcluster"  # the database (variant external: unless its URL names one)
    user: str = "appcluster"  # the app's user (variant external: unless its URL names one)
    protect: bool = True  # protect the server and its data from deletion

    def __post_init__(self) -> None:
        # The union names its members as strings (no variant is imported at run time): a variant left
        # out of it would pass mypy unseen wherever it is built untyped, so it is refused here too.
        names = {ref.__forward_arg__ for ref in get_args(DatabaseVariant)}
        check.require(
            self,
            type(self.variant).__name__ in names,
            "variant",
            f"is not in DatabaseVariant ({', '.join(sorted(names))}): add its line in components/database/component.py",
        )
        check.one_of(self, "engine", Engine)
        check.port(self, "port")


class Database(pulumi.ComponentResource):
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    name: pulumi.Output[str]
    user: pulumi.Output[str]
    password: pulumi.Output[str]  # secret
    bindings: dict[str, Source]
    pod_labels: Mapping[str, str]  # variant in_cluster: the server's pods, for the NetworkPolicy
    rds_instance: RdsInstanceRef | None  # variant rds: what the snapshots and AWS Backup point at
    dump_source: DumpSource | None  # variant in_cluster: what the dump backups read
    endpoint: DatabaseEndpoint

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:Database", name, None, opts)
        self.endpoint = args.variant.declare(
            self,
            name,
            app_name=args.app_name,
            engine=args.engine,
            port=args.port,
            database=args.name,
            user=args.user,
            protect=args.protect,
        )
        ep = self.endpoint
        self.host, self.port, self.name, self.user, self.password = ep.host, ep.port, ep.name, ep.user, ep.password
        self.bindings, self.pod_labels, self.rds_instance, self.dump_source = (
            ep.bindings,
            ep.pod_labels,
            ep.rds,
            ep.dump,
        )
        self.register_outputs({"host": self.host, "port": self.port, "name": self.name, "user": self.user})
