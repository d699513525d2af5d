"""Resolve a profile's environment against what the platform provides.

The result says, per variable, where its value comes from; the platform turns that into its own
form (a Kubernetes EnvVar today). Sensitive values never become literals: the platform must put
them in a Secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from profiles.base import Bind, EnvSpec


@dataclass(frozen=True)
class Plain:
    value: pulumi.Input[str]


@dataclass(frozen=True)
class Sensitive:
    value: pulumi.Input[str]


@dataclass(frozen=True)
class SharedSecretKey:
    """A key of the shared app Secret (APP_KEY, SESSION_SECRET, ...)."""

    key: str


@dataclass(frozen=True)
class PodName:
    pass


Source = Plain | Sensitive
Resolved = Plain | Sensitive | SharedSecretKey | PodName


def resolve(spec: EnvSpec, sources: Mapping[str, Source]) -> dict[str, Resolved]:
    resolved: dict[str, Resolved] = {}
    for name, value in spec.items():
        if not isinstance(value, Bind):
            resolved[name] = Plain(value)
        elif value.source.startswith("secret."):
            resolved[name] = SharedSecretKey(value.source.removeprefix("secret."))
        elif value.source == "pod.name":
            resolved[name] = PodName()
        elif value.source in sources:
            resolved[name] = sources[value.source]
        else:
            raise KeyError(f"{name} is bound to {value.source}, which this platform does not provide")
    return resolved
