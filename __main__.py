"""appcluster: a cluster-mode web app and everything it needs, composed from the stack's config."""
import pulumi

import config
from platforms import docker, kubernetes

try:
    cfg = config.from_pulumi()
except config.ConfigError as error:
    # A clean one-line failure before any resource is declared; no traceback for a config mistake.
    raise pulumi.RunError(str(error)) from None

deploy = docker.deploy if cfg.platform == "docker" else kubernetes.deploy
for name, value in deploy(cfg).items():
    pulumi.export(name, value)
