"""A small closed-loop HTTP load generator (threads + http.client) for what wrk cannot do well.

Quiz submission: each attempt may be submitted once (a replay is a no-op that grades nothing),
so every request must carry a different, pre-started attempt with its own answers. wrk's Lua
can rotate prepared requests, but it cannot start attempts and parse their forms first, and a
replayed attempt would measure the cheap no-op path. Here each of `connections` threads takes
the next prepared submission from a shared queue, POSTs it on a fresh connection (gunicorn's
sync workers close the connection after each response, as they do for wrk), and records the
latency. The generator's own ceiling is measured against the bare "hello" app in the same run
(see `run(..., items=None)`), so the report shows it is not the bottleneck.
"""

from __future__ import annotations

import collections
import http.client
import threading
import time
from urllib.parse import urlencode

USER_AGENT = "kelisim-bench/1"


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def encode_submission(item: dict) -> tuple[str, str, bytes, dict]:
    body = urlencode(item["fields"], doseq=True).encode()
    headers = {
        "Cookie": item["cookie"],
        "User-Agent": USER_AGENT,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return "POST", item["path"], body, headers


def run(
    host: str,
    port: int,
    requests: list[tuple[str, str, bytes | None, dict]] | None,
    *,
    connections: int = 16,
    duration: float = 10.0,
    expect: tuple[int, ...] = (200,),
    get_path: str = "/",
) -> dict:
    """Drive `requests` (each used once) or, when None, `GET get_path` repeatedly, for up to
    `duration` seconds with `connections` concurrent clients. Returns counts and latencies (ms)."""
    queue = collections.deque(requests) if requests is not None else None
    latencies: list[list[float]] = [[] for _ in range(connections)]
    statuses: collections.Counter = collections.Counter()
    errors: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Event()
    deadline_box = [0.0]
    finished_at = [0.0] * connections
    plain = ("GET", get_path, None, {"User-Agent": USER_AGENT})

    def worker(slot: int) -> None:
        start_gate.wait()
        mine = latencies[slot]
        local_status: collections.Counter = collections.Counter()
        while time.perf_counter() < deadline_box[0]:
            if queue is None:
                method, path, body, headers = plain
            else:
                try:
                    method, path, body, headers = queue.popleft()
                except IndexError:
                    break
            t0 = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(host, port, timeout=60)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
            except OSError as error:
                with lock:
                    errors.append(repr(error))
                continue
            mine.append((time.perf_counter() - t0) * 1000)
            local_status[response.status] += 1
        finished_at[slot] = time.perf_counter()
        with lock:
            statuses.update(local_status)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline_box[0] = started + duration
    start_gate.set()
    for thread in threads:
        thread.join()
    elapsed = max(finished_at) - started
    values = sorted(v for per in latencies for v in per)
    good = sum(n for status, n in statuses.items() if status in expect)
    return {
        "requests": len(values),
        "ok": good,
        "statuses": dict(statuses),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "elapsed_s": elapsed,
        "rps": good / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(values, 50),
        "p99_ms": percentile(values, 99),
        "max_ms": values[-1] if values else 0.0,
        "exhausted": queue is not None and not queue and elapsed < duration - 0.05,
        "left": len(queue) if queue is not None else None,
    }
