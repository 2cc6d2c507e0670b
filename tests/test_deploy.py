"""Deploy fidelity: the app needs nothing but requirements.txt, and starts from a clean copy as Community Cloud would.

The import check is quick; the fresh-venv check takes minutes: `INITLAB_SLOW=1 python -m pytest tests/test_deploy.py`.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.browser_util import CHROMIUM

ROOT = Path(__file__).resolve().parent.parent
APP_SOURCES = ["app.py", "pages", "ui", "figures", "analysis", "core", "i18n"]
LOCAL = {"app", "pages", "ui", "figures", "analysis", "core", "i18n", "tests", "benchmarks"}
DEV_ONLY = {"pytest", "pytest-timeout", "hypothesis", "ruff", "playwright"}
SLOW = pytest.mark.skipif(
    not os.environ.get("INITLAB_SLOW"), reason="minutes: set INITLAB_SLOW=1 to build a fresh venv and serve"
)


def app_files() -> list[Path]:
    out: list[Path] = []
    for name in APP_SOURCES:
        p = ROOT / name
        out += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return out


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every absolute import in a file, wherever it sits (functions, try blocks)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def third_party_imports() -> dict[str, set[str]]:
    """Import name -> files importing it, stdlib and the app's own packages left out."""
    out: dict[str, set[str]] = {}
    for path in app_files():
        for name in imported_modules(path):
            if name in sys.stdlib_module_names or name in LOCAL or name == "__future__":
                continue
            out.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return out


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path = ROOT / "requirements.txt") -> dict[str, Requirement]:
    reqs: dict[str, Requirement] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            r = Requirement(line)
            reqs[canonical(r.name)] = r
    return reqs


def test_the_import_scan_sees_the_apps_real_dependencies():
    found = third_party_imports()
    # If the scan missed these, it would pass for the wrong reason.
    assert {"streamlit", "numpy", "plotly"} <= set(found), sorted(found)
    assert "pages/home.py" in found["streamlit"]
    assert not {"os", "math", "core", "ui", "figures"} & set(found)


def test_every_import_of_the_app_is_in_requirements_txt():
    reqs = requirements()
    dists = md.packages_distributions()
    missing = []
    for name, files in sorted(third_party_imports().items()):
        candidates = {canonical(d) for d in dists.get(name, [name])}
        if not candidates & set(reqs):
            missing.append(f"{name} (distribution {sorted(candidates)}) imported by {sorted(files)}")
    assert not missing, "not in requirements.txt: " + "; ".join(missing)


def test_installed_versions_satisfy_requirements_and_no_dev_tools_are_runtime_deps():
    reqs = requirements()
    assert not DEV_ONLY & set(reqs), f"dev tools in requirements.txt: {sorted(DEV_ONLY & set(reqs))}"
    for name, r in reqs.items():
        version = md.version(r.name)
        assert r.specifier.contains(version, prereleases=True), f"{r.name} {version} is outside {r.specifier}"
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev  # the dev file adds to the runtime set, never replaces it


# ------------------------------------------------------------------------------------- fresh clone + venv


def clean_copy(dest: Path) -> list[str]:
    """Copy what a clone would hold: tracked files plus untracked, non-ignored ones (the lead commits later)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    files = sorted({f for f in listed.split("\0") if f and (ROOT / f).is_file()})
    for f in files:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest / f)
    return files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.read()
    except OSError:
        return None


@SLOW
@pytest.mark.slow
def test_fresh_clone_with_only_requirements_serves_the_first_page(tmp_path):
    app = tmp_path / "clone"
    files = clean_copy(app)
    assert "app.py" in files and "requirements.txt" in files and not any(f.endswith(".pyc") for f in files)
    venv = Path(os.environ.get("INITLAB_DEPLOY_VENV") or tmp_path / "venv")
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["HOME"] = str(tmp_path / "home")  # no ~/.streamlit of this machine
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
            cwd=app,
            env=env,
            check=True,
            timeout=1500,
        )
    installed = subprocess.run(
        [str(py), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True, env=env
    ).stdout
    names = {canonical(line.split("==")[0]) for line in installed.splitlines() if "==" in line}
    assert not DEV_ONLY & names, f"dev packages in the runtime venv: {sorted(DEV_ONLY & names)}"

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with open(log, "w") as fh:
        server = subprocess.Popen(
            [str(py), "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}",
             "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
            cwd=app, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _get(f"{url}/_stcore/health") != b"ok":
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no health within 120 s: " + log.read_text()[-3000:]
            time.sleep(0.5)
        if not Path(CHROMIUM).is_file():
            pytest.skip(f"server healthy; the page check needs Chromium at {CHROMIUM}")
        from playwright.sync_api import sync_playwright

        from tests.browser_util import error_texts, open_page
        from tests.browser_util import CHROMIUM_ARGS

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_page(page, url)
            assert page.locator("h1", has_text="Why should weights start near zero").is_visible()
            assert error_texts(page) == []
            # and one lesson trains and draws in the clean environment
            open_page(page, f"{url}/training?steps=50", charts=True)
            assert page.locator(".js-plotly-plot").count() >= 3
            assert error_texts(page) == []
            page.screenshot(path=str(tmp_path / "training.png"))
            browser.close()
        text = log.read_text()
        assert "Traceback" not in text and "ModuleNotFoundError" not in text, text[-3000:]
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_every_script_imports_ui_boot_first():
    """app.py and every page import ui.boot before anything else (ui/boot.py: the cold-start import race)."""
    root = Path(__file__).resolve().parent.parent
    for path in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
        imports = [
            node
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Import | ast.ImportFrom)
            and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        ]
        first = imports[0]
        assert isinstance(first, ast.Import) and first.names[0].name == "ui.boot", path.name
