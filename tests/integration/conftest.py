"""The real engine tier: the Pulumi CLI built from Go modules runs our program and policy pack.

These tests fail, never skip, when the engine is missing: `make test` builds it first."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "integration-tests-only"


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    done = subprocess.run([str(REPO / "scripts" / "build-engine.sh"), "--bin"], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail("the Pulumi engine is not built: run `make engine` (or `make test`, which builds it)")
    return Path(done.stdout.strip())


class Project:
    """A copy of the project in a temp folder with its own file backend, as a user's checkout."""

    def __init__(self, root: Path, engine_bin: Path):
        self.root = root
        self.env = {
            **os.environ,
            "PATH": f"{engine_bin}:{os.environ['PATH']}",
            "PULUMI_HOME": str(root / ".state" / "pulumi-home"),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_BACKEND_URL": f"file://{root / '.state' / 'backend'}",
        }
        (root / ".state" / "backend").mkdir(parents=True)

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(args, cwd=cwd or self.root, env=self.env, capture_output=True, text=True, timeout=600)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def pulumi(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("pulumi", "--non-interactive", *args, cwd=cwd, check=check)

    def stack(self, name: str, cwd: Path | None = None) -> None:
        self.pulumi("stack", "select", "--create", "--secrets-provider", "passphrase", name, cwd=cwd)


@pytest.fixture
def project(tmp_path, engine_bin) -> Project:
    root = tmp_path / "appcluster"
    # Exactly what a checkout holds: the files git tracks (a new package can't be forgotten here).
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    (root / ".venv").symlink_to(REPO / ".venv")
    return Project(root, engine_bin)
