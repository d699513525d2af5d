"""The upgrade gate's Jobs run once per version and only as a pair (issue 16, defect 1), under mocks.

A Job's pod template is immutable: any change Pulumi sees in it replaces the Job, and a replaced
stop Job runs again (every other role to zero, the primary restarted) while nothing resumes them.
The real cluster's side of this is tests/integration/test_jobs_day_two.py."""

from __future__ import annotations

import pytest

from tests.conftest import k8s, props

JOB = "kubernetes:batch/v1:Job"


def changed_paths(before, after, path: str = "") -> list[str]:
    """Where two input trees differ, as dotted paths (a changed list counts at the list)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            p
            for key in sorted(set(before) | set(after))
            for p in changed_paths(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        ]
    return [] if before == after else [path]


def replaced_or_created(before, after) -> list[str]:
    """The upgrade Jobs a `pulumi up` from `before` to `after` would create or replace: a new URN, or a
    change anywhere Pulumi looks (every path not under the Job's ignore_changes is in its template or
    names it)."""
    old = {r.urn: r for r in before.of_type(JOB)}
    out = []
    for job in after.of_type(JOB):
        if "-stop-before-" not in job.name and "-resume-after-" not in job.name:
            continue
        if job.urn not in old:
            out.append(f"{job.name}: created")
            continue
        seen = [
            p
            for p in changed_paths(props(old[job.urn]), props(job))
            if not any(p == i or p.startswith(i + ".") for i in job.ignore_changes)
        ]
        if seen:
            out.append(f"{job.name}: {seen}")
    return out


@pytest.mark.parametrize(
    "stack, change",
    [
        ("prod", {"app": {"terminationGracePeriodSeconds": 120}}),  # prod's 90 s + 30 s
        ("dev", {"app": {"terminationGracePeriodSeconds": 90}}),
        ("dev", {"app": {"replicas": 3}}),
    ],
)
def test_a_change_without_a_new_version_neither_replaces_nor_creates_a_stop_or_resume_job(run_stack, stack, change):
    assert replaced_or_created(run_stack(stack), run_stack(stack, **change)) == []


def test_a_new_version_creates_both_jobs_of_the_pair(run_stack):
    before = run_stack("dev", app={"image": "nocobase/nocobase:2.2.14"})
    after = run_stack("dev", app={"image": "nocobase/nocobase:2.2.15"})
    assert replaced_or_created(before, after) == ["app-stop-before-2-2-15: created", "app-resume-after-2-2-15: created"]
    # The new pair carries today's settings: the wait follows the grace period.
    script = props(k8s(after, "Job", "nocobase-stop-before-2-2-15"))["spec"]["template"]["spec"]["containers"][0]
    assert "--timeout=180s" in script["command"][-1]


def test_the_stop_waits_for_the_backup_so_a_failed_backup_stops_nothing(run_stack):
    run = run_stack("dev")
    backup, stop = k8s(run, "Job", "nocobase-backup-before-2-2-15"), k8s(run, "Job", "nocobase-stop-before-2-2-15")
    assert backup.urn in stop.dependencies
    assert stop.urn in k8s(run, "Deployment", "nocobase-primary").dependencies
