"""The daily allowance: at most ``AVATAR_DAILY_CREDITS`` FASHN credits of avatars and try-ons per
user per UTC day.

Browser uploads, API creates, the store's try-ons (its pages, the try-on API, the embedded
button) count together: each creates the job inside ``reservation(job)``,
which reserves the job's estimated cost (``options.estimated_credits``, FASHN's dearest price for
its choices) in the credits ledger (``avatar_studio.credits``) in the same transaction as the job,
or refuses with ``quota_exceeded`` if that would go over what is left today. A refused or failed
creation leaves no row. Staff are exempt (their rows are recorded, not counted). A try-on is
charged to the shopper who asked (its job's owner), whoever's avatar it dresses; a repeat of a
try-on they already have is served from the cache and reserves nothing.

What counts is the ledger, not the jobs: when a job fails its reservation comes back (FASHN does
not charge failed predictions); when it completes, what FASHN reported (``x-fashn-credits-used``)
replaces the estimate. Deleting an avatar gives nothing back: the ledger row stays, as the
credits were spent. Retrying a failed avatar or try-on reserves again (it will cost if it
succeeds) and is refused the same way.

The check and the reservation are atomic across web processes because they run in one database
transaction that first locks the owner's user row (``SELECT ... FOR NO KEY UPDATE`` on
PostgreSQL: two requests of the same user take turns, other users and the job's foreign key are
not blocked). SQLite ignores row locks, but its transactions here take the write lock when they
begin (``transaction_mode`` IMMEDIATE in the settings), so they take turns too. Redis plays no
part: the allowance holds when Redis is down or has lost its data.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from avatar_studio.credits import ledger

from . import options
from .refusals import Refused, quota_exceeded


def daily_credits():
    """``AVATAR_DAILY_CREDITS``, checked: ``ImproperlyConfigured`` naming it if it is not a whole
    number of at least the default avatar's cost (below that, nobody could make one).

    Read on every call; ``CreditsConfig.ready`` calls it once at start-up so a bad value stops
    the process before it serves anyone.
    """
    value = settings.AVATAR_DAILY_CREDITS
    least = options.estimated_credits(options.current().defaults())
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ImproperlyConfigured(
            f"AVATAR_DAILY_CREDITS is {value!r}; set it to a whole number of at least {least} "
            f"(the credits of one avatar with the default choices)."
        )
    return value


def is_exempt(user):
    return user.is_staff


def _day_bounds(now):
    today = now.astimezone(UTC).date()
    start = datetime.combine(today, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def used_today(user, now=None):
    """Credits counted against ``user``'s allowance today (reserved, or charged)."""
    start, end = _day_bounds(now or timezone.now())
    return ledger.counted_between(user, start, end)


def left_today(user, now=None):
    return max(0, daily_credits() - used_today(user, now))


def _left(left, limit):
    return f"{left} of your {options.credit_count(limit)} {'is' if left == 1 else 'are'} left today"


# The fields a user changes to spend less, in the browser's plain words.
_CHEAPER = (
    f"Choose a quicker {options.PLAIN_NAMES['generation_mode']}, a smaller "
    f"{options.PLAIN_NAMES['resolution']} or a lower {options.PLAIN_NAMES['num_images']}"
)
# A try-on has one choice that costs less: the standard model.
_CHEAPER_TRYON = "Choose the standard try-on"


def refusal_message(needed, left, limit, resets_at, *, retry=False, what="avatar"):
    """Why a request for ``needed`` credits is refused, what is left, what to change and when the
    allowance comes back. A retry has no choices to change: it can only wait. ``what`` is asked
    for: an "avatar", a "try-on" or an "outfit" (of try-ons)."""
    cheaper = _CHEAPER if what == "avatar" else _CHEAPER_TRYON
    if retry and left > 0 and needed <= limit:
        return (
            f"Retrying this {what} needs {options.credit_count(needed)} and {_left(left, limit)}. "
            f"Retry it once the allowance resets at {resets_at:%H:%M} UTC."
        )
    if needed > limit:
        return (
            f"This {what} needs {options.credit_count(needed)}, more than the daily allowance of "
            f"{options.credit_count(limit)}. {cheaper}."
        )
    if left == 0:
        return (
            f"You've used all {options.credit_count(limit)} of today's allowance; "
            f"it resets at {resets_at:%H:%M} UTC."
        )
    return (
        f"This {what} needs {options.credit_count(needed)} and {_left(left, limit)}. {cheaper}, "
        f"or wait until the allowance resets at {resets_at:%H:%M} UTC."
    )


def used_up_message(user, cheapest, now=None):
    """What the upload page says before a photo is chosen, if even ``cheapest`` no longer fits;
    else None."""
    now = now or timezone.now()
    left = left_today(user, now)
    if left >= cheapest:
        return None
    return refusal_message(cheapest, left, daily_credits(), _day_bounds(now)[1])


def reserve(job, now=None, *, retry=False):
    """Reserve ``job``'s estimated credits, in the caller's transaction; ``Refused`` with
    ``quota_exceeded`` (and ``retry_after`` until midnight UTC) if they are more than are left.
    ``retry``: the job failed and is sent again (only the message differs)."""
    needed = options.estimated_credits(job)
    owner = job.owner
    counted = not is_exempt(owner)
    now = now or timezone.now()
    if counted:
        # Serialises this user's reservations (see the module's docstring).
        users = get_user_model().objects.select_for_update(no_key=True)
        list(users.filter(pk=owner.pk).values_list("pk", flat=True))
        check_left(owner, needed, now, retry=retry, what="try-on" if job.is_tryon else "avatar")
    return ledger.reserve(job, needed, counted=counted, now=now)


def check_left(user, needed, now=None, *, retry=False, what="avatar"):
    """``Refused`` with ``quota_exceeded`` (and ``retry_after`` until midnight UTC) if ``needed``
    credits are more than ``user`` has left today; staff are never refused. ``reserve`` asks it
    for each job; the store asks it before an outfit, whose later steps reserve one by one."""
    if is_exempt(user):
        return
    now = now or timezone.now()
    limit = daily_credits()
    left = max(0, limit - used_today(user, now))
    if needed > left:
        resets_at = _day_bounds(now)[1]
        raise Refused(
            quota_exceeded(refusal_message(needed, left, limit, resets_at, retry=retry, what=what)),
            retry_after=max(1, int((resets_at - now).total_seconds())),
        )


@contextmanager
def reservation(job, *, retry=False):
    """Around creating or restarting ``job``: one transaction that reserves its credits first
    (or raises ``Refused``); nothing is kept if the body raises."""
    with transaction.atomic():
        reserve(job, retry=retry)
        yield
