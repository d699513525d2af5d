"""Day two on the local control plane with our Jobs really run (tools/jobrunner.py): the sequences a
team runs after the first `pulumi up` on the dev stack (NocoBase, two instances), each read back from
the API server: every role's count and readiness, where the Service points, which Jobs ran and in what
order, and that a second `up` changes nothing.

The tests of this module run in order on one deployment (each step starts where the last ended)."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Cluster, Project, assert_every_job_ran, dev_nocobase, job_outcome

NS = "it-day-two"
OLD, NEW, NEWER, NEWEST = "2.2.13", "2.2.14", "2.2.15", "2.2.16"
PRIMARY, REPLICAS = "nocobase-primary", "nocobase-replicas"


def slug(version: str) -> str:
    return version.replace(".", "-")


@pytest.fixture(scope="module")
def dev(tmp_path_factory, engine_bin, cluster) -> Project:
    return dev_nocobase(tmp_path_factory.mktemp("day-two"), engine_bin, cluster, NS, OLD)


def up(project: Project, **settings: str) -> str:
    for key, value in settings.items():
        kind = "bool" if value in ("true", "false") else "int" if value.isdigit() else "string"
        project.pulumi("config", "set", "--path", "--type", kind, f"appcluster:{key}", value)
    return project.pulumi("up", "--yes", "--skip-preview").stdout


def assert_serving(cluster: Cluster, counts: dict[str, int], maintenance: bool = False) -> None:
    """Each role at its count with every pod Ready, and the Service on the app (or on the page, all of
    its pods Ready)."""
    for name, count in counts.items():
        d = cluster.apps.read_namespaced_deployment(name, NS)
        assert (d.spec.replicas, d.status.ready_replicas or 0) == (count, count), (name, d.spec.replicas, d.status)
    selector = cluster.core.read_namespaced_service("nocobase", NS).spec.selector
    assert selector["app.kubernetes.io/component"] == ("maintenance" if maintenance else "app")
    if maintenance:
        page = cluster.apps.read_namespaced_deployment("nocobase-maintenance", NS)
        assert page.spec.replicas >= 1 and page.status.ready_replicas == page.spec.replicas


def assert_settled(project: Project) -> None:
    again = project.pulumi("up", "--yes", "--skip-preview").stdout
    assert not any(word in again for word in ("created", "updated", "replaced", "deleted")), again
    project.pulumi("preview", "--expect-no-changes")


def jobs(cluster: Cluster) -> dict[str, object]:
    return {j.metadata.name: j for j in cluster.batch.list_namespaced_job(NS).items}


def test_first_install_runs_the_stop_and_resume_scripts_and_a_second_up_changes_nothing(dev, cluster):
    up(dev)
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 1})
    assert sorted(assert_every_job_ran(cluster, NS)) == [
        f"nocobase-resume-after-{slug(OLD)}",
        f"nocobase-stop-before-{slug(OLD)}",
    ]
    # What the scripts printed: they really ran, here, against this cluster.
    log = pod_log(cluster, f"nocobase-stop-before-{slug(OLD)}")
    assert "nothing to stop: no other instances exist yet (first install)" in log
    assert "nocobase-replicas: already running" in pod_log(cluster, f"nocobase-resume-after-{slug(OLD)}")
    assert_settled(dev)


def pod_log(cluster: Cluster, job: str) -> str:
    """The output the job runner kept of the Job's (last) pod."""
    pod = job_outcome(cluster, NS, job, timeout=0).pod
    return (cluster.jobs_dir / f"{NS}.{pod}.log").read_text()


def test_a_grace_period_change_rolls_the_pods_and_stops_nothing(dev, cluster):
    before = {name: j.metadata.uid for name, j in jobs(cluster).items()}
    out = up(dev, **{"app.terminationGracePeriodSeconds": "90"})
    assert "replaced" not in out
    assert {name: j.metadata.uid for name, j in jobs(cluster).items()} == before
    # One pod per Job, ever: neither ran again.
    for name in before:
        assert (
            len(cluster.core.list_namespaced_pod(NS, label_selector=f"batch.kubernetes.io/job-name={name}").items) == 1
        )
    d = cluster.apps.read_namespaced_deployment(REPLICAS, NS)
    assert d.spec.template.spec.termination_grace_period_seconds == 90
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 1})
    assert_settled(dev)


def rs_of(cluster: Cluster, deployment: str, image: str):
    found = [
        rs
        for rs in cluster.apps.list_namespaced_replica_set(NS).items
        if rs.metadata.name.startswith(f"{deployment}-") and rs.spec.template.spec.containers[0].image == image
    ]
    assert len(found) == 1, [rs.metadata.name for rs in found]
    return found[0]


def test_an_upgrade_stops_then_moves_the_primary_then_the_replicas_then_resumes(dev, cluster):
    up(dev, **{"app.image": f"nocobase/nocobase:{NEW}"})
    stop, resume = (
        job_outcome(cluster, NS, f"nocobase-{kind}-{slug(NEW)}", timeout=0) for kind in ("stop-before", "resume-after")
    )
    assert stop.condition == resume.condition == "Complete" and stop.ran and resume.ran
    assert "stopping deployment.apps/nocobase-replicas before the primary moves" in pod_log(
        cluster, f"nocobase-stop-before-{slug(NEW)}"
    )
    status = {
        name: jobs(cluster)[name].status
        for name in (f"nocobase-stop-before-{slug(NEW)}", f"nocobase-resume-after-{slug(NEW)}")
    }
    stopped, resumed = status.values()
    primary_rs = rs_of(cluster, PRIMARY, f"nocobase/nocobase:{NEW}")
    replicas_rs = rs_of(cluster, REPLICAS, f"nocobase/nocobase:{NEW}")
    # The stop finished before the primary's new ReplicaSet existed…
    assert stopped.completion_time <= primary_rs.metadata.creation_timestamp
    # …the replicas moved once the new primary was Ready, and the resume came after them.
    new_primary = [
        p
        for p in cluster.core.list_namespaced_pod(NS, label_selector="appcluster.io/role=primary").items
        if p.spec.containers[0].image.endswith(NEW)
    ]
    ready_at = next(c.last_transition_time for c in new_primary[0].status.conditions if c.type == "Ready")
    assert ready_at <= replicas_rs.metadata.creation_timestamp <= resumed.start_time
    # The old version's pair is gone with it.
    assert not {f"nocobase-stop-before-{slug(OLD)}", f"nocobase-resume-after-{slug(OLD)}"} & set(jobs(cluster))
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 1})
    assert_every_job_ran(cluster, NS)
    assert_settled(dev)


def test_a_failed_pre_upgrade_backup_fails_the_up_clearly_and_the_old_version_keeps_serving(dev, cluster):
    """The dump cannot run in this tier (no database server, no claim on this machine): a real
    failure of an upgrade Job, which must stop nothing and move nothing."""
    dev.pulumi("config", "set", "--path", "--type", "bool", "appcluster:backup.beforeUpgrade", "true")
    dev.pulumi("config", "set", "--path", "appcluster:app.image", f"nocobase/nocobase:{NEWER}")
    failed = dev.pulumi("up", "--yes", "--skip-preview", check=False)
    out = failed.stdout + failed.stderr
    assert failed.returncode != 0 and f"nocobase-backup-before-{slug(NEWER)}" in out, out
    backup = job_outcome(cluster, NS, f"nocobase-backup-before-{slug(NEWER)}", timeout=0)
    assert backup.condition == "Failed" and backup.reason == "JobRunnerCannotRun", backup
    assert "mounts volume backups (persistentVolumeClaim) at /backups" in backup.message
    # Nothing stopped, nothing moved: the old version serves with every role.
    assert f"nocobase-stop-before-{slug(NEWER)}" not in jobs(cluster)
    for name in (PRIMARY, REPLICAS):
        image = cluster.apps.read_namespaced_deployment(name, NS).spec.template.spec.containers[0].image
        assert image == f"nocobase/nocobase:{NEW}"
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 1})
    # Back to the version that serves: the failed gate goes, and nothing else changes.
    dev.pulumi("config", "set", "--path", "--type", "bool", "appcluster:backup.beforeUpgrade", "false")
    up(dev, **{"app.image": f"nocobase/nocobase:{NEW}"})
    assert f"nocobase-backup-before-{slug(NEWER)}" not in jobs(cluster)
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 1})
    assert_settled(dev)


def test_maintenance_on_and_off_without_an_hpa(dev, cluster):
    up(dev, maintenance="true")
    assert_serving(cluster, {PRIMARY: 0, REPLICAS: 0}, maintenance=True)
    assert_settled(dev)
    up(dev, maintenance="false")
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 1})
    assert not cluster.apps.list_namespaced_deployment(
        NS, label_selector="app.kubernetes.io/component=maintenance"
    ).items
    assert_every_job_ran(cluster, NS)
    assert_settled(dev)


def managers(cluster: Cluster, name: str) -> dict[str, str]:
    """Who owns `.spec.replicas` of a Deployment (server-side apply's managedFields): manager -> operation."""
    d = json.loads(cluster.kubectl("-n", NS, "get", "deployment", name, "-o", "json", "--show-managed-fields").stdout)
    return {
        m["manager"]: m["operation"]
        for m in d["metadata"]["managedFields"]
        if '"f:replicas"' in json.dumps(m.get("fieldsV1", {}).get("f:spec", {}))
    }


def test_kubectl_scale_then_a_change_then_up_restores_the_declared_count(dev, cluster):
    """Defect 14, established here: `kubectl scale` takes `.spec.replicas` (its own manager, through
    the scale subresource); the next `up` applies the declared count without a conflict."""
    cluster.kubectl("-n", NS, "scale", f"deployment/{REPLICAS}", "--replicas=3")
    assert "kubectl" in " ".join(managers(cluster, REPLICAS))
    up(dev, **{"app.terminationGracePeriodSeconds": "75"})
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 1})
    assert_settled(dev)


def test_with_an_hpa_maintenance_and_an_upgrade_bring_every_role_back(dev, cluster):
    """Defect 14 with an HPA: it owns the count, which we then never state. Maintenance sets 0 and
    drops the HPA; leaving it brings the role back within the HPA's bounds. An upgrade's stop Job sets
    0 with kubectl scale, and the resume Job brings the role back: the apply does not (no count
    stated), and an HPA never scales a target at 0. No `up` conflicts with either owner."""
    up(
        dev,
        **{"app.autoscaling.enabled": "true", "app.autoscaling.minReplicas": "2", "app.autoscaling.maxReplicas": "4"},
    )
    wait_for_count(cluster, REPLICAS, 2)  # the HPA raises it to its minimum
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 2})
    assert_settled(dev)

    up(dev, maintenance="true")
    assert_serving(cluster, {PRIMARY: 0, REPLICAS: 0}, maintenance=True)
    assert not cluster.autoscaling.list_namespaced_horizontal_pod_autoscaler(NS).items
    up(dev, maintenance="false")
    wait_for_count(cluster, REPLICAS, 2)
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 2})
    assert_settled(dev)

    up(dev, **{"app.image": f"nocobase/nocobase:{NEWEST}"})
    assert "deployment.apps/nocobase-replicas scaled" in pod_log(cluster, f"nocobase-resume-after-{slug(NEWEST)}")
    wait_for_count(cluster, REPLICAS, 2)
    assert_serving(cluster, {PRIMARY: 1, REPLICAS: 2})
    owners = managers(cluster, REPLICAS)
    assert "pulumi-kubernetes" not in " ".join(owners), owners  # we state no count for an autoscaled role
    assert_every_job_ran(cluster, NS)
    assert_settled(dev)


def wait_for_count(cluster: Cluster, name: str, count: int, timeout: float = 60) -> None:
    """The HPA controller acts on its own sync period (15 s): wait for it, bounded."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        d = cluster.apps.read_namespaced_deployment(name, NS)
        if d.spec.replicas == count and (d.status.ready_replicas or 0) == count:
            return
        assert time.monotonic() < deadline, f"{name}: {d.spec.replicas} declared, {d.status.ready_replicas} ready"
        time.sleep(1)
