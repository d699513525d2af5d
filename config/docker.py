"""The local Docker target: the seeds' docker-compose shape, on one Docker host."""

from __future__ import annotations

from config.base import Model, Port


class DockerConfig(Model):
    host: str = "unix:///var/run/docker.sock"
    """The Docker daemon to deploy to."""
    # The host port the nginx load balancer is published on.
    publish_port: Port = 8080
    """The host port the nginx load balancer is published on."""


# What the docker platform (platforms/docker.py, the vendor image on one host) does not implement, by
# config key, with what to do instead: config refuses the key when it is set (config/stack.py).
UNSUPPORTED: dict[str, str] = {
    "app.build": "the docker platform runs a pulled image and builds none: build and push it, then set app.image",
    "app.autoscaling.enabled": "the docker platform runs a fixed number of containers: set app.replicas",
    "database.logDatabase": "the docker platform runs one database server: remove it (logs go to the main database)",
    "loadBalancer.ingress.enabled": "the docker platform publishes its nginx on docker.publishPort and declares no "
    "Ingress: remove it",
    "backup.s3": "the docker platform runs no backup Jobs: remove it and back up the database volume yourself",
}
