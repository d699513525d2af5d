"""Stack configuration: one pydantic model per concern, validated before any resource exists."""
import json
from typing import Any, Mapping

from config.stack import NAMESPACE, ConfigError, StackConfig, load

__all__ = ["NAMESPACE", "ConfigError", "StackConfig", "load", "from_pulumi", "from_settings"]


def from_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The `appcluster:` keys of a config map as the engine passes it (full key -> string, objects
    as JSON), parsed back into plain values, keyed without the namespace."""
    raw = {}
    for full_key in sorted(values):
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        value = values[full_key]
        try:
            raw[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[key] = value
    return raw


def from_pulumi() -> StackConfig:
    """Read every `appcluster:` key the engine (or the offline mocks) passed to this program."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return load(from_settings({key: runtime_config.get_config(key) for key in keys}))
