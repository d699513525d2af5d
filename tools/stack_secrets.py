"""Which secret inputs a stack still needs in its config, for stacks that must not depend on
pulumi_random (the local stack, whose engine has only the Kubernetes provider).

    python -m tools.stack_secrets Pulumi.local.yaml   ->  one camelCase key per line
"""
from __future__ import annotations

import sys
from pathlib import Path

from config import from_settings, load
from config.secrets import APP_SECRET_KEYS
from tools.offline import stackfile


def missing(settings: Path) -> list[str]:
    values = from_settings(stackfile.read(settings)[0])
    given = set((values.get("secrets") or {}).keys())
    values["secrets"] = {}  # secure leaves are placeholders here; only their presence matters
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
