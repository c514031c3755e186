"""The daily quota: at most ``AVATAR_DAILY_QUOTA`` new avatars per user per UTC day.

Browser uploads and API creates count together: both create the job inside ``daily_quota(user)``,
which takes one unit before and gives it back if the job could not be created. Staff are exempt.

The count is a Redis counter per user and day (atomic, shared by every web process), keyed by the
user's id and the time the account was made. Deleting an avatar does not give its unit back: a
deleted job still cost FASHN credits. If Redis has lost the counter (it keeps nothing on disk) the
count starts again from the jobs created today that still exist; if Redis is down, that database
count alone decides.

Retrying a failed avatar does not count as a new submission: it is the same request again, with
the selfie already here, and a failure is usually not its owner's doing (an outage, a lost
connection). Retries are bounded anyway: only a failed job can be retried, each time with at most
``AVATAR_MAX_ATTEMPTS`` attempts, and FASHN does not charge failed predictions.
"""

import logging
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, time, timedelta

import redis
from django.conf import settings
from django.utils import timezone

from .models import AvatarJob

logger = logging.getLogger(__name__)

# INCR the day's counter, first seeding it from the database count if Redis has none; give the
# unit back and answer 0 if that went over the limit.
_TAKE = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3])
local used = redis.call('INCR', KEYS[1])
if used > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return used
"""


class QuotaExceeded(Exception):
    """The user has made ``limit`` avatars today; ``resets_at`` is the next midnight UTC."""

    def __init__(self, limit, resets_at, now):
        self.limit = limit
        self.resets_at = resets_at
        self.retry_after = max(1, int((resets_at - now).total_seconds()))
        super().__init__(_message(limit, resets_at))


def _message(limit, resets_at):
    return f"You've reached today's limit of {limit} avatars; it resets at {resets_at:%H:%M} UTC."


def exceeded_message(limit, now=None):
    return _message(limit, _day_bounds(now or timezone.now())[1])


def is_exempt(user):
    return user.is_staff


def _day_bounds(now):
    today = now.astimezone(UTC).date()
    start = datetime.combine(today, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _key(user, day_start):
    # The id alone could name someone else: a fresh database hands out the ids an earlier one
    # used, and Redis may still hold that earlier user's count. The time the account was made (to
    # the second, which every database keeps) tells the two apart.
    joined = int(user.date_joined.timestamp())
    return f"{settings.REDIS_KEY_PREFIX}:quota:{user.pk}:{joined}:{day_start:%Y-%m-%d}"


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def created_today(user, now=None):
    start, end = _day_bounds(now or timezone.now())
    return AvatarJob.objects.avatars().filter(owner=user, created_at__gte=start, created_at__lt=end)


def used_today(user, now=None):
    """Avatars counted against today's quota."""
    now = now or timezone.now()
    start, _end = _day_bounds(now)
    try:
        value = _redis().get(_key(user, start))
    except redis.RedisError:
        value = None
    return max(int(value or 0), created_today(user, now).count())


def take(user, now=None):
    """Take one unit of today's quota (raises ``QuotaExceeded``); returns a ``give_back`` token."""
    if is_exempt(user):
        return None
    now = now or timezone.now()
    limit = settings.AVATAR_DAILY_QUOTA
    start, end = _day_bounds(now)
    existing = created_today(user, now).count()
    key = _key(user, start)
    try:
        used = _redis().eval(_TAKE, 1, key, existing, limit, 2 * 24 * 3600)
    except redis.RedisError as error:
        logger.warning("daily quota: Redis unavailable (%r), counting jobs instead", error)
        if existing >= limit:
            raise QuotaExceeded(limit, end, now) from None
        return None
    if not used:
        raise QuotaExceeded(limit, end, now)
    return key


def give_back(token):
    if token is None:
        return
    with suppress(redis.RedisError):
        _redis().decr(token)


@contextmanager
def daily_quota(user):
    """Around creating a job: takes a unit (or raises ``QuotaExceeded``), gives it back if the
    body raises."""
    token = take(user)
    try:
        yield
    except BaseException:
        give_back(token)
        raise
