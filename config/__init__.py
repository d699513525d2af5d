"""Stack configuration: one pydantic model per concern, validated before any resource exists."""

import difflib
import json
from collections.abc import Mapping
from typing import Any

from config.stack import NAMESPACE, ConfigError, StackConfig, load

_UNSET_BY_DEFAULT = {
    field.alias or name
    for name, field in StackConfig.model_fields.items()
    if not field.is_required() and field.default is None
}

__all__ = ["NAMESPACE", "ConfigError", "StackConfig", "from_pulumi", "from_settings", "load"]


def from_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The `appcluster:` keys of a config map as the engine passes it (full key -> string, objects
    as JSON), parsed back into plain values, keyed without the namespace. A namespace that is a near
    miss of ours is refused: Pulumi would hand it to nobody, and the setting would silently not apply."""
    raw = {}
    for full_key in sorted(values):
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            if namespace != "pulumi" and difflib.SequenceMatcher(None, namespace, NAMESPACE).ratio() >= 0.8:
                raise ConfigError(
                    f"{full_key}: unknown namespace {namespace!r} (did you mean '{NAMESPACE}:{key}'?): "
                    f"appcluster reads only {NAMESPACE}:* keys"
                )
            continue
        value = values[full_key]
        try:
            raw[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[key] = value
    # Pulumi.yaml gives every optional object `{}` as its default (a key declared without one is
    # required by the engine): for a key that is unset by default (aws, storage) it means unset.
    return {key: value for key, value in raw.items() if not (value == {} and key in _UNSET_BY_DEFAULT)}


def from_pulumi() -> StackConfig:
    """Read every `appcluster:` key the engine (or the offline mocks) passed to this program."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    secrets_key = f"{NAMESPACE}:secrets"
    given = sorted(
        (from_settings({secrets_key: runtime_config.get_config(secrets_key)}).get("secrets") or {})
        if secrets_key in keys
        else []
    )
    # The engine marks the key secret when any value under it is `secure:`; none is: plain text. (An
    # empty object is Pulumi.yaml's default, not a secret.)
    if given and not runtime_config.is_config_secret(secrets_key):
        raise ConfigError(
            f"{secrets_key}: {', '.join(given)} given in plain text in the stack file — remove them and "
            f"set each encrypted: `pulumi config set --secret --path {secrets_key}.{given[0]} <value>`"
        )
    return load(from_settings({key: runtime_config.get_config(key) for key in keys}))
