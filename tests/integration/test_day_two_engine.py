"""Day two at the engine level (issue 16, defects 16-19): what concurrent, refused, stuck or tampered-with
`up`s leave behind, with the real engine and, where a cluster is involved, the local control plane."""
from __future__ import annotations

import base64
import subprocess

import yaml

from tests.integration.conftest import Project
from tests.integration.test_engine import LOCAL_SECRETS, manifests, secret_values


def test_two_first_make_ups_at_once_deploy_what_the_config_keeps(project: Project):
    """Defect 16: on a fresh checkout both runs used to generate the secrets outside Pulumi's lock; what
    one deployed was then not what the settings file kept, and the next `up` replaced the Secret."""
    runs = [subprocess.Popen(["scripts/up.sh"], cwd=project.root, env=project.env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    results = [run.communicate(timeout=600) + (run.returncode,) for run in runs]
    assert any(code == 0 for _, _, code in results), results
    for out, err, code in results:
        # Pulumi's state lock refuses a second `up` of the same stack, clearly; nothing else may fail.
        assert code == 0 or "currently locked" in out + err, (out, err)

    state_project = project.root / ".state" / "project"
    assert yaml.safe_load((state_project / "Pulumi.yaml").read_text())["main"] == str(project.root)
    stored = secret_values(project, "local", LOCAL_SECRETS, cwd=state_project)
    shared = yaml.safe_load(next(p for p in manifests(project.root / "rendered" / "local")
                                 if p.name.endswith("new-api-shared.yaml")).read_text())
    deployed = {base64.b64decode(v).decode() for v in shared["data"].values()}
    assert set(stored) <= deployed, "the rendered Secret holds other secrets than the stack's config"
    project.pulumi("preview", "--stack", "local", "--expect-no-changes", cwd=state_project)

