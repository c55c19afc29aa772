"""GraphiQL without a CDN: strawberry's page, pointed at the same files installed from npm.

The page pins every script and stylesheet with a sha384 `integrity` hash. We check each local
file against that hash at start-up and keep the attribute, so the browser checks again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

ASSET_ROUTE = "/graphiql/assets"
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parent.parent / "node_modules"

_CDN_ASSET = re.compile(
    r'(?P<attr>src|href)="https://unpkg\.com/(?P<package>(?:@[^/@"]+/)?[^/@"]+)@(?P<version>[^/"]+)/'
    r'(?P<path>[^"]+)"(?P<between>\s+)integrity="(?P<integrity>sha384-[^"]+)"'
)

# The page's own inline script is allowed by its hash (`{scripts}`), no other inline script;
# GraphiQL sets inline styles, so styles keep 'unsafe-inline'.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


class AssetsError(Exception):
    """The GraphiQL files are missing or differ from what the page pins."""


@dataclass(frozen=True)
class GraphiQLPage:
    html: str
    files: dict[str, Path]  # URL path under ASSET_ROUTE -> file on disk
    content_security_policy: str


def sha384_integrity(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def script_hashes(html: str) -> list[str]:
    """CSP sources allowing exactly the inline scripts of `html`, by their sha256."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def local_graphiql(assets_dir: Path = DEFAULT_ASSETS_DIR) -> GraphiQLPage:
    """Strawberry's GraphiQL page with every CDN URL replaced by a local one, after checking
    that each local file has the version and the hash the page pins."""
    template = get_graphql_ide_html(graphql_ide="graphiql")
    files: dict[str, Path] = {}
    problems: list[str] = []

    def localise(match: re.Match[str]) -> str:
        package, version, rel = match["package"], match["version"], match["path"]
        path = assets_dir / package / rel
        manifest = assets_dir / package / "package.json"
        if not path.is_file() or not manifest.is_file():
            problems.append(f"{package}/{rel} is not installed")
        elif (installed := json.loads(manifest.read_text())["version"]) != version:
            problems.append(f"{package} is {installed}, the page needs {version}")
        elif sha384_integrity(path) != match["integrity"]:
            problems.append(f"{package}@{version}/{rel} does not match its integrity hash")
        files[f"{package}/{rel}"] = path
        return (
            f'{match["attr"]}="{ASSET_ROUTE}/{package}/{rel}"{match["between"]}'
            f'integrity="{match["integrity"]}"'
        )

    html = _CDN_ASSET.sub(localise, template)
    if "unpkg.com" in html or not files:
        problems.append("the page still loads something from the internet")
    if problems:
        raise AssetsError(
            f"GraphiQL assets in {assets_dir}: {'; '.join(problems)}; run `make assets`"
        )
    policy = CONTENT_SECURITY_POLICY.format(scripts=" ".join(script_hashes(html)))
    return GraphiQLPage(html=html, files=files, content_security_policy=policy)
