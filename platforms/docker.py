"""appcluster on one Docker host: the seeds' docker-compose shape, declared with pulumi-docker.

A network, Redis, PostgreSQL or MySQL, the app's primary then its replicas and workers on one
named volume, and nginx in front. Secrets, env wiring and start order come from the same config,
profiles and SharedSecrets as on Kubernetes; only the objects they land in differ (container
environments, which Pulumi keeps as secrets in state).
"""

from typing import Any

import pulumi
import pulumi_docker as docker

from components.database.component import DatabaseVariant
from components.docker.app import DockerAppCluster, DockerAppClusterArgs
from components.docker.load_balancer import DockerLoadBalancer, DockerLoadBalancerArgs
from components.redis.component import Redis, RedisArgs, RedisVariant
from components.shared.secrets import DATABASE_PASSWORD, REDIS_PASSWORD
from config import StackConfig
from platforms.common import app_spec, declare_database, plain, shared_secrets
from profiles.wiring import Sensitive, Source


def deploy(cfg: StackConfig) -> dict[str, Any]:
    app = cfg.app_name
    provider = docker.Provider("docker", host=cfg.docker.host)
    opts = pulumi.ResourceOptions(providers={"docker": provider})
    shared = shared_secrets(cfg, opts)
    network = docker.Network("network", name=app, driver="bridge", opts=opts).name

    redis_variant: RedisVariant
    if cfg.redis.mode == "external":
        from components.redis.external import ExternalRedis

        redis_variant = ExternalRedis(url=plain(cfg.secrets.redis_url) or "")
    else:
        from components.redis.container import ContainerRedis

        redis_variant = ContainerRedis(image=cfg.redis.image, network=network, password=shared.values[REDIS_PASSWORD])
    redis = Redis("redis", RedisArgs(app_name=app, variant=redis_variant, protect=cfg.protect), opts=opts)
    sources: dict[str, Source] = {f"redis.{use}": Sensitive(url) for use, url in redis.urls.items()}
    dependencies: list[pulumi.Resource] = [redis]

    db = cfg.database
    if db.engine != "sqlite":
        variant: DatabaseVariant
        if db.mode == "in-cluster":
            from components.database.container import ContainerDatabase

            variant = ContainerDatabase(
                image=db.resolved_image, network=network, password=shared.values[DATABASE_PASSWORD]
            )
        else:
            from components.database.external import ExternalDatabase

            variant = ExternalDatabase(url=plain(cfg.secrets.database_url) or "")
        server = declare_database(cfg, "database", app, variant, opts)
        sources.update(server.bindings)
        dependencies.append(server)

    cluster = DockerAppCluster(
        "app",
        DockerAppClusterArgs(
            app=app_spec(cfg, cfg.app_image, sources),
            network=network,
            shared_secrets=shared.values,
            protect=cfg.protect,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=dependencies)),
    )
    lb_cfg = cfg.load_balancer
    lb = DockerLoadBalancer(
        "load-balancer",
        DockerLoadBalancerArgs(
            app_name=app,
            network=network,
            instances=cluster.instances,
            port=cfg.app_port,
            publish_port=cfg.docker.publish_port,
            sticky=lb_cfg.sticky,
            maintenance=cfg.maintenance,
            weights=cfg.role_weights,
            idle_timeout_seconds=cfg.profile.idle_timeout_seconds,
            primary_only_paths=cfg.profile.primary_only_paths,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[cluster])),
    )
    return {
        "profile": cfg.app.profile,
        "platform": "docker",
        "url": lb.url,
        "instances": 0 if cfg.maintenance else cfg.app.replicas,
        "maintenance": cfg.maintenance,
        "maxInstances": cfg.max_instances,
    }
