"""Request limits of sign-up and password reset, per client address and per email address.

Each action (``ACTIONS``) counts its requests in fixed windows of
``ACCOUNT_REQUEST_WINDOW_SECONDS`` aligned on the clock: at most ``ACCOUNT_REQUESTS_PER_ADDRESS``
from one client address, and ``ACCOUNT_REQUESTS_PER_EMAIL`` for one email address (the target:
the mailbox a sign-up link or reset mail goes to, or the address a sign-up link was sent to).
Past either, the request is refused until its window ends (HTTP 429 with Retry-After), and
nothing is sent. So a mailbox gets a few mails an hour however many addresses ask, and trying
usernames behind one sign-up link is slow.

The counts never depend on whether an account exists, so a refusal says nothing about one.
Aligned windows let a burst straddle two of them (twice the limit at most); that is enough here
and costs one atomic counter per window. Counts live in Django's cache (Redis outside
development) under keyed digests of the email addresses.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

_PREFIX = "account-limit"

# What each refusal says: what happened, what to do; then when to try again.
ACTIONS = {
    "signup": "Too many sign-up requests came from your network or for this email address, so "
    "no new link was sent. Look for the one already sent, in your spam folder too.",
    "signup-finish": "Too many attempts to finish signing up came from your network or with "
    "this link, so this one was not tried.",
    "password-reset": "Too many password reset requests came from your network or for this "
    "email address, so no new email was sent. A link sent earlier still works: look in your "
    "spam folder too.",
    "data-export": "You have downloaded your data several times in a short while, so no new "
    "download was made. The files you already downloaded hold the same data.",
}


def _now():
    """The clock of every window (tests move it instead of waiting)."""
    return time.time()


class Limited(Exception):
    """A request past its limit: ``message`` says what happened, what to do and when."""

    def __init__(self, action, retry_after):
        minutes = max(1, math.ceil(retry_after / 60))
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        self.retry_after = retry_after
        self.message = f"{ACTIONS[action]} Try again in {wait}."
        super().__init__(self.message)


def email_digest(email):
    return salted_hmac(f"{_PREFIX}:email", email.strip().lower()).hexdigest()[:32]


def take(action, address, email):
    """Count one request of ``action``; raise ``Limited`` if it is past a limit."""
    if action not in ACTIONS:
        raise ValueError(f"no such action: {action}")
    window = settings.ACCOUNT_REQUEST_WINDOW_SECONDS
    now = _now()
    index = int(now // window)
    limits = [(f"email:{email_digest(email)}", settings.ACCOUNT_REQUESTS_PER_EMAIL)]
    if address:
        limits.append((f"address:{address}", settings.ACCOUNT_REQUESTS_PER_ADDRESS))
    over = False
    for subject, limit in limits:
        over = _count(f"{_PREFIX}:{action}:{subject}:{index}", window) > limit or over
    if over:
        raise Limited(action, math.ceil((index + 1) * window - now))


def take_for_account(action, user_id):
    """Count one request of ``action`` by a logged-in account: at most
    ``ACCOUNT_DATA_EXPORTS_PER_WINDOW`` in a window; past it, raise ``Limited``.

    Building a user's data export reads every file of theirs, so each account gets a few a
    window, whichever address asks.
    """
    if action not in ACTIONS:
        raise ValueError(f"no such action: {action}")
    window = settings.ACCOUNT_REQUEST_WINDOW_SECONDS
    now = _now()
    index = int(now // window)
    count = _count(f"{_PREFIX}:{action}:account:{user_id}:{index}", window)
    if count > settings.ACCOUNT_DATA_EXPORTS_PER_WINDOW:
        raise Limited(action, math.ceil((index + 1) * window - now))


def _count(key, window):
    """One more request in this window's counter; the new count."""
    cache.add(key, 0, timeout=window + 60)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 60)
        return 1
