"""Resource identity: every example stack's URNs (type chain, name) are pinned in tests/urns/.

A URN is what Pulumi keeps state under: if it changes, `pulumi up` deletes the old resource and
creates a new one (a new database, a new generated secret). A refactor that moves a resource under
a new parent or renames it must keep its URN or declare the old one in `aliases`; this test tells
which. A change meant as a new resource is pinned again with `make urns`.

    .venv/bin/python -m tests.test_identity     # rewrite tests/urns/<stack>.txt from the program
"""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO, STACKS, run_program, stack_config
from tools.offline import harness

PINNED = REPO / "tests" / "urns"


def urns(stack: str) -> tuple[list[str], harness.Run]:
    config, secret_keys = stack_config(stack)
    run = run_program(REPO, stack, config, secret_keys)
    return sorted(r.urn for r in run.resources), run


def former_urns(run: harness.Run) -> set[str]:
    """Every URN a resource may have had, as the engine matches them: its own aliases, and its URN
    under each former URN of its parent (a parent's alias carries its children along)."""
    by_urn = {r.urn: r for r in run.resources}
    cache: dict[str, set[str]] = {}

    def former(r: harness.Declared) -> set[str]:
        if r.urn not in cache:
            cache[r.urn] = set(r.aliases)
            parent = by_urn.get(r.parent)
            for old_parent in former(parent) if parent else ():
                type_chain = old_parent.split("::")[2]
                cache[r.urn].add(f"{old_parent.rsplit('::', 2)[0]}::{type_chain}${r.type}::{r.name}")
        return cache[r.urn]

    return set().union(*(former(r) for r in run.resources))


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_keeps_its_urn_or_declares_the_old_one(stack):
    current, run = urns(stack)
    pinned = (PINNED / f"{stack}.txt").read_text().split()
    lost = sorted(set(pinned) - set(current) - former_urns(run))
    assert not lost, (
        f"{len(lost)} resource(s) of stack {stack} would be replaced (deleted, then created anew), e.g. "
        f"{lost[:3]}: keep the name and parent, or add aliases=[pulumi.Alias(...)] naming the old URN; a new "
        "resource meant as such is pinned with `make urns`"
    )
    assert sorted(pinned) == current, "new resources: pin them with `make urns` and commit tests/urns/"


def test_an_alias_carries_a_moved_resource_and_its_children(tmp_path):
    """The check itself: moving a component under a new parent loses every URN beneath it, unless the
    component names its old parent in `aliases`."""
    program = (
        "import pulumi\n"
        "class Box(pulumi.ComponentResource):\n"
        "    def __init__(self, name, opts=None):\n"
        "        super().__init__('test:index:Box', name, opts=opts)\n"
        "        pulumi.CustomResource('test:index:Thing', f'{name}-thing', {}, pulumi.ResourceOptions(parent=self))\n"
        "MOVE = pulumi.Config().get_bool('move')\n"
        "outer = Box('outer') if MOVE else None\n"
        "aliases = [pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)] if MOVE == 'alias' else []\n"
        "Box('db', pulumi.ResourceOptions(parent=outer, aliases=aliases))\n"
    )
    (tmp_path / "__main__.py").write_text(program.replace("get_bool('move')", "get('move')"))
    before = {r.urn for r in harness.run_program(tmp_path, "s", {}, []).resources}
    moved = harness.run_program(tmp_path, "s", {f"{tmp_path.name}:move": "yes"}, [])
    assert {u for u in before if "db" in u} - {r.urn for r in moved.resources} - former_urns(moved)
    aliased = harness.run_program(tmp_path, "s", {f"{tmp_path.name}:move": "alias"}, [])
    assert not before - {r.urn for r in aliased.resources} - former_urns(aliased)


def test_generated_secrets_are_protected_and_named_apart_from_what_users_rename(run_stack):
    def generated(run: harness.Run) -> dict[str, bool]:
        return {r.urn: r.protect for r in run.resources if r.type.startswith("random:")}

    prod = generated(run_stack("prod"))
    # APP_KEY, APP_AES_SECRET_KEY, INIT_ROOT_PASSWORD, the database and the Redis passwords.
    assert len(prod) == 5 and all(prod.values())
    # Renaming the app or its namespace keeps every generated secret (same URN, so never regenerated).
    assert generated(run_stack("prod", app={"name": "shop"}, kubernetes={"namespace": "shop"})) == prod
    assert not any(generated(run_stack("prod", protect=False)).values())


def test_a_nocobase_upgrade_from_1_9_to_2_creates_and_replaces_no_generated_secret(run_stack):
    """1.9 generates the AES key as 32 characters (RandomPassword), 2.x as 64 hex (RandomBytes): the
    type is part of the URN, so a stack first deployed at 1.9 keeps its generator on 2.x (and takes its
    hex: the same key, tests/vendor). One instance: before 2.1.24 NocoBase runs no more."""

    def generated(version: str) -> set[str]:
        run = run_stack("dev", app={"image": f"nocobase/nocobase:{version}", "replicas": 1, "firstVersion": "1.9.62"})
        return {r.urn for r in run.resources if r.type.startswith("random:")}

    before = generated("1.9.62")
    assert any("randomPassword:RandomPassword::shared-secrets-app-aes-secret-key" in urn for urn in before)
    assert generated("2.2.15") == before


def test_two_stacks_of_one_account_never_claim_the_same_aws_name(run_stack):
    """Same app, same config, another stack (or project): every name AWS keeps unique differs."""
    from tests.test_config import AWS_RULES

    def names(stack: str, project: str = "appcluster") -> dict[str, str]:
        config, secret_keys = stack_config("prod")
        run = harness.run_program(REPO, stack, config, secret_keys, project=project)
        return {
            f"{r.name}.{key}": value
            for r in run.resources
            for (type_, key) in AWS_RULES
            if r.type == type_ and isinstance(value := harness.reveal(r.inputs).get(key), str)
        }

    prod = names("prod")
    assert len(prod) >= 12
    for other in (names("prod-eu"), names("prod", project="shop")):
        assert prod.keys() == other.keys() and not set(prod.values()) & set(other.values())


def test_a_resource_whose_replacement_would_reuse_its_name_frees_it_first(run_stack):
    """RDS, the proxy, the replication group and the (immutable) backup selection keep a fixed name
    whatever forces their replacement: Pulumi must delete the old one before creating the new."""
    run = run_stack("prod")
    fixed = {
        "aws:rds/instance:Instance",
        "aws:rds/proxy:Proxy",
        "aws:backup/selection:Selection",
        "aws:elasticache/replicationGroup:ReplicationGroup",
    }
    found = [r for r in run.resources if r.type in fixed]
    assert {r.type for r in found} == fixed and all(r.delete_before_replace for r in found)
    # Every other named resource changes name with what replaces it, or is replaced only by a rename.
    assert not [r.name for r in run.resources if r.delete_before_replace and r.type not in fixed]


if __name__ == "__main__":
    PINNED.mkdir(exist_ok=True)
    for name in STACKS:
        (PINNED / f"{name}.txt").write_text("\n".join(urns(name)[0]) + "\n")
        print(f"pinned {PINNED / name}.txt", file=sys.stderr)
