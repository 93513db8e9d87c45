"""A real ``lineagelog serve`` process on loopback, and a pipeline to look at through it.

Import from any test module (``from served import Server, serve``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from cli import PACKAGE_PARENT
from waiting import wait_until

from lineagelog.api import HTMLString, pipeline, step

__all__ = ["MALICIOUS_HTML", "Server", "build_history", "serve", "wait_for_health"]

_BANNER = re.compile(r"serving http://(\S+?):(\d+)/")


@dataclass
class Server:
    """A running server: its base URL and its process."""

    url: str
    process: subprocess.Popen[str]

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@contextmanager
def serve(
    stores: tuple[str, str], *options: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start ``lineagelog serve --port 0 OPTIONS`` on the stores; stop it at the end."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGELOG_")}
    environment["PYTHONPATH"] = str(PACKAGE_PARENT)
    environment["LINEAGELOG_DATABASE_URL"], environment["LINEAGELOG_ARTIFACT_STORE"] = stores
    environment.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "lineagelog.api.cli", "serve", "--port", "0", *options],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    assert process.stderr is not None
    banner = process.stderr.readline()  # printed once the socket listens
    found = _BANNER.search(banner)
    if found is None:
        rest = process.stderr.read() if process.wait(timeout=20) is not None else ""
        raise AssertionError(f"the server did not start: {banner}{rest}")
    server = Server(f"http://{found.group(1)}:{found.group(2)}", process)
    try:
        yield server
    finally:
        server.stop()
        process.stderr.close()


MALICIOUS_HTML = """<!doctype html><p id="out">starting</p><script>
const out = document.getElementById("out");
const seen = [];
try { seen.push("parent:" + window.parent.document.title); }
catch (e) { seen.push("parent blocked"); }
try { seen.push("storage:" + window.localStorage.getItem("secret")); }
catch (e) { seen.push("storage blocked"); }
try { seen.push("cookie:" + document.cookie); }
catch (e) { seen.push("cookie blocked"); }
out.textContent = seen.join("|");
</script>"""


@step
def load(n: int = 4) -> Annotated[list[int], "numbers"]:
    return list(range(n))


@step
def split(numbers: list[int]) -> tuple[Annotated[list[int], "evens"], Annotated[list[int], "odds"]]:
    return [x for x in numbers if x % 2 == 0], [x for x in numbers if x % 2]


@step(enable_cache=False)
def report(evens: list[int]) -> Annotated[HTMLString, "report"]:
    return HTMLString(MALICIOUS_HTML + f"<p>{sum(evens)}</p>")


@pipeline
def numbers(n: int = 4) -> None:
    evens, _ = split(load(n=n))
    report(evens)


def build_history(runs: int = 2) -> Sequence[str]:
    """Run ``numbers`` ``runs`` times in this process (configured stores); return the run ids.

    Runs 1 and 2 use n=4 (the second is served from cache but for ``report``),
    run 3 uses n=5. ``report`` writes an HTML visualization whose script tries
    to reach the page that shows it.
    """
    return [str(numbers(n=4 if i < 2 else 5).id) for i in range(runs)]


def wait_for_health(server: Server) -> None:
    """Wait until ``/healthz`` answers."""
    import httpx

    def up() -> bool:
        try:
            return httpx.get(server.url + "/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(up, 20, "the server to answer /healthz")
