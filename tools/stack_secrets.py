"""Which secret inputs a stack still needs in its config, for stacks that must not depend on
pulumi_random (the local stack, whose engine has only the Kubernetes provider).

    python -m tools.stack_secrets Pulumi.local.yaml   ->  one camelCase key per line
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from config import NAMESPACE, load
from config.secrets import APP_SECRET_KEYS


def missing(settings: Path) -> list[str]:
    raw = (yaml.safe_load(settings.read_text()) or {}).get("config") or {}
    values = {k.split(":", 1)[1]: (json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v)
              for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    given = set((values.get("secrets") or {}).keys())
    values["secrets"] = {}  # secure leaves cannot be read here; only their presence matters
    cfg = load(values)
    wanted = [key for key, env in APP_SECRET_KEYS.items() if env in {s.env for s in cfg.app_secrets}]
    wanted += cfg.server_passwords
    return [key for key in wanted if key not in given]


def main() -> int:
    for key in missing(Path(sys.argv[1])):
        print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
