"""`billing serve --workers N` for N = 1, 2, ...: the seat page and `plans` at 16
connections, in interleaved rounds, with nothing pinned (the workers share the machine's
cores with wrk and PostgreSQL). Uses compare.py's data set (run compare.py once first).

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/billing_bench_compare
    .venv/bin/python bench/workers.py --workers 1,2 --rounds 3 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from compare_cases import CASES
from load import LUA, fail, latency_ms

from api.auth import mint_token
from api.settings import load_settings
from resolvers.principal import Role

BIN = Path(sys.executable).parent
PORT = 8790


def wrk(url: str, script: Path, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    if "Non-2xx" in out:
        fail(f"errors under load:\n{out}")
    rps = float(out.split("Requests/sec:")[1].split()[0])
    return {"rps": rps, "p50": latency_ms(out, "50"), "p99": latency_ms(out, "99")}


def serve(workers: int, env: dict[str, str], headers: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [str(BIN / "billing"), "serve", "--port", str(PORT), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, start_new_session=True)
    for _ in range(200):
        try:
            body = {"query": "{ __typename }"}
            response = httpx.post(f"http://127.0.0.1:{PORT}/graphql", json=body, headers=headers)
            if response.status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    fail("the server did not start")
    raise AssertionError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    secret = os.environ.setdefault("BILLING_JWT_SECRET", secrets.token_urlsafe(48))
    settings = load_settings(_env_file=None, jwt_secret=secret)
    token = mint_token(
        settings, role=Role.ADMIN, subject="bench", now=datetime.now(UTC), ttl=timedelta(hours=2)
    )
    headers = {"Authorization": f"Bearer {token}"}
    env = {**os.environ, "BILLING_LOG_LEVEL": "WARNING"}
    cases = [CASES["seat-page"], CASES["plans"]]
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {}
        for case in cases:
            scripts[case.name] = Path(tmp) / f"{case.name}.lua"
            body = json.dumps({"query": case.ours})
            scripts[case.name].write_text(LUA.format(token=token, body=body))
        for round_ in range(args.rounds):
            for workers in counts if round_ % 2 == 0 else counts[::-1]:
                server = serve(workers, env, headers)
                try:
                    for case in cases:
                        url = f"http://127.0.0.1:{PORT}/graphql"
                        wrk(url, scripts[case.name], 1)  # warm every worker
                        run = wrk(url, scripts[case.name], args.seconds)
                        results.setdefault((case.name, workers), []).append(run)
                        print(f"round {round_ + 1} {case.name:<10} workers={workers} "
                              f"{run['rps']:8.0f} req/s p50 {run['p50']:7.2f} ms "
                              f"p99 {run['p99']:7.2f} ms", flush=True)  # fmt: skip
                finally:
                    os.killpg(server.pid, signal.SIGTERM)
                    server.wait(20)
    print(f"\n| case | workers | req/s | p50 ms | p99 ms |  (cores: {os.cpu_count()})")
    print("| --- | ---: | ---: | ---: | ---: |")
    for case in cases:
        for workers in counts:
            runs = results[(case.name, workers)]
            print(
                f"| {case.name} | {workers} | {statistics.median(r['rps'] for r in runs):.0f} | "
                f"{statistics.median(r['p50'] for r in runs):.2f} | "
                f"{statistics.median(r['p99'] for r in runs):.2f} |"
            )


if __name__ == "__main__":
    main()
