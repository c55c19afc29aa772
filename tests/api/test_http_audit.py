"""graphql-http's GraphQL-over-HTTP audit (the npm package, pinned in package.json) run against
the app served on a port: every audit ok, none a warning."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn

from api.app import create_app
from api.settings import Settings
from db.engine import make_engine
from tests.conftest import ROOT, FixedClock

NODE = shutil.which("node")
AUDIT = ROOT / "tests" / "http_audit.mjs"
AUDIT_PACKAGE = ROOT / "node_modules" / "graphql-http" / "package.json"


@pytest.fixture
async def served(settings: Settings, database_url: str) -> AsyncIterator[str]:
    # the audit's operations read nothing (`{ __typename }`) and write nothing
    engine = make_engine(database_url)
    app = create_app(settings, engine, clock=FixedClock())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


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
