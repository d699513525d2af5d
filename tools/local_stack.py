"""The local stacks' Pulumi project, under .state/ so that `make up` leaves the checkout as it was.

Pulumi writes a stack's encryption salt and secrets into Pulumi.<stack>.yaml beside Pulumi.yaml. For
the stacks `make up` runs, that project lives in .state/project: a Pulumi.yaml whose `main` is this
checkout, and a settings file made from the tracked Pulumi.<stack>.yaml each run (so edits to it take
effect), keeping the salt and the secrets generated before.

    python -m tools.local_stack prepare STACK [--cluster KUBECONFIG]   -> prints the project folder
    python -m tools.local_stack secrets SETTINGS                      -> "key<TAB>value" per missing secret
"""
from __future__ import annotations

import argparse
import secrets as random
import sys
from pathlib import Path

import yaml

from config import from_settings, load
from config.secrets import APP_SECRET_KEYS
from tools.offline import stackfile

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / ".state" / "project"
NAMESPACE = "appcluster"
# How each kind of secret is generated here (the engine has no pulumi-random provider).
GENERATE = {"password": lambda: random.token_hex(24), "hex32": lambda: random.token_hex(32),
            "chars32": lambda: random.token_hex(16)}


def stack_name(stack: str, cluster: bool) -> str:
    return f"{stack}-cluster" if cluster else stack


def prepare(stack: str, kubeconfig: str | None = None) -> Path:
    PROJECT.mkdir(parents=True, exist_ok=True)
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    project["main"] = str(REPO)
    project["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
    (PROJECT / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))

    tracked = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    config = dict(tracked.get("config") or {})
    if kubeconfig is not None:
        # The same stack, applied to the local control plane instead of rendered to files.
        kube = dict(config.get(f"{NAMESPACE}:kubernetes") or {})
        kube.pop("renderYamlToDirectory", None)
        kube["kubeconfig"] = kubeconfig
        config[f"{NAMESPACE}:kubernetes"] = kube
    settings = PROJECT / f"Pulumi.{stack_name(stack, kubeconfig is not None)}.yaml"
    kept = yaml.safe_load(settings.read_text()) if settings.exists() else {}
    generated = (kept.get("config") or {}).get(f"{NAMESPACE}:secrets") or {}
    if generated:
        config[f"{NAMESPACE}:secrets"] = {**generated, **(config.get(f"{NAMESPACE}:secrets") or {})}
    out = {"config": config}
    if "encryptionsalt" in kept:
        out["encryptionsalt"] = kept["encryptionsalt"]
    settings.write_text(yaml.safe_dump(out, sort_keys=False))
    return PROJECT


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
    s = sub.add_parser("secrets")
    s.add_argument("settings", type=Path)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        print(prepare(args.stack, args.cluster))
    else:
        for key, kind in missing(args.settings):
            print(f"{key}\t{GENERATE[kind]()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
