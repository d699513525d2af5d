"""appcluster: a cluster-mode web app and everything it needs, composed from the stack's config."""

import pulumi

import config

try:
    cfg = config.from_pulumi()
except config.ConfigError as error:
    # A clean one-line failure before any resource is declared; no traceback for a config mistake.
    raise pulumi.RunError(str(error)) from None

for warning in cfg.warnings:
    pulumi.log.warn(warning)
# Each platform loads only its own provider SDKs (components/__init__.py).
if cfg.platform == "docker":
    from platforms.docker import deploy
else:
    from platforms.kubernetes import deploy
for name, value in deploy(cfg).items():
    pulumi.export(name, value)
