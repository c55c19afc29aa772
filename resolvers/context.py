"""The per-request Context: caller, clock, one database session, and the DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from billing.licenses import LicenseGrant
from db.invoices import number_pending
from resolvers.limits import Limits
from resolvers.loaders import Loaders
from resolvers.principal import Principal
from resolvers.rates import RateLimits

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RequestFinished(Exception):
    """The request has been answered and its session released; a field that outlived it
    (a sibling of a failed field) gets this instead of a session. Nobody sees the result."""


class Clock(Protocol):
    """Where "today" and "now" come from; tests pass a fixed one."""

    def today(self) -> date: ...

    def now(self) -> datetime: ...


# Signs a license grant: returns the key id and the signed token.
LicenseSigner = Callable[[LicenseGrant], tuple[str, str]]


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose callers each await their own view of the shared result: a caller
    cancelled (graphql-core cancels the siblings of a failed non-null field) would otherwise
    cancel the one future every caller of that key awaits, and fields nobody cancelled
    would fail with CancelledError, which no error handler catches."""

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


class RequestSession:
    """The request's one database session, shared by its fields one at a time. It holds no
    reference back to the Context or its loaders, so a request leaves no reference cycle for
    the garbage collector (the loaders point here, nothing here points at them)."""

    __slots__ = (
        "_broken",
        "_closed",
        "_lock",
        "_session",
        "read_sessionmaker",
        "reads_only",
        "sessionmaker",
    )

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker
        # set by the view for a query operation: the session then reads without a transaction
        self.reads_only = False
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self._broken = False

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        """The session, one user at a time: strawberry resolves sibling fields concurrently,
        and a session (like its connection) serves one statement at a time. Raises
        RequestFinished once the request has closed it (a sibling outlived it).

        A user cancelled in the middle of a statement (graphql-core cancels the siblings of a
        failed non-null field) leaves the session's connection invalidated by SQLAlchemy;
        the next user gets a new session instead of that one's PendingRollbackError."""
        async with self._lock:
            if self._closed:
                raise RequestFinished
            if self._broken and self._session is not None:
                broken, self._session = self._session, None
                await asyncio.shield(broken.close())  # released even if this user is cancelled
            self._broken = False
            if self._session is None:
                make = self.sessionmaker
                if self.reads_only and self.read_sessionmaker is not None:
                    make = self.read_sessionmaker
                self._session = make()
            try:
                yield self._session
            except asyncio.CancelledError:
                self._broken = True
                raise

    def batch(self, load: Callable[[AsyncSession, Sequence[K]], Any]) -> DataLoader[K, Any]:
        """A DataLoader whose batch function gets the request's session."""

        async def load_many(keys: Sequence[K]) -> Any:
            async with self.db() as session:
                return await load(session, keys)

        return SharedLoader(load_fn=load_many)

    async def close(self) -> None:
        """Release the session once, after every field using it has finished.

        When a root field fails, graphql-core answers at once: siblings it cancelled have
        stopped, but those strawberry gathered may still be reading (or queued for the
        session). Closing is therefore a user of the lock like any other: it waits for the
        statement in flight, and every later user gets RequestFinished instead of a session.
        """
        self._closed = True
        async with self._lock:
            session, self._session = self._session, None
        if session is not None:
            await session.close()


@dataclass
class Context:
    principal: Principal
    clock: Clock
    request_id: str
    sessionmaker: async_sessionmaker[AsyncSession]
    # sessions without a transaction, for query operations (`db.engine.make_read_sessionmaker`)
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
    license_jwks: dict[str, Any] = field(default_factory=dict)  # public license keys
    sign_license: LicenseSigner | None = None  # None when no signing key is configured
    # checks a license presented to the service on a day (raises LicenseRefusedError)
    verify_license: Callable[[str, date | None], LicenseGrant] | None = None
    limits: Limits = field(default_factory=Limits)  # what one request may ask for
    client: str = "unknown"  # the peer address (resolvers.rates limits anonymous calls by it)
    rates: RateLimits = field(default_factory=RateLimits)  # the process's, from the view
    session: RequestSession = field(init=False)
    loaders: Loaders = field(init=False)
    wrote: bool = field(default=False, init=False)  # a mutation's transaction began

    def __post_init__(self) -> None:
        self.session = RequestSession(self.sessionmaker, self.read_sessionmaker)
        self.loaders = Loaders(self.session.batch)

    def db(self) -> AbstractAsyncContextManager[AsyncSession]:
        """The request's session, one user at a time (see RequestSession.db)."""
        return self.session.db()

    @asynccontextmanager
    async def transaction(self, *, commit: bool = True) -> AsyncIterator[AsyncSession]:
        """The request's session for one mutation: committed when the block ends, rolled back
        (nothing written) when it raises. With `commit=False` (a preview) it is rolled back
        either way; the objects it loaded or wrote keep the values they had at the end."""
        if self.session.reads_only:
            raise RuntimeError("a query operation cannot write")
        self.wrote = True
        async with self.db() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            if commit:
                await session.commit()
            else:
                await number_pending(session)  # the numbers the commit would give
                session.expunge_all()
                await session.rollback()

    async def close(self) -> None:
        await self.session.close()
        self.loaders.release()
