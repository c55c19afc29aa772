"""Instances send their admin user statistics with a sync or in a usage report file; they
are kept per report, shown on the instance beside the seats paid for and the users over
them, and as a history by day. A wrong breakdown is refused naming the field, and nothing is
written; reports with only the two counts stay accepted. Demo data: Initech's instance has
Ultimate for 120 seats, 2026-02-13 to 2027-02-13."""

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.user_statistics import UsersByRole, UserStatistics
from db.tables import Instance, License, Subscription, SyncReport
from resolvers.jobs import run_daily
from tests.conftest import FixedClock, GraphQL
from tests.helpers import data, error_codes, row_counts
from tests.schema.test_license_sync import SYNC, UPLOAD, licensed, report

__all__ = ["licensed"]  # the fixture
pytestmark = pytest.mark.usefixtures("demo")

STATISTICS = """query($id: ID!, $from: Date!, $to: Date!) { instance(id: $id) {
  userStatistics { total active billable blocked deactivated bots pendingApproval
    withoutGroupOrProject licensedSeats usersOverSubscription
    byRole { guest planner reporter developer maintainer owner minimalAccess } }
  userStatisticsHistory(from: $from, to: $to) { day reportedAt statistics { billable } } } }"""


def statistics(billable: int, **change: Any) -> dict[str, Any]:
    """`billable` developers and 10 guests, 2 bots, 3 blocked: GraphQL's spelling."""
    return {
        "total": billable + 15,
        "active": billable + 12,
        "billable": billable,
        "blocked": 3,
        "deactivated": 0,
        "bots": 2,
        "pendingApproval": 0,
        "withoutGroupOrProject": 0,
        "byRole": {"guest": 10, "developer": billable},
        **change,
    }


async def test_syncs_keep_statistics_by_day(
    gql: GraphQL, licensed: dict[str, Any], clock: FixedClock
) -> None:
    # 2026-03-15: 130 billable users (10 over the 120 seats)
    sent = report(licensed, userStatistics=statistics(130))
    assert result_of(await gql(SYNC, sent))["__typename"] == "LicenseSyncSuccess"
    # 2026-03-16: an older instance sends only the two counts; 2026-03-17: 125 billable
    clock.current = date(2026, 3, 16)
    plain = report(licensed, reportedAt="2026-03-16T08:00:00Z", billableUsers=128)
    assert result_of(await gql(SYNC, plain))["__typename"] == "LicenseSyncSuccess"
    clock.current = date(2026, 3, 17)
    later = report(
        licensed,
        reportedAt="2026-03-17T08:00:00Z",
        billableUsers=125,
        userStatistics=statistics(125),
    )
    assert result_of(await gql(SYNC, later))["__typename"] == "LicenseSyncSuccess"

    asked = {"id": licensed["instance_gid"], "from": "2026-03-01", "to": "2026-03-31"}
    instance = data(await gql(STATISTICS, asked, token=licensed["token"]))["instance"]
    assert instance["userStatistics"] == {
        "total": 140,
        "active": 137,
        "billable": 125,
        "blocked": 3,
        "deactivated": 0,
        "bots": 2,
        "pendingApproval": 0,
        "withoutGroupOrProject": 0,
        "licensedSeats": 120,
        "usersOverSubscription": 5,
        "byRole": {
            "guest": 10,
            "planner": 0,
            "reporter": 0,
            "developer": 125,
            "maintainer": 0,
            "owner": 0,
            "minimalAccess": 0,
        },
    }
    assert instance["userStatisticsHistory"] == [
        {"day": "2026-03-15", "reportedAt": "2026-03-15T08:00:00+00:00",
         "statistics": {"billable": 130}},
        {"day": "2026-03-17", "reportedAt": "2026-03-17T08:00:00+00:00",
         "statistics": {"billable": 125}},
    ]  # fmt: skip
    backwards = {**asked, "from": "2026-04-01"}
    assert error_codes(await gql(STATISTICS, backwards, token=licensed["token"])) == [
        "BAD_USER_INPUT"
    ]


def result_of(body: dict[str, Any]) -> dict[str, Any]:
    return data(body)["licenseSync"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        (statistics(130, active=150), "userStatistics.active"),
        (statistics(130, total=1), "userStatistics.total"),
        (statistics(129), "userStatistics.billable"),  # the report says 130
        (statistics(130, pendingApproval=-1, total=144), "userStatistics.pendingApproval"),
        (
            statistics(130, byRole={"guest": 10, "developer": 130, "minimalAccess": -1}),
            "userStatistics.byRole.minimalAccess",
        ),
    ],
)
async def test_a_wrong_breakdown_is_refused_and_nothing_written(
    gql: GraphQL, licensed: dict[str, Any], session: AsyncSession, sent: Any, field: str
) -> None:
    before = await row_counts(session)
    refused = result_of(await gql(SYNC, report(licensed, userStatistics=sent)))
    assert (refused["code"], refused["field"]) == ("INVALID_VALUE", field)
    assert await row_counts(session) == before


async def test_an_offline_report_file_carries_statistics_in_its_own_keys(
    gql: GraphQL, licensed: dict[str, Any], session: AsyncSession
) -> None:
    await session.execute(update(Subscription).values(license_type="offline"))
    await run_daily(session, day=date(2026, 3, 15), sign=licensed["keys"].signer)
    offline = (
        await session.execute(select(License).order_by(License.id.desc()).limit(1))  # type: ignore[union-attr]
    ).scalar_one()
    counts = {
        "total": 140, "active": 137, "billable": 125, "blocked": 3, "deactivated": 0,
        "bots": 2, "pending_approval": 0, "without_group_or_project": 0,
        "by_role": {"guest": 10, "developer": 125},
    }  # fmt: skip

    def file(**change: Any) -> str:
        body = {
            "license": offline.token,
            "instance_id": licensed["instance"].instance_uid,
            "hostname": "gitlab.initech.example",
            "version": "18.6.0",
            "billable_users": 125,
            "max_historical_users": 125,
            "reported_at": "2026-03-15T08:00:00+00:00",
            "user_statistics": counts,
        }
        return json.dumps({**body, **change})

    before = await row_counts(session)
    wrong = {**counts, "by_role": {"guest": 10, "developer": 124}}
    refused = data(await gql(UPLOAD, {"input": {"report": file(user_statistics=wrong)}}))
    answer = refused["usageReportUpload"]
    assert (answer["code"], answer["field"]) == ("INVALID_VALUE", "report.user_statistics.active")
    assert await row_counts(session) == before

    accepted = data(await gql(UPLOAD, {"input": {"report": file()}}))["usageReportUpload"]
    assert accepted["seatsInUse"] == 125
    asked = {"id": licensed["instance_gid"], "from": "2026-03-15", "to": "2026-03-15"}
    instance = data(await gql(STATISTICS, asked, token=licensed["token"]))["instance"]
    assert instance["userStatistics"]["usersOverSubscription"] == 5


INSTANCES = """{ customers { edges { node { instances { hostname
  userStatistics { billable licensedSeats usersOverSubscription }
  userStatisticsHistory(from: "2026-03-01", to: "2026-03-31") { day statistics { total } }
} } } } }"""


async def test_statement_count_stays_flat_over_instances(
    gql: GraphQL,
    session: AsyncSession,
    token: Any,
    count_statements: Any,
) -> None:
    initech = (await session.execute(select(Instance))).scalar_one()
    stored = UserStatistics(
        total=20,
        active=17,
        billable=5,
        blocked=3,
        deactivated=0,
        bots=2,
        pending_approval=0,
        without_group_or_project=0,
        by_role=UsersByRole(guest=10, developer=5),
    ).as_dict()

    async def add_instances(count: int) -> None:
        for index in range(count):
            instance = Instance(
                instance_uid=f"extra-{index}-{count}",
                hostname=f"gitlab-{index}.example",
                customer_id=initech.customer_id,
                user_statistics=stored,
            )
            session.add(instance)
            await session.flush()
            assert instance.id is not None
            session.add(
                SyncReport(
                    instance_id=instance.id,
                    subscription_id=(await session.execute(select(Subscription.id)))
                    .scalars()
                    .first(),
                    day=date(2026, 3, 10),
                    hostname=instance.hostname,
                    version="18.6.0",
                    billable_users=5,
                    max_historical_users=5,
                    reported_at=datetime(2026, 3, 10, 8, tzinfo=UTC),
                    peak=5,
                    user_statistics=stored,
                )
            )
        await session.commit()

    async def statements() -> tuple[int, int]:
        with count_statements() as counted:
            body = data(await gql(INSTANCES, token=token("admin")))
        shown = [i for e in body["customers"]["edges"] for i in e["node"]["instances"]]
        assert all(i["userStatisticsHistory"] for i in shown if i["userStatistics"])
        return counted.n, len(shown)

    await add_instances(2)
    few, three = await statements()
    await add_instances(20)
    many, twenty_three = await statements()
    assert (three, twenty_three) == (3, 23)
    assert few == many
