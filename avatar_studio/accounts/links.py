"""Sign-up links: the email address they were sent to, signed and timestamped.

The link carries nothing secret (only its own mailbox sees it) and needs no storage: it proves
that whoever opens it reads that mailbox, for ``SIGNUP_LINK_MAX_AGE_SECONDS``. Once the address
has an account, the link makes no other (``forms.FinishSignupForm``).
"""

from django.conf import settings
from django.core import signing

_SALT = "avatar_studio.accounts.signup-link"


def signup_token(email):
    return signing.dumps(email.strip().lower(), salt=_SALT)


def signup_email(token):
    """The address a sign-up link was sent to; None if the link is forged or expired."""
    try:
        return signing.loads(token, salt=_SALT, max_age=settings.SIGNUP_LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:  # expired links too (SignatureExpired)
        return None
