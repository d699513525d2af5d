"""Part 3: the command we render for NocoBase stops on SIGTERM as PID 1 of its own PID namespace,
as in a container (`unshare --pid --fork --mount-proc`), in front of a stand-in for the image's
entrypoint that behaves as the vendor's does."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.runtime.conftest import NOCOBASE_ONE, node_bin, rendered

# nocobase/nocobase docker/nocobase/Dockerfile (v2.2.0, v2.3.0-beta.3): CMD ["/app/docker-entrypoint.sh"],
# no ENTRYPOINT and no init, so this script is the container's PID 1.
IMAGE_CMD = ["/app/docker-entrypoint.sh"]
# Stands in for docker/nocobase/docker-entrypoint.sh at those tags: `#!/bin/sh`, `set -e`, no trap, and
# the server run in the foreground without exec (`cd /app/nocobase && yarn start --quickstart`); the
# `exec "$@"` after it is reached only once the server has exited.
STAND_IN = """#!/bin/sh
set -e
cd "$(dirname "$0")"
"$NODE" server.js
exec "$@"
"""
# The server: a TERM starts a one-second graceful shutdown, recorded in a file.
SERVER = """
const fs = require('fs');
process.on('SIGTERM', () => { setTimeout(() => { fs.writeFileSync('graceful', 'yes'); process.exit(0); }, 1000); });
fs.writeFileSync('ready', String(process.pid));
setInterval(() => {}, 1000);
"""
# Long enough for the stand-in's one-second shutdown, far below our 60 s grace period.
HANG_SECONDS = 8


def kubernetes_command(renders) -> list[str]:
    container = rendered(renders, NOCOBASE_ONE).container("Deployment", "nocobase-primary")
    return container.get("command") or IMAGE_CMD + container.get("args", [])


def docker_command(renders) -> list[str]:
    r = renders("docker", app={"profile": "nocobase", "replicas": 1})
    (primary,) = [c for c in r.run.of_type("docker:index/container:Container") if c.name.endswith("-primary")]
    inputs = primary.inputs
    # Docker: an entrypoint given replaces the image's and drops its CMD.
    if inputs.get("entrypoints"):
        return list(inputs["entrypoints"]) + list(inputs.get("command") or [])
    return list(inputs.get("command") or IMAGE_CMD)


def as_pid1(command: list[str], folder: Path) -> tuple[float | None, bool]:
    """Runs the command as PID 1 with the stand-in for the image's entrypoint, sends PID 1 a SIGTERM
    (what the runtime does on a stop) and returns (seconds until it exited or None if it still ran
    after HANG_SECONDS and took a SIGKILL, whether the server shut down gracefully)."""
    folder.mkdir()
    stand_in = folder / "docker-entrypoint.sh"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    (folder / "server.js").write_text(SERVER)
    argv = [str(stand_in) if part == IMAGE_CMD[0] else part for part in command]
    assert str(stand_in) in argv, f"the rendered command does not run the image's entrypoint: {command}"
    proc = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--mount-proc", *argv],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "NODE": node_bin()},
        start_new_session=True,
    )
    try:
        for _ in range(300):
            if (folder / "ready").exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert (folder / "ready").exists(), f"the server never started (exit {proc.poll()})"
        (init,) = map(int, Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split())
        began = time.monotonic()
        subprocess.run(["kill", "-TERM", str(init)], check=True)
        try:
            proc.wait(HANG_SECONDS)
            took: float | None = time.monotonic() - began
        except subprocess.TimeoutExpired:
            subprocess.run(["kill", "-KILL", str(init)], check=True)
            proc.wait(10)
            took = None
        return took, (folder / "graceful").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_the_image_entrypoint_as_pid1_ignores_sigterm(tmp_path):
    """The stand-in is faithful: as PID 1 it ignores SIGTERM until the SIGKILL (defect 4, issue 16)."""
    took, graceful = as_pid1(IMAGE_CMD, tmp_path / "image")
    assert took is None and not graceful, f"exited {took}s after SIGTERM: not the vendor's behaviour"


@pytest.mark.parametrize("target", ["kubernetes", "docker"])
def test_the_rendered_command_stops_on_sigterm_with_a_graceful_shutdown(target, renders, tmp_path):
    command = kubernetes_command(renders) if target == "kubernetes" else docker_command(renders)
    took, graceful = as_pid1(command, tmp_path / target)
    assert took is not None, f"{target}: PID 1 still ran {HANG_SECONDS}s after SIGTERM: {command}"
    assert graceful, f"{target}: PID 1 exited, but the server never got SIGTERM (killed with it): {command}"
