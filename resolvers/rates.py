"""Rate limits of the fields anyone may call without a token (licenseActivate, licenseSync,
usageReportUpload, quote): so many calls a minute per client and per instance id.

Kept in the process's memory (each process counts its own calls; a restart forgets them):
a sliding window of call times per key, with a cap on the number of keys so that made-up
instance ids or addresses cannot grow it without bound. Under that pressure the least
recently used keys are forgotten, which can only let calls through, never refuse one."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from resolvers.errors import PublicError

if TYPE_CHECKING:
    from resolvers.context import Context

WINDOW = 60.0  # seconds
MAX_KEYS = 10_000  # per limiter: at most MAX_KEYS x limit call times are kept


class RateLimited(PublicError):
    """Too many calls from this client (or for this instance) in the last minute."""

    code = "RATE_LIMITED"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many calls; try again in {retry_after} seconds.")
        self.retry_after = retry_after
        # graphql-core copies an exception's `extensions` into the error it reports
        self.extensions = {"retryAfter": retry_after}


class SlidingWindow:
    """At most `limit` calls per key in any `window` seconds (exact, unlike a fixed window
    that lets twice the limit through across a boundary). `now` is a monotonic clock."""

    def __init__(
        self,
        limit: int,
        *,
        window: float = WINDOW,
        max_keys: int = MAX_KEYS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.max_keys, self.now = limit, window, max_keys, now
        # least recently used first; each deque holds the key's call times, oldest first
        self._calls: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._calls)

    def take(self, key: str) -> int:
        """0 when the call is admitted (and counted), else the whole seconds until it would
        be. Refused calls are not counted: a client that waits gets through."""
        now = self.now()
        self._forget_idle(now)
        calls = self._calls.get(key)
        if calls is None:
            while len(self._calls) >= self.max_keys:
                self._calls.popitem(last=False)
            calls = self._calls[key] = deque()
        self._calls.move_to_end(key)
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= self.limit:
            return max(1, math.ceil(calls[0] + self.window - now))
        calls.append(now)
        return 0

    def _forget_idle(self, now: float) -> None:
        """Drop keys with no call in the window, from the least recently used on (amortized
        constant time: each key is dropped once)."""
        while self._calls:
            key, calls = next(iter(self._calls.items()))
            if calls and calls[-1] > now - self.window:
                return
            del self._calls[key]


@dataclass
class RateLimits:
    """The service's limiters, shared by all requests of one process."""

    per_minute: int = 30
    now: Callable[[], float] = time.monotonic
    clients: SlidingWindow = field(init=False)
    instances: SlidingWindow = field(init=False)

    def __post_init__(self) -> None:
        self.clients = SlidingWindow(self.per_minute, now=self.now)
        self.instances = SlidingWindow(self.per_minute, now=self.now)


def client_key(address: str) -> str:
    """The client a peer address stands for: IPv6 hosts are given a /64 each, so one host
    cannot pick a fresh address for every call."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


def admit_client(context: Context) -> None:
    """Count an anonymous call against its client; raise RateLimited past the limit. Calls
    with a token are not counted here: a token names a caller who answers for its calls (and
    the portal or the billing team's scripts may share one address)."""
    if context.principal.authenticated:
        return
    wait = context.rates.clients.take(client_key(context.client))
    if wait:
        raise RateLimited(wait)


def admit_instance(context: Context, key: str) -> None:
    """Count a call against an instance; raise RateLimited past the limit. Callers pass a key
    only a holder of that instance's credential can spend (see docs/limits.md)."""
    wait = context.rates.instances.take(key)
    if wait:
        raise RateLimited(wait)
