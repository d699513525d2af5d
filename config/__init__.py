"""Stack configuration: one pydantic model per concern, validated before any resource exists."""
from config.stack import NAMESPACE, ConfigError, StackConfig, load

__all__ = ["NAMESPACE", "ConfigError", "StackConfig", "load", "from_pulumi"]


def from_pulumi() -> StackConfig:
    """Read every `appcluster:` key the engine (or the offline mocks) passed to this program."""
    import json

    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw = {}
    for full_key in sorted(keys):
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        value = runtime_config.get_config(full_key)
        try:
            raw[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[key] = value
    return load(raw)
