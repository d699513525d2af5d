"""Part 4: the dump our backup CronJob renders, run with the real pg_dump against the server holding
NocoBase's tables, restored into a fresh server with the documented restore command
(components/backups/dump.py restore_command, quoted in the README), and NocoBase started on the
restored data signs in a user that only the dump can have brought back."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from components.backups.dump import restore_command
from tests.runtime import servers
from tests.runtime.conftest import APP_DIR, NOCOBASE_MYSQL, database_env, database_of, node_path, redis_of, rendered
from tests.runtime.nocobase import NocoBase, api, local_env, startup_window

PROBE_USER = {"email": "restored@example.com", "password": "Restored-2215", "nickname": "restored"}


def run_dump(r, cronjob: str, db_port: int, backups) -> None:
    """The CronJob's script as its container runs it, with the database's host and port pointed at
    the local server and its volume mount at a local folder."""
    container = r.container("CronJob", cronjob)
    (mount,) = [m["mountPath"] for m in container["volumeMounts"]]
    assert container["command"][:2] == ["sh", "-c"], container["command"]
    script = container["command"][2].replace(mount, str(backups))
    env = {
        **r.env("CronJob", cronjob),
        "DB_HOST": "127.0.0.1",
        "PGPORT": str(db_port),
        "MYSQL_TCP_PORT": str(db_port),
        "PATH": os.environ["PATH"],
    }
    done = subprocess.run([*servers.NOBODY, "sh", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"the backup script failed: {done.stderr}"


def test_a_scheduled_dump_restores_and_nocobase_signs_the_same_user_in(nocobase, workdir):
    app, r, _ = nocobase
    status, body = api(app.port, "POST", "/api/users:create", PROBE_USER, token=app.sign_in())
    assert status == 200, (status, body)

    backups = servers.owned_dir(workdir, "backups")
    expired = backups / "scheduled-20000101T000000.dump"
    expired.write_text("older than the retention")
    old = time.time() - 30 * 86400
    os.utime(expired, (old, old))
    run_dump(r, "nocobase-backup", int(app.env["DB_PORT"]), backups)
    dumps = sorted(backups.glob("scheduled-*.dump"))
    assert len(dumps) == 1 and dumps[0] != expired, f"expected one fresh dump, the expired one pruned: {dumps}"

    root = servers.owned_dir(workdir, "restored")
    db = database_of(r, root)
    redis = redis_of(r, root, bloom=True)
    restored = None
    try:
        # In the database's pod: its env, and the server on its local socket (here the temp dir's).
        env = {**database_env(r), "PGHOST": str(root / "pg-sock"), "PGPORT": str(db.port), "PATH": os.environ["PATH"]}
        done = subprocess.run(
            [*servers.NOBODY, "sh", "-c", restore_command("postgres", str(dumps[0]))],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"the documented restore failed: {done.stderr[-2000:]}"

        restored = NocoBase(
            APP_DIR,
            node_path(),
            local_env(r, "nocobase-primary", db.port, redis.port, root, servers.free_port()),
            root / "nocobase.log",
        )
        restored.start(startup_window(r, "nocobase-primary"))
        status, body = api(
            restored.port,
            "POST",
            "/api/auth:signIn",
            {"account": PROBE_USER["email"], "password": PROBE_USER["password"]},
        )
        assert status == 200 and body["data"]["user"]["email"] == PROBE_USER["email"], (status, body)
    finally:
        if restored is not None:
            restored.stop(grace=30)
        redis.stop()
        db.stop()


def test_a_mysql_dump_restores_into_a_fresh_server(renders, workdir, stopping):
    """The mysql engine's CronJob (mysqldump, run here by MariaDB's) and the documented restore: the
    rows come back, text outside Latin-1 included."""
    r = rendered(renders, NOCOBASE_MYSQL)
    env = database_env(r)
    user, password, name = env["MYSQL_USER"], env["MYSQL_PASSWORD"], env["MYSQL_DATABASE"]
    rows = ["restored@example.com", "ünïcode@例え.jp"]
    stopping.append(db := database_of(r, servers.owned_dir(workdir, "my-dumped")))
    servers.mysql(
        db,
        user,
        password,
        "CREATE TABLE users (id int primary key, email varchar(100)); "
        + "".join(f"INSERT INTO users VALUES ({i}, '{e}');" for i, e in enumerate(rows)),
        db=name,
    )
    backups = servers.owned_dir(workdir, "my-backups")
    run_dump(r, "nocobase-backup", db.port, backups)
    (dump,) = backups.glob("scheduled-*.sql")

    stopping.append(fresh := database_of(r, servers.owned_dir(workdir, "my-restored")))
    # In the database's pod: its env; here the server's host and port given to the client.
    done = subprocess.run(
        [*servers.NOBODY, "sh", "-c", restore_command("mysql", str(dump))],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "MYSQL_HOST": "127.0.0.1", "MYSQL_TCP_PORT": str(fresh.port), "PATH": os.environ["PATH"]},
    )
    assert done.returncode == 0, f"the documented restore failed: {done.stderr[-2000:]}"
    assert servers.mysql(fresh, user, password, "SELECT email FROM users ORDER BY id", db=name).splitlines() == rows


def test_the_readme_documents_the_restore_the_tests_run():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for engine, dump in (("postgres", "/tmp/restore.dump"), ("mysql", "/tmp/restore.sql")):
        assert restore_command(engine, dump) in readme, f"README: no restore command for {engine}"
