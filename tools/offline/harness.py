"""Run a Pulumi Python program under Pulumi's mocks and record everything it declares.

The record keeps what a policy pack or a renderer needs and the mock API leaves out: each
resource's parent, provider, dependencies and options, and which input values are secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import runpy
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as pulumi_mocks

from tools.offline import manifests, sdk


class Unanswerable(Exception):
    """The run needs what no mock can give (another stack's outputs) or declares what the provider
    would refuse (a broken manifest, a remote chart): one line, naming the resource."""


@dataclass
class Declared:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    inputs: dict
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    dependencies: list[str]
    ignore_changes: list[str]
    # create / update / delete, as given (e.g. "1500s"); empty where the provider's defaults apply.
    custom_timeouts: dict[str, str]
    # The URNs this resource had before (its `aliases`), resolved as the engine resolves them.
    aliases: list[str] = field(default_factory=list)

    @property
    def is_kubernetes(self) -> bool:
        return self.custom and self.type.startswith("kubernetes:") and "apiVersion" in self.inputs


@dataclass
class Output:
    value: Any
    secret: bool


@dataclass
class Run:
    resources: list[Declared] = field(default_factory=list)
    outputs: dict[str, Output] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Declared:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def by_urn(self, urn: str) -> Declared:
        return next(r for r in self.resources if r.urn == urn)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(sdk.SECRET_SIG_KEY) == sdk.SECRET_SIG


def reveal(value: Any) -> Any:
    """The value with every secret marker removed (what a policy validator sees)."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def mask(value: Any, placeholder: str = "[secret]") -> Any:
    """The value with every secret replaced by a placeholder (what may be printed or written)."""
    if is_secret(value):
        inner = reveal(value)
        if isinstance(inner, dict):
            return {k: placeholder for k in inner}
        return [placeholder for _ in inner] if isinstance(inner, list) else placeholder
    if isinstance(value, dict):
        return {k: mask(v, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, placeholder) for v in value]
    return value


MOCK_REGION = "eu-west-1"
MOCK_ACCOUNT = "123456789012"
# The VPC every mocked subnet lookup answers with; example stacks and tests use it.
MOCK_VPC = "vpc-0a1b2c3d4e5f60718"


# Named by the AWS provider's Check when the program gives none: "<logical name>-<7 hex>".
AWS_AUTONAMED = {"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:ec2/securityGroup:SecurityGroup"}


def checked(type_: str, name: str, inputs: dict) -> dict:
    """The inputs as the provider's Check returns them: what the analyzer judges, and what the
    program reads back. What the program left unnamed gets the provider's name."""
    if type_ in AWS_AUTONAMED and not inputs.get("name"):
        return {**inputs, "name": f"{name}-{manifests.stable_hex(type_, name, 7)}"}
    return manifests.autoname(type_, name, inputs)


Computed = Callable[[str, dict], dict]


def _rds_instance(name: str, inputs: dict) -> dict:
    address = f"{inputs.get('identifier') or name}.c9akciq32.{MOCK_REGION}.rds.amazonaws.com"
    return {"address": address, "endpoint": f"{address}:{int(inputs.get('port', 5432))}"}


# What AWS computes on create and a preview cannot know: a run gets these only when it asks
# (`computed=AWS_ENDPOINTS`), for the tests that read a rendered URL. Without them the endpoints stay
# unknown, as in `pulumi preview`, and a URL built from one is unknown, never "…@None:6379".
AWS_ENDPOINTS: dict[str, Computed] = {
    "aws:rds/instance:Instance": _rds_instance,
    "aws:rds/proxy:Proxy": lambda name, inputs: {
        "endpoint": f"{inputs.get('name') or name}.proxy-c9akciq32.{MOCK_REGION}.rds.amazonaws.com"
    },
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda name, inputs: {
        "primaryEndpointAddress": f"master.{inputs.get('replicationGroupId') or name}.x1y2z3.euw1.cache.amazonaws.com"
    },
}


class _Mocks(pulumi_mocks.Mocks):
    """Resources echo their inputs, plus the outputs a provider computes from them alone (ids,
    ARNs) and those `computed` gives; every other output stays unknown, as in a preview."""

    def __init__(self, program_dir: Path, computed: Mapping[str, Computed] | None = None):
        self.program_dir = program_dir
        self.computed = dict(computed or {})
        # What the mocks cannot answer or a provider would refuse (a StackReference, a manifest, a
        # chart). Raised once the program has finished: raising inside the monitor leaves the SDK's
        # futures failing unobserved.
        self.refused: list[str] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        state = checked(args.typ, args.name, dict(args.inputs))
        seed = hashlib.sha256(f"{args.typ}:{args.name}".encode()).hexdigest()
        resource_id = f"{args.name}-id"
        if args.typ == "pulumi:pulumi:StackReference":
            self.refused.append(
                f"StackReference {args.name!r}: the offline toolbox cannot read another stack's "
                "outputs; pass the values this program needs as config"
            )
            state.update(outputs={}, secretOutputNames=[])
        elif args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = seed[: int(args.inputs.get("length", 32))]
        elif args.typ == "random:index/randomBytes:RandomBytes":
            state["hex"] = (seed * 2)[: 2 * int(args.inputs.get("length", 32))]
        elif args.typ.startswith("aws:"):
            resource_id = self._aws(args.typ, args.inputs, seed, state, args.name)
        elif args.typ == "docker:index/image:Image":
            repository = str(args.inputs["imageName"]).rsplit(":", 1)[0]
            state["repoDigest"] = f"{repository}@sha256:{(seed * 2)[:64]}"
        if args.typ in self.computed:
            state.update(self.computed[args.typ](args.name, dict(args.inputs)))
        return resource_id, state

    @staticmethod
    def _aws(typ: str, inputs: dict, seed: str, state: dict, name: str) -> str:
        service = typ.split(":")[1].split("/")[0]
        prefixes = {
            "aws:ec2/securityGroup:SecurityGroup": "sg-",
            "aws:efs/fileSystem:FileSystem": "fs-",
            "aws:efs/accessPoint:AccessPoint": "fsap-",
            "aws:efs/mountTarget:MountTarget": "fsmt-",
        }
        resource_id = prefixes.get(typ, "") + seed[:17] if typ in prefixes else inputs.get("name") or seed[:12]
        state["arn"] = f"arn:aws:{service}:{MOCK_REGION}:{MOCK_ACCOUNT}:{typ.split(':')[-1].lower()}/{resource_id}"
        if typ == "aws:rds/instance:Instance":
            resource_id = inputs.get("identifier") or name
        elif typ == "aws:ecr/repository:Repository":
            state["registryId"] = MOCK_ACCOUNT
            state["repositoryUrl"] = f"{MOCK_ACCOUNT}.dkr.ecr.{MOCK_REGION}.amazonaws.com/{inputs.get('name') or name}"
        elif typ == "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup":
            state["name"] = "default"
        state["id"] = resource_id
        return resource_id

    def call(self, args: pulumi_mocks.MockCallArgs):
        # A plain dict: the mock monitor reads (result, failures) tuples only when failures exist.
        try:
            if args.token == "kubernetes:yaml:decode":  # yaml.ConfigFile and ConfigGroup (v1) decode through it
                return {"result": manifests.decode(args.args["text"])}
            if args.token == "kubernetes:helm:template":  # helm.v3.Chart renders through it
                return {"result": manifests.helm_template_invoke(args.args["jsonOpts"], self.program_dir)}
        except manifests.ManifestError as error:
            self.refused.append(str(error))
            return {"result": []}
        if args.token == "aws:ec2/getSubnet:getSubnet":
            subnet = args.args["id"]
            # Subnets ending in 0, 1, 2... land in zones a, b, c...: realistic, and predictable for tests.
            zone = "abc"[int(subnet[-1], 16) % 3]
            return {
                "id": subnet,
                "vpcId": MOCK_VPC,
                "availabilityZone": f"{MOCK_REGION}{zone}",
                "cidrBlock": f"10.0.{int(subnet[-1], 16)}.0/24",
                "mapPublicIpOnLaunch": False,
            }
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/ci", "userId": "AIDAEXAMPLE"}
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            endpoint = f"https://{MOCK_ACCOUNT}.dkr.ecr.{MOCK_REGION}.amazonaws.com"
            return {
                "id": MOCK_REGION,
                "authorizationToken": "QVdTOm1vY2s=",
                "userName": "AWS",
                "password": "mock",
                "proxyEndpoint": endpoint,
                "expiresAt": "2099-01-01T00:00:00Z",
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": MOCK_REGION, "region": MOCK_REGION}
        return {}


class _RecordingMonitor(sdk.MockMonitor):
    def __init__(self, mocks: pulumi_mocks.Mocks, run: Run, stack: str, project: str):
        super().__init__(mocks)
        self.run = run
        self.stack, self.project = stack, project
        # The SDK calls the monitor from its executor's threads, and the mock monitor gives each
        # thread an event loop it never closes; garbage-collected at exit, those loops printed
        # "Exception ignored ... Invalid file descriptor". We give the threads loops we close.
        self.thread_loops: list[asyncio.AbstractEventLoop] = []
        self._guard = threading.Lock()

    def _thread_loop(self) -> None:
        try:
            asyncio.get_event_loop()
        except RuntimeError:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            with self._guard:
                self.thread_loops.append(loop)

    def close_thread_loops(self) -> None:
        for loop in self.thread_loops:
            loop.close()
        self.thread_loops.clear()

    def Invoke(self, request):
        self._thread_loop()
        return super().Invoke(request)

    def ReadResource(self, request):
        self._thread_loop()
        return super().ReadResource(request)

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: the run's stack and project, and the whole chain of parent types joined
        by "$", the root Stack's left out (pulumi v3.259.0 sdk/go/common/resource/urn.go and
        pkg/resource/deploy/step_generator.go). The mock monitor's own reads "stack" and "project"
        from a context it is not called in, and keeps only the parent's last type."""
        if parent and parent.split("::")[2] != "pulumi:pulumi:Stack":
            type_ = f"{parent.split('::')[2]}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"

    def RegisterResource(self, request):
        self._thread_loop()
        if request.type != "pulumi:pulumi:Stack":
            inputs = sdk.unknowns_as_sentinels(sdk.deserialize_properties(request.object, keep_unknowns=True))
            declared = Declared(
                urn=self.make_urn(request.parent, request.type, request.name),
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=request.custom,
                provider=request.provider,
                # What the analyzer sees is the provider's checked inputs: auto-names filled in.
                inputs=checked(request.type, request.name, inputs),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                dependencies=list(request.dependencies),
                ignore_changes=list(request.ignoreChanges),
                custom_timeouts={
                    k: v for k in ("create", "update", "delete") if (v := getattr(request.customTimeouts, k, ""))
                },
                aliases=[self._alias_urn(request, alias) for alias in request.aliases],
            )
            self.run.resources.append(declared)
            if request.remote and request.type in manifests.REMOTE_COMPONENTS:
                self._register_children(declared, reveal(inputs))
        return super().RegisterResource(request)

    def _alias_urn(self, request, alias) -> str:
        """An alias as a URN: given whole, or a spec whose unset parts are the resource's own."""
        if alias.urn:
            return alias.urn
        spec = alias.spec
        parent = "" if spec.noParent else (spec.parentUrn or request.parent)
        urn = self.make_urn(parent, spec.type or request.type, spec.name or request.name)
        return urn.replace(
            f"urn:pulumi:{self.stack}::{self.project}::",
            f"urn:pulumi:{spec.stack or self.stack}::{spec.project or self.project}::",
            1,
        )

    def _register_children(self, component: Declared, inputs: dict) -> None:
        """What the provider's Construct would register under a remote ConfigFile, ConfigGroup or Chart."""
        try:
            objects = manifests.children(component.type, component.name, inputs, self.mocks.program_dir)
        except manifests.ManifestError as error:
            self.mocks.refused.append(f"{component.type.split(':')[-1]} {component.name!r}: {error}")
            return
        for name, obj in objects:
            type_ = manifests.type_token(obj)
            self.run.resources.append(
                Declared(
                    urn=self.make_urn(component.urn, type_, name),
                    type=type_,
                    name=name,
                    parent=component.urn,
                    custom=True,
                    provider=component.provider,
                    inputs=obj,
                    protect=component.protect,
                    retain_on_delete=component.retain_on_delete,
                    delete_before_replace=False,
                    dependencies=[],
                    ignore_changes=[],
                    custom_timeouts={},
                )
            )


async def _collect_outputs(run: Run) -> None:
    stack = sdk.root_resource()
    for name, value in getattr(stack, "outputs", {}).items():
        out = pulumi.Output.from_input(value)
        run.outputs[name] = Output(await out.future(), await out.is_secret())


def run_program(
    program_dir: Path,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    project: str | None = None,
    computed: Mapping[str, Computed] | None = None,
) -> Run:
    """Run `program_dir/__main__.py` under mocks with the given config and return what it declared.

    The mocks run as a preview: an output no input and no `computed` entry gives stays unknown.

    Raises whatever the program raised (a ConfigError surfaces as pulumi.RunError)."""
    program_dir = Path(program_dir).resolve()
    project = project or _project_name(program_dir)
    run = Run()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sdk.reset_root_resource()
    mocks = _Mocks(program_dir, computed)
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=True,
        monitor=(monitor := _RecordingMonitor(mocks, run, stack, project)),
    )
    runtime_config.set_all_config(config, secret_keys)
    # The program imports its own packages (config, components, ...): make them importable, and
    # drop any module of those names that another folder's copy loaded (a program's modules hold no
    # run state, so this program's own stay loaded: re-importing them was most of a run's time).
    own = {p.name for p in program_dir.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    # Never the harness's own modules, though (a copy of this checkout has a tools/ of its own).
    mine = __name__.split(".")[0]
    for module in [m for m in sys.modules if m.split(".")[0] in own - {mine}]:
        if not str(getattr(sys.modules[module], "__file__", "") or "").startswith(f"{program_dir}{os.sep}"):
            del sys.modules[module]
    sys.path.insert(0, str(program_dir))
    # No cluster behind the mocks: the program skips its cluster preflight (platforms/preflight.py).
    offline = os.environ.get("APPCLUSTER_OFFLINE")
    os.environ["APPCLUSTER_OFFLINE"] = "1"
    try:
        with contextlib.chdir(program_dir), sdk.without_source_positions():
            sdk.sync_await(
                sdk.run_pulumi_func(lambda: runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__"))
            )
            sdk.sync_await(_collect_outputs(run))
    except Exception:
        if mocks.refused:  # what the program then tripped over is a consequence: name the cause
            raise Unanswerable(mocks.refused[0]) from None
        raise
    else:
        if mocks.refused:
            raise Unanswerable(mocks.refused[0])
    finally:
        if offline is None:
            del os.environ["APPCLUSTER_OFFLINE"]
        sys.path.remove(str(program_dir))
        # The executor's threads first (they hold the thread loops), then every loop of this run.
        loop.run_until_complete(loop.shutdown_default_executor())
        monitor.close_thread_loops()
        asyncio.set_event_loop(None)
        loop.close()
    return run


def _project_name(program_dir: Path) -> str:
    import yaml

    project_file = program_dir / "Pulumi.yaml"
    if project_file.exists():
        return (yaml.safe_load(project_file.read_text()) or {}).get("name", program_dir.name)
    return program_dir.name
