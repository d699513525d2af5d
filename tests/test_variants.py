"""A backing service takes a new variant as one module plus its line in the variant union: no
platform, component or contract edit. Proven on a copy of the program with an AWS MemoryDB variant
of Redis, declared under Pulumi mocks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

MEMORYDB = '''"""Redis variant memorydb: an AWS MemoryDB cluster, TLS on, reached at its cluster endpoint."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import pulumi
import pulumi_aws as aws

from components.redis.contract import PORT, RedisEndpoint, endpoint


@dataclass(frozen=True, kw_only=True)
class MemoryDbRedis:
    kind: Literal["memorydb"] = "memorydb"
    node_type: str
    subnet_group_name: str
    acl_name: str
    password: pulumi.Input[str]

    def declare(self, parent: pulumi.Resource, name: str, *, app_name: str, protect: bool) -> RedisEndpoint:
        cluster = aws.memorydb.Cluster(
            f"{name}-cluster", name=f"{app_name}-redis", node_type=self.node_type, acl_name=self.acl_name,
            subnet_group_name=self.subnet_group_name, tls_enabled=True, port=PORT,
            opts=pulumi.ResourceOptions(parent=parent, protect=protect))
        host = cluster.cluster_endpoints.apply(lambda endpoints: endpoints[0].address or "")
        return endpoint(host, self.password, tls=True)
'''

PROGRAM = """
import pulumi

from components.redis.component import Redis, RedisArgs, RedisVariant
from components.redis.memorydb import MemoryDbRedis

variant: RedisVariant = MemoryDbRedis(node_type="db.t4g.small", subnet_group_name="shop", acl_name="shop",
                                      password=pulumi.Output.secret("pw"))
redis = Redis("redis", RedisArgs(app_name="shop", variant=variant, protect=False))
"""

# The program under mocks that answer MemoryDB's cluster endpoint as AWS does; prints each URL,
# whether it is secret, and the types declared.
RUN = """
import json, sys
import pulumi

declared = []

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        declared.append(args.typ)
        state = dict(args.inputs)
        if args.typ == "aws:memorydb/cluster:Cluster":
            state["clusterEndpoints"] = [{"address": "clustercfg.shop-redis.abc123.memorydb.eu-west-1.amazonaws.com",
                                          "port": 6379}]
        return f"{args.name}-id", state

    def call(self, args):
        return {}

pulumi.runtime.set_mocks(Mocks(), project="appcluster", stack="memorydb", preview=False)
exec(open("program.py").read())

@pulumi.runtime.test
def report():
    def show(values):
        print(json.dumps({"urls": values[0], "secret": values[1], "types": declared}))
    return pulumi.Output.all(pulumi.Output.all(*redis.urls.values()),
                             pulumi.Output.all(*[pulumi.Output.is_secret(u) for u in redis.urls.values()])
                             ).apply(show)

report()
"""


def copy_with_memorydb(tmp: Path, union_line: bool = True) -> Path:
    program = tmp / "program"
    for folder in ("components", "profiles"):
        shutil.copytree(REPO / folder, program / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", program / "pyproject.toml")
    (program / "components" / "redis" / "memorydb.py").write_text(MEMORYDB)
    component = program / "components" / "redis" / "component.py"
    text = component.read_text()
    if union_line:
        text = text.replace('    "ContainerRedis",\n', '    "ContainerRedis",\n    "MemoryDbRedis",\n')
        text = text.replace(
            "if TYPE_CHECKING:\n", "if TYPE_CHECKING:\n    from components.redis.memorydb import MemoryDbRedis\n"
        )
    component.write_text(text)
    (program / "program.py").write_text(PROGRAM)
    return program


def test_a_new_redis_variant_is_one_module_and_one_union_line(tmp_path):
    program = copy_with_memorydb(tmp_path)
    done = subprocess.run([sys.executable, "-c", RUN], cwd=program, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    host = "clustercfg.shop-redis.abc123.memorydb.eu-west-1.amazonaws.com"
    assert result["urls"] == [f"rediss://:pw@{host}:6379/{i}" for i in range(5)]
    assert all(result["secret"]), "every Redis URL carries the password: it must be a secret Output"
    assert result["types"] == ["appcluster:index:Redis", "aws:memorydb/cluster:Cluster"]


def test_a_variant_left_out_of_the_union_is_refused_by_name(tmp_path):
    program = copy_with_memorydb(tmp_path, union_line=False)
    done = subprocess.run([sys.executable, "-c", RUN], cwd=program, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "RedisArgs.variant: MemoryDbRedis(" in done.stderr and "is not in RedisVariant" in done.stderr
