"""The architecture as the folders state it: each platform loads only its own provider SDKs and
components (components/__init__.py), and what the targets share imports none of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, imports

TARGET_SDKS = {"pulumi_kubernetes", "pulumi_aws", "pulumi_docker"}
# What a run of each stack may load, of the provider SDKs and of our component folders.
ALLOWED = {
    "local": (
        {"pulumi_kubernetes"},
        {"kubernetes", "shared", "redis", "database", "storage", "backups"},
    ),  # Kubernetes only
    "dev": ({"pulumi_kubernetes"}, {"kubernetes", "shared", "redis", "database", "storage", "backups"}),
    # EKS with managed services
    "prod": (
        {"pulumi_kubernetes", "pulumi_aws"},
        {"kubernetes", "aws", "shared", "redis", "database", "storage", "backups"},
    ),
    "docker": ({"pulumi_docker"}, {"docker", "shared", "redis", "database"}),
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
    runs = {
        stack: subprocess.Popen(
            [sys.executable, "-c", LOADED.format(stack=stack)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for stack in ALLOWED
    }
    for stack, process in runs.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        modules = json.loads(out)
        sdks = {m for m in modules if m in TARGET_SDKS}
        folders = {m.split(".")[1] for m in modules if m.startswith("components.") and m.count(".") >= 1}
        assert (sdks, folders) == ALLOWED[stack], stack


BUILDS = """
import json, sys
from tests.conftest import REPO, stack_config
from tools.offline import harness
build = {{"context": "images/nocobase", "tag": "2.2.15-p1",
          "registry": {{"mode": "registry", "server": "ghcr.io", "repository": "acme/nocobase", "username": "ci"}}}}
config, secret_keys = stack_config("dev", {{"app": {{"build": build}}, "secrets": {{"registryPassword": "x" * 20}}}},
                                   tmp=__import__("pathlib").Path({tmp!r}))
harness.run_program(REPO, "dev", config, secret_keys)
print(json.dumps(sorted(sys.modules)))
"""


def test_a_kubernetes_stack_loads_pulumi_docker_only_when_it_builds(tmp_path):
    """The build is AppImage's own (pulumi_docker); an existing registry loads no pulumi_aws."""
    done = subprocess.run(
        [sys.executable, "-c", BUILDS.format(tmp=str(tmp_path))], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout)
    assert {m for m in modules if m in TARGET_SDKS} == {"pulumi_kubernetes", "pulumi_docker"}
    assert {m for m in modules if m.startswith("components.image.")} == {
        "components.image.component",
        "components.image.contract",
        "components.image.registry",
    }


def test_what_the_targets_share_imports_no_target():
    shared = list((REPO / "components" / "shared").glob("*.py"))
    assert len(shared) >= 4
    for path in shared:
        bad = {
            m
            for m in imports(path)
            if m.split(".")[0] in TARGET_SDKS
            or m.startswith(("components.kubernetes", "components.aws", "components.docker"))
        }
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_a_target_reaches_another_only_for_a_mode_that_needs_it():
    """Kubernetes components load AWS parts inside the branch of an AWS mode; the Docker platform's
    components never touch Kubernetes or AWS (the image build's ECR mode is the one way into AWS)."""
    for path in (REPO / "components" / "kubernetes").glob("*.py"):
        assert not {
            m
            for m in imports(path, top_level=True)
            if m.split(".")[0] in {"pulumi_aws", "pulumi_docker"}
            or m.startswith(("components.aws", "components.docker"))
        }, path.name
    for path in (REPO / "components" / "docker").glob("*.py"):
        assert not {
            m
            for m in imports(path)
            if m.split(".")[0] in {"pulumi_kubernetes", "pulumi_aws"}
            or m.startswith(("components.kubernetes", "components.aws"))
        }, path.name


def test_components_take_their_own_types_not_config_models():
    """A component states what it reads (its Args, and Protocols for settings the config happens to
    satisfy): none imports config/, even for type checking."""
    for path in (REPO / "components").rglob("*.py"):
        assert not {m for m in imports(path) if m.split(".")[0] == "config"}, path.relative_to(REPO)


# The backing services laid out as one component with typed variants: the SDK each file may load
# (at run time), the component's and the contract's none of a target's.
VARIANT_SDKS = {
    "redis": {
        "contract": set(),
        "component": set(),
        "in_cluster": {"pulumi_kubernetes"},
        "elasticache": {"pulumi_aws"},
        "external": set(),
        "container": {"pulumi_docker"},
    },
    "database": {
        "contract": set(),
        "component": set(),
        "in_cluster": {"pulumi_kubernetes"},
        "rds": {"pulumi_aws"},
        "external": set(),
        "container": {"pulumi_docker"},
    },
    "storage": {
        "contract": set(),
        "component": set(),
        "claim": {"pulumi_kubernetes"},
        "storage_class": {"pulumi_kubernetes"},
        "nfs": {"pulumi_kubernetes"},
        "efs": {"pulumi_kubernetes", "pulumi_aws"},
    },
    "backups": {
        "contract": set(),
        "component": set(),
        "dump": {"pulumi_kubernetes"},
        "aws": {"pulumi_kubernetes", "pulumi_aws"},
    },
    # The build is the component's own: pulumi_docker, loaded only by a stack that builds.
    "image": {"contract": set(), "component": {"pulumi_docker"}, "registry": set(), "ecr": {"pulumi_aws"}},
}
# What each target's helper modules load, as a variant reaches them through components.<target>.
TARGET_OF = {"kubernetes": "pulumi_kubernetes", "aws": "pulumi_aws", "docker": "pulumi_docker"}


def test_a_backing_service_is_a_component_with_variants_that_never_import_it():
    """component → (type checking only) variants → contract; a variant never imports its component
    nor another variant, the contract imports no variant and no SDK."""
    for concern, files in VARIANT_SDKS.items():
        folder = REPO / "components" / concern
        assert {p.stem for p in folder.glob("*.py")} == {"__init__", *files}, concern
        assert (folder / "__init__.py").read_text().startswith('"""') and not imports(folder / "__init__.py")

        def loads(stem: str, concern: str = concern, folder: Path = folder) -> set[str]:
            run_time = imports(folder / f"{stem}.py", run_time=True)
            found = {m.split(".")[0] for m in run_time if m.split(".")[0] in TARGET_SDKS}
            found |= {
                TARGET_OF[m.split(".")[1]]
                for m in run_time
                if m.startswith("components.") and m.split(".")[1] in TARGET_OF
            }
            return found.union(*(loads(m.split(".")[2]) for m in run_time if m.startswith(f"components.{concern}.")))

        for stem, sdks in files.items():
            ours = {
                m.split(".")[2]
                for m in imports(folder / f"{stem}.py", run_time=True)
                if m.startswith(f"components.{concern}.")
            }
            assert loads(stem) == sdks, f"{concern}/{stem}.py loads {loads(stem)}"
            if stem == "contract":
                assert not ours, f"{concern}/contract.py imports {ours}"
            elif stem == "component":
                assert ours == {"contract"}, f"{concern}/component.py imports {ours} at run time"
                assert {
                    m.split(".")[2] for m in imports(folder / f"{stem}.py") if m.startswith(f"components.{concern}.")
                } == set(files) - {"component", "claim"}, f"{concern}/component.py's union misses a variant"
            else:
                assert "component" not in {
                    m.split(".")[2] for m in imports(folder / f"{stem}.py") if m.startswith(f"components.{concern}.")
                }, f"{concern}/{stem}.py"
                assert ours <= {"contract", "claim"}, f"{concern}/{stem}.py imports {ours}"
