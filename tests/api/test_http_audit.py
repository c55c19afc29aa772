"""graphql-http's GraphQL-over-HTTP audit (the npm package, pinned in package.json) run against
the app served on a port: every audit ok, none a warning."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator

import pytest

from api.app import create_app
from api.settings import Settings
from db.engine import make_engine
from tests.conftest import ROOT, FixedClock
from tests.helpers import served_on_a_port

NODE = shutil.which("node")
AUDIT = ROOT / "tests" / "http_audit.mjs"
AUDIT_PACKAGE = ROOT / "node_modules" / "graphql-http" / "package.json"


@pytest.fixture
async def served(settings: Settings, database_url: str) -> AsyncIterator[str]:
    # the audit's operations read nothing (`{ __typename }`) and write nothing
    engine = make_engine(database_url)
    app = create_app(settings, engine, clock=FixedClock())
    async with served_on_a_port(app) as base:
        yield f"{base}/graphql"
    await engine.dispose()


async def test_every_graphql_over_http_audit_is_ok(served: str) -> None:
    assert NODE is not None, "node is not installed (the audit runs on Node.js)"
    assert AUDIT_PACKAGE.exists(), "graphql-http is not installed: npm ci"
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(AUDIT),
        served,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    results = json.loads(stdout)
    not_ok = [
        f"{r['id']} {r['status']}: {r['name']} ({r['reason']})"
        for r in results
        if r["status"] != "ok"
    ]
    assert not not_ok, "\n".join(not_ok)
    assert len(results) == 61
