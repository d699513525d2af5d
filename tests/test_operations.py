"""Day-2 operations as config changes: maintenance page, upgrade order, backups, service splitting."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from components.shared.nginx import HEALTH_PATH, maintenance_config
from config import ConfigError, load
from tests.conftest import env_of, k8s, one, spec
from tools.offline.harness import reveal

# -- maintenance ------------------------------------------------------------------------------------


def test_maintenance_stops_every_instance_and_points_traffic_at_the_page(run_stack):
    run = run_stack("dev", maintenance=True, app={"replicas": 4, "autoscaling": {"enabled": True}})
    assert spec(k8s(run, "Deployment", "nocobase-primary"))["replicas"] == 0
    replicas = k8s(run, "Deployment", "nocobase-replicas")
    assert spec(replicas)["replicas"] == 0 and replicas.ignore_changes == []  # the HPA must not hold it up
    assert not run.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    service = spec(k8s(run, "Service", "nocobase"))
    assert service["selector"] == {
        "app.kubernetes.io/instance": "nocobase",
        "app.kubernetes.io/component": "maintenance",
    }
    page = spec(k8s(run, "Deployment", "nocobase-maintenance"))
    container = page["template"]["spec"]["containers"][0]
    assert container["image"].startswith("nginxinc/nginx-unprivileged:") and container["ports"][0]["name"] == "http"
    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == HEALTH_PATH
    assert run.outputs["instances"].value == 0 and run.outputs["maintenance"].value is True


def test_leaving_maintenance_restores_traffic_and_removes_the_page(run_stack):
    run = run_stack("dev", maintenance=False)
    assert spec(k8s(run, "Service", "nocobase"))["selector"]["app.kubernetes.io/component"] == "app"
    assert not [r for r in run.resources if r.type == "appcluster:index:MaintenancePage"]
    assert spec(k8s(run, "Deployment", "nocobase-primary"))["replicas"] == 1


def test_maintenance_alb_drops_the_weights_and_checks_the_page(run_stack):
    run = run_stack("prod-newapi", maintenance=True, loadBalancer={"mode": "alb"})
    ingress = reveal(k8s(run, "Ingress", "new-api").inputs)
    assert "alb.ingress.kubernetes.io/actions.weighted" not in ingress["metadata"]["annotations"]
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"] == HEALTH_PATH


def test_the_maintenance_nginx_config_is_valid(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    # CI installs nginx (.ci/run); without it this fails rather than pass unchecked.
    assert shutil.which(nginx), "nginx is not installed: apt-get install nginx-light"
    (tmp_path / "default.conf").write_text(maintenance_config())
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; include {tmp_path}/default.conf; }}\n"
    )
    done = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


# -- upgrades ---------------------------------------------------------------------------------------


def test_nocobase_upgrade_backs_up_then_stops_the_others_then_moves_the_primary(run_stack):
    run = run_stack("dev", app={"image": "nocobase/nocobase:2.2.13"})
    backup = k8s(run, "Job", "nocobase-backup-before-2-2-13")
    stop = k8s(run, "Job", "nocobase-stop-before-2-2-13")
    primary = k8s(run, "Deployment", "nocobase-primary")
    replicas = k8s(run, "Deployment", "nocobase-replicas")
    assert {backup.urn, stop.urn} <= set(primary.dependencies)
    assert primary.urn in replicas.dependencies
    script = spec(stop)["template"]["spec"]["containers"][0]["command"][-1]
    assert "--replicas=0" in script and "appcluster.io/role!=primary" in script
    assert "kubectl wait --for=delete pod" in script
    # The replicas come back after the primary: declared at the new version, then resumed if still at zero.
    resume = k8s(run, "Job", "nocobase-resume-after-2-2-13")
    assert replicas.urn in resume.dependencies
    assert (
        "deployment/nocobase-replicas --replicas=1" in spec(resume)["template"]["spec"]["containers"][0]["command"][-1]
    )
    dump = spec(backup)["template"]["spec"]["containers"][0]
    assert "pg_dump" in dump["command"][-1] and "/backups/before-2-2-13-" in dump["command"][-1]
    assert dump["volumeMounts"] == [{"name": "backups", "mountPath": "/backups", "subPath": ".appcluster-backups"}]
    assert {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "nocobase-shared", "key": "DATABASE_PASSWORD"}},
    } in dump["env"]


def test_a_new_version_gets_new_gates_and_the_same_version_keeps_them(run_stack):
    first = {
        r.name for r in run_stack("dev", app={"image": "nocobase/nocobase:2.2.13"}).of_type("kubernetes:batch/v1:Job")
    }
    again = {
        r.name for r in run_stack("dev", app={"image": "nocobase/nocobase:2.2.13"}).of_type("kubernetes:batch/v1:Job")
    }
    upgraded = {
        r.name for r in run_stack("dev", app={"image": "nocobase/nocobase:2.2.14"}).of_type("kubernetes:batch/v1:Job")
    }
    assert first == again
    assert upgraded == {"backups-before-2-2-14", "app-stop-before-2-2-14", "app-resume-after-2-2-14"}


def test_new_api_upgrade_backs_up_then_master_then_slaves_without_stopping_them(run_stack):
    run = run_stack("local", app={"image": "calciumion/new-api:v0.9.1"})
    primary = k8s(run, "Deployment", "new-api-primary")
    assert k8s(run, "Job", "new-api-backup-before-v0-9-1").urn in primary.dependencies
    assert not [r for r in run.of_type("kubernetes:batch/v1:Job") if "stop" in r.name]
    assert primary.urn in k8s(run, "Deployment", "new-api-replicas").dependencies


def test_rds_snapshot_named_after_the_version_precedes_the_primary(run_stack):
    run = run_stack("prod", app={"image": "nocobase/nocobase:2.2.14"})
    snapshot = next(r for r in run.resources if r.type == "aws:rds/snapshot:Snapshot")
    assert re.fullmatch(r"nocobase-before-2-2-14-[0-9a-f]{6}", reveal(snapshot.inputs)["dbSnapshotIdentifier"])
    assert snapshot.retain_on_delete  # a later upgrade must not delete this one
    # Of the instance the Database component exposes (its endpoint's rds), not the proxy in front of it.
    instance = reveal(one(run, "aws:rds/instance:Instance").inputs)
    assert reveal(snapshot.inputs)["dbInstanceIdentifier"] == instance["identifier"]
    assert snapshot.urn in k8s(run, "Deployment", "nocobase-primary").dependencies


def test_image_by_digest_names_the_backup_after_the_digest(run_stack):
    run = run_stack("dev", app={"image": "nocobase/nocobase:2.2.15@sha256:" + "ab" * 32})
    assert k8s(run, "Job", "nocobase-backup-before-abababababab")


# -- scheduled backups ------------------------------------------------------------------------------


def test_in_cluster_backups_run_on_a_schedule_and_prune(run_stack):
    run = run_stack("dev", backup={"schedule": "30 2 * * 1", "retentionDays": 30})
    cron = spec(k8s(run, "CronJob", "nocobase-backup"))
    assert cron["schedule"] == "30 2 * * 1" and cron["concurrencyPolicy"] == "Forbid"
    command = cron["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert "pg_dump" in command and "-mtime +30 -delete" in command


def test_mysql_backups_use_mysqldump(run_stack):
    run = run_stack("dev", database={"engine": "mysql"})
    command = spec(k8s(run, "CronJob", "nocobase-backup"))["jobTemplate"]["spec"]["template"]["spec"]["containers"][0][
        "command"
    ][-1]
    assert "mysqldump" in command and "--single-transaction" in command


def test_aws_backup_plan_covers_rds_and_efs(run_stack):
    run = run_stack("prod", backup={"schedule": "0 4 * * *", "retentionDays": 35})
    plan = reveal(next(r for r in run.resources if r.type == "aws:backup/plan:Plan").inputs)
    assert plan["rules"][0]["schedule"] == "cron(0 4 * * ? *)"
    assert plan["rules"][0]["lifecycle"]["deleteAfter"] == 35
    selection = reveal(next(r for r in run.resources if r.type == "aws:backup/selection:Selection").inputs)
    assert len(selection["resources"]) == 2
    assert any(":rds:" in arn for arn in selection["resources"]) and any(
        ":efs:" in arn for arn in selection["resources"]
    )
    assert not run.of_type("kubernetes:batch/v1:CronJob")


def test_an_in_cluster_database_on_efs_gets_both_the_dump_and_the_aws_plan(run_stack):
    """Backups composes its two variants: the dump (the database is ours in the cluster) and the AWS
    Backup plan (the shared storage is EFS), and the dump Job is what the primary waits on."""
    run = run_stack("prod", database={"mode": "in-cluster"})
    assert k8s(run, "CronJob", "nocobase-backup")
    selection = reveal(one(run, "aws:backup/selection:Selection").inputs)
    assert len(selection["resources"]) == 1 and ":efs:" in selection["resources"][0]
    assert not run.of_type("aws:rds/snapshot:Snapshot")
    job = next(r for r in run.of_type("kubernetes:batch/v1:Job") if r.name.startswith("backups-before-"))
    assert job.urn in k8s(run, "Deployment", "nocobase-primary").dependencies


def test_bad_backup_schedule_is_refused():
    with pytest.raises(ConfigError, match=r"appcluster:backup.schedule: 'daily' — must be a 5-field cron"):
        load({"app": {"profile": "nocobase"}, "storage": {"storageClass": "x"}, "backup": {"schedule": "daily"}})


# -- service splitting ------------------------------------------------------------------------------


def test_workers_run_task_modes_outside_the_service(run_stack):
    run = run_stack(
        "dev", app={"workers": [{"name": "flows", "mode": "workflow:process,async-task:process", "replicas": 2}]}
    )
    worker = k8s(run, "Deployment", "nocobase-worker-flows")
    assert spec(worker)["replicas"] == 2
    assert env_of(worker)["WORKER_MODE"]["value"] == "workflow:process,async-task:process"
    labels = spec(worker)["template"]["metadata"]["labels"]
    selector = spec(k8s(run, "Service", "nocobase"))["selector"]
    assert not all(labels.get(k) == v for k, v in selector.items())
    assert k8s(run, "Deployment", "nocobase-primary").urn in worker.dependencies
    assert run.outputs["maxInstances"].value == 4


@pytest.mark.parametrize(
    "workers,profile,fragment",
    [
        ([{"name": "all", "mode": "*", "replicas": 30}], "nocobase", "can reach 32"),
        ([{"name": "all", "mode": "*", "replicas": 31}], "nocobase", "more than 32 worker IDs"),
        ([{"name": "x", "mode": "*"}], "new-api", "has no worker-only instances"),
        ([{"name": "x", "mode": "run everything"}], "nocobase", "appcluster:app.workers.0.mode"),
    ],
)
def test_worker_budget_and_shape_are_checked(workers, profile, fragment):
    raw = {
        "app": {"profile": profile, "replicas": 2, "workers": workers}
        | ({"clusterPluginsInImage": True} if profile == "nocobase" else {}),
        "storage": {"storageClass": "x"},
    }
    if fragment == "can reach 32":
        assert load(raw).max_instances == 32
        return
    with pytest.raises(ConfigError, match=fragment.replace("*", r"\*")):
        load(raw)


# -- images -----------------------------------------------------------------------------------------

BUILD = {"context": "images/nocobase", "tag": "2.2.15-p1"}


def test_built_image_goes_to_a_scanned_immutable_ecr_repository_and_runs_by_digest(run_stack):
    run = run_stack("prod", app={"build": BUILD})
    repo = reveal(next(r for r in run.resources if r.type == "aws:ecr/repository:Repository").inputs)
    assert repo["imageTagMutability"] == "IMMUTABLE" and repo["imageScanningConfiguration"] == {"scanOnPush": True}
    policy = next(r for r in run.resources if r.type == "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    import json

    rules = json.loads(reveal(policy.inputs)["policy"])["rules"]
    assert {r["selection"]["tagStatus"] for r in rules} == {"untagged", "any"}
    image = next(r for r in run.resources if r.type == "docker:index/image:Image")
    assert image.inputs["imageName"] == f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{repo['name']}:2.2.15-p1"
    assert reveal(image.inputs)["build"]["dockerfile"] == "images/nocobase/Dockerfile"
    from tools.offline.harness import is_secret

    assert is_secret(image.inputs["registry"]) and reveal(image.inputs["registry"])["username"] == "AWS"
    container = spec(k8s(run, "Deployment", "nocobase-primary"))["template"]["spec"]["containers"][0]
    assert container["image"].startswith(f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{repo['name']}@sha256:")
    assert k8s(run, "Job", "nocobase-stop-before-2-2-15-p1")


def test_built_image_to_an_existing_registry_takes_the_password_from_secrets(run_stack):
    from tools.offline.harness import is_secret

    build = {
        **BUILD,
        "registry": {"mode": "registry", "server": "ghcr.io", "repository": "acme/nocobase", "username": "ci"},
    }
    run = run_stack("dev", app={"build": build}, secrets={"registryPassword": "ghp_" + "x" * 36})
    image = next(r for r in run.resources if r.type == "docker:index/image:Image")
    assert image.inputs["imageName"] == "ghcr.io/acme/nocobase:2.2.15-p1"
    assert "ghp_" not in str({k: v for k, v in image.inputs.items() if k != "registry"})
    assert reveal(image.inputs)["registry"]["password"].startswith("ghp_")
    assert not [r for r in run.resources if r.type.startswith("aws:")]
    # The cluster pulls from the private registry with a dockerconfigjson Secret, never a literal.
    pull = k8s(run, "Secret", "nocobase-registry")
    assert reveal(pull.inputs)["type"] == "kubernetes.io/dockerconfigjson" and is_secret(pull.inputs["stringData"])
    import base64
    import json

    auth = json.loads(reveal(pull.inputs)["stringData"][".dockerconfigjson"])["auths"]["ghcr.io"]["auth"]
    assert base64.b64decode(auth).decode().startswith("ci:ghp_")
    pod = spec(k8s(run, "Deployment", "nocobase-replicas"))["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "nocobase-registry"}]


@pytest.mark.parametrize(
    "app,extra,fragment",
    [
        (
            {
                "build": {
                    **BUILD,
                    "context": "images/missing",
                    "registry": {"mode": "registry", "server": "ghcr.io", "repository": "a/b", "username": "u"},
                }
            },
            {"secrets": {"registryPassword": "x" * 20}},
            "appcluster:app.build.context: 'images/missing' — no images/missing/Dockerfile",
        ),
        (
            {
                "build": {
                    **BUILD,
                    "registry": {"mode": "registry", "server": "ghcr.io", "repository": "a/b", "username": "u"},
                }
            },
            {},
            "appcluster:secrets.registryPassword",
        ),
        ({"build": {**BUILD, "registry": {"mode": "registry"}}}, {}, "needs server, repository and username"),
        ({"build": BUILD}, {"aws": None}, "app.build.registry.mode ecr runs on AWS"),
    ],
)
def test_bad_build_config_is_refused(run_stack, app, extra, fragment):
    import pulumi

    with pytest.raises(pulumi.RunError) as error:
        run_stack("dev", app=app, **extra)
    assert fragment in str(error.value)


def test_dumps_go_to_s3_when_configured(run_stack):
    role = "arn:aws:iam::123456789012:role/nocobase-backup"
    run = run_stack("dev", backup={"s3": {"bucket": "acme-backups", "prefix": "nocobase", "roleArn": role}})
    for job in (
        spec(k8s(run, "CronJob", "nocobase-backup"))["jobTemplate"]["spec"],
        spec(k8s(run, "Job", "nocobase-backup-before-2-2-15")),
    ):
        pod = job["template"]["spec"]
        assert pod["serviceAccountName"] == "nocobase-backup"
        assert [c["name"] for c in pod["initContainers"]] == ["dump"]
        upload = pod["containers"][0]
        assert upload["command"][:5] == ["aws", "s3", "cp", "/backups/", "s3://acme-backups/nocobase/nocobase/"]
        assert "--sse" in upload["command"]
        assert {"name": "backups", "emptyDir": {}} in pod["volumes"]
        assert not any("persistentVolumeClaim" in v for v in pod["volumes"])
    account = reveal(k8s(run, "ServiceAccount", "nocobase-backup").inputs)
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role}
    assert (
        "-mtime"
        not in spec(k8s(run, "CronJob", "nocobase-backup"))["jobTemplate"]["spec"]["template"]["spec"][
            "initContainers"
        ][0]["command"][-1]
    )
