"""Signed one-click unsubscribe tokens.

A token names the member and the version of their e-mail settings and carries the time it
was made (Django's ``TimestampSigner``). Unsubscribing bumps the version, so a token works
exactly once; tokens older than ``KNOWLEDGE_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS`` (default 90)
are refused, forged ones fail the signature.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

SALT = "network.unsubscribe"


class TokenError(ValueError):
    """The token cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def max_age_seconds() -> int:
    return int(getattr(settings, "KNOWLEDGE_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS", 90)) * 86400


def make_token(digest_settings) -> str:
    return signing.dumps({"u": digest_settings.user_id, "v": digest_settings.token_version},
                         salt=SALT, compress=True)


def read_token(token: str) -> tuple[int, int]:
    """(user id, settings version) of a valid token, else :class:`TokenError`."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age_seconds())
    except signing.SignatureExpired:
        raise TokenError("Dieser Abmeldelink ist abgelaufen. Sie können Ihre "
                         "Benachrichtigungen nach der Anmeldung selbst abbestellen.",
                         410) from None
    except signing.BadSignature:
        raise TokenError("Dieser Abmeldelink ist ungültig. Bitte verwenden Sie den Link aus "
                         "Ihrer letzten E-Mail unverändert.", 400) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) \
            or not isinstance(data.get("v"), int):
        raise TokenError("Dieser Abmeldelink ist ungültig.", 400)
    return data["u"], data["v"]
