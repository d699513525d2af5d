"""Part 1: the servers as we configure them, and every Redis URL and database DSN we render,
connected with NocoBase's own client libraries (tests/runtime/clients.js)."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest

from profiles import REDIS_DB_INDEX
from tests.runtime import servers
from tests.runtime.conftest import (
    NEWAPI,
    NEWAPI_MYSQL,
    NOCOBASE_CLUSTER,
    NOCOBASE_MYSQL,
    NOCOBASE_ONE,
    connect,
    database_env,
    database_of,
    redis_of,
    rendered,
)
from tests.runtime.render import Rendered, relocate

# Each Redis variable the profiles render, and the use (so the DB index) it is for.
REDIS_USE = {
    "CACHE_REDIS_URL": "cache",
    "PUBSUB_ADAPTER_REDIS_URL": "pubsub",
    "LOCK_ADAPTER_REDIS_URL": "lock",
    "QUEUE_ADAPTER_REDIS_URL": "queue",
    "REDIS_URL": "workerId",
    "REDIS_CONN_STRING": "cache",
}
GO_MYSQL_DSN = re.compile(r"^[^/]*@tcp\(")


def app_env(r: Rendered) -> dict[str, str]:
    """The env of every app role, resolved (the replicas' adds NODE_TYPE and the like)."""
    env = {}
    for name in r.objects("Deployment"):
        if name.rsplit("-", 1)[-1] in ("primary", "replicas"):
            env.update(r.env("Deployment", name))
    return env


def go_mysql_dsn(dsn: str) -> dict:
    """user:password@tcp(host:port)/db as go-sql-driver/mysql's ParseDSN splits it (dsn.go: the last
    '/' ends the address, the last '@' before it ends the credentials, the first ':' in those ends
    the user): what New API's driver will send."""
    slash = dsn.rindex("/")
    at = dsn.rindex("@", 0, slash)
    user, _, password = dsn[:at].partition(":")
    net = dsn[at + 1 : slash]
    assert net.startswith("tcp(") and net.endswith(")"), dsn
    host, _, port = net[4:-1].rpartition(":")
    return {
        "host": host,
        "port": int(port),
        "user": user,
        "password": password,
        "database": dsn[slash + 1 :].split("?")[0],
    }


def redis_targets(r: Rendered, port: int) -> list[dict]:
    return [
        {"name": k, "kind": "redis", "url": relocate(v, "127.0.0.1", port)}
        for k, v in app_env(r).items()
        if v.startswith(("redis://", "rediss://"))
    ]


def database_targets(r: Rendered, port: int) -> list[dict]:
    env = app_env(r)
    targets = []
    for key, value in env.items():
        if value.startswith(("postgres://", "postgresql://", "mysql://")):
            targets.append(
                {
                    "name": key,
                    "kind": "mysql" if value.startswith("mysql") else "postgres",
                    "url": relocate(value, "127.0.0.1", port),
                }
            )
        elif GO_MYSQL_DSN.match(value):
            targets.append(
                {"name": key, "kind": "mysql", "config": {**go_mysql_dsn(value), "host": "127.0.0.1", "port": port}}
            )
    if "DB_DIALECT" in env:
        # NocoBase's variables, as @nocobase/database 2.2.15 lib/helpers.js reads them.
        targets.append(
            {
                "name": "DB_*",
                "kind": "mysql" if env["DB_DIALECT"] == "mysql" else "postgres",
                "config": {
                    "host": "127.0.0.1",
                    "port": port,
                    "user": env["DB_USER"],
                    "password": env["DB_PASSWORD"],
                    "database": env["DB_DATABASE"],
                },
            }
        )
    return targets


@pytest.mark.parametrize(
    "spec", [NOCOBASE_ONE, NOCOBASE_CLUSTER, NEWAPI], ids=["nocobase", "nocobase-cluster", "new-api"]
)
def test_every_redis_url_reaches_its_db_index(spec, renders, workdir, stopping, request):
    r = rendered(renders, spec)
    stopping.append(redis := redis_of(r, servers.owned_dir(workdir, request.node.callspec.id), bloom=True))
    targets = redis_targets(r, redis.port)
    expected = {t["name"] for t in targets}
    assert "CACHE_REDIS_URL" in expected or "REDIS_CONN_STRING" in expected, expected
    if spec is NOCOBASE_CLUSTER:
        assert expected >= {
            "PUBSUB_ADAPTER_REDIS_URL",
            "LOCK_ADAPTER_REDIS_URL",
            "QUEUE_ADAPTER_REDIS_URL",
            "REDIS_URL",
        }
    results = connect(targets)
    for target in targets:
        result = results[target["name"]]
        assert result["ok"], f"{target['name']}: {result['error']}"
        for client, info in result["info"].items():
            assert info["db"] == REDIS_DB_INDEX[REDIS_USE[target["name"]]], (target["name"], client, info)


def test_redis_refuses_a_wrong_password_and_none(renders, workdir, stopping):
    r = rendered(renders, NOCOBASE_ONE)
    stopping.append(redis := redis_of(r, servers.owned_dir(workdir, "redis-auth"), bloom=False))
    (good,) = [t for t in redis_targets(r, redis.port) if t["name"] == "CACHE_REDIS_URL"]
    wrong = dict(good, name="wrong", url=good["url"].replace(":", ":x", 2).replace("redis:x//", "redis://"))
    none = dict(good, name="none", url=f"redis://127.0.0.1:{redis.port}/0")
    results = connect([wrong, none])
    assert not results["wrong"]["ok"] and "WRONGPASS" in results["wrong"]["error"], results["wrong"]
    assert not results["none"]["ok"] and "NOAUTH" in results["none"]["error"], results["none"]


def cli(redis: servers.Server, password: str, *command: str) -> str:
    done = subprocess.run(
        [servers.binary("redis-cli"), "-p", str(redis.port), "--no-auth-warning", "-a", password, *command],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def redis_password(r: Rendered) -> str:
    return r.secrets["nocobase-shared"]["REDIS_PASSWORD"]


def test_redis_keeps_writes_through_a_kill(renders, workdir, stopping):
    """--appendonly yes: a write acknowledged a second before the server is killed (no RDB save
    on SIGKILL) is there after the restart."""
    r = rendered(renders, NOCOBASE_ONE)
    root = servers.owned_dir(workdir, "redis-aof")
    redis = redis_of(r, root, bloom=True)
    stopping.append(redis)
    password = redis_password(r)
    assert cli(redis, password, "-n", "2", "SET", "lock:held", "worker-7") == "OK"
    time.sleep(1.5)  # appendfsync everysec
    redis.stop(signal.SIGKILL)
    stopping.append(again := redis_of(r, root, bloom=True, port=redis.port))
    assert cli(again, password, "-n", "2", "GET", "lock:held") == "worker-7"


def test_redis_refuses_writes_when_full_instead_of_evicting(renders, workdir, stopping):
    """--maxmemory-policy noeviction: at a (test-sized) memory limit a write fails, and no lock or
    worker ID already held is evicted to make room."""
    r = rendered(renders, NOCOBASE_ONE)
    redis = redis_of(r, servers.owned_dir(workdir, "redis-full"), bloom=True, extra=("--maxmemory", "3mb"))
    stopping.append(redis)
    password = redis_password(r)
    cli(redis, password, "-n", "4", "SET", "worker:0", "pod-a")
    refused = ""
    for i in range(400):
        done = subprocess.run(
            [
                servers.binary("redis-cli"),
                "-p",
                str(redis.port),
                "--no-auth-warning",
                "-a",
                password,
                "SET",
                f"cache:{i}",
                "x" * 65536,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if "OOM" in done.stdout + done.stderr:
            refused = done.stdout + done.stderr
            break
    assert refused, "400 writes of 64 KiB under a 3 MB limit were all accepted: keys were evicted"
    assert cli(redis, password, "-n", "4", "GET", "worker:0") == "pod-a"


def test_redis_offers_bloom_filters(renders, workdir, stopping):
    """NocoBase's token blacklist needs BF.*: the module we load stands in for redis 8's built-in one."""
    r = rendered(renders, NOCOBASE_ONE)
    stopping.append(redis := redis_of(r, servers.owned_dir(workdir, "redis-bloom"), bloom=True))
    assert cli(redis, redis_password(r), "BF.RESERVE", "probe", "0.01", "100") == "OK"


@pytest.mark.parametrize(
    "spec",
    [NOCOBASE_ONE, NOCOBASE_MYSQL, NEWAPI, NEWAPI_MYSQL],
    ids=["nocobase-postgres", "nocobase-mysql", "new-api-postgres", "new-api-mysql"],
)
def test_every_database_dsn_connects_as_the_rendered_user(spec, renders, workdir, stopping, request):
    r = rendered(renders, spec)
    stopping.append(db := database_of(r, servers.owned_dir(workdir, request.node.callspec.id)))
    env = database_env(r)
    user = env.get("POSTGRES_USER") or env["MYSQL_USER"]
    name = env.get("POSTGRES_DB") or env["MYSQL_DATABASE"]
    targets = database_targets(r, db.port)
    assert targets, "no database URL or DSN rendered"
    results = connect(targets)
    for target in targets:
        result = results[target["name"]]
        assert result["ok"], f"{target['name']}: {result['error']}"
        assert result["info"]["user"].split("@")[0] == user and result["info"]["db"] == name, (target["name"], result)
        if target["kind"] == "mysql":
            # New API refuses a schema that is not Chinese-capable; NocoBase stores any text.
            assert result["info"]["charset"] == "utf8mb4", result


def test_a_database_dsn_with_a_wrong_password_is_refused(renders, workdir, stopping):
    r = rendered(renders, NOCOBASE_ONE)
    stopping.append(db := database_of(r, servers.owned_dir(workdir, "pg-wrong")))
    (target,) = [t for t in database_targets(r, db.port) if t["name"] == "DB_*"]
    target["config"]["password"] += "x"
    result = connect([target])["DB_*"]
    assert not result["ok"] and "password authentication failed" in result["error"], result
