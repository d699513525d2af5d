"""The applications appcluster knows, by profile name."""

from profiles.base import MAX_INSTANCES, PLATFORM_BINDINGS, REDIS_DB_INDEX, AppSecret, Bind, EnvSpec, Profile
from profiles.generic import GENERIC
from profiles.new_api import NEW_API
from profiles.nocobase import NOCOBASE

PROFILES: dict[str, Profile] = {p.name: p for p in (NOCOBASE, NEW_API, GENERIC)}

__all__ = [
    "MAX_INSTANCES",
    "PLATFORM_BINDINGS",
    "PROFILES",
    "REDIS_DB_INDEX",
    "AppSecret",
    "Bind",
    "EnvSpec",
    "Profile",
]
