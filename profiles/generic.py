"""Any app of the same shape: image, port, paths and environment all come from stack config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from profiles.base import AppSecret, Bind, EnvSpec, Profile

if TYPE_CHECKING:
    from config.app import GenericSettings
    from config.stack import StackConfig


def _settings(cfg: StackConfig) -> GenericSettings:
    # Config requires app.generic for this profile (its check); the default is for the other profiles.
    generic = cfg.app.generic
    assert generic is not None
    return generic


def _env(cfg: StackConfig) -> EnvSpec:
    generic = _settings(cfg)
    env: dict[str, str | Bind] = {name: Bind(f"secret.{name}") for name in generic.secret_env}
    env.update({name: Bind(source) for name, source in generic.env_map.items()})
    return env


def _secrets(cfg: StackConfig) -> tuple[AppSecret, ...]:
    return tuple(AppSecret(name) for name in _settings(cfg).secret_env)


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
