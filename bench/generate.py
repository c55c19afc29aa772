"""Build the seat benchmark data set: 200,000 users, 1,000,000 memberships, 1,000 namespaces,
one of which (`big`) has 100,000 billable members. Set-based SQL; takes about a minute."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date

import asyncpg
from sqlalchemy.engine import make_url

from db.demo import load_demo_data
from db.engine import make_engine, make_sessionmaker, upgrade
from resolvers.jobs import snapshot_seats

USERS = 200_000
NAMESPACES = 1_000
BIG_MEMBERS = 100_000
MEMBERSHIPS = 1_000_000
TODAY = date(2026, 3, 15)

STEPS = [
    # keep the demo catalog and customers, not the demo's few members
    "DELETE FROM billable_member",
    "DELETE FROM membership",
    "DELETE FROM source",
    "DELETE FROM gitlab_user",
    "UPDATE namespace SET seats_in_use = 0",
    # namespaces: ns-1 .. ns-999 and big (a customer of their own for big)
    f"""INSERT INTO namespace (path, name)
        SELECT 'ns-' || i, 'Namespace ' || i FROM generate_series(1, {NAMESPACES - 1}) i""",
    "INSERT INTO namespace (path, name) VALUES ('big', 'Big')",
    # big: root group, 19 subgroups, 80 projects; others: root, 3 subgroups, 6 projects
    """INSERT INTO source (kind, gitlab_id, full_path, namespace_id)
       SELECT 'group', n.id * 1000, n.path, n.id FROM namespace n
       WHERE n.path = 'big' OR n.path LIKE 'ns-%'""",
    """INSERT INTO source (kind, gitlab_id, full_path, namespace_id, parent_id)
       SELECT CASE WHEN k <= CASE WHEN n.path = 'big' THEN 19 ELSE 3 END
                   THEN 'group' ELSE 'project' END,
              n.id * 1000 + k, n.path || '/s' || k, n.id, r.id
       FROM namespace n JOIN source r ON r.namespace_id = n.id AND r.parent_id IS NULL
       CROSS JOIN generate_series(1, 99) k
       WHERE k <= CASE WHEN n.path = 'big' THEN 99 ELSE 9 END""",
    # users: 1..100000 active humans (big's billable members), the rest 95% active humans
    f"""INSERT INTO gitlab_user (gitlab_id, username, name, public_email, state, user_type,
                                 last_activity_on)
        SELECT i, 'user' || i, 'User ' || lpad((i * 7919 % {USERS})::text, 6, '0'),
               CASE WHEN i % 3 = 0 THEN 'user' || i || '@example.com' END,
               CASE WHEN i > {BIG_MEMBERS} AND i % 40 = 1 THEN 'blocked' ELSE 'active' END,
               CASE WHEN i > {BIG_MEMBERS} AND i % 50 = 2 THEN 'bot' ELSE 'human' END,
               DATE '2026-03-15' - (i % 400)
        FROM generate_series(1, {USERS}) i""",
    # big: every one of users 1..100000 in one of its sources, reporter or above
    f"""INSERT INTO membership (user_id, source_id, access_level, state, invite_pending,
                                access_request, created_at)
        SELECT u.id, s.id, (ARRAY[20, 30, 30, 40, 50])[1 + u.gitlab_id % 5], 'active',
               false, false, TIMESTAMPTZ '2025-01-01' + (u.gitlab_id % 400) * INTERVAL '1 day'
        FROM gitlab_user u
        JOIN namespace n ON n.path = 'big'
        JOIN source s ON s.namespace_id = n.id AND s.gitlab_id = n.id * 1000 + (u.gitlab_id % 100)
        WHERE u.gitlab_id <= {BIG_MEMBERS}""",
    # the rest spread over the other namespaces' sources
    f"""INSERT INTO membership (user_id, source_id, access_level, state, invite_pending,
                                access_request, created_at)
        SELECT u.id, s.id,
               (ARRAY[5, 10, 20, 30, 30, 40])[1 + k % 6], 'active', k % 97 = 0, false,
               TIMESTAMPTZ '2025-01-01' + (k % 400) * INTERVAL '1 day'
        FROM generate_series(1, {MEMBERSHIPS - BIG_MEMBERS}) k
        JOIN gitlab_user u ON u.gitlab_id = 1 + (k::bigint * 7919) % {USERS}
        JOIN source s ON s.id = (SELECT min(id) FROM source) + 100 + k % ((SELECT count(*) FROM source) - 100)
        ON CONFLICT DO NOTHING""",
    "ANALYZE",
]


async def main() -> None:
    url = make_url(os.environ["DATABASE_URL"])
    admin = await asyncpg.connect(
        url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )
    await admin.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{url.database}"')
    await admin.close()
    await upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await load_demo_data(session, today=TODAY)
    connection = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    for step in STEPS:
        started = time.perf_counter()
        status = await connection.execute(step)
        print(f"{time.perf_counter() - started:6.1f}s  {status}")
    await connection.execute("""
        INSERT INTO subscription (customer_id, namespace_id, plan_id, price_id, seats,
                                  start_date, end_date, status, auto_renew, trial)
        SELECT c.id, n.id, p.id, pr.id, 100000, DATE '2026-01-01', DATE '2027-01-01',
               'active', true, false
        FROM namespace n, customer c, plan p
        JOIN price pr ON pr.plan_id = p.id AND pr.currency = 'USD'
                     AND pr.billing_period = 'annual' AND pr.valid_from = DATE '2023-04-03'
        WHERE n.path = 'big' AND c.billing_email = 'billing@acme.example' AND p.code = 'premium'
    """)
    memberships = await connection.fetchval("SELECT count(*) FROM membership")
    await connection.close()
    started = time.perf_counter()
    async with sessions() as session:
        report = await snapshot_seats(session, day=TODAY)
    print(
        f"{time.perf_counter() - started:6.1f}s  recounted {report.namespaces_recounted} "
        f"namespaces; {memberships} memberships"
    )
    async with sessions() as session:
        from sqlalchemy import text

        big = (
            await session.execute(text("SELECT seats_in_use FROM namespace WHERE path = 'big'"))
        ).scalar_one()
        await session.execute(text("ANALYZE"))
        await session.commit()
    print(f"big namespace: {big} billable members")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
