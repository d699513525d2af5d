"""The architecture as the folders state it: each platform loads only its own provider SDKs and
components (components/__init__.py), and what the targets share imports none of them."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, imports

TARGET_SDKS = {"pulumi_kubernetes", "pulumi_aws", "pulumi_docker"}
# What a run of each stack may load, of the provider SDKs and of our component folders.
ALLOWED = {
    "local": ({"pulumi_kubernetes"}, {"kubernetes", "shared", "redis"}),  # Kubernetes only
    "dev": ({"pulumi_kubernetes"}, {"kubernetes", "shared", "redis"}),
    "prod": ({"pulumi_kubernetes", "pulumi_aws"}, {"kubernetes", "aws", "shared", "redis"}),  # EKS with managed services
    "docker": ({"pulumi_docker"}, {"docker", "shared", "redis"}),
}
LOADED = """
import json, sys
from pathlib import Path
from tools.offline import harness, stackfile
config, secret_keys = stackfile.read(Path("Pulumi.{stack}.yaml"))
harness.run_program(Path("."), "{stack}", config, secret_keys)
print(json.dumps(sorted(sys.modules)))
"""


def test_each_platform_loads_only_its_own_sdks_and_components():
    """In a fresh interpreter per stack, as `pulumi up` runs it."""
    runs = {stack: subprocess.Popen([sys.executable, "-c", LOADED.format(stack=stack)], cwd=REPO,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for stack in ALLOWED}
    for stack, process in runs.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        modules = json.loads(out)
        sdks = {m for m in modules if m in TARGET_SDKS}
        folders = {m.split(".")[1] for m in modules if m.startswith("components.") and m.count(".") >= 1}
        assert (sdks, folders) == ALLOWED[stack], stack


def test_what_the_targets_share_imports_no_target():
    shared = list((REPO / "components" / "shared").glob("*.py"))
    assert len(shared) >= 4
    for path in shared:
        bad = {m for m in imports(path) if m.split(".")[0] in TARGET_SDKS
               or m.startswith(("components.kubernetes", "components.aws", "components.docker"))}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_a_target_reaches_another_only_for_a_mode_that_needs_it():
    """Kubernetes components load AWS parts inside the branch of an AWS mode; the Docker platform's
    components never touch Kubernetes or AWS (the image build's ECR mode is the one way into AWS)."""
    for path in (REPO / "components" / "kubernetes").glob("*.py"):
        assert not {m for m in imports(path, top_level=True) if m.split(".")[0] in {"pulumi_aws", "pulumi_docker"}
                    or m.startswith(("components.aws", "components.docker"))}, path.name
    for path in (REPO / "components" / "docker").glob("*.py"):
        reach = {m for m in imports(path) if m.split(".")[0] in {"pulumi_kubernetes", "pulumi_aws"}
                 or m.startswith(("components.kubernetes", "components.aws"))}
        assert reach <= ({"components.aws.registry"} if path.name == "app_image.py" else set()), path.name


def test_components_take_their_own_types_not_config_models():
    """A component states what it reads (its Args, and Protocols for settings the config happens to
    satisfy): none imports config/, even for type checking."""
    for path in (REPO / "components").rglob("*.py"):
        assert not {m for m in imports(path) if m.split(".")[0] == "config"}, path.relative_to(REPO)


def test_a_backing_service_component_loads_no_variant_and_no_variant_reaches_its_component():
    """components/<concern>/component.py imports its variants for type checking only (so it loads no
    SDK); a variant imports the contract, never the component that declares it."""
    for concern in ("redis",):
        folder = REPO / "components" / concern
        component = f"components.{concern}.component"
        variants = [p for p in folder.glob("*.py") if p.stem not in {"__init__", "contract", "component"}]
        assert len(variants) >= 4, concern
        loaded = imports(folder / "component.py", run_time=True)
        assert not {m for m in loaded if m.split(".")[0] in TARGET_SDKS
                    or m in {f"components.{concern}.{p.stem}" for p in variants}}, concern
        for path in variants:
            assert component not in imports(path), path.relative_to(REPO)
        assert not {m for m in imports(folder / "contract.py") if m.split(".")[0] in TARGET_SDKS}, concern
