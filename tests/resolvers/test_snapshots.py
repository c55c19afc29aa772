"""The daily seat snapshot: recounts from scratch, records the day, safe to run twice."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.tables import SeatSnapshot
from resolvers.jobs import snapshot_seats
from tests.conftest import TODAY, FixedClock, GraphQL
from tests.helpers import data, error_codes
from tests.schema.test_seat_data import MEMBERSHIPS, REMOVE, load_world, member, push

pytestmark = pytest.mark.usefixtures("demo")

HISTORY = """query($from: Date!, $to: Date!) { namespace(path: "acme") {
  seatUsageHistory(from: $from, to: $to) { date billableUsers peak }
  subscription { seatsInUse maxSeatsUsed } } }"""


async def test_snapshots_recount_expired_memberships_and_keep_the_peak(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession, clock: FixedClock
) -> None:
    gitlab = token("gitlab")
    await load_world(gql, gitlab)
    tomorrow = TODAY + timedelta(days=1)
    await push(
        gql,
        MEMBERSHIPS,
        [member(5, "GROUP", 100, "developer", expiresOn=tomorrow.isoformat())],
        gitlab,
    )

    first = await snapshot_seats(session, day=TODAY)
    again = await snapshot_seats(session, day=TODAY)
    assert first == again
    assert first.namespaces_recounted == 3  # acme, contractors, and the demo's globex
    later = await snapshot_seats(session, day=tomorrow)  # erin's membership has ended
    assert later.day == tomorrow

    rows = (await session.execute(select(func.count()).select_from(SeatSnapshot))).scalar_one()
    namespaces = first.snapshots_written
    assert rows == 2 * namespaces  # one row per namespace and day, however many runs

    body = await gql(HISTORY, {"from": "2026-01-01", "to": "2026-12-31"}, token=gitlab)
    result = data(body)["namespace"]
    assert result["seatUsageHistory"] == [
        {"date": TODAY.isoformat(), "billableUsers": 3, "peak": 3},
        {"date": tomorrow.isoformat(), "billableUsers": 2, "peak": 2},
    ]
    assert result["subscription"] == {"seatsInUse": 2, "maxSeatsUsed": 3}

    # a member leaving later that day lowers the day's count, not its peak
    clock.current = tomorrow
    await push(gql, REMOVE, [{"userId": 2, "sourceKind": "GROUP", "sourceId": 101}], gitlab)
    body = await gql(HISTORY, {"from": "2026-01-01", "to": "2026-12-31"}, token=gitlab)
    assert data(body)["namespace"]["seatUsageHistory"][-1] == {
        "date": tomorrow.isoformat(),
        "billableUsers": 1,
        "peak": 2,
    }


@pytest.mark.parametrize(
    ("first", "last"), [("2026-02-01", "2026-01-01"), ("2000-01-01", "2026-01-01")]
)
async def test_history_ranges_are_checked(
    gql: GraphQL, token: Callable[..., str], first: str, last: str
) -> None:
    body = await gql(HISTORY, {"from": first, "to": last}, token=token("admin"))
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_the_expression_index_exists(session: AsyncSession) -> None:
    from sqlalchemy import text

    found = await session.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'billable_member_by_activity'")
    )
    assert "COALESCE(last_activity_on" in found.scalar_one()
