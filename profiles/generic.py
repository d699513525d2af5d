"""Any app of the same shape: image, port, paths and environment all come from stack config."""
from __future__ import annotations

from typing import TYPE_CHECKING

from profiles.base import AppSecret, Bind, EnvSpec, Profile

if TYPE_CHECKING:
    from config.stack import StackConfig


def _env(cfg: "StackConfig") -> EnvSpec:
    generic = cfg.app.generic
    env: dict[str, str | Bind] = {name: Bind(f"secret.{name}") for name in generic.secret_env}
    env.update({name: Bind(source) for name, source in generic.env_map.items()})
    return env


def _secrets(cfg: "StackConfig") -> tuple[AppSecret, ...]:
    return tuple(AppSecret(name) for name in cfg.app.generic.secret_env)


GENERIC = Profile(
    name="generic",
    default_image="",
    health_path="",
    data_path="",
    releases=(),
    env=_env,
    default_port=lambda image: 8080,
    from_config=True,
    config_secrets=_secrets,
)
