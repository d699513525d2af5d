"""One NocoBase 2.2.15 process started from a rendered primary's env, against local servers."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.runtime.render import Rendered, relocate

# NocoBase's first-install account when INIT_ROOT_EMAIL / INIT_ROOT_PASSWORD are not set
# (@nocobase/plugin-users 2.2.15 dist/server/server.js): the stack renders both, so this must not sign in.
VENDOR_ROOT_ACCOUNT = {"account": "admin@nocobase.com", "password": "admin123"}


def startup_window(r: Rendered, deployment: str) -> int:
    """The seconds our startup probe gives a first start or a migration."""
    probe = r.container("Deployment", deployment)["startupProbe"]
    return math.ceil(probe["failureThreshold"] * probe["periodSeconds"])


def local_env(r: Rendered, deployment: str, db_port: int, redis_port: int, root: Path, app_port: int) -> dict[str, str]:
    """The rendered env, with only the servers' host and port changed to the local ones, plus what
    keeps one instance on loopback and off the shared storage's socket (APP_HOST, APP_PORT,
    SOCKET_PATH, PM2_HOME) and the storage path at the volume's stand-in."""
    env = r.env("Deployment", deployment)
    env.update(DB_HOST="127.0.0.1", DB_PORT=str(db_port))
    for key, value in env.items():
        if value.startswith("redis://"):
            env[key] = relocate(value, "127.0.0.1", redis_port)
    run = root / "run"
    run.mkdir(exist_ok=True)
    env.update(
        APP_HOST="127.0.0.1",
        APP_PORT=str(app_port),
        STORAGE_PATH=str(root / "storage"),
        SOCKET_PATH=str(run / "gateway.sock"),
        PM2_HOME=str(run / "pm2"),
    )
    return env


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 30
) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def api(port: int, method: str, path: str, payload: dict | None = None, token: str = "") -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "X-Authenticator": "basic"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, _, body = request(
        port, method, path, json.dumps(payload).encode() if payload is not None else None, headers
    )
    try:
        return status, json.loads(body or b"{}")
    except json.JSONDecodeError:
        return status, {"raw": body.decode(errors="replace")[:500]}


@dataclass
class NocoBase:
    app_dir: Path
    node_path: str
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    started_seconds: list[float] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.env["APP_PORT"])

    @property
    def storage(self) -> Path:
        return Path(self.env["STORAGE_PATH"])

    def start(self, window: int) -> float:
        """Starts it and waits for a green health check, at most `window` seconds; returns the time taken."""
        began = time.monotonic()
        env = {"PATH": self.node_path, "HOME": str(self.log.parent), "LANG": "C.UTF-8", **self.env}
        self.proc = subprocess.Popen(
            ["node", "node_modules/@nocobase/cli-v1/bin/index.js", "start", "--quickstart", "--launch-mode", "node"],
            cwd=self.app_dir,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while time.monotonic() - began < window:
            if self.proc.poll() is not None:
                raise AssertionError(f"NocoBase exited with {self.proc.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                if request(self.port, "GET", "/api/__health_check", timeout=5)[0] == 200:
                    self.started_seconds.append(time.monotonic() - began)
                    return self.started_seconds[-1]
            except OSError:
                pass
            time.sleep(1)
        self.stop(grace=5)
        raise AssertionError(
            f"no green /api/__health_check within the {window}s startup window:\n{self.log.read_text()[-4000:]}"
        )

    def stop(self, grace: float) -> float | None:
        """SIGTERM to its process group (what the container's PID 1 must pass on), SIGKILL after
        `grace` seconds as the kubelet does. Returns the seconds it took, or None if killed."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        began = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            return None
        # Its children (the CLI runs the server as one) must be gone too.
        deadline = time.monotonic() + max(0.0, grace - (time.monotonic() - began))
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return time.monotonic() - began
            time.sleep(0.1)
        os.killpg(self.proc.pid, signal.SIGKILL)
        return None

    @property
    def root_account(self) -> dict[str, str]:
        """The account the rendered env creates on install (the password read from the rendered Secret)."""
        return {"account": self.env["INIT_ROOT_EMAIL"], "password": self.env["INIT_ROOT_PASSWORD"]}

    def sign_in(self) -> str:
        status, body = api(self.port, "POST", "/api/auth:signIn", self.root_account)
        assert status == 200, (status, body)
        return body["data"]["token"]
