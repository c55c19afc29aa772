"""The HTTP edge: health, readiness, GraphiQL page and its local assets, GET queries."""

import base64
import hashlib
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.graphiql import DEFAULT_ASSETS_DIR, AssetsError, local_graphiql
from api.settings import Settings
from db.engine import make_engine
from tests.conftest import FixedClock
from tests.helpers import answer

PACKAGES = ["react", "react-dom", "js-cookie", "graphiql", "@graphiql/plugin-explorer"]


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_refuses_a_database_that_is_behind(
    settings: Settings, make_database: Callable[..., Awaitable[str]]
) -> None:
    engine = make_engine(await make_database(migrate=False))
    app = create_app(settings, engine, clock=FixedClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/readyz")
    await engine.dispose()
    assert response.status_code == 503
    assert "run `billing db upgrade`" in response.json()["reason"]


async def test_readyz_when_the_database_is_unreachable(settings: Settings) -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:9/nothing")
    app = create_app(settings, engine, clock=FixedClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/readyz")
    await engine.dispose()
    assert response.status_code == 503
    assert response.json()["reason"].startswith(
        "cannot reach the database at postgresql://nobody@127.0.0.1:9/nothing"
    )


async def test_graphiql_page_loads_only_local_assets(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    html = response.text
    assert "unpkg.com" not in html
    assert "default-src 'self'" in response.headers["content-security-policy"]
    urls = re.findall(r'(?:src|href)="(/graphiql/assets/[^"]+)"\s+integrity="([^"]+)"', html)
    assert len(urls) == 7
    for url, integrity in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert f"sha384-{digest}" == integrity


async def test_only_the_pinned_asset_files_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/graphiql/assets/react/package.json")).status_code == 404
    # `..` in the path: tests/api/test_hostile_http.py sends it raw (httpx would normalize it)


def test_tampered_or_missing_assets_stop_startup(tmp_path: Path) -> None:
    with pytest.raises(AssetsError, match="is not installed; run `make assets`"):
        local_graphiql(tmp_path)
    for package in PACKAGES:
        shutil.copytree(DEFAULT_ASSETS_DIR / package, tmp_path / package)
    assert local_graphiql(tmp_path).files.keys() == local_graphiql().files.keys()

    react = tmp_path / "react/umd/react.production.min.js"
    react.write_bytes(react.read_bytes() + b"\n// injected")
    with pytest.raises(AssetsError, match="does not match its integrity hash"):
        local_graphiql(tmp_path)

    manifest = tmp_path / "graphiql/package.json"
    manifest.write_text(manifest.read_text().replace('"version": "3.8.3"', '"version": "3.9.0"'))
    with pytest.raises(AssetsError, match=r"graphiql is 3\.9\.0, the page needs 3\.8\.3"):
        local_graphiql(tmp_path)


@pytest.mark.usefixtures("demo")
async def test_queries_over_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": '{ plans(currency: "EUR") { code } }'})
    assert answer(response.json()) == {
        "data": {"plans": [{"code": "free"}, {"code": "premium"}, {"code": "ultimate"}]}
    }
