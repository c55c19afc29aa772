"""Processes and load for bench/compare.py: servers pinned to a core and stopped on leaving,
their CPU time from /proc, and one wrk run with its figures."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_CORE, LOAD_CORE = "0", "1"
TICK = os.sysconf("SC_CLK_TCK")


def fail(message: str) -> None:
    sys.exit(f"compare.py: {message}")


@contextmanager
def started(command: list[str], env: dict[str, str], cwd: Path) -> Iterator[int]:
    """A server pinned to the server core, in its own process group, stopped on leaving."""
    process = subprocess.Popen(
        ["taskset", "-c", SERVER_CORE, *command], env=env, cwd=cwd, start_new_session=True
    )
    try:
        yield process.pid
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
                process.wait(10)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def cpu_ticks(pid: int) -> int:
    """utime + stime of the process and its descendants."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += int(stats[current][11]) + int(stats[current][12])
        todo.extend(children.get(current, []))
    return total


LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.body = [==[{body}]==]
"""
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def latency_ms(output: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    if match is None:
        fail(f"no {percentile}% latency in wrk's output:\n{output}")
    return float(match[1]) * UNITS[match[2]]  # type: ignore[index]


def run_wrk(
    url: str, body: str, *, token: str, seconds: int, connections: int, pid: int, tmp: Path
) -> dict[str, float]:
    script = tmp / "post.lua"
    script.write_text(LUA.format(token=token, body=body))
    before = cpu_ticks(pid)
    result = subprocess.run(
        ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s",
         "--timeout", "30s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )  # fmt: skip
    ticks = cpu_ticks(pid) - before
    out = result.stdout
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad or requests == 0:
        fail(f"{url}: {bad[0] if bad else 'no requests'}\n{out}")
    errors = re.search(r"Socket errors: .*", out)
    if errors:  # timeouts (past 30 s) or resets: the figures are suspect
        print(f"  {url}: {errors[0]}", flush=True)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        "p50": latency_ms(out, "50"),
        "p99": latency_ms(out, "99"),
        "cpu": ticks / TICK * 1000 / requests,
    }
