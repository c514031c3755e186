"""Failed-login limits that slow whoever fails, without letting a stranger lock the owner out.

Failures are counted in Django's cache (Redis outside development, so every web process shares
them), each against a *subject*:

- from a browser that has logged into the account before (a known device, ``devices``: a signed
  cookie set at every successful login and when a password reset is finished), only the pair
  (account, that browser);
- from anywhere else, three: the pair (account, client address); the client address across all
  accounts (an address trying many accounts); the account across all unknown browsers (many
  addresses trying one account).

A subject allows some failures (``LOGIN_FAILURES_BEFORE_DELAY`` for a pair,
``LOGIN_FAILURES_PER_ADDRESS``, ``LOGIN_FAILURES_PER_ACCOUNT``), then one attempt per delay: the
first delay is ``LOGIN_DELAY_SECONDS``, and each failure after it doubles the next one, up to
``LOGIN_MAX_DELAY_SECONDS`` (1, 2, 4, 8, 15, 15 … minutes by default). While a subject waits,
even the right password is refused, unchecked, so waiting out the delay is the only way on; the
refused attempt is not counted, since it tested no password. A subject's failures are forgotten
``LOGIN_FAILURE_WINDOW_SECONDS`` after its last one, and a success clears its pair.

Why this shape: a stranger's failures from their own addresses land on their own pairs and
their own address, so they slow only themselves. Failing on one account from very many
addresses also slows that account's *unknown* browsers, which a botnet would otherwise get a
fresh allowance on each; the owner's known browsers never are, and finishing a password reset
makes the browser that did it known. The owner's own typos pause only the browser they typed in.

Each attempt is counted when it starts, before the password is checked, and given back if it
succeeds: guesses sent in parallel count as they arrive, and past the allowance only the one
attempt right after each failure gets through. Every check is in the authentication backend, so
every login path is covered (our login page, the admin's, anything calling ``authenticate``);
the login forms then say why, and for how long (HTTP 429 on ours).
"""

import contextlib
import math
import time
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from . import devices

_PREFIX = "login-limit"


def _now():
    """The clock of every delay (tests move it instead of waiting)."""
    return time.time()


def client_address(request):
    if request is None:
        return ""
    header = settings.LOGIN_CLIENT_ADDRESS_HEADER
    value = request.META.get(header, "") if header else ""
    # A proxy's X-Forwarded-For may list several: the last one is the address it saw.
    value = value.split(",")[-1].strip() if value else ""
    return value or request.META.get("REMOTE_ADDR", "")


@dataclass(frozen=True)
class _Subject:
    name: str
    allowed: int  # failures before the delays begin
    pair: bool  # one account and one client: a success there clears it

    @property
    def count_key(self):
        return f"{_PREFIX}:count:{self.name}"

    @property
    def wait_key(self):
        return f"{_PREFIX}:wait:{self.name}"


def _subjects(request, username):
    account = devices.account_digest(username)
    device = devices.known_device(request, username)
    if device:
        return [_Subject(f"device:{account}:{device}", settings.LOGIN_FAILURES_BEFORE_DELAY, True)]
    address = client_address(request)
    subjects = [
        _Subject(f"pair:{account}:{address}", settings.LOGIN_FAILURES_BEFORE_DELAY, True),
        _Subject(f"account:{account}", settings.LOGIN_FAILURES_PER_ACCOUNT, False),
    ]
    if address:
        subjects.append(_Subject(f"address:{address}", settings.LOGIN_FAILURES_PER_ADDRESS, False))
    return subjects


def _delay(failures_over):
    """The wait after a subject's failure number ``allowed + failures_over``."""
    doubled = settings.LOGIN_DELAY_SECONDS * 2 ** min(failures_over, 32)
    return min(doubled, settings.LOGIN_MAX_DELAY_SECONDS)


def _keep_seconds():
    # Kept past the longest delay, so that a wait never outlives the count it was set for.
    return settings.LOGIN_FAILURE_WINDOW_SECONDS + settings.LOGIN_MAX_DELAY_SECONDS


def _incr(key):
    cache.add(key, 0, timeout=_keep_seconds())
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_keep_seconds())
        return 1


def _decr(key):
    with contextlib.suppress(ValueError):  # already forgotten
        cache.decr(key)


class LoginPaused(Exception):
    """Logging in is paused for this account from this browser or address."""

    def __init__(self, seconds):
        super().__init__(f"logging in is paused for {seconds} s")
        self.seconds = seconds


class Attempt:
    """One login attempt, counted against its subjects from the start; ``finish`` settles it."""

    def __init__(self, counted):
        self._counted = counted  # [(subject, its count including this attempt)]

    def finish(self, succeeded):
        now = _now()
        for subject, count in self._counted:
            if succeeded and subject.pair:
                cache.delete_many([subject.count_key, subject.wait_key])
            elif succeeded:
                _decr(subject.count_key)  # a success is not a failure of the address or account
            elif count >= subject.allowed:
                wait = cache.get(subject.wait_key)
                if wait is None or wait[1] < count:
                    until = now + _delay(count - subject.allowed)
                    cache.set(subject.wait_key, (until, count), timeout=_keep_seconds())
                    cache.touch(subject.count_key, _keep_seconds())
            else:
                cache.touch(subject.count_key, _keep_seconds())

    def cancel(self):
        """The password was never checked (an error): the attempt was no guess."""
        for subject, _count in self._counted:
            _decr(subject.count_key)


def begin_attempt(request, username):
    """Count an attempt to log into ``username``, or raise ``LoginPaused`` with the wait."""
    now = _now()
    subjects = _subjects(request, username)
    waits = cache.get_many([subject.wait_key for subject in subjects])
    remaining = max((until - now for until, _count in waits.values()), default=0)
    if remaining > 0:
        raise LoginPaused(math.ceil(remaining))
    counted = []
    for subject in subjects:
        count = _incr(subject.count_key)
        counted.append((subject, count))
        wait = waits.get(subject.wait_key)
        # Past the allowance, only the attempt right after the failure that set the wait. Any
        # other is one sent in parallel with it: refused, and not counted.
        if count > subject.allowed and (wait is None or count != wait[1] + 1):
            Attempt(counted).cancel()
            if wait is None:
                # Its wait is being set by the attempt in flight, or was lost from the cache:
                # either way the next attempt may go after the first delay.
                until = now + settings.LOGIN_DELAY_SECONDS
                cache.add(subject.wait_key, (until, count - 1), timeout=_keep_seconds())
            raise LoginPaused(settings.LOGIN_DELAY_SECONDS)
    return Attempt(counted)


def forgive(request, user):
    """Clear this browser's and address's failures on ``user`` (its owner proved who they are)."""
    username = user.get_username()
    for subject in _subjects(request, username):
        if subject.pair:
            cache.delete_many([subject.count_key, subject.wait_key])


def paused_message(seconds):
    minutes = max(1, math.ceil(seconds / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (
        "Too many failed log-in attempts for this account from here, so logging in is paused. "
        f"Try again in {wait}, or reset your password if you have forgotten it."
    )


def on_logged_in(sender, request, user, **kwargs):
    devices.remember(request, user)


class RateLimitedModelBackend(ModelBackend):
    """Django's model backend, counting every attempt and refusing while its wait lasts."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            attempt = begin_attempt(request, username)
        except LoginPaused as paused:
            if request is not None:
                request.login_paused_seconds = paused.seconds
            # Stops the chain: no other backend is asked, and user_login_failed is sent.
            raise PermissionDenied("logging in is paused")
        try:
            user = super().authenticate(request, username=username, password=password, **kwargs)
        except BaseException:
            attempt.cancel()
            raise
        attempt.finish(succeeded=user is not None)
        return user


class LoginPausedMixin:
    """For authentication forms: say plainly that logging in is paused, and for how long."""

    locked_out = False

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            seconds = getattr(self.request, "login_paused_seconds", 0)
            if not seconds:
                raise
            self.locked_out = True
            self.paused_seconds = seconds
            raise forms.ValidationError(paused_message(seconds), code="locked_out")
