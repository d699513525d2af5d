"""Every component's Args: frozen, keyword-only, and refusing what the component cannot build from,
by Args name, field and value, before any resource is declared."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from types import SimpleNamespace

import pytest

import components
from components.backups.aws import AwsBackups
from components.backups.component import BackupsArgs
from components.backups.dump import DumpBackups
from components.database.component import DatabaseArgs
from components.database.external import ExternalDatabase
from components.database.in_cluster import InClusterDatabase
from components.docker.load_balancer import DockerLoadBalancerArgs
from components.docker.server import DockerServerArgs
from components.image.ecr import EcrRegistry
from components.image.registry import ExistingRegistry
from components.kubernetes.app_cluster import AppClusterArgs
from components.kubernetes.conventions import ServerArgs
from components.kubernetes.load_balancer import LoadBalancerArgs
from components.kubernetes.maintenance_page import MaintenancePageArgs
from components.kubernetes.network_policy import NetworkPolicyArgs
from components.kubernetes.upgrade import UpgradeGateArgs
from components.redis.component import RedisArgs
from components.redis.external import ExternalRedis
from components.shared.app import AppSpec, Worker
from components.shared.args import ArgsError
from components.shared.secrets import SharedSecretsArgs
from components.storage.nfs import NfsStorage
from components.storage.storage_class import StorageClassStorage
from config.backup import BackupConfig
from profiles import AppSecret

SERVER = ServerArgs(
    image="redis:8.2.2",
    password="p",
    secret_name="s",
    password_key="REDIS_PASSWORD",
    storage_size="1Gi",
    storage_class=None,
    resources={},
    protect=False,
)
SPEC = dict(app_name="shop", image="shop:1.0", port=80, health_path="/health", data_path="/data", replicas=3, env={})
APP = dict(
    app=AppSpec(**SPEC), namespace="ns", shared_secret_name="shop-shared", storage_claim="shop-data", resources={}
)
# (Args, what is valid, what to change, the fragment the refusal must hold)
CASES = [
    (AppSpec, SPEC, {"replicas": 33}, "AppSpec.replicas: 33 — must be 1 or more, and with the workers' at most 32"),
    (AppSpec, SPEC, {"replicas": 30, "workers": [Worker(name="w", mode="*", replicas=3)]}, "(got 33 in all)"),
    (AppSpec, SPEC, {"workers": [Worker(name="w", mode="*", replicas=1)] * 2}, "must have distinct names"),
    (AppSpec, SPEC, {"health_path": "health"}, "AppSpec.health_path: 'health' — must be an absolute path"),
    (AppSpec, SPEC, {"drain_seconds": 60}, "AppSpec.drain_seconds: 60 — must be below grace_seconds (60)"),
    (AppClusterArgs, APP, {"local_paths": {"/data": "1Gi"}}, "must not hold the data path"),
    (
        AppClusterArgs,
        APP,
        {"autoscaling": SimpleNamespace(enabled=True, min_replicas=9, max_replicas=4, target_cpu_percent=70)},
        "needs 1 <= minReplicas (9)",
    ),
    (
        AppClusterArgs,
        APP,
        {"autoscaling": SimpleNamespace(enabled=True, min_replicas=2, max_replicas=32, target_cpu_percent=70)},
        "exceed 32 worker IDs",
    ),
    (AppClusterArgs, APP, {"stop_others_before_upgrade": True}, "AppClusterArgs.version: '' — is required to stop"),
    (
        LoadBalancerArgs,
        dict(app_name="shop", namespace="ns", pod_selector={"a": "b"}),
        {"mode": "gce"},
        "LoadBalancerArgs.mode: 'gce' — must be one of 'service', 'nlb', 'alb'",
    ),
    (
        LoadBalancerArgs,
        dict(app_name="shop", namespace="ns", pod_selector={"a": "b"}),
        {"primary_only_paths": ("/api/setup",)},
        "need role_selectors['primary']",
    ),
    (
        LoadBalancerArgs,
        dict(app_name="shop", namespace="ns", pod_selector={"a": "b"}),
        {"idle_timeout_seconds": 0},
        "LoadBalancerArgs.idle_timeout_seconds: 0 — must be 1-4000",
    ),
    (
        LoadBalancerArgs,
        dict(app_name="shop", namespace="ns", pod_selector={"a": "b"}),
        {"mode": "alb"},
        "LoadBalancerArgs.certificate_arn: None — is required by mode alb",
    ),
    (
        LoadBalancerArgs,
        dict(app_name="shop", namespace="ns", pod_selector={"a": "b"}),
        {"weights": {"primary": 3}},
        "names ['primary'], which are not in role_selectors",
    ),
    (
        LoadBalancerArgs,
        dict(app_name="shop", namespace="ns", pod_selector={"a": "b"}),
        {"pod_selector": {}},
        "must select the serving pods",
    ),
    (
        NetworkPolicyArgs,
        dict(app_name="shop", namespace="ns", app_selector={"a": "b"}, app_port=80, protected=()),
        {"app_port": 0},
        "NetworkPolicyArgs.app_port: 0 — must be a TCP port",
    ),
    (MaintenancePageArgs, dict(app_name="shop", namespace="ns"), {"message": " "}, "must say something"),
    (
        DatabaseArgs,
        dict(app_name="shop", variant=InClusterDatabase(namespace="ns", server=SERVER), engine="postgres", port=5432),
        {"engine": "oracle"},
        "DatabaseArgs.engine: 'oracle'",
    ),
    (
        DatabaseArgs,
        dict(app_name="shop", variant=ExternalDatabase(url="postgres://h/db"), engine="mysql", port=3306),
        {"port": 0},
        "DatabaseArgs.port: 0 — must be a TCP port",
    ),
    (
        DatabaseArgs,
        dict(app_name="shop", variant=ExternalDatabase(url="postgres://h/db"), engine="postgres", port=5432),
        {"variant": "oracle"},
        "DatabaseArgs.variant: 'oracle' — is not in DatabaseVariant",
    ),
    (
        ExternalDatabase,
        dict(url="postgres://h/db"),
        {"url": ""},
        "ExternalDatabase.url: '' — is required: set the stack secret databaseUrl",
    ),
    (
        RedisArgs,
        dict(app_name="shop", variant=ExternalRedis(url="redis://h")),
        {"variant": "memcached"},
        "RedisArgs.variant: 'memcached' — is not in RedisVariant",
    ),
    (ExternalRedis, dict(url="redis://h"), {"url": ""}, "ExternalRedis.url: '' — is required: set the stack secret"),
    (
        NfsStorage,
        dict(namespace="ns", size="1Gi", server="nas"),
        {"path": "exports"},
        "NfsStorage.path: 'exports' — must be an absolute",
    ),
    (
        StorageClassStorage,
        dict(namespace="ns", size="1Gi", storage_class="nfs"),
        {"storage_class": ""},
        "StorageClassStorage.storage_class: '' — must name a class that supports ReadWriteMany",
    ),
    (
        BackupsArgs,
        dict(app_name="shop", config=BackupConfig(), version="1.0"),
        {"version": ""},
        "BackupsArgs.version: '' — names the pre-upgrade backup",
    ),
    (
        BackupsArgs,
        dict(app_name="shop", config=BackupConfig(), version="1.0"),
        {"variants": (AwsBackups(file_system_arn="arn"), AwsBackups(file_system_arn="arn"))},
        "must not repeat a kind",
    ),
    (
        DumpBackups,
        dict(
            namespace="ns",
            engine="postgres",
            image="x:1",
            host="h",
            name="n",
            user="u",
            secret_name="s",
            password_key="k",
            storage_claim="c",
        ),
        {"engine": "sqlite"},
        "DumpBackups.engine: 'sqlite'",
    ),
    (AwsBackups, dict(file_system_arn="arn"), {"file_system_arn": None}, "AwsBackups.rds: None — and file_system_arn"),
    (EcrRegistry, dict(), {"keep_images": 0}, "EcrRegistry.keep_images: 0 — must be 1 or more"),
    (
        ExistingRegistry,
        dict(server="r.example.com", repository="team/app", username="u", password="p" * 20),
        {"password": ""},
        "ExistingRegistry.password: '' — must not be empty",
    ),
    (
        DockerLoadBalancerArgs,
        dict(app_name="shop", network="net", instances=(), port=80, publish_port=8080, maintenance=True),
        {"weights": {"master": 1}},
        "names ['master']",
    ),
    (
        DockerLoadBalancerArgs,
        dict(app_name="shop", network="net", instances=(), port=80, publish_port=8080, maintenance=True),
        {"maintenance": False},
        "must not be empty outside maintenance",
    ),
    (
        DockerLoadBalancerArgs,
        dict(app_name="shop", network="net", instances=(), port=80, publish_port=8080, maintenance=True),
        {"idle_timeout_seconds": 0},
        "idle_timeout_seconds: 0 — must be positive",
    ),
    (
        DockerServerArgs,
        dict(app_name="shop", component="redis", image="redis:8", network="n", data_path="/data", health_shell="true"),
        {"component": "cache"},
        "DockerServerArgs.component: 'cache'",
    ),
    (
        UpgradeGateArgs,
        dict(app_name="shop", namespace="ns", version="2.2.15", others_selector="role!=primary", wait_seconds=180),
        {"version": ""},
        "UpgradeGateArgs.version: '' — names the Jobs",
    ),
    (
        SharedSecretsArgs,
        dict(app_secrets=(AppSecret("APP_KEY"),), passwords=("REDIS_PASSWORD",)),
        {"passwords": ("APP_KEY",)},
        "must not repeat a name",
    ),
    (
        SharedSecretsArgs,
        dict(app_secrets=(AppSecret("APP_KEY"),)),
        {"provided": {"APP_KY": "x" * 20}},
        "names ['APP_KY'], which are not in the app secrets",
    ),
]


@pytest.mark.parametrize(
    "args_type,valid,change,fragment", CASES, ids=[f"{c[0].__name__}-{'-'.join(c[2])}" for c in CASES]
)
def test_args_refuse_what_their_component_cannot_build(args_type, valid, change, fragment):
    args_type(**valid)  # the valid form is accepted as is
    with pytest.raises(ArgsError) as error:
        args_type(**{**valid, **change})
    assert fragment in str(error.value)


def _all_args() -> list[type]:
    found = []
    for module in pkgutil.walk_packages(components.__path__, "components."):
        loaded = importlib.import_module(module.name)
        # A component's Args, and a variant (what has `declare`) of a backing service's union.
        found += [
            v
            for k, v in vars(loaded).items()
            if (k.endswith(("Args", "Spec")) or hasattr(v, "declare"))
            and dataclasses.is_dataclass(v)
            and v.__module__ == module.name
        ]
    return found


def test_every_args_is_frozen_keyword_only_and_checks_itself():
    every = _all_args()
    assert len(every) >= 13
    # By name: a test that runs a copy of the checkout (test_profiles) reloads components/, so the
    # classes found here may be other objects than those the cases were written with.
    tested = {(case[0].__module__, case[0].__qualname__) for case in CASES}
    for args_type in every:
        params = args_type.__dataclass_params__
        assert params.frozen, args_type.__name__
        assert all(f.kw_only for f in dataclasses.fields(args_type)), args_type.__name__
        if "__post_init__" in vars(args_type):
            assert (args_type.__module__, args_type.__qualname__) in tested, (
                f"{args_type.__name__} checks itself but no case here shows it"
            )
    with pytest.raises(dataclasses.FrozenInstanceError):
        MaintenancePageArgs(app_name="shop", namespace="ns").message = "changed"
    with pytest.raises(TypeError):
        MaintenancePageArgs("shop", "ns")  # keyword-only
