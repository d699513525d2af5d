"""What every platform's composition shares."""
import re
from typing import Optional

import pulumi
from pydantic import SecretStr

from components.shared.secrets import SharedSecrets, SharedSecretsArgs
from config import StackConfig


def plain(secret: Optional[SecretStr]) -> Optional[str]:
    """A config secret's value, for inputs that wrap it in pulumi.Output.secret themselves."""
    return secret.get_secret_value() if secret is not None else None


def shared_secrets(cfg: StackConfig, opts: pulumi.ResourceOptions) -> SharedSecrets:
    """The app secrets and server passwords, from config or generated once. Server passwords are held
    under their config key in upper snake case (databasePassword -> DATABASE_PASSWORD)."""
    passwords = {re.sub(r"([A-Z])", r"_\1", key).upper(): key for key in cfg.server_passwords}
    return SharedSecrets(
        "shared-secrets",
        SharedSecretsArgs(
            app_secrets=cfg.app_secrets,
            provided={
                **{s.env: plain(cfg.secrets.app_secret(s.env)) for s in cfg.app_secrets},
                **{name: plain(cfg.secrets.secret(key)) for name, key in passwords.items()},
            },
            passwords=list(passwords),
            protect=cfg.protect,
        ),
        opts=opts,
    )
