"""The FASHN account's limits, shared by every worker process through Redis.

Two primitives, each one Lua script so that check-and-take is atomic across workers, and each
reading Redis's own clock so that workers on hosts with skewed clocks still agree:

- ``InFlightSlots``: at most N predictions in flight. A slot is held by a job from submit until
  its prediction ends; it is a lease that the poller refreshes, so a slot held by a crashed
  worker frees itself. A slot may also be held for a while by a stand-in, for a prediction the
  provider counts and we do not know of.
- ``SlidingWindowRate``: at most N requests in any window of W seconds; when full it says how
  long to wait, so the caller re-schedules instead of sleeping.
"""

import uuid
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings

_ACQUIRE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local expires = now + tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], expires, ARGV[1])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], expires, ARGV[1])
  return 1
end
return 0
"""

_HAND_TO_STAND_IN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
return 1
"""

_COUNT_SLOTS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""

_TAKE_RATE_TOKEN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class InFlightSlots:
    def __init__(self, client, key, limit):
        self.client, self.key, self.limit = client, key, limit
        self._acquire = client.register_script(_ACQUIRE_SLOT)
        self._count = client.register_script(_COUNT_SLOTS)
        self._hand_to_stand_in = client.register_script(_HAND_TO_STAND_IN)

    def acquire(self, holder, ttl_seconds):
        """Take a slot for ``holder`` (or extend the one it has). False when all are taken."""
        return bool(self._acquire(keys=[self.key], args=[str(holder), self.limit, ttl_seconds]))

    refresh = acquire

    def release(self, holder):
        self.client.zrem(self.key, str(holder))

    def hand_to_stand_in(self, holder, ttl_seconds):
        """Keep ``holder``'s slot taken for ``ttl_seconds`` more by a stand-in, a member of its
        own that frees itself: for a prediction the provider counts and we do not know of.
        False (and nothing added) when ``holder`` held no slot."""
        stand_in = f"stand-in:{uuid.uuid4().hex}"
        args = [str(holder), stand_in, ttl_seconds]
        return bool(self._hand_to_stand_in(keys=[self.key], args=args))

    def in_use(self):
        """Slots held now: leases that have not expired by Redis's clock (read only)."""
        return int(self._count(keys=[self.key]))

    def free(self):
        """How many slots are free now (a lease past its end counts as free)."""
        return max(0, self.limit - self.in_use())

    def holders(self):
        return [member.decode() for member in self.client.zrange(self.key, 0, -1)]


class SlidingWindowRate:
    def __init__(self, client, key, limit, window_seconds):
        self.client, self.key = client, key
        self.limit, self.window_seconds = limit, window_seconds
        self._take = client.register_script(_TAKE_RATE_TOKEN)

    def take(self):
        """Take one request from the window. Returns 0.0, or the seconds to wait before trying."""
        token = uuid.uuid4().hex
        return float(self._take(keys=[self.key], args=[self.limit, self.window_seconds, token]))


def parse_rate(text):
    """``"50/60"`` → (50, 60.0): requests per seconds."""
    count, _, seconds = text.partition("/")
    return int(count), float(seconds)


@dataclass(frozen=True)
class FashnLimits:
    in_flight: InFlightSlots
    run_rate: SlidingWindowRate
    status_rate: SlidingWindowRate


@cache
def _redis_client(url):
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def fashn_limits():
    """The limiter for the configured FASHN account (keys are per API base URL)."""
    client = _redis_client(settings.REDIS_URL)
    prefix = f"{settings.REDIS_KEY_PREFIX}:fashn:{settings.FASHN_BASE_URL}"
    return FashnLimits(
        in_flight=InFlightSlots(client, f"{prefix}:in-flight", settings.FASHN_MAX_IN_FLIGHT),
        run_rate=SlidingWindowRate(client, f"{prefix}:run", *parse_rate(settings.FASHN_RUN_RATE)),
        status_rate=SlidingWindowRate(
            client, f"{prefix}:status", *parse_rate(settings.FASHN_STATUS_RATE)
        ),
    )
