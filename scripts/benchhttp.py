"""What the benchmark scripts share to measure a served app: start and stop it, and load it
with concurrent keep-alive clients. Imported by scripts/bench_* (not part of the app)."""

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def serve(
    cmd: list[str], env: dict[str, str], health: str, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(health)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) that process `pid` has taken so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_address(n: int) -> str:
    """The `n`th of 16 million made-up phone addresses (10.x.y.z), for `X-Forwarded-For`."""
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255 or 1}"


def post_request(
    url: str,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
    form: bool = False,
) -> bytes:
    """A JSON POST (or `method`; `form`: an HTML form's) to `url`, encoded once, ready to be
    sent again and again."""
    parsed = httpx.URL(url)
    raw = (urlencode(body) if form else json.dumps(body, ensure_ascii=False)).encode()
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"{method} {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}\r\n{extra}"
        f"Content-Type: {content_type}\r\nContent-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


async def load(
    base: str,
    requests: list[bytes],
    seconds: float,
    clients: int,
    *,
    ok: bytes = b"200",
    seed: int = 0,
) -> dict[str, Any]:
    """`clients` keep-alive connections to `base`, each sending one of `requests` (at random)
    as soon as its last is answered. Raw HTTP/1.1 over asyncio streams, requests encoded
    beforehand: a Python HTTP client would take a good part of this two-core machine from the
    server it measures. An answer whose status is not `ok` counts as an error. Each client picks
    by its own random sequence from `seed`: a run that must not repeat an earlier one's requests
    (writes) takes another seed."""
    parsed = httpx.URL(base)
    latencies: list[float] = []
    errors = 0
    statuses: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds

    async def worker(client: int) -> None:
        nonlocal errors
        rng = random.Random(seed * 1000 + client)
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(rng.choice(requests))
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[head[9:12].decode()] += 1
            if not head.startswith(b"HTTP/1.1 " + ok):
                errors += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "statuses": dict(statuses),
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


async def paced(
    base: str, requests: list[bytes], seconds: float, clients: int, rate: float
) -> dict[str, Any]:
    """`clients` keep-alive connections sending `rate` requests a second between them, as
    people do (each at their own pace), where `load` sends as fast as answers come back: request
    k of client i is due at (k * clients + i) / rate and is `requests[(k * clients + i) % len]`
    (all different while there are enough: votes from new phones). Each latency runs from when
    the request was due, so a request that waits for its client's previous answer counts that
    wait too (no coordinated omission)."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    start = time.perf_counter() + 0.5

    async def client(i: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        k = 0
        while True:
            due = start + (k * clients + i) / rate
            if due > start + seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            writer.write(requests[(k * clients + i) % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - due)
            statuses[head[9:12].decode()] += 1
            k += 1
        writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "statuses": dict(statuses),
        "rps": len(latencies) / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def wrk(
    url: str,
    seconds: float,
    connections: int,
    *,
    bodies: list[Any] | None = None,
    threads: int = 1,
    many_clients: bool = False,
    form: bool = False,
    lua: str = "",
) -> dict[str, Any]:
    """wrk, a load generator in C (Debian's package `wrk`: `scripts/system_packages bench`):
    `connections` keep-alive connections to `url` for `seconds`, each sending its next request
    as soon as its last is answered; a GET, or with `bodies` a JSON POST of one of them at
    random (encoded once, before the run). One wrk thread takes a small part of a core, where
    a Python load generator would take one from the server it measures. Answers other than
    2xx/3xx and socket errors count as errors. `many_clients`: each request comes from an
    address of its own (`X-Forwarded-For`, which the server must believe from 127.0.0.1), as
    villagers' phones do; from one address, a per-client limit keeps every request of the
    window in one list, which no real client makes it do. `form`: the bodies are sent as an
    HTML form (application/x-www-form-urlencoded), as the H5 app's pages post them. `lua`: the
    caller's own Lua, run after this script's (it may define `request`, e.g. a new body for
    every request)."""
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    encoded = [
        urlencode(body) if form else json.dumps(body, ensure_ascii=False) for body in bodies or []
    ]
    script = [
        "local requests = {}",
        "local bodies = {",
        *("[==[" + body + "]==]," for body in encoded),
        "}",
        "init = function(args)",
        "  math.randomseed(os.time())",
        "  for i, body in ipairs(bodies) do",
        f'    requests[i] = wrk.format("POST", nil, {{["Content-Type"] = "{content_type}"}}, body)',
        "  end",
        "end",
        f"local many_clients = {'true' if many_clients else 'false'}",
        "local function address()",
        "  return string.format('10.%d.%d.%d', math.random(0, 255), math.random(0, 255),",
        "    math.random(1, 254))",
        "end",
        "if #bodies > 0 and many_clients then",
        "  request = function()",
        f'    local headers = {{["Content-Type"] = "{content_type}",',
        '      ["X-Forwarded-For"] = address()}',
        '    return wrk.format("POST", nil, headers, bodies[math.random(#bodies)])',
        "  end",
        "elseif #bodies > 0 then",
        "  request = function() return requests[math.random(#requests)] end",
        "end",
        "done = function(summary, latency, _)",
        "  local e = summary.errors",
        "  io.write(string.format('WRK %d %d %d %d %d\\n', summary.requests, summary.duration,",
        "    e.status + e.connect + e.read + e.write + e.timeout,",
        "    latency:percentile(50), latency:percentile(99)))",
        "end",
        lua,
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script_file:
        script_file.write("\n".join(script))
        script_file.flush()
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout"]
        out = subprocess.run(
            [*command, "10s", "-s", script_file.name, url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    found = re.search(r"^WRK (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    requests, micros, errors, p50, p99 = map(int, found.groups())
    return {
        "requests": requests,
        "errors": errors,
        "rps": requests / (micros / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
    }
