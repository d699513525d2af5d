"""Database variant in_cluster: a single-replica PostgreSQL or MySQL StatefulSet on a PVC, behind
one ClusterIP Service (the entry point)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.database.contract import DB_UID, DatabaseEndpoint, DumpSource, Engine, endpoint, server_image
from components.kubernetes import conventions as conv


@dataclass(frozen=True, kw_only=True)
class InClusterDatabase:
    kind: Literal["in_cluster"] = "in_cluster"
    namespace: pulumi.Input[str]  # where the server and its Service go
    server: conv.ServerArgs  # how to run the server

    def declare(
        self,
        parent: pulumi.Resource,
        name: str,
        *,
        app_name: str,
        engine: Engine,
        port: int,
        database: str,
        user: str,
        protect: bool,
    ) -> DatabaseEndpoint:
        server = self.server
        image = server_image(engine, database, user)
        secret_ref = {"secretKeyRef": {"name": server.secret_name, "key": server.password_key}}
        env: list[dict[str, object]] = [{"name": k, "value": v} for k, v in image.settings.items()]
        env += [{"name": k, "valueFrom": secret_ref} for k in image.password_env]
        ready = ["sh", "-c", image.ready_shell]
        host = conv.single_stateful_server(
            parent,
            name,
            app=app_name,
            component="database",
            namespace=self.namespace,
            port=port,
            server=server,
            uid=DB_UID,
            data_path=image.data_dir,
            scratch_paths=image.scratch,
            # Let the server checkpoint and close cleanly on shutdown.
            grace_seconds=120,
            container={
                "name": engine,
                "env": env,
                "readinessProbe": conv.exec_probe(ready, period=5),
                "livenessProbe": conv.exec_probe(ready, period=20, failures=6),
                "startupProbe": conv.exec_probe(ready, period=5, failures=120),
            },
        )
        dump = DumpSource(
            engine=engine,
            image=server.image,
            host=pulumi.Output.from_input(host),
            name=database,
            user=user,
            secret_name=server.secret_name,
            password_key=server.password_key,
        )
        return endpoint(
            engine,
            host,
            port,
            database,
            user,
            server.password,
            dump=dump,
            pod_labels=conv.selector(app_name, "database"),
        )
