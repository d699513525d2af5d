"""Read a stack settings file (Pulumi.<stack>.yaml) the way the engine would hand it to a program.

Values of `secure:` leaves cannot be decrypted offline: they become placeholders of the right
shape (a URL stays a URL, a hex key stays hex) so the program validates and runs as it would.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

SECURE = "secure"


def _app_secret_kind(path: str, root: dict) -> str | None:
    """The form appcluster's app release reads the app secret at `path` in (secrets.appAesSecretKey:
    NocoBase 1.9 32 characters, 2.x 64 hex), or None for another key or program."""
    from config.base import parse_image
    from config.secrets import APP_SECRET_KEYS
    from profiles import PROFILES
    from profiles.base import parse_version

    app = root.get("appcluster:app")
    env = APP_SECRET_KEYS.get(path.rsplit(".", 1)[-1]) if path.startswith("appcluster:secrets.") else None
    if env is None or not isinstance(app, dict) or app.get("profile") not in PROFILES:
        return None
    profile = PROFILES[app["profile"]]
    build = app.get("build") if isinstance(app.get("build"), dict) else {}
    try:
        tag = build.get("tag") or parse_image(app.get("image") or profile.default_image).group("tag")
    except (ValueError, TypeError):
        return None  # config validation names the bad image
    release = profile.release(parse_version(str(tag or "")))
    return next((s.kind for s in release.secrets if s.env == env), None) if release else None


def _placeholder(path: str, root: dict) -> str:
    digest = hashlib.sha256(path.encode()).hexdigest()
    kind = _app_secret_kind(path, root)
    if kind == "hex32":
        return digest
    if kind == "chars32":
        return digest[:32]
    if path.endswith("redisUrl"):
        return f"rediss://:offline{digest[:24]}@redis.offline.invalid:6379"
    if path.endswith("databaseUrl"):
        engine = ((root.get("appcluster:database") or {}).get("engine")) or "postgres"
        port = 3306 if engine == "mysql" else 5432
        return f"{engine}://appcluster:offline{digest[:24]}@database.offline.invalid:{port}/appcluster"
    return f"offline-{digest[:40]}"


def _unsecure(value: Any, path: str, root: dict, secret_keys: set[str], top: str) -> Any:
    if isinstance(value, dict):
        if set(value) == {SECURE}:
            secret_keys.add(top)
            return _placeholder(path, root)
        return {k: _unsecure(v, f"{path}.{k}", root, secret_keys, top) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecure(v, f"{path}[{i}]", root, secret_keys, top) for i, v in enumerate(value)]
    return value


class SettingsError(ValueError):
    """A settings file that cannot be read as Pulumi would read it; the message is one line."""


def read(path: Path) -> tuple[dict[str, str], list[str]]:
    """Config as the engine passes it (key -> string, objects as JSON) and the secret keys."""
    try:
        settings = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise SettingsError(f"{path}: cannot read it ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        tabs = " (YAML indents with spaces, never tabs)" if "\t" in path.read_text() else ""
        raise SettingsError(f"{path}: not valid YAML{where}: {getattr(error, 'problem', error)}{tabs}") from None
    if not isinstance(settings, dict):
        raise SettingsError(f"{path}: must be a mapping with a `config:` key, not a {type(settings).__name__}")
    raw = settings.get("config") or {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: `config` must be a mapping of keys to values, not a {type(raw).__name__}")
    secret_keys: set[str] = set()
    config: dict[str, str] = {}
    for key, value in raw.items():
        plain = _unsecure(value, key, raw, secret_keys, key)
        config[key] = plain if isinstance(plain, str) else json.dumps(plain)
    return config, sorted(secret_keys)
