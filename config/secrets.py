"""Secret inputs from stack config (`pulumi config set --secret`). Unset ones are generated.

Values are SecretStr so that no error message, repr or log line can print them.
"""

from __future__ import annotations

import re

from pydantic import SecretStr, field_validator

from config.base import Model

# Keys match the environment variables they feed, so one table serves every profile.
APP_SECRET_KEYS = {
    "appKey": "APP_KEY",
    "appAesSecretKey": "APP_AES_SECRET_KEY",
    "sessionSecret": "SESSION_SECRET",
    "cryptoSecret": "CRYPTO_SECRET",
    "rootPassword": "INIT_ROOT_PASSWORD",
    "nocobasePkgUsername": "NOCOBASE_PKG_USERNAME",
    "nocobasePkgPassword": "NOCOBASE_PKG_PASSWORD",
}


class SecretsConfig(Model):
    app_key: SecretStr | None = None
    """NocoBase APP_KEY (signs tokens); generated once when unset."""
    app_aes_secret_key: SecretStr | None = None
    """NocoBase APP_AES_SECRET_KEY (encrypts fields); generated once in the form the release reads when unset."""
    session_secret: SecretStr | None = None
    """New API SESSION_SECRET; generated once when unset."""
    crypto_secret: SecretStr | None = None
    """New API CRYPTO_SECRET; generated once when unset."""
    root_password: SecretStr | None = None
    """NocoBase's root account password, read on first install; generated once when unset."""
    nocobase_pkg_username: SecretStr | None = None
    """NocoBase's commercial plugin platform user: the image downloads the cluster adapter plugins with it."""
    nocobase_pkg_password: SecretStr | None = None
    """NocoBase's commercial plugin platform password."""
    database_password: SecretStr | None = None
    """The in-cluster database's password; generated once when unset."""
    log_database_password: SecretStr | None = None
    """The in-cluster log database's password (New API logDatabase); generated once when unset."""
    redis_password: SecretStr | None = None
    """The in-cluster Redis's (or ElastiCache's AUTH) password; generated once when unset."""
    redis_url: SecretStr | None = None
    """redis.mode external: the full URL with credentials, e.g. rediss://:token@host:6379."""
    database_url: SecretStr | None = None
    """database.mode external: the DSN URL with credentials, e.g. postgres://u:p@host:5432/db."""
    log_database_url: SecretStr | None = None
    """database.mode external with logDatabase: the log database's DSN URL."""
    registry_password: SecretStr | None = None
    """app.build with registry mode registry: the registry's password or token."""
    app_secrets: dict[str, SecretStr] = {}
    """Profile generic: extra shared secrets by environment variable name."""

    @field_validator(
        "app_key",
        "session_secret",
        "crypto_secret",
        "root_password",
        "database_password",
        "log_database_password",
        "redis_password",
    )
    @classmethod
    def _strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        plain = value.get_secret_value()
        if plain == "random_string":
            raise ValueError("must not be the placeholder 'random_string' (New API refuses it): generate a real secret")
        if len(plain) < 16:
            raise ValueError(
                "must be at least 16 characters: use `openssl rand -hex 32` or leave it unset to generate one"
            )
        return value

    def app_secret(self, env: str) -> SecretStr | None:
        for key, name in APP_SECRET_KEYS.items():
            if name == env:
                return self.secret(key)
        return self.app_secrets.get(env)

    def secret(self, key: str) -> SecretStr | None:
        """A value by its config key (camelCase, as in the stack file)."""
        value: SecretStr | None = getattr(self, _snake(key))
        return value


def _snake(camel: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", camel).lower()
