"""Failed-login limits, per account and per client address, kept in Django's cache.

``LOGIN_FAILURES_PER_ACCOUNT`` failures for one username, or ``LOGIN_FAILURES_PER_ADDRESS`` from
one address, within ``LOGIN_FAILURE_WINDOW_SECONDS`` lock that account or address out for
``LOGIN_LOCKOUT_SECONDS``. Locked out, even the right password is refused:

- the authentication backend refuses, so every login path is covered (our login page, the
  admin's, anything calling ``authenticate``);
- the login forms check first and say so plainly, with how long to wait (HTTP 429).

Failures are counted from Django's ``user_login_failed`` signal; a successful login clears its
account's count (not the address's). In production ``CACHE_URL`` must point at Redis so that all
web processes share the counts.
"""

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

_PREFIX = "login-limit"


def client_address(request):
    if request is None:
        return ""
    header = settings.LOGIN_CLIENT_ADDRESS_HEADER
    value = request.META.get(header, "") if header else ""
    # A proxy's X-Forwarded-For may list several: the last one is the address it saw.
    value = value.split(",")[-1].strip() if value else ""
    return value or request.META.get("REMOTE_ADDR", "")


def _subjects(request, username):
    subjects = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        subjects.append(("account", digest, settings.LOGIN_FAILURES_PER_ACCOUNT))
    address = client_address(request)
    if address:
        subjects.append(("address", address, settings.LOGIN_FAILURES_PER_ADDRESS))
    return subjects


def _count_key(kind, subject):
    return f"{_PREFIX}:count:{kind}:{subject}"


def _lock_key(kind, subject):
    return f"{_PREFIX}:lock:{kind}:{subject}"


def lockout_remaining(request, username):
    """Seconds until this username and address may try again; 0 if neither is locked out."""
    now = time.time()
    remaining = 0.0
    for kind, subject, _limit in _subjects(request, username):
        until = cache.get(_lock_key(kind, subject))
        if until:
            remaining = max(remaining, until - now)
    return math.ceil(remaining) if remaining > 0 else 0


def record_failure(request, username):
    window, lockout = settings.LOGIN_FAILURE_WINDOW_SECONDS, settings.LOGIN_LOCKOUT_SECONDS
    for kind, subject, limit in _subjects(request, username):
        key = _count_key(kind, subject)
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count >= limit:
            # add, not set: trying on while locked out does not push the end further away.
            cache.add(_lock_key(kind, subject), time.time() + lockout, timeout=lockout)


def clear_account(username):
    for kind, subject, _limit in _subjects(None, username):
        cache.delete_many([_count_key(kind, subject), _lock_key(kind, subject)])


def lockout_message(seconds):
    minutes = max(1, math.ceil(seconds / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (
        "Too many failed log-in attempts for this account or from your network, so logging in "
        f"is paused. Try again in {wait}, or reset your password if you have forgotten it."
    )


def on_login_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    record_failure(request, username or "")


def on_logged_in(sender, request, user, **kwargs):
    clear_account(user.get_username())


class RateLimitedModelBackend(ModelBackend):
    """Django's model backend, refusing any login while its account or address is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if lockout_remaining(request, username):
            # Stops the chain: no other backend is asked, and user_login_failed is sent.
            raise PermissionDenied("locked out")
        return super().authenticate(request, username=username, password=password, **kwargs)


class LockoutCheckMixin:
    """For authentication forms: say plainly that logging in is paused, and for how long."""

    locked_out = False

    def clean(self):
        username = self.cleaned_data.get("username")
        remaining = lockout_remaining(self.request, username)
        if remaining:
            self.locked_out = True
            from django import forms

            # Count this try too (the backend is not asked, so no signal would be sent).
            record_failure(self.request, username)
            raise forms.ValidationError(lockout_message(remaining), code="locked_out")
        return super().clean()
