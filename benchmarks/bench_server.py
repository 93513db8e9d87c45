"""The lineage server over HTTP on loopback, and the explorer drawing a big graph.

Uses the database ``bench_lineage.py`` generates (run it first, e.g.
``python benchmarks/bench_lineage.py --samples 0`` for 100,000 step runs), then:

- the median and p90 of ``GET /api/v1/lineage`` (upstream, answers under 100
  nodes) over HTTP on loopback with one keep-alive client (target p50 < 10 ms);
- the time headless Chromium (Debian's) takes to lay out and paint a lineage
  graph of 1,000 nodes (target < 2 s): from adding the elements to the first
  frame painted after the layout, as the page records it in ``data-drawn-ms``.
  Above 500 nodes the page uses its linear layered layout (``layered.js``).

Each figure is printed next to a fixed pure-Python loop's time on this machine.

    python benchmarks/bench_server.py --database /tmp/lineagelog-bench/lineage.db
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import httpx


def reference_loop_ms() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i % 7
    return (time.perf_counter() - started) * 1000


def start_server(database: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGELOG_")}
    env["LINEAGELOG_DATABASE_URL"] = f"sqlite:///{database}"
    env["LINEAGELOG_ARTIFACT_STORE"] = os.path.dirname(database) + "/artifacts"
    process = subprocess.Popen(
        [sys.executable, "-m", "lineagelog.api.cli", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    found = re.search(r"http://(\S+?):(\d+)/", process.stderr.readline())
    assert found, "the server did not start"
    return process, f"http://{found.group(1)}:{found.group(2)}"


def bench_http(url: str, samples: int) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        ids = [
            v["id"]
            for offset in range(0, samples * 4, 1000)
            for v in client.get(
                "/api/v1/artifact-versions", params={"limit": 1000, "offset": offset}
            ).json()["items"]
        ]
        times: list[float] = []
        for node in ids:
            params = {"node": node, "direction": "upstream", "depth": 4}
            started = time.perf_counter()
            answer = client.get("/api/v1/lineage", params=params).json()
            took = (time.perf_counter() - started) * 1000
            if len(answer["nodes"]) < 100:
                times.append(took)
            if len(times) >= samples:
                break
    times.sort()
    p50 = statistics.median(times)
    p90 = times[int(len(times) * 0.9)]
    what = f"GET /api/v1/lineage (<100 nodes), {len(times)} samples"
    print(f"{what}: p50 {p50:.2f} ms, p90 {p90:.2f} ms")


def bench_draw(url: str, hub: str, repeats: int = 5) -> None:
    from urllib.parse import quote

    from playwright.sync_api import sync_playwright

    view = f"{url}/#/lineage?node={quote(hub)}&direction=downstream&depth=6&max_nodes=1000"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        drawn, whole = [], []
        for _ in range(repeats):
            page.goto("about:blank")  # a fresh page each time, not a same-document hash change
            started = time.perf_counter()
            page.goto(view)
            deadline = time.monotonic() + 120
            while page.get_attribute("#cy", "data-drawn-ms") is None:
                assert time.monotonic() < deadline, "the graph was never drawn"
                time.sleep(0.01)
            whole.append((time.perf_counter() - started) * 1000)
            nodes = int(page.get_attribute("#cy", "data-nodes") or 0)
            drawn.append(float(page.get_attribute("#cy", "data-drawn-ms") or 0))
        page.screenshot(path="/tmp/lineagelog-bench-1000.png")
        browser.close()
    print(
        f"{nodes} nodes in Chromium: layout and paint median {statistics.median(drawn):.0f} ms; "
        f"page load, API answer, layout and paint median {statistics.median(whole):.0f} ms "
        f"({repeats} loads)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="/tmp/lineagelog-bench/lineage.db")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument(
        "--hub",
        default="ingest::ingest::output_0",
        help="an artifact with a large downstream (bench_lineage.py's first hub dataset)",
    )
    args = parser.parse_args()
    print(f"reference: a 1,000,000-step pure-Python loop takes {reference_loop_ms():.0f} ms here")
    process, url = start_server(args.database)
    try:
        bench_http(url, args.samples)
        bench_draw(url, args.hub)
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
