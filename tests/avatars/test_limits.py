"""The FASHN account limits, on the real Redis that all workers share."""

import time

import pytest
import redis

from avatar_studio.avatars.pipeline.limits import InFlightSlots, SlidingWindowRate, parse_rate

from ..support.waiting import wait_for


@pytest.fixture
def client(redis_url):
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def key(settings):
    """Keys under this test run's prefix, which the shared fixtures clean between tests."""
    return lambda name: f"{settings.REDIS_KEY_PREFIX}:test:{name}"


def test_in_flight_slots_stop_at_the_limit_and_free_on_release(client, key):
    slots = InFlightSlots(client, key("slots"), limit=2)

    assert slots.acquire("job-1", 60)
    assert slots.acquire("job-2", 60)
    assert not slots.acquire("job-3", 60)
    assert slots.acquire("job-1", 60)  # a holder may extend its own slot
    slots.release("job-2")
    assert slots.acquire("job-3", 60)
    assert sorted(slots.holders()) == ["job-1", "job-3"]


def test_a_slot_whose_lease_ran_out_frees_itself(client, key):
    slots = InFlightSlots(client, key("slots"), limit=1)

    # A 2 s lease: still held at the next call on the busiest machine.
    assert slots.acquire("crashed-job", 2)
    assert not slots.acquire("next-job", 60)
    wait_for(lambda: slots.acquire("next-job", 60), timeout=30, message="the lease to run out")
    assert slots.holders() == ["next-job"]


def test_a_full_rate_window_says_how_long_to_wait(client, key):
    # A 2 s window: the four takes fall inside it on the busiest machine.
    rate = SlidingWindowRate(client, key("rate"), limit=3, window_seconds=2.0)

    assert [rate.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = rate.take()
    assert 0.0 < wait <= 2.0
    time.sleep(wait + 0.05)
    assert rate.take() == 0.0


def test_two_limiters_on_one_key_share_the_window(client, key):
    first = SlidingWindowRate(client, key("rate"), limit=2, window_seconds=5)
    second = SlidingWindowRate(client, key("rate"), limit=2, window_seconds=5)

    assert first.take() == 0.0
    assert second.take() == 0.0
    assert first.take() > 0.0
    assert second.take() > 0.0


def test_rates_are_written_as_requests_per_seconds():
    assert parse_rate("50/60") == (50, 60.0)
    assert parse_rate("50/10") == (50, 10.0)
