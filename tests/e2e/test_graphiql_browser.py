"""GraphiQL in headless Chromium: the page loads with no request leaving 127.0.0.1, runs a query
and shows the answer. Skipped where Chromium is not installed, unless E2E_REQUIRED is set (CI)."""

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from api.app import create_app
from api.settings import Settings
from db.demo import load_demo_data
from db.engine import make_engine, make_sessionmaker
from tests.conftest import TODAY, FixedClock
from tests.helpers import served_on_a_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("E2E_REQUIRED"):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.e2e

QUERY = '{ plans(currency: "USD") { code prices { unitAmount { amount currency } } } }'


@pytest.fixture
async def server(
    settings: Settings, make_database: Callable[..., Awaitable[str]]
) -> AsyncIterator[str]:
    url = await make_database()
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await load_demo_data(session, today=TODAY)
    app = create_app(settings, engine, clock=FixedClock())
    async with served_on_a_port(app) as base:
        yield base
    await engine.dispose()


async def test_graphiql_runs_a_query_offline(server: str, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "E2E_REQUIRED is set but Chromium is not installed"
    requests: list[str] = []
    failures: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = await browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("requestfailed", lambda request: failures.append(request.url))
            page.on("pageerror", lambda error: failures.append(str(error)))
            await page.goto(f"{server}/graphql?q={quote(QUERY)}", wait_until="networkidle")
            await page.locator(".graphiql-execute-button").click()
            result = page.locator(".result-window")
            await result.get_by_text('"ultimate"').wait_for(timeout=15000)
            text = await result.inner_text()
            await page.screenshot(path=str(tmp_path / "graphiql.png"))
        finally:
            await browser.close()
    assert '"premium"' in text
    assert '"348.00"' in text
    assert failures == []
    data_urls = [url for url in requests if url.startswith("data:")]
    assert [
        url for url in requests if url not in data_urls and not url.startswith(server + "/")
    ] == []
    assert any(url.endswith("/graphiql/assets/graphiql/graphiql.min.js") for url in requests)
    assert any(url == f"{server}/graphql" for url in requests)
