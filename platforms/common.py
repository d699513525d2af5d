"""What every platform's composition shares."""
from typing import Optional

from pydantic import SecretStr


def plain(secret: Optional[SecretStr]) -> Optional[str]:
    """A config secret's value, for inputs that wrap it in pulumi.Output.secret themselves."""
    return secret.get_secret_value() if secret is not None else None
