"""The local stacks' Pulumi project, under .state/ so that `make up` leaves the checkout as it was.

Pulumi writes a stack's encryption salt and secrets into Pulumi.<stack>.yaml beside Pulumi.yaml. For
the stacks `make up` runs, that project lives in .state/project: a Pulumi.yaml whose `main` is this
checkout, and a settings file made from the tracked Pulumi.<stack>.yaml each run (so edits to it take
effect), keeping the salt and the secrets generated before. Preparing it also logs in to the file
backend, selects (or creates) the stack and generates the secrets it lacks, all under one lock.

    python -m tools.local_stack prepare STACK [--cluster KUBECONFIG]   -> prints the project folder
"""

from __future__ import annotations

import argparse
import fcntl
import os
import secrets as random
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from config import from_settings, load
from config.secrets import APP_SECRET_KEYS
from tools.offline import stackfile

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / ".state" / "project"
BACKEND = REPO / ".state" / "backend"
# Held while the project is prepared: Pulumi's own lock covers an existing stack's state, not its settings file.
LOCK = REPO / ".state" / "project.lock"
NAMESPACE = "appcluster"
# How each kind of secret is generated here (the engine has no pulumi-random provider).
GENERATE = {
    "password": lambda: random.token_hex(24),
    "hex32": lambda: random.token_hex(32),
    "chars32": lambda: random.token_hex(16),
}


def stack_name(stack: str, cluster: bool) -> str:
    return f"{stack}-cluster" if cluster else stack


def prepare(stack: str, kubeconfig: str | None = None) -> Path:
    """Ready the stack for `pulumi up` in PROJECT, with the Pulumi CLI on PATH.

    Two first `make up`s at once used to both generate the secrets (and the salt), each overwriting the
    other's settings file: what one deployed was not what the file kept. Under the lock the second finds
    the first's salt and secrets and generates nothing; each file is replaced whole, so a reader (the
    other run's `pulumi up`) never sees half of one."""
    PROJECT.mkdir(parents=True, exist_ok=True)
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
        project["main"] = str(REPO)
        project["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
        _replace(PROJECT / "Pulumi.yaml", project)

        tracked = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
        config = dict(tracked.get("config") or {})
        if kubeconfig is not None:
            # The same stack, applied to the local control plane instead of rendered to files.
            kube = dict(config.get(f"{NAMESPACE}:kubernetes") or {})
            kube.pop("renderYamlToDirectory", None)
            kube["kubeconfig"] = kubeconfig
            config[f"{NAMESPACE}:kubernetes"] = kube
        name = stack_name(stack, kubeconfig is not None)
        settings = PROJECT / f"Pulumi.{name}.yaml"
        kept = yaml.safe_load(settings.read_text()) if settings.exists() else {}
        generated = (kept.get("config") or {}).get(f"{NAMESPACE}:secrets") or {}
        if generated:
            config[f"{NAMESPACE}:secrets"] = {**generated, **(config.get(f"{NAMESPACE}:secrets") or {})}
        out = {"config": config}
        if "encryptionsalt" in kept:
            out["encryptionsalt"] = kept["encryptionsalt"]
        _replace(settings, out)

        _pulumi("login", f"file://{BACKEND}")
        _pulumi("stack", "select", "--create", "--secrets-provider", "passphrase", name)
        for key, kind in missing(settings):
            print(
                f"==> generating appcluster:secrets.{key} (kept encrypted in .state/project/{settings.name})",
                file=sys.stderr,
            )
            _pulumi("config", "set", "--secret", "--path", f"appcluster:secrets.{key}", GENERATE[kind]())
    return PROJECT


def _replace(path: Path, content: dict) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        yaml.safe_dump(content, tmp, sort_keys=False)
    os.replace(tmp.name, path)


def _pulumi(*args: str) -> None:
    # stdout would mix into the folder this command prints; Pulumi's errors go to stderr as they are.
    done = subprocess.run(["pulumi", "--non-interactive", *args], cwd=PROJECT, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit(
            f"tools.local_stack: `pulumi {args[0]} {args[1] if len(args) > 1 else ''}` failed "
            f"({done.returncode}), see above"
        )


def missing(settings: Path) -> list[tuple[str, str]]:
    """The secrets the stack needs that its settings lack, with their kind."""
    values = from_settings(stackfile.read(settings)[0])
    secrets = dict(values.get("secrets") or {})
    given = set(secrets)
    # secure leaves are placeholders here, hex where the AES key goes: only its presence matters, not
    # its form (which depends on the release).
    secrets.pop("appAesSecretKey", None)
    cfg = load({**values, "secrets": secrets})
    kinds = {s.env: s.kind for s in cfg.app_secrets}
    wanted = [(key, kinds[env]) for key, env in APP_SECRET_KEYS.items() if env in kinds and kinds[env] in GENERATE]
    wanted += [(key, "password") for key in cfg.server_passwords]
    return [(key, kind) for key, kind in wanted if key not in given]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.local_stack")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("stack")
    p.add_argument("--cluster", metavar="KUBECONFIG")
    args = parser.parse_args(argv)
    print(prepare(args.stack, args.cluster))
    return 0


if __name__ == "__main__":
    sys.exit(main())
