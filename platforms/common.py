"""What every platform's composition shares."""

import re

import pulumi
from pydantic import SecretStr

from components.database.component import Database, DatabaseArgs, DatabaseVariant
from components.shared.app import AppSpec, Worker, forward_term
from components.shared.secrets import SharedSecrets, SharedSecretsArgs
from config import StackConfig
from profiles.wiring import Source, resolve


def plain(secret: SecretStr | None) -> str | None:
    """A config secret's value, for inputs that wrap it in pulumi.Output.secret themselves."""
    return secret.get_secret_value() if secret is not None else None


def declare_database(
    cfg: StackConfig, name: str, app_name: str, variant: DatabaseVariant, opts: pulumi.ResourceOptions
) -> Database:
    """A Database on the variant the platform chose, with the stack's engine, port, name and user."""
    db = cfg.database
    assert db.engine != "sqlite"  # sqlite declares no server
    return Database(
        name,
        DatabaseArgs(
            app_name=app_name,
            variant=variant,
            engine=db.engine,
            port=db.port,
            name=db.name,
            user=db.user,
            protect=cfg.protect,
        ),
        opts=opts,
    )


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
            generated_as=cfg.generated_as,
            protect=cfg.protect,
        ),
        opts=opts,
    )


def app_spec(cfg: StackConfig, image: pulumi.Input[str], sources: dict[str, Source]) -> AppSpec:
    """The app as both platforms run it, from the config and what the platform provides (`sources`)."""
    return AppSpec(
        app_name=cfg.app_name,
        image=image,
        port=cfg.app_port,
        health_path=cfg.health_path,
        data_path=cfg.data_path,
        replicas=cfg.app.replicas,
        env=resolve(cfg.env, sources),
        replica_env=cfg.replica_env,
        workers=[Worker(name=w.name, mode=w.mode, replicas=w.replicas) for w in cfg.app.workers],
        grace_seconds=cfg.app.termination_grace_period_seconds,
        maintenance=cfg.maintenance,
        args=cfg.profile.args,
        open_check=cfg.profile.open_check,
        drain_seconds=cfg.profile.drain_seconds(cfg),
        command=forward_term(cfg.profile.entrypoint),
    )
