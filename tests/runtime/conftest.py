"""The runtime tier's fixtures: renders of the example stacks (as a team would override them), the
real servers started from those renders, and one NocoBase 2.2.15 per session on top of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.runtime import servers
from tests.runtime.render import Rendered, render

HERE = Path(__file__).resolve().parent
NOCOBASE_VERSION = "2.2.15"
APP_DIR = servers.RUNTIME / f"nocobase-{NOCOBASE_VERSION}"


def node_bin() -> str:
    found = sorted(servers.RUNTIME.glob("node-22.*/bin/node"))
    if not found or not (APP_DIR / ".complete").exists():
        raise servers.Missing(
            f"Node.js 22 or NocoBase {NOCOBASE_VERSION} is not under {servers.RUNTIME}: run "
            "scripts/runtime-deps.sh (make test does)"
        )
    return str(found[-1])


def node_path() -> str:
    """PATH with node 22 and yarn 1 first (NocoBase's CLI shells out to yarn)."""
    bins = [str(Path(node_bin()).parent), *map(str, servers.RUNTIME.glob("yarn-*/bin"))]
    return ":".join([*bins, os.environ.get("PATH", "/usr/bin:/bin")])


def connect(targets: list[dict]) -> dict[str, dict]:
    """Each target through NocoBase's own client libraries (tests/runtime/clients.js)."""
    done = subprocess.run(
        [node_bin(), str(HERE / "clients.js"), str(APP_DIR), json.dumps(targets)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def workdir():
    # Not pytest's tmp_path: its folders are 0700 root, and the servers run as nobody.
    root = Path(tempfile.mkdtemp(prefix="appcluster-runtime-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def renders(workdir) -> Callable[..., Rendered]:
    """render(stack, drop, **overrides), once per distinct argument set in a session."""
    cache: dict[str, Rendered] = {}
    folder = workdir / "renders"
    folder.mkdir()

    def get(stack: str, drop: tuple[str, ...] = (), **overrides) -> Rendered:
        key = json.dumps([stack, drop, overrides], sort_keys=True)
        if key not in cache:
            cache[key] = render(stack, folder, drop, **overrides)
        return cache[key]

    return get


# The stacks the tier runs. `dev` without the plugin platform's account is one NocoBase instance
# (the stock image: no adapter plugins, so no adapter URLs); with clusterPluginsInImage it renders
# every adapter's URL; `local` is New API.
NOCOBASE_ONE = dict(stack="dev", drop=("secrets",), app={"replicas": 1})
NOCOBASE_MYSQL = dict(stack="dev", drop=("secrets",), app={"replicas": 1}, database={"engine": "mysql"})
NOCOBASE_CLUSTER = dict(stack="dev", drop=("secrets",), app={"clusterPluginsInImage": True})
NEWAPI = dict(stack="local")
NEWAPI_MYSQL = dict(stack="local", database={"engine": "mysql"})


def rendered(renders, spec: dict) -> Rendered:
    spec = dict(spec)
    return renders(spec.pop("stack"), spec.pop("drop", ()), **spec)


def redis_of(r: Rendered, root: Path, bloom: bool, extra: tuple[str, ...] = (), port=None) -> servers.Server:
    """Our in-cluster Redis as rendered: the StatefulSet's args, its password from the Secret."""
    name = next(n for n in r.objects("StatefulSet") if n.endswith("-redis"))
    container = r.container("StatefulSet", name)
    (password_env,) = [v["name"] for v in container["env"]]
    return servers.start_redis(
        root,
        container["args"],
        password_env,
        r.env("StatefulSet", name)[password_env],
        bloom=bloom,
        extra=extra,
        port=port,
    )


def database_env(r: Rendered) -> dict[str, str]:
    name = next(n for n in r.objects("StatefulSet") if n.endswith("-database"))
    return r.env("StatefulSet", name)


def database_of(r: Rendered, root: Path, port=None, init: bool = True) -> servers.Server:
    env = database_env(r)
    start = servers.start_postgres if "POSTGRES_USER" in env else servers.start_mariadb
    return start(root, env, port=port, init=init)


@pytest.fixture
def stopping():
    """Servers a test starts, stopped (by PID) when it ends."""
    started: list[servers.Server] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def nocobase(renders, workdir):
    """One NocoBase 2.2.15 for the session, from the single-instance dev render, on PostgreSQL and
    Redis (with Bloom) started as rendered. Yields (app, render, redis server, start seconds)."""
    from tests.runtime.nocobase import NocoBase, local_env, startup_window

    r = rendered(renders, NOCOBASE_ONE)
    root = servers.owned_dir(workdir, "nocobase")
    db = database_of(r, root)
    redis = redis_of(r, root, bloom=True)
    app = NocoBase(
        APP_DIR,
        node_path(),
        local_env(r, "nocobase-primary", db.port, redis.port, root, servers.free_port()),
        root / "nocobase.log",
    )
    try:
        app.start(startup_window(r, "nocobase-primary"))
        yield app, r, redis
    finally:
        app.stop(grace=30)
        redis.stop()
        db.stop()
