"""Every private name of the Pulumi SDKs the offline toolbox leans on, in one place.

The mock API gives a program's resources but not what a policy pack or a renderer needs (parents,
options, which inputs are secret), nor a way to run a program to completion from Python; these
names fill the gap. They are not a public contract: `tests/test_sdk_contract.py` exercises each one,
and SUPPORTED is the SDK range they were checked against. An upgrade outside it is refused at import
with what to do, rather than failing somewhere deep in a run.
(The policy pack itself reads the analyzer's proxies through `pulumi_policy.proxy._is_unknown` and the
proxies' `__target`: see policies/appcluster_policies/workloads.py `plain`, covered by the same test.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Any

from pulumi.output import Unknown as _Unknown
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import resource as _resource
from pulumi.runtime import rpc as _rpc
from pulumi.runtime import settings as _settings
from pulumi.runtime.proto import source_pb2 as _source
from pulumi.runtime.stack import run_pulumi_func as _run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: F401  (what the analyzer wraps props in)

# (package, lowest, highest minor series) the private names below were verified against.
SUPPORTED = {"pulumi": ((3, 259), (3, 259)), "pulumi-policy": ((1, 21), (1, 21))}


def _series(package: str) -> tuple[int, int]:
    major, minor = version(package).split(".")[:2]
    return int(major), int(minor)


for _package, (_low, _high) in SUPPORTED.items():
    if not _low <= _series(_package) <= _high:
        raise ImportError(
            f"tools.offline relies on private names of {_package} {'.'.join(map(str, _low))}.x to "
            f"{'.'.join(map(str, _high))}.x, and {version(_package)} is installed: run tests/test_sdk_contract.py, "
            "fix tools/offline/sdk.py where it fails, then widen SUPPORTED"
        )

# The marker rpc.wrap_rpc_secret puts on secret values, and the key it sits under.
SECRET_SIG_KEY: str = _rpc._special_sig_key
SECRET_SIG: str = _rpc._special_secret_sig

# Subclassed to record each registration; its RegisterResource names resources with make_urn.
MockMonitor = _mocks.MockMonitor
deserialize_properties = _rpc.deserialize_properties
sync_await: Callable[[Any], Any] = _sync_await
run_pulumi_func = _run_pulumi_func


def unknowns_as_sentinels(value: Any) -> Any:
    """The value with each unknown as the string the engine sends the analyzer for it (what
    `pulumi_policy.proxy._is_unknown` recognises), not the SDK's `Unknown` object."""
    if isinstance(value, _Unknown):
        return _rpc.UNKNOWN
    if isinstance(value, dict):
        return {k: unknowns_as_sentinels(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknowns_as_sentinels(v) for v in value]
    return value


def reset_root_resource() -> None:
    """A fresh Stack for the next run, nothing carried over from the last one."""
    _settings.set_root_resource(None)


def root_resource() -> Any:
    return _settings.get_root_resource()


@contextlib.contextmanager
def without_source_positions() -> Iterator[None]:
    """Skip the stack walk the SDK does for every resource to report its source position: no mock
    reads it, and it is an eighth of a run's time."""
    original = _resource._get_stack_trace
    _resource._get_stack_trace = _source.StackTrace
    try:
        yield
    finally:
        _resource._get_stack_trace = original
