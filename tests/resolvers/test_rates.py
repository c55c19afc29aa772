"""The in-process limiter: exact sliding window, bounded memory, clients by address."""

import pytest

from resolvers.rates import SlidingWindow, client_key


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_at_most_limit_calls_in_any_window() -> None:
    ticks = Ticks()
    limiter = SlidingWindow(3, window=60, now=ticks)
    for ticks.now in (0, 20, 40):
        assert limiter.take("a") == 0
    ticks.now = 59.5
    assert limiter.take("a") == 1  # the call at 0 leaves the window at 60
    ticks.now = 60
    assert limiter.take("a") == 0
    # a fixed window starting at 60 would let two more through; the sliding one does not
    assert limiter.take("a") == 20


def test_refused_calls_are_not_counted() -> None:
    ticks = Ticks()
    limiter = SlidingWindow(1, window=10, now=ticks)
    assert limiter.take("a") == 0
    for _ in range(100):
        assert limiter.take("a") == 10
    ticks.now = 10
    assert limiter.take("a") == 0


def test_keys_are_bounded_and_idle_ones_forgotten() -> None:
    ticks = Ticks()
    limiter = SlidingWindow(1, window=10, max_keys=100, now=ticks)
    for n in range(10_000):
        limiter.take(f"random-{n}")
    assert len(limiter) == 100  # the least recently used gave way
    ticks.now = 10
    limiter.take("late")
    assert len(limiter) == 1  # keys idle for a window are gone


def test_the_most_recent_keys_survive_the_cap() -> None:
    ticks = Ticks()
    limiter = SlidingWindow(1, window=10, max_keys=2, now=ticks)
    limiter.take("old")
    limiter.take("busy")
    limiter.take("new")  # evicts "old", the least recently used
    assert limiter.take("busy") == 10
    assert limiter.take("old") == 0


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4 seen through an IPv6 socket
        ("unknown", "unknown"),
    ],
)
def test_clients_by_address(address: str, key: str) -> None:
    assert client_key(address) == key
