"""The policy pack: each policy passes a correct cluster and catches its violation, both on our own
stacks and on a hand-written program that bypasses our components. The rules run exactly as the
analyzer runs them (the same POLICIES objects, props in the analyzer's proxies)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import REPO, STACKS
from tools.offline import harness, policy
from tools.offline.__main__ import main

HANDWRITTEN = Path(__file__).parent / "fixtures" / "handwritten"


# An environment that, like dev, does not require protection: the hand-written cases test the other rules.
RELAXED = {"protect-stateful": {"required": False}, "deletion-protection": {"required": False}}


def levels(stack: str) -> dict:
    """The stack's environment config, as `check` and the PR pipeline pass it."""
    return json.loads((REPO / "policies" / "config" / f"{stack}.json").read_text())


def handwritten(case: str, via: str = "resources") -> list[policy.Violation]:
    run = harness.run_program(HANDWRITTEN, case, {"handwritten:case": case, "handwritten:via": via}, [])
    return policy.evaluate(run, RELAXED)


def mandatory(violations):
    return sorted({v.policy for v in violations if v.level == "mandatory"})


@pytest.mark.parametrize("stack", STACKS)
def test_example_stacks_have_no_mandatory_violation(stack, run_stack):
    assert mandatory(policy.evaluate(run_stack(stack), levels(stack))) == []


@pytest.mark.parametrize("stack", ["dev", "prod-newapi"])
def test_a_stack_in_maintenance_passes(stack, run_stack):
    # No instance runs and the 503 page is not an app instance: nothing to violate.
    assert mandatory(policy.evaluate(run_stack(stack, maintenance=True), levels(stack))) == []


def test_handwritten_cluster_done_right_passes():
    assert mandatory(handwritten("ok")) == []
    # Reading the shared Secret through envFrom is reading it too.
    assert mandatory(handwritten("env-from")) == []


@pytest.mark.parametrize(
    "case,policy_name,fragment",
    [
        ("too-many-replicas", "max-32-instances", "can run 41 instances"),
        ("hpa-40", "max-32-instances", "can run 41 instances"),
        ("plain-labels", "max-32-instances", "app cluster 'shop' can run 33 instances"),
        ("selector-only", "max-32-instances", "can run 40 instances"),
        ("literal-secret", "shared-secrets", "sets APP_KEY as a literal value"),
        ("no-redis", "cluster-needs-redis", "needs CACHE_DEFAULT_STORE=redis"),
        ("shared-redis-db", "cluster-needs-redis", "share Redis DB 0"),
        ("rwo-storage", "cluster-needs-shared-storage", "must be a ReadWriteMany PersistentVolumeClaim"),
        ("rds-instance", "single-database-entrypoint", "is an RDS instance endpoint"),
        ("rolling-primary", "one-primary", "strategy Recreate"),
        ("new-api-two-masters", "one-primary", "runs 2 New API masters"),
        ("latest-image", "pinned-images", "is not pinned"),
        ("no-resources", "container-resources", "no cpu request"),
        ("secret-configmap", "no-secrets-in-configmaps", "'DB_PASSWORD' looks like a secret"),
        ("no-pdb", "pdb-for-clusters", "no PodDisruptionBudget"),
        ("aws-rds-public", "rds-encrypted-private", "publicly accessible (CKV_AWS_17)"),
        ("aws-rds-public", "rds-encrypted-private", "not encrypted (CKV_AWS_16)"),
        ("aws-rds-no-backups", "rds-backups-and-snapshots", "backupRetentionPeriod is 1"),
        ("aws-rds-no-backups", "rds-backups-and-snapshots", "no final snapshot"),
        ("aws-proxy-plain", "rds-proxy-tls", "requireTls is off"),
        # The same data on other resource types: Aurora clusters and their instances, standalone cache clusters.
        ("aws-aurora-loose", "rds-encrypted-private", "not encrypted (CKV_AWS_16)"),
        ("aws-aurora-loose", "rds-encrypted-private", "publicly accessible (CKV_AWS_17)"),
        ("aws-aurora-loose", "rds-backups-and-snapshots", "backupRetentionPeriod is 1"),
        ("aws-cache-cluster", "elasticache-hardened", "a standalone ElastiCache cluster"),
        ("aws-redis-plain", "elasticache-hardened", "in-transit encryption is off"),
        ("aws-redis-plain", "elasticache-hardened", "no AUTH token"),
        ("aws-efs-root", "efs-hardened", "root '/'"),
        ("aws-efs-root", "efs-hardened", "not encrypted"),
        ("aws-sg-open-db", "sg-no-open-data-ports", "open to the internet on ports 5432-5432"),
        ("aws-sg-open-db", "sg-no-open-data-ports", "no description"),
        ("aws-alb-loose", "lb-tls-and-headers", "does not drop invalid headers"),
        ("aws-alb-loose", "lb-tls-and-headers", "HTTP is not redirected"),
    ],
)
def test_handwritten_violation_is_caught(case, policy_name, fragment):
    violations = handwritten(case)
    assert policy_name in mandatory(violations)
    assert any(fragment in v.message for v in violations if v.policy == policy_name), violations


MANIFEST_WAYS = ["configfile", "configfile-v2", "configgroup-v2", "helm-v3", "helm-v4"]


@pytest.mark.parametrize("via", MANIFEST_WAYS)
def test_objects_declared_through_yaml_or_helm_are_judged_like_typed_ones(via):
    """Under mocks no provider decodes YAML or renders a chart: the harness does it as the provider
    would, so the same objects are caught the same way whichever way they are declared."""
    assert mandatory(handwritten("ok", via)) == []
    for case, policy_name, fragment in [
        ("too-many-replicas", "max-32-instances", "can run 41 instances"),
        ("literal-secret", "shared-secrets", "sets APP_KEY as a literal value"),
        ("rwo-storage", "cluster-needs-shared-storage", "ReadWriteMany"),
    ]:
        violations = handwritten(case, via)
        assert mandatory(violations) == [policy_name]
        assert any(fragment in v.message for v in violations), (via, case, violations)


@pytest.mark.parametrize("via", MANIFEST_WAYS)
def test_decoded_objects_are_named_and_parented_as_the_provider_does(via):
    run = harness.run_program(HANDWRITTEN, "x", {"handwritten:case": "ok", "handwritten:via": via}, [])
    component = next(r for r in run.resources if r.name == "shop" and not r.custom)
    workers = next(r for r in run.resources if r.type == "kubernetes:apps/v1:Deployment" and "workers" in r.name)
    # v1 (the SDK itself) prefixes "<component>-" only when asked; v2 and Helm v4 (the provider) "<component>:".
    assert workers.name == ("shop/shop-workers" if via in ("configfile", "helm-v3") else "shop:shop/shop-workers")
    assert workers.parent == component.urn and workers.provider
    assert {r.type for r in run.resources if r.parent == component.urn} >= {
        "kubernetes:core/v1:Secret",
        "kubernetes:core/v1:PersistentVolumeClaim",
        "kubernetes:policy/v1:PodDisruptionBudget",
    }


def test_unnamed_objects_get_the_providers_auto_name_and_are_judged():
    """An object without metadata.name is named by the provider's Check (`<name>-<8 hex>`), which is
    what the analyzer sees and what other objects read back: nothing is None, nothing crashes."""
    run = harness.run_program(HANDWRITTEN, "x", {"handwritten:case": "autonamed"}, [])
    claim = run.named("data").inputs["metadata"]
    assert re.fullmatch(r"data-[0-9a-f]{8}", claim["name"]) and claim["annotations"]["pulumi.com/autonamed"] == "true"
    worker = run.named("shop-workers").inputs["spec"]["template"]["spec"]
    assert worker["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim["name"]
    assert mandatory(policy.evaluate(run, RELAXED)) == []
    assert [
        v.message
        for v in policy.evaluate(run, {"protect-stateful": {"required": True}})
        if v.policy == "protect-stateful"
    ] == [f"{claim['name']} holds data but is not protected; set protect: true"]


def test_a_remote_chart_or_a_broken_manifest_is_one_line(tmp_path, capsys):
    program = tmp_path / "prog"
    program.mkdir()
    (program / "__main__.py").write_text(
        "import pulumi_kubernetes as k8s\n"
        "k8s.helm.v4.Chart('ingress', chart='ingress-nginx', repository_opts={'repo': 'https://kubernetes.github.io/x'})\n"
    )
    assert main(["check", "--program", str(program)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        err[-1].startswith("the program failed: Chart")
        and "Helm chart 'ingress-nginx': the offline check renders local charts only" in err[-1]
    ), err
    (program / "__main__.py").write_text(
        "import pulumi_kubernetes as k8s\nk8s.yaml.v2.ConfigGroup('broken', yaml='kind: [unclosed')\n"
    )
    assert main(["check", "--program", str(program)]) == 3
    assert "ConfigGroup 'broken': YAML text: not valid YAML at line 1" in capsys.readouterr().err


def test_our_components_with_a_rule_breaking_config_are_caught(run_stack):
    # The NocoBase image needs root: reported, as advisory, so the exception stays visible.
    advisory = [v for v in policy.evaluate(run_stack("dev")) if v.policy == "restricted-pod-security"]
    assert advisory and {v.level for v in advisory} == {"advisory"}
    # Protection required by the environment but switched off in the stack.
    run = run_stack("dev", protect=False)
    found = policy.evaluate(run, {"protect-stateful": {"required": True}})
    assert {v.resource for v in found if v.policy == "protect-stateful"} >= {
        "redis-statefulset",
        "database-statefulset",
        "shared-storage-pvc",
    }
    assert policy.evaluate(run_stack("dev", protect=True), {"protect-stateful": {"required": True}}) == [
        v for v in policy.evaluate(run_stack("dev", protect=True), RELAXED) if v.policy != "protect-stateful"
    ]


def test_deletion_protection_is_required_where_the_environment_says_so():
    run = harness.run_program(HANDWRITTEN, "x", {"handwritten:case": "aws-rds-unprotected"}, [])
    assert "deletion-protection" not in {v.policy for v in policy.evaluate(run, RELAXED)}
    # No config never relaxes it: required by default, as where the environment says so.
    assert any(v.policy == "deletion-protection" for v in policy.evaluate(run))
    required = policy.evaluate(run, {"deletion-protection": {"required": True}})
    assert any(v.policy == "deletion-protection" and "deletion protection is off" in v.message for v in required)


def test_prod_stacks_pass_with_their_environment_config(run_stack):
    for stack in ("prod", "prod-newapi"):
        config = json.loads((REPO / "policies" / "config" / f"{stack}.json").read_text())
        assert mandatory(policy.evaluate(run_stack(stack), config)) == []
        # Production requires protection: the same stack with protect off is refused.
        assert {"protect-stateful", "deletion-protection"} <= set(
            mandatory(policy.evaluate(run_stack(stack, protect=False), config))
        )


def test_enforcement_levels_come_from_the_environment_config():
    violations = policy.evaluate(
        harness.run_program(HANDWRITTEN, "x", {"handwritten:case": "latest-image"}, []), {"pinned-images": "advisory"}
    )
    assert {v.level for v in violations if v.policy == "pinned-images"} == {"advisory"}
    assert "pinned-images" not in mandatory(violations)
    disabled = policy.evaluate(
        harness.run_program(HANDWRITTEN, "x", {"handwritten:case": "latest-image"}, []), {"pinned-images": "disabled"}
    )
    assert "pinned-images" not in {v.policy for v in disabled}


def test_every_policy_is_described_with_level_and_severity():
    names = set()
    for p in policy.load_policies():
        assert p.name == p.name.lower() and " " not in p.name
        assert p.description and p.enforcement_level and p.severity
        names.add(p.name)
    assert {
        "max-32-instances",
        "shared-secrets",
        "cluster-needs-redis",
        "cluster-needs-shared-storage",
        "single-database-entrypoint",
        "one-primary",
    } <= names


def test_check_on_any_program_exits_1_on_a_mandatory_violation(tmp_path, capsys):
    settings = tmp_path / "Pulumi.bad.yaml"
    settings.write_text("config:\n  handwritten:case: too-many-replicas\n")
    assert main(["check", "--program", str(HANDWRITTEN), "--config", str(settings)]) == 1
    out = capsys.readouterr().out
    assert "max-32-instances  stack  app cluster 'shop' can run 41 instances" in out
    assert (
        main(
            [
                "check",
                "--program",
                str(HANDWRITTEN),
                "--stack",
                "ok",
                "--policy-config",
                str(HANDWRITTEN.parents[2] / "policies" / "config" / "dev.json"),
            ]
        )
        == 0
    )


def test_unknown_values_during_preview_neither_crash_nor_fail_a_policy(run_stack):
    """In a preview, values computed by other resources are unknown; the analyzer marks them and
    raises if a policy reads one. Every policy must read around them."""
    from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE

    run = run_stack("prod")
    for r in run.resources:
        if r.type == "kubernetes:apps/v1:Deployment":
            spec = r.inputs["spec"]
            spec["replicas"] = UNKNOWN_NUMBER_VALUE
            for var in spec["template"]["spec"]["containers"][0]["env"]:
                if "valueFrom" in var and "secretKeyRef" in var["valueFrom"]:
                    var["valueFrom"]["secretKeyRef"]["name"] = UNKNOWN_STRING_VALUE
                elif "value" in var:
                    var["value"] = UNKNOWN_STRING_VALUE
        if r.type == "aws:rds/instance:Instance":
            r.inputs["backupRetentionPeriod"] = UNKNOWN_NUMBER_VALUE
            r.inputs["storageEncrypted"] = UNKNOWN_STRING_VALUE
    assert mandatory(policy.evaluate(run, {"deletion-protection": {"required": True}})) == []


def test_manifests_are_decoded_and_namespaced_as_the_provider_does():
    from tools.offline import manifests

    objects = manifests.decode("""
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: reader}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, scope: Cluster, names: {kind: Widget, plural: widgets}}
---
{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}
""")
    children = dict(manifests.children("kubernetes:yaml/v2:ConfigGroup", "g", {"objs": objects}, REPO))
    assert {name: manifests.type_token(o) for name, o in children.items()} == {
        "g:default/a": "kubernetes:core/v1:ConfigMap",
        "g:reader": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        "g:widgets.example.com": "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        "g:w": "kubernetes:example.com/v1:Widget",
    }  # a cluster-scoped custom kind takes no namespace
    with pytest.raises(manifests.ManifestError, match="every document must be a Kubernetes object"):
        manifests.decode("- just\n- a list\n")


def _connections(run, name: str) -> dict:
    return next(
        r
        for r in run.resources
        if r.type == "kubernetes:core/v1:Secret" and harness.reveal(r.inputs["metadata"]).get("name") == name
    ).inputs["stringData"]


@pytest.mark.parametrize(
    "key, value",
    [
        ("REDIS_URL", "rediss://:pw@None:6379/4"),  # issue 18: an unknown endpoint rendered as None
        ("QUEUE_ADAPTER_REDIS_URL", "redis://:pw@:6379/3"),
    ],
)
def test_a_connection_string_to_no_host_is_a_mandatory_violation(run_stack, key, value):
    run = run_stack("dev")
    data = _connections(run, "nocobase-connections")
    (data["value"] if harness.is_secret(data) else data)[key] = value
    found = [v for v in policy.evaluate(run, levels("dev")) if v.policy == "hosts-resolved"]
    assert found and {v.level for v in found} == {"mandatory"}
    assert all(key in v.message for v in found)


def test_a_host_env_var_of_None_is_a_mandatory_violation(run_stack):
    run = run_stack("dev")
    for r in run.of_type("kubernetes:apps/v1:Deployment"):
        for var in r.inputs["spec"]["template"]["spec"]["containers"][0]["env"]:
            if var["name"] == "DB_HOST":
                var["value"] = "None"
    assert "hosts-resolved" in mandatory(policy.evaluate(run, levels("dev")))


def test_an_endpoint_the_mocks_cannot_know_stays_unknown_and_is_advisory(run_stack):
    """ElastiCache and RDS Proxy endpoints are computed by AWS: unknown in a preview, so also under
    the mocks, never None; the pack says it cannot verify them, without blocking the preview."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    run = run_stack("prod")
    # The Secret's data is built from the endpoint, so the whole of it is unknown, as the engine sends it.
    assert harness.reveal(_connections(run, "nocobase-connections")) == UNKNOWN_STRING_VALUE
    violations = policy.evaluate(run, levels("prod"))
    assert mandatory(violations) == []
    unverified = {v.message.split(":")[0] for v in violations if v.policy == "hosts-verified"}
    assert {"nocobase-primary env REDIS_URL", "nocobase-primary env DB_HOST"} <= unverified
    assert {v.level for v in violations if v.policy == "hosts-verified"} == {"advisory"}
