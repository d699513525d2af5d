"""SharedSecrets: the secrets every instance must share (published as one Kubernetes Secret by
components/kubernetes/shared_secret.py, or handed to Docker containers).

Each value comes from stack config when set there, else from pulumi_random, generated once and
kept in state (stable across updates), protected like the data it guards. Every output is a Pulumi
secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random

from components.shared import args as check
from profiles import AppSecret
from profiles.base import SecretKind

# Server passwords: the `secrets` config key in upper snake case (databasePassword -> DATABASE_PASSWORD).
DATABASE_PASSWORD = "DATABASE_PASSWORD"
LOG_DATABASE_PASSWORD = "LOG_DATABASE_PASSWORD"
REDIS_PASSWORD = "REDIS_PASSWORD"


@dataclass(frozen=True, kw_only=True)
class SharedSecretsArgs:
    app_secrets: Sequence[AppSecret]
    # Values set in stack config, by key (env name / DATABASE_PASSWORD / REDIS_PASSWORD).
    provided: Mapping[str, str | None] = field(default_factory=dict)
    # Server passwords to hold (for the servers and managed services the stack creates).
    passwords: Sequence[str] = ()
    # By env name, the form a secret was first generated in where it differs from the form the app
    # reads now (NocoBase 1.9's chars32 AES key on 2.x, which reads hex32): the generator stays, since
    # its type is part of its URN, and the value is converted (see hex_key).
    generated_as: Mapping[str, SecretKind] = field(default_factory=dict)
    # Keep generated values from being destroyed: a regenerated APP_KEY or AES key leaves every
    # session invalid and every encrypted field unreadable, and a new password locks out the data.
    protect: bool = True

    def __post_init__(self) -> None:
        names = [s.env for s in self.app_secrets] + list(self.passwords)
        check.require(self, len(names) == len(set(names)), "passwords", "must not repeat a name: each key is one value")
        check.subset(self, "provided", names, "the app secrets and passwords")
        kinds = {s.env: s.kind for s in self.app_secrets}
        check.require(
            self,
            all(kinds.get(env) == "hex32" and made == "chars32" for env, made in self.generated_as.items()),
            "generated_as",
            "converts a chars32 key to hex32 only (the same 32 bytes); no other form holds them",
        )


def hex_key(value: str) -> str:
    """A 32-byte key as 64 hex characters (hex32), given so or as the 32 characters (chars32) that are
    its bytes: NocoBase 1.x uses the characters as the key, 2.x decodes hex, so the hex of a 1.x key is
    the same key under 2.x (@nocobase/server 1.9.62 and 2.2.15 lib/aes-encryptor.js)."""
    return value if re.fullmatch(r"[0-9a-fA-F]{64}", value) else value.encode("ascii").hex()


class SharedSecrets(pulumi.ComponentResource):
    # By key (env name / DATABASE_PASSWORD / REDIS_PASSWORD); every value a Pulumi secret.
    values: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: SharedSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcluster:index:SharedSecrets", name, None, opts)
        self.resource_name = name
        generated = pulumi.ResourceOptions(parent=self, protect=args.protect)

        wanted = [(s.env, s.kind) for s in args.app_secrets] + [(key, "password") for key in args.passwords]

        self.values = {}
        for key, kind in wanted:
            given = args.provided.get(key)
            resource_name = f"{name}-{key.lower().replace('_', '-')}"
            made = args.generated_as.get(key, kind)
            if given is not None:
                value: pulumi.Input[str] = hex_key(given) if kind == "hex32" else given
            elif kind == "provided":
                raise ValueError(f"{key} is never generated: the stack config must set it")
            elif made == "hex32":
                value = random.RandomBytes(resource_name, length=32, opts=generated).hex
            elif made == "chars32":
                chars = random.RandomPassword(resource_name, length=32, special=False, opts=generated).result
                value = chars.apply(hex_key) if kind == "hex32" else chars
            else:
                # Alphanumeric only: passwords end up inside connection URLs and DSNs.
                length = 32 if key in args.passwords else 48
                value = random.RandomPassword(resource_name, length=length, special=False, opts=generated).result
            self.values[key] = pulumi.Output.secret(value)

        self.register_outputs({})
