"""The account actions the views call: ask for a sign-up link, finish signing up, ask for a
password reset.

Asking for a sign-up link or a password reset answers the same whether or not an account uses
the address, and does the same work: it counts the request (``throttle``, per client address
and per email address) and starts a mail task once the request's transaction commits. The task
(``mails``, in the worker) looks the address up and sends what fits: a sign-up link or, to an
address that has an account, a reminder of it; a reset link, or nothing.

An API token (DRF's ``Token``, one per user) is made and revoked by its user here. Its key is
returned once, to be shown on the page that answers the request, and never stored anywhere else
in the clear.

The username is chosen after the link is opened. It must be unique and the person chooses it,
so "that username is taken" has to be said; only someone holding a valid link (that is, reading
its mailbox) ever sees it, and those attempts are limited per client address and per link.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from . import tasks, throttle
from .links import signup_email, signup_token

__all__ = [
    "IssuedToken",
    "Origin",
    "account_exists",
    "api_token_of",
    "create_api_token",
    "finish_signup",
    "request_password_reset",
    "request_signup_link",
    "revoke_api_token",
    "signup_email",
    "signup_token",
]


@dataclass(frozen=True)
class Origin:
    """Where the links of a mail point: the asking request's host (checked against
    ALLOWED_HOSTS by ``get_host``) and scheme."""

    domain: str
    use_https: bool

    @classmethod
    def of(cls, request):
        return cls(request.get_host(), request.is_secure())


def _mail_after_commit(task, email, origin):
    transaction.on_commit(lambda: task.delay(email, origin.domain, origin.use_https))


def request_signup_link(email, *, address, origin):
    """Send a sign-up link (or a reminder of the address's account). Raises ``Limited``."""
    throttle.take("signup", address, email)
    _mail_after_commit(tasks.send_signup_mail, email, origin)


def request_password_reset(email, *, address, origin):
    """Send a reset link if the address has an account. Raises ``Limited``."""
    throttle.take("password-reset", address, email)
    _mail_after_commit(tasks.send_password_reset_mail, email, origin)


def account_exists(email):
    return get_user_model()._default_manager.filter(email__iexact=email).exists()


def finish_signup(form, *, address):
    """The new account of a valid ``FinishSignupForm``, or None (the form has its errors).

    Counted before the form is validated, since validating tells whether a username is taken.
    Raises ``Limited``.
    """
    throttle.take("signup-finish", address, form.email)
    if not form.is_valid():
        return None
    with transaction.atomic():
        return form.save()


@dataclass(frozen=True)
class IssuedToken:
    """A new API token's key, to be shown once, and whether it replaced an older one."""

    key: str
    created: datetime
    replaced: bool


def api_token_of(user):
    """The user's API token, or None."""
    return Token.objects.filter(user=user).first()


def create_api_token(user):
    """A new API token for ``user``; an old one is deleted in the same transaction, so its key
    stops working at once (TokenAuthentication reads the table on every request)."""
    with transaction.atomic():
        # The user's row locked: two presses at once make one token after the other, not a
        # unique-constraint error (PostgreSQL; SQLite takes one write at a time anyway).
        get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
        replaced, _ = Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
    return IssuedToken(token.key, token.created, replaced=bool(replaced))


def revoke_api_token(user):
    """Delete the user's API token; its key gets 401 from then on. False if there was none."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
