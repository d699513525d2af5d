"""Volumes for a cluster without a storage provisioner (the local control plane): one hostPath
PersistentVolume per claim the stack will make, pre-bound to it by claimRef, as a provisioner would.

The claims are read from the program itself, run under mocks with the stack's config: the shared
storage claim and each StatefulSet's volumeClaimTemplates (name, class, size, access mode).

    python -m tools.local_volumes CONFIG_FILE KUBECONFIG
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tools.offline import harness, stackfile

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Claim:
    namespace: str
    name: str
    storage_class: str
    size: str
    access_mode: str


def claims(config_file: Path) -> list[Claim]:
    config, secret_keys = stackfile.read(config_file)
    run = harness.run_program(REPO, config_file.stem.removeprefix("Pulumi."), config, secret_keys)
    out = []
    for r in run.resources:
        if not r.is_kubernetes:
            continue
        obj = harness.reveal(r.inputs)
        meta, spec = obj["metadata"], obj.get("spec", {})
        if obj["kind"] == "PersistentVolumeClaim" and not spec.get("volumeName"):
            out.append(_claim(meta["namespace"], meta["name"], spec))
        elif obj["kind"] == "StatefulSet":
            for template in spec.get("volumeClaimTemplates", []):
                for i in range(int(spec.get("replicas", 1))):
                    out.append(
                        _claim(
                            meta["namespace"], f"{template['metadata']['name']}-{meta['name']}-{i}", template["spec"]
                        )
                    )
    return out


def _claim(namespace: str, name: str, spec: dict) -> Claim:
    return Claim(
        namespace,
        name,
        spec.get("storageClassName") or "",
        spec["resources"]["requests"]["storage"],
        spec["accessModes"][0],
    )


def provide(kubeconfig: str, wanted: list[Claim], root: str = "/tmp/appcluster-volumes") -> list[str]:
    """Create the volumes that are missing; returns their names."""
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    existing = {pv.metadata.name for pv in api.list_persistent_volume().items}
    made = []
    for claim in wanted:
        name = f"{claim.namespace}-{claim.name}"[:63]
        if name in existing:
            continue
        api.create_persistent_volume(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name, "labels": {"appcluster.io/local-volume": "true"}},
                "spec": {
                    "capacity": {"storage": claim.size},
                    "accessModes": [claim.access_mode],
                    "storageClassName": claim.storage_class,
                    # Retain, as the stack asks of its real volumes: the data outlives its claim.
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": f"{root}/{name}"},
                    "claimRef": {"namespace": claim.namespace, "name": claim.name},
                },
            }
        )
        made.append(name)
    return made


def main() -> int:
    config_file, kubeconfig = Path(sys.argv[1]), sys.argv[2]
    for name in provide(kubeconfig, claims(config_file)):
        print(f"==> volume {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
