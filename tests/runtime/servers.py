"""The real servers, started as our in-cluster ones are configured (the args, users, passwords and
database names a stack renders), each unprivileged on 127.0.0.1, a free port and a temp dir, and
stopped by its PID. scripts/runtime-deps.sh installs them; a missing one fails the test that needs it."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(
    os.environ.get("APPCLUSTER_CACHE", Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "appcluster")
)
RUNTIME = CACHE / "runtime"
REDISBLOOM = RUNTIME / "redisbloom" / "redisbloom.so"
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


class Missing(AssertionError):
    """A server or package the tier needs is not installed: a failure, never a skip."""


def binary(name: str, *globs: str) -> str:
    found = shutil.which(name) or next((p for g in globs for p in sorted(glob.glob(g), reverse=True)), None)
    if not found:
        raise Missing(f"{name} is not installed: run scripts/runtime-deps.sh (make test does)")
    return found


def pg_bin(name: str) -> str:
    # Debian keeps initdb and postgres out of PATH, under the major version's folder.
    return binary(f"/usr/lib/postgresql/bin/{name}", f"/usr/lib/postgresql/*/bin/{name}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def owned_dir(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    shutil.chown(path, "nobody", "nogroup")
    path.chmod(0o700)
    return path


def wait_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"exited with {proc.returncode} before listening on {port}:\n{log.read_text()[-3000:]}"
            )
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"not listening on {port} after {seconds}s:\n{log.read_text()[-3000:]}")


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log: Path
    data: Path
    argv: list[str] = field(default_factory=list)

    def stop(self, sig: int = signal.SIGTERM, seconds: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(seconds)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def spawn(
    argv: list[str], log: Path, port: int, data: Path, env: dict | None = None, cwd: Path | None = None
) -> Server:
    out = log.open("ab")
    proc = subprocess.Popen(
        NOBODY + argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd or data, start_new_session=True
    )
    server = Server(port, proc, log, data, argv)
    try:
        wait_port(port, proc, log)
    except AssertionError:
        server.stop(signal.SIGKILL)
        raise
    return server


# Redis ------------------------------------------------------------------------------------------


def redis_argv(
    rendered_args: list[str],
    password_env: str,
    password: str,
    conf_dir: Path,
    data: Path,
    port: int,
    bloom: bool,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """redis-server with the args our StatefulSet renders: the password, which the manifest passes as
    $(VAR) from the Secret, goes into a 0600 config file instead of argv; --dir is the temp dir."""
    args = list(rendered_args)
    i = args.index("--requirepass")
    assert args[i + 1] == f"$({password_env})", f"--requirepass is not taken from ${password_env}: {args}"
    del args[i : i + 2]
    conf = conf_dir / "redis.conf"
    conf.write_text(f'requirepass "{password}"\n')
    shutil.chown(conf, "nobody", "nogroup")
    conf.chmod(0o600)
    j = args.index("--dir")
    args[j + 1] = str(data)
    argv = [
        binary("redis-server"),
        str(conf),
        *args,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--daemonize",
        "no",
        *extra,
    ]
    if bloom:
        if not REDISBLOOM.is_file():
            raise Missing(f"{REDISBLOOM} is missing: run scripts/runtime-deps.sh (make test does)")
        # A copy beside the config: the cache under root's home is not readable by nobody.
        module = conf_dir / REDISBLOOM.name
        shutil.copyfile(REDISBLOOM, module)
        module.chmod(0o755)
        argv += ["--loadmodule", str(module)]
    return argv


def start_redis(
    root: Path,
    rendered_args: list[str],
    password_env: str,
    password: str,
    bloom: bool,
    extra: tuple[str, ...] = (),
    port: int | None = None,
) -> Server:
    data = owned_dir(root, "redis-data")
    port = port or free_port()
    argv = redis_argv(rendered_args, password_env, password, owned_dir(root, "redis-conf"), data, port, bloom, extra)
    return spawn(argv, root / "redis.log", port, data)


# PostgreSQL -------------------------------------------------------------------------------------


def start_postgres(root: Path, env: dict[str, str], port: int | None = None, init: bool = True) -> Server:
    """initdb and CREATE DATABASE as the postgres image's entrypoint does with POSTGRES_USER,
    POSTGRES_PASSWORD and POSTGRES_DB (password auth over TCP: scram-sha-256)."""
    data = root / "pg-data"
    sock = owned_dir(root, "pg-sock")
    port = port or free_port()
    if init:
        owned_dir(root, "pg-data")
        pwfile = sock / "pw"
        pwfile.write_text(env["POSTGRES_PASSWORD"] + "\n")
        shutil.chown(pwfile, "nobody", "nogroup")
        subprocess.run(
            [
                *NOBODY,
                pg_bin("initdb"),
                "-D",
                str(data),
                f"--username={env['POSTGRES_USER']}",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            cwd=sock,
        )
        pwfile.unlink()
    server = spawn(
        [
            pg_bin("postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={sock}",
        ],
        root / "pg.log",
        port,
        data,
    )
    if init and env.get("POSTGRES_DB", env["POSTGRES_USER"]) != "postgres":
        psql(server, env["POSTGRES_USER"], "postgres", f'CREATE DATABASE "{env["POSTGRES_DB"]}"')
    return server


def psql(server: Server, user: str, db: str, sql: str) -> str:
    sock = server.data.parent / "pg-sock"
    # The server may listen a moment before it accepts: psql retries are bounded by the loop.
    for _ in range(50):
        done = subprocess.run(
            [
                binary("psql"),
                "-h",
                str(sock),
                "-p",
                str(server.port),
                "-U",
                user,
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0 or "starting up" not in done.stderr:
            break
        time.sleep(0.2)
    assert done.returncode == 0, done.stderr
    return done.stdout


# MariaDB (the mysql engine) ---------------------------------------------------------------------


def start_mariadb(root: Path, env: dict[str, str], port: int | None = None, init: bool = True) -> Server:
    """mariadb-install-db, then the users and database the mysql image's entrypoint makes from
    MYSQL_ROOT_PASSWORD, MYSQL_DATABASE, MYSQL_USER and MYSQL_PASSWORD; utf8mb4 as in the image."""
    data = owned_dir(root, "my-data")
    run_dir = owned_dir(root, "my-run")
    port = port or free_port()
    if init:
        subprocess.run(
            [
                *NOBODY,
                binary("mariadb-install-db"),
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            cwd=run_dir,
        )
    server = spawn(
        [
            binary("mariadbd", "/usr/sbin/mariadbd"),
            "--no-defaults",
            f"--datadir={data}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={run_dir}/mysqld.sock",
            f"--pid-file={run_dir}/mysqld.pid",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--skip-log-bin",
        ],
        root / "my.log",
        port,
        data,
    )
    if init:

        def q(value: str) -> str:
            return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

        user, db = env["MYSQL_USER"], env["MYSQL_DATABASE"]
        mysql(
            server,
            "root",
            "",
            f"""
            ALTER USER 'root'@'localhost' IDENTIFIED BY {q(env["MYSQL_ROOT_PASSWORD"])};
            CREATE USER 'root'@'%' IDENTIFIED BY {q(env["MYSQL_ROOT_PASSWORD"])};
            GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
            CREATE DATABASE `{db}`;
            CREATE USER {q(user)}@'%' IDENTIFIED BY {q(env["MYSQL_PASSWORD"])};
            GRANT ALL ON `{db}`.* TO {q(user)}@'%';""",
            socket_auth=True,
        )
    return server


def mysql(server: Server, user: str, password: str, sql: str, db: str = "", socket_auth: bool = False) -> str:
    argv = [binary("mariadb"), f"--socket={server.data.parent / 'my-run' / 'mysqld.sock'}", "-u", user, "-N", "-B"]
    if not socket_auth:
        argv = [binary("mariadb"), "-h", "127.0.0.1", "-P", str(server.port), "-u", user, "-N", "-B"]
    done = subprocess.run(
        argv + ([db] if db else []),
        input=sql,
        capture_output=True,
        text=True,
        env={**os.environ, "MYSQL_PWD": password},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
