"""python -m tools.offline plan|render|check, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

from tests.conftest import KUBERNETES_STACKS, REPO, STACKS
from tools.offline import harness, render, stackfile
from tools.offline.__main__ import main


def test_plan_lists_resources_with_parents_and_masks_secret_outputs(capsys):
    assert main(["plan", "--stack", "dev", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    rows = {(r["type"], r["name"]): r["parent"] for r in plan["resources"]}
    assert rows[("kubernetes:apps/v1:Deployment", "app-primary")] == "app"
    assert rows[("appcluster:index:AppCluster", "app")] == "appcluster-dev"
    assert plan["outputs"]["instances"] == 2


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_rendered_manifests_are_valid_kubernetes_1_31_and_hold_no_secret(stack, tmp_path):
    config, secret_keys = stackfile.read(REPO / f"Pulumi.{stack}.yaml")
    # Concrete endpoints, so every Secret's data is known and can be searched for in the files.
    run = harness.run_program(REPO, stack, config, secret_keys, computed=harness.AWS_ENDPOINTS)
    secrets = [
        v
        for r in run.resources
        if r.is_kubernetes and r.inputs["kind"] == "Secret"
        for v in harness.reveal(r.inputs)["stringData"].values()
    ]
    assert secrets
    files = render.render(run, tmp_path)
    manifests = [f for f in files if f.suffix == ".yaml"]
    kinds = set()
    for path in manifests:
        doc = yaml.safe_load(path.read_text())
        kubernetes_validate.validate(doc, "1.31", strict=True)
        kinds.add(doc["kind"])
    assert {"Deployment", "Service", "Secret", "PersistentVolumeClaim", "NetworkPolicy"} <= kinds
    text = "\n".join(f.read_text() for f in files)
    for value in secrets:
        assert value not in text
    replicas = [yaml.safe_load(p.read_text()) for p in manifests if "deployment" in p.name]
    # Autoscaled roles state no count (the HPA owns it); the others an integer, never a float.
    assert all(isinstance(d["spec"].get("replicas", 0), int) for d in replicas)


def test_config_from_any_file_with_secure_values_as_placeholders(tmp_path, capsys):
    settings = tmp_path / "elsewhere.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "appcluster:app": {"profile": "nocobase", "replicas": 2, "clusterPluginsInImage": True},
                    "appcluster:storage": {"storageClass": "efs-sc"},
                    "appcluster:redis": {"mode": "external"},
                    "appcluster:secrets": {"redisUrl": {"secure": "v1:abc"}, "appAesSecretKey": {"secure": "v1:def"}},
                }
            }
        )
    )
    assert main(["plan", "--stack", "anything", "--config", str(settings)]) == 0
    assert "nocobase-primary" not in capsys.readouterr().err


def test_invalid_config_exits_2_with_the_one_line_message(tmp_path):
    settings = tmp_path / "bad.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "appcluster:app": {"profile": "nocobase", "replicas": 99},
                    "appcluster:storage": {"storageClass": "x"},
                }
            }
        )
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "tools.offline", command, "--config", str(settings)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in ("plan", "render", "check")
    ]
    for process in runs:
        out, err = process.communicate(timeout=120)
        done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines()[0] == (
            "appcluster:app.replicas: 99 — must be between 1 and 32: snowflake worker IDs run 0–31, one per instance"
        )
        assert "Traceback" not in done.stderr


DOCKER = {"appcluster:platform": "docker", "appcluster:protect": False}


@pytest.mark.parametrize(
    "settings,line",
    [
        # Validated, then a KeyError traceback from the env wiring (LOG_SQL_DSN has no source on Docker).
        (
            {"appcluster:app": {"profile": "new-api"}, "appcluster:database": {"logDatabase": True}},
            "appcluster:database.logDatabase: true — the docker platform runs one database server",
        ),
        # Validated, then ignored: the plan pulled the vendor image.
        (
            {
                "appcluster:app": {
                    "profile": "nocobase",
                    "replicas": 1,
                    "build": {"context": "images/nocobase", "tag": "2.2.15-p1"},
                }
            },
            "appcluster:app.build: '…' — the docker platform runs a pulled image and builds none",
        ),
        # Accepted: an image change replaced the primary while the old replica kept running, no backup first.
        (
            {"appcluster:app": {"profile": "nocobase", "replicas": 2, "clusterPluginsInImage": True}},
            "appcluster:app.replicas: 2 — nocobase must not run two versions at once, and the docker platform cannot stop",
        ),
    ],
    ids=["logDatabase", "build", "nocobase-replicas"],
)
def test_what_the_docker_platform_does_not_do_is_refused_in_one_line(settings, line, tmp_path):
    path = tmp_path / "Pulumi.docker-x.yaml"
    path.write_text(yaml.safe_dump({"config": {**DOCKER, **settings}}))
    done = subprocess.run(
        [sys.executable, "-m", "tools.offline", "plan", "--config", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(line), done.stderr


@pytest.mark.parametrize("version,length", [("1.9.62", 32), ("2.2.15", 64)])
def test_a_secure_aes_key_gets_a_placeholder_of_the_form_its_release_reads(version, length, tmp_path, capsys):
    """Set with `pulumi config set --secret` (as the README says), the key cannot be decrypted offline:
    its placeholder has the release's form, or a valid 1.9 stack failed with "got 64"."""
    path = tmp_path / "Pulumi.n.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "appcluster:app": {"profile": "nocobase", "image": f"nocobase/nocobase:{version}", "replicas": 1},
                    "appcluster:storage": {"storageClass": "nfs-client"},
                    "appcluster:secrets": {"appAesSecretKey": {"secure": "v1:abc"}},
                }
            }
        )
    )
    assert len(json.loads(stackfile.read(path)[0]["appcluster:secrets"])["appAesSecretKey"]) == length
    assert main(["plan", "--config", str(path)]) == 0, capsys.readouterr().err


def test_check_passes_the_example_stacks(capsys):
    for stack in STACKS:
        assert main(["check", "--stack", stack]) == 0, capsys.readouterr().out


def test_render_writes_files_a_user_can_apply(tmp_path):
    assert main(["render", "--stack", "dev", "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("*deployment-nocobase-dev-nocobase-primary.yaml"))) == 1


def test_make_up_without_an_engine_explains_and_shows_the_offline_plan(tmp_path):
    # A machine with neither the Pulumi CLI nor Go, and no engine built yet.
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "APPCLUSTER_CACHE": str(tmp_path / "none")}
    done = subprocess.run(["bash", "scripts/up.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "The Pulumi CLI is not installed and Go is not available" in done.stderr
    assert "https://go.dev/dl/, then `make engine`" in done.stderr
    assert "kubernetes:apps/v1:Deployment" in done.stdout and "app-primary" in done.stdout


def test_an_unconfigured_environment_gets_the_strictest_levels_and_says_so(tmp_path, capsys):
    # The dev stack's settings under a stack name that has no policies/config/<stack>.json.
    settings = tmp_path / "Pulumi.staging.yaml"
    settings.write_text((REPO / "Pulumi.dev.yaml").read_text())
    assert main(["check", "--stack", "staging", "--config", str(settings)]) == 1
    out = capsys.readouterr()
    assert "policy levels: the strictest (no " in out.err and "staging.json" in out.err
    # protect: false and root images pass in dev, never where nobody set the levels.
    assert "protect-stateful" in out.out and "restricted-pod-security" in out.out
    assert main(["check", "--stack", "dev"]) == 0
    assert "policy levels: " in capsys.readouterr().err


PROGRAMS = [
    ('import pulumi\npulumi.export("x", 1)\n', 0, None),
    ('import pulumi\nraise ValueError("boom")\n', 3, "the program failed at {dir}/__main__.py:2: ValueError: boom"),
    ("import pulumi\nx = (\n", 3, "the program failed at {dir}/__main__.py:2: SyntaxError"),
    (
        "import asyncio, pulumi\npulumi.export('x', pulumi.Output.from_input(asyncio.get_event_loop().create_future()))\n",
        4,
        "the program did not finish within {timeout}s",
    ),
    (
        'import pulumi\nref = pulumi.StackReference("org/network/prod")\n'
        'pulumi.export("vpc", ref.get_output("vpc").apply(lambda v: v["id"]))\n',
        3,
        "the program failed: StackReference 'org/network/prod': the offline toolbox cannot read another stack's outputs",
    ),
    (
        'import pulumi, pulumi_kubernetes as k8s\nk8s.core.v1.ConfigMap("c", data={"a": "b"})\n'
        'pulumi.export("x", pulumi.Output.from_input(1).apply(lambda v: 1 / 0))\n',
        3,
        "the program failed at {dir}/__main__.py:3: ZeroDivisionError: division by zero",
    ),
]


@pytest.mark.parametrize("program,code,fragment", PROGRAMS)
def test_any_program_without_settings_ends_in_one_line_with_a_code_of_its_own(
    program, code, fragment, tmp_path, capsys
):
    (tmp_path / "__main__.py").write_text(program)  # no Pulumi.yaml, no stack settings
    assert main(["check", "--program", str(tmp_path), "--timeout", "0.5"]) == code
    err = capsys.readouterr().err
    if fragment:
        assert fragment.format(dir=tmp_path, timeout=0.5) in err and "Traceback" not in err


def test_as_a_user_runs_it_a_failed_program_prints_its_one_line_and_nothing_after(tmp_path):
    """What the interpreter prints at exit (asyncio's "Exception ignored ... Invalid file descriptor",
    "Task was destroyed") would follow the one line: the whole stderr must be that line."""
    runs = []
    for index, (program, code, fragment) in enumerate(p for p in PROGRAMS if p[1]):
        folder = tmp_path / str(index)
        folder.mkdir()
        (folder / "__main__.py").write_text(program)
        # The program meant to time out does so soonest; the others get time enough for a fresh
        # interpreter's imports on a busy machine before they fail their own way.
        timeout = 1 if code == 4 else 4
        runs.append(
            (
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tools.offline",
                        "check",
                        "--program",
                        str(folder),
                        "--timeout",
                        str(timeout),
                    ],
                    cwd=REPO,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
                code,
                fragment.format(dir=folder, timeout=timeout),
            )
        )
    for process, code, fragment in runs:
        _, err = process.communicate(timeout=120)
        assert process.returncode == code
        assert err.splitlines() == [next(line for line in err.splitlines() if fragment in line)], err


@pytest.mark.parametrize(
    "content,args,fragment",
    [
        ("- a\n- b\n", [], "must be a mapping with a `config:` key, not a list"),
        ("config: [1, 2]\n", [], "`config` must be a mapping of keys to values, not a list"),
        ("config:\n\tappcluster:app: {}\n", [], "(YAML indents with spaces, never tabs)"),
        ("{{{{ not yaml", [], "not valid YAML at line 1"),
        (None, [], "cannot read it (Is a directory)"),
        ("config: {}\n", ["--policy-config", "{tmp}/policy.json"], "not valid JSON at line 1, column 2"),
        ("config: {}\n", ["--policy-config", "{tmp}/none.json"], "cannot read it (No such file or directory)"),
    ],
)
def test_bad_settings_and_arguments_end_in_one_line_and_exit_2(content, args, fragment, tmp_path, capsys):
    settings = tmp_path / "Pulumi.x.yaml"
    if content is None:
        settings.mkdir()
    else:
        settings.write_text(content)
    (tmp_path / "policy.json").write_text("{bad")
    assert main(["check", "--config", str(settings), *[a.format(tmp=tmp_path) for a in args]]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize("program,fragment", [("{tmp}/nowhere", "no such folder"), ("{tmp}", "no __main__.py there")])
def test_a_program_folder_that_is_not_one_is_a_usage_error(program, fragment, tmp_path, capsys):
    assert main(["check", "--program", program.format(tmp=tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err


def test_an_unwritable_out_folder_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["render", "--stack", "local", "--out", str(blocker / "sub")]) == 2
    assert f"--out {blocker / 'sub'}: cannot write there" in capsys.readouterr().err


def test_a_run_leaves_no_event_loop_open(tmp_path):
    """The SDK calls the mock monitor from executor threads, and the monitor gave each thread an event
    loop nobody closed: collected at exit, they printed asyncio's "Exception ignored ... Invalid file
    descriptor" after the run's last line (4 runs in 8 of this program)."""
    import asyncio
    import gc

    def open_loops() -> set[int]:
        gc.collect()
        return {id(o) for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop) and not o.is_closed()}

    (tmp_path / "__main__.py").write_text(
        "import pulumi\nfor i in range(150):\n"
        "    pulumi.CustomResource('test:index:Thing', f'thing-{i}', {'index': i})\n"
    )
    before = open_loops()
    assert len(harness.run_program(tmp_path, "s", {}, []).resources) == 150
    assert open_loops() - before == set()
