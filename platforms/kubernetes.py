"""appcluster on Kubernetes: the app and everything it needs in (or beside) one cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from components.backups.component import Backups, BackupsArgs
from components.backups.contract import COMPONENT as BACKUP_COMPONENT
from components.backups.dump import DumpBackups
from components.database.component import Database, DatabaseVariant
from components.kubernetes import conventions as conv
from components.kubernetes import shared_secret
from components.kubernetes.app_cluster import COMPONENT, WORKER_COMPONENT, AppCluster, AppClusterArgs
from components.kubernetes.load_balancer import LoadBalancer, LoadBalancerArgs
from components.kubernetes.maintenance_page import MaintenancePage, MaintenancePageArgs
from components.kubernetes.network_policy import NetworkPolicy, NetworkPolicyArgs, Protected
from components.redis.component import Redis, RedisArgs, RedisVariant
from components.redis.contract import PORT as REDIS_PORT
from components.shared.nginx import HEALTH_PATH as MAINTENANCE_HEALTH_PATH
from components.shared.secrets import DATABASE_PASSWORD, LOG_DATABASE_PASSWORD, REDIS_PASSWORD
from components.storage.component import SharedStorage, SharedStorageArgs
from components.storage.nfs import NfsStorage
from components.storage.storage_class import StorageClassStorage
from config import ConfigError, StackConfig
from config.database import DatabaseConfig
from config.redis import RedisConfig
from platforms import preflight
from platforms.common import app_spec, declare_database, plain, shared_secrets
from profiles.wiring import Sensitive, Source

if TYPE_CHECKING:
    from pydantic import SecretStr

    from components.aws.network import Network
    from components.backups.component import BackupsVariant
    from components.image.component import RegistryVariant
    from components.storage.component import StorageVariant


def deploy(cfg: StackConfig) -> dict[str, Any]:
    """Declare the stack on Kubernetes (with AWS managed services where the config asks) and return
    the stack outputs."""
    try:
        preflight.check(cfg)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    outputs: dict[str, Any] = {}
    app = cfg.app_name
    kube = cfg.kubernetes
    provider = k8s.Provider(
        "kubernetes",
        # A kubeconfig's content carries credentials: keep it encrypted in state.
        kubeconfig=pulumi.Output.secret(kube.kubeconfig) if kube.kubeconfig else None,
        context=kube.context,
        render_yaml_to_directory=kube.render_yaml_to_directory,
        enable_server_side_apply=kube.render_yaml_to_directory is None,
    )
    providers: dict[str, pulumi.ProviderResource] = {"kubernetes": provider}
    network = None
    if cfg.aws is not None:
        # Only stacks with an AWS mode load pulumi_aws.
        from components.aws.network import connect

        try:
            providers["aws"], network = connect(cfg.aws, cfg.app_name)
        except ValueError as error:
            raise pulumi.RunError(str(error)) from None
    opts = pulumi.ResourceOptions(providers=providers)

    namespace: pulumi.Input[str] = kube.namespace
    if kube.create_namespace:
        namespace = k8s.core.v1.Namespace(
            "namespace",
            metadata={
                "name": kube.namespace,
                "labels": {
                    **conv.labels(app, "namespace"),
                    # Root images (NocoBase, New API) need baseline; warn on anything short of restricted.
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                },
            },
            opts=pulumi.ResourceOptions(provider=provider, protect=cfg.protect),
        ).metadata.name

    secrets_cfg = cfg.secrets
    in_cluster_db = cfg.database.mode == "in-cluster" and cfg.database.engine != "sqlite"
    in_cluster_redis = cfg.redis.mode == "in-cluster"
    shared = shared_secrets(cfg, opts)
    shared_name = shared_secret.publish(shared, app_name=app, namespace=namespace, labels=conv.labels(app, "secrets"))

    def in_cluster(concern: RedisConfig | DatabaseConfig, image: str, password_key: str) -> conv.ServerArgs:
        return conv.ServerArgs(
            image=image,
            password=shared.values[password_key],
            secret_name=shared_name,
            password_key=password_key,
            storage_size=concern.storage_size,
            storage_class=concern.storage_class,
            resources=concern.resources.to_k8s(),
            protect=cfg.protect,
        )

    redis_variant: RedisVariant
    if cfg.redis.mode == "external":
        from components.redis.external import ExternalRedis

        redis_variant = ExternalRedis(url=plain(secrets_cfg.redis_url) or "")
    elif cfg.redis.mode == "elasticache":
        from components.redis.elasticache import ElastiCacheRedis

        assert cfg.redis.elasticache is not None and network is not None  # preflight and the config refuse otherwise
        redis_variant = ElastiCacheRedis(
            settings=cfg.redis.elasticache, network=network, password=shared.values[REDIS_PASSWORD]
        )
    else:
        from components.redis.in_cluster import InClusterRedis

        redis_variant = InClusterRedis(
            namespace=namespace, server=in_cluster(cfg.redis, cfg.redis.image, REDIS_PASSWORD)
        )
    redis = Redis("redis", RedisArgs(app_name=app, variant=redis_variant, protect=cfg.protect), opts=opts)
    sources: dict[str, Source] = {f"redis.{use}": Sensitive(url) for use, url in redis.urls.items()}

    def make_database(name: str, app_name: str, password_key: str, url: SecretStr | None) -> Database:
        db = cfg.database
        variant: DatabaseVariant
        if db.mode == "external":
            from components.database.external import ExternalDatabase

            variant = ExternalDatabase(url=plain(url) or "")
        elif db.mode == "rds":
            from components.database.rds import RdsDatabase

            assert network is not None  # preflight and the config refuse rds without the EKS cluster's network
            variant = RdsDatabase(settings=db.rds, network=network, password=shared.values[password_key])
        else:
            from components.database.in_cluster import InClusterDatabase

            variant = InClusterDatabase(namespace=namespace, server=in_cluster(db, db.resolved_image, password_key))
        return declare_database(cfg, name, app_name, variant, opts)

    database = log_database = None
    if cfg.database.engine != "sqlite":
        database = make_database("database", app, DATABASE_PASSWORD, secrets_cfg.database_url)
        sources.update(database.bindings)
    if cfg.database.log_database:
        # A server of its own (names and labels carry "<app>-log"), bound only to LOG_SQL_DSN.
        log_database = make_database("log-database", f"{app}-log", LOG_DATABASE_PASSWORD, secrets_cfg.log_database_url)
        sources["logDatabase.dsn"] = log_database.bindings["database.dsn"]

    storage = SharedStorage(
        "shared-storage",
        SharedStorageArgs(app_name=app, variant=storage_variant(cfg, namespace, network), protect=cfg.protect),
        opts=opts,
    )

    security = cfg.app.security_context
    run_as_user = security.run_as_user if security.run_as_user is not None else cfg.profile.run_as_user

    image: pulumi.Input[str] = cfg.app_image
    pull_config = None
    if cfg.app.build is not None:
        # Building the image is the only reason a Kubernetes stack loads pulumi_docker.
        from components.image.component import AppImage, AppImageArgs

        built = AppImage(
            "app-image",
            AppImageArgs(app_name=app, build=cfg.app.build, variant=registry_variant(cfg), protect=cfg.protect),
            opts=opts,
        )
        image, pull_config = built.image, built.pull_config

    backup_variants: list[BackupsVariant] = []
    if database is not None and database.dump_source is not None:
        source = database.dump_source
        backup_variants.append(
            DumpBackups(
                namespace=namespace,
                engine=source.engine,
                image=source.image,
                host=source.host,
                name=source.name,
                user=source.user,
                secret_name=source.secret_name,
                password_key=source.password_key,
                storage_claim=storage.claim_name,
                run_as_user=run_as_user,
            )
        )
    rds = database.rds_instance if database is not None else None
    if rds is not None or storage.mount.file_system_arn is not None:
        from components.backups.aws import AwsBackups, RdsInstance

        backup_variants.append(
            AwsBackups(
                rds=RdsInstance(identifier=rds.identifier, arn=rds.arn) if rds is not None else None,
                file_system_arn=storage.mount.file_system_arn,
            )
        )
    backups = Backups(
        "backups",
        BackupsArgs(app_name=app, config=cfg.backup, version=cfg.app_version, variants=tuple(backup_variants)),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[r for r in (database, storage) if r is not None])
        ),
    )
    cluster = AppCluster(
        "app",
        AppClusterArgs(
            app=app_spec(cfg, image, sources),
            namespace=namespace,
            shared_secret_name=shared_name,
            storage_claim=storage.claim_name,
            resources=cfg.app.resources.to_k8s(),
            run_as_user=run_as_user,
            read_only_root=security.read_only_root_filesystem,
            capabilities=cfg.profile.capabilities,
            local_paths=cfg.profile.local_paths,
            startup_timeout_seconds=cfg.app.startup_timeout_seconds,
            autoscaling=cfg.app.autoscaling,
            spread_keys=kube.spread_topology_keys,
            version=cfg.app_version,
            before_primary=backups.before_upgrade,
            pull_config=pull_config,
            stop_others_before_upgrade=cfg.profile.stop_all_before_upgrade,
            connects_to=[r for r in (shared, redis, database, log_database, storage) if r is not None],
        ),
        opts=opts,
    )

    # In maintenance the load balancer sends every request to the 503 page instead of the app.
    serving_selector, health_path, health_status = cluster.pod_selector, cfg.health_path, 200
    open_check = cfg.profile.open_check
    if open_check:
        health_path, health_status = open_check.path, open_check.status
    if cfg.maintenance:
        page = MaintenancePage("maintenance", MaintenancePageArgs(app_name=app, namespace=namespace), opts=opts)
        serving_selector, health_path, health_status = page.pod_selector, MAINTENANCE_HEALTH_PATH, 200
    # Paths only the primary answers need a second role to keep them from.
    primary_only = cfg.profile.primary_only_paths if cluster.replicas_name is not None and not cfg.maintenance else ()

    lb_cfg = cfg.load_balancer
    lb = LoadBalancer(
        "load-balancer",
        LoadBalancerArgs(
            app_name=app,
            namespace=namespace,
            pod_selector=serving_selector,
            health_path=health_path,
            health_status=health_status,
            health_by_tcp=bool(open_check) and not cfg.maintenance,
            idle_timeout_seconds=cfg.profile.idle_timeout_seconds,
            primary_only_paths=primary_only,
            mode=lb_cfg.mode,
            service_type=lb_cfg.service_type,
            port=lb_cfg.port,
            sticky=lb_cfg.sticky,
            sticky_timeout_seconds=lb_cfg.sticky_timeout_seconds,
            weights={} if cfg.maintenance else cfg.role_weights,
            role_selectors=cluster.role_selectors,
            ingress_host=lb_cfg.ingress.host if lb_cfg.ingress.enabled or lb_cfg.mode != "service" else None,
            ingress_class=lb_cfg.ingress.class_name,
            tls_secret_name=lb_cfg.ingress.tls_secret_name,
            ingress_annotations=lb_cfg.ingress.annotations,
            certificate_arn=lb_cfg.certificate_arn,
            public=lb_cfg.public,
            access_logs_bucket=lb_cfg.access_logs_bucket,
            deletion_protection=cfg.protect,
        ),
        opts=opts,
    )

    # Who connects: the instances and the task-only workers; the database also gets the backup Jobs.
    protected = []
    clients = (COMPONENT, WORKER_COMPONENT)
    if in_cluster_redis:
        protected.append(Protected("redis", conv.selector(app, "redis"), REDIS_PORT, clients))
    if in_cluster_db:
        protected += [
            Protected(component, d.pod_labels, cfg.database.port, (*clients, BACKUP_COMPONENT))
            for component, d in (("database", database), ("log-database", log_database))
            if d is not None
        ]
    NetworkPolicy(
        "network-policy",
        NetworkPolicyArgs(
            app_name=app,
            namespace=namespace,
            app_selector=cluster.pod_selector,
            app_port=cfg.app_port,
            protected=protected,
        ),
        opts=opts,
    )

    outputs["profile"] = cfg.app.profile
    outputs["namespace"] = namespace
    outputs["url"] = lb.url
    outputs["instances"] = 0 if cfg.maintenance else cfg.app.replicas
    outputs["maintenance"] = cfg.maintenance
    outputs["maxInstances"] = cfg.max_instances
    outputs["sharedSecretName"] = shared_name
    outputs["redisHost"] = redis.host
    if database is not None:
        outputs["databaseHost"] = database.host
    outputs["storageClaim"] = storage.claim_name
    return outputs


def storage_variant(cfg: StackConfig, namespace: pulumi.Input[str], network: Network | None) -> StorageVariant:
    """SharedStorage's variant for `storage.mode`; efs alone loads pulumi_aws."""
    storage = cfg.storage
    assert storage is not None, "config requires storage on Kubernetes"
    if storage.mode == "storage-class":
        assert storage.storage_class is not None, "config requires storageClass with mode storage-class"
        return StorageClassStorage(namespace=namespace, size=storage.size, storage_class=storage.storage_class)
    if storage.mode == "nfs":
        assert storage.nfs is not None, "config requires nfs with mode nfs"
        return NfsStorage(namespace=namespace, size=storage.size, server=storage.nfs.server, path=storage.nfs.path)
    from components.storage.efs import EfsStorage

    assert network is not None, "config requires aws with mode efs"
    return EfsStorage(namespace=namespace, size=storage.size, efs=storage.efs, network=network)


def registry_variant(cfg: StackConfig) -> RegistryVariant:
    """AppImage's variant for `app.build.registry.mode`; ecr alone loads pulumi_aws."""
    assert cfg.app.build is not None
    registry = cfg.app.build.registry
    if registry.mode == "registry":
        from components.image.registry import ExistingRegistry

        # Config requires all four with mode registry; ExistingRegistry refuses an empty one by name.
        return ExistingRegistry(
            server=registry.server or "",
            repository=registry.repository or "",
            username=registry.username or "",
            password=plain(cfg.secrets.registry_password) or "",
        )
    from components.image.ecr import EcrRegistry

    return EcrRegistry(repository=registry.repository, keep_images=registry.keep_images)
