"""Database variant external: an existing server, proxy or pooler, named by a DSN URL (credentials
included) from a config secret; what the URL leaves out comes from the stack's database settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.database.contract import DatabaseEndpoint, Engine, endpoint, parse_url
from components.shared import args as check


@dataclass(frozen=True, kw_only=True)
class ExternalDatabase:
    kind: Literal["external"] = "external"
    url: str  # scheme://user:password@host:port/database

    def __post_init__(self) -> None:
        check.require(self, bool(self.url), "url", "is required: set the stack secret databaseUrl (or logDatabaseUrl)")

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
        host, port, database, user, password = parse_url(self.url, port, database, user)
        return endpoint(engine, host, port, database, user, pulumi.Output.secret(password))
