"""Shared fixtures: the real app served by `streamlit run` on a free port, and headless Debian Chromium.

Browser tests use `app_url` and `browser`; they skip with a reason when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_util import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/artifacts/: screenshots and the server log of the browser tests."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@contextlib.contextmanager
def serve(
    log_path: Path, env: dict[str, str] | None = None, root: Path = ROOT, timeout: float = 60
) -> Iterator[str]:
    """Start `streamlit run app.py` of `root` headless on a free loopback port; yield its URL; stop it.

    The one way tests and benchmarks (benchmarks/browser_draw.py, closed_tab.py) start the app.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(f"streamlit in {root} did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def app_url(artifacts: Path) -> Iterator[str]:
    """The app served once for the whole test session."""
    with serve(artifacts / "streamlit-server.log") as url:
        yield url


@pytest.fixture
def fresh_app_url(artifacts: Path) -> Iterator[str]:
    """A server of its own that no browser has visited yet (for first-visit behaviour)."""
    with serve(artifacts / "streamlit-fresh-server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    """A fresh browser context (no shared cookies or storage) at a laptop size."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield ctx
    ctx.close()
