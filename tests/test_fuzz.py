"""Hostile links: hypothesis fuzzes the query string of every page of the real app (AppTest).

Each case must render (no exception), say in a notice what it ignored, train only valid configs within the work
budget, fall back to the page's defaults, and never render user text as markup. INITLAB_FUZZ_EXAMPLES=300 for a
nightly run (default: a few per page).
"""

from __future__ import annotations

import math
import os
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import core.phase
import core.train
from core import config as C
from tests.apptest_util import NOTICE_TITLE, open_page, share_links
from ui import controls, nav, share

MAX_EXAMPLES = int(os.environ.get("INITLAB_FUZZ_EXAMPLES", "6"))
TIMEOUT = 180.0  # seconds one AppTest run may take (a cold Phase grid on a busy 2-core machine is ~60 s)
PAGES = [p.url_path for p in nav.PAGES]
PHASE_KEYS = {"sb", "cellsteps", "res", "color"}  # the Phase page's own controls
# Training's target loss, Symmetry's heatmap layer and open tab, Modern's open tab
PAGE_KEYS = {"target", "layer", "view", "part"}
PARTS = ("rescue", "symmetry", "streams", "race")  # Modern's tabs (`part`)
VIEWS = ("weights", "distinct")  # Symmetry's tabs (`view`)
KNOWN = set(controls.URL_KEYS.values()) | PHASE_KEYS | PAGE_KEYS
LANG = "lang"  # the language (ui.i18n): in every share link, tested in tests/test_i18n.py

# Values that cost little to train with the other settings at their page defaults: the valid part of the fuzz.
CHEAP: dict[str, list[str]] = {
    "data": ["spiral", "moons", "circles", "xor", "blobs", "digits"],
    "n": ["100", "200"],
    "noise": ["0", "0.3"],
    "k": ["2", "4"],
    "dseed": ["0", "7"],
    "depth": ["1", "2", "3"],
    "width": ["2", "8", "16"],
    "act": list(C.ACTIVATIONS),
    "init": list(controls.FIELDS["schemes"].choices),
    "scale": ["0.5", "2", "100"],
    "gain": ["1", "auto"],
    "sigma": ["0.01", "1"],
    "c": ["0", "0.5", "-10"],
    "a": ["0.05", "1"],
    "sparsity": ["0", "0.5", "1"],
    "mode": ["fan_in", "fan_out"],
    "slope": ["0.2"],
    "bias": list(C.BIAS_INITS),
    "bval": ["0.1", "-1"],
    "opt": list(C.OPTIMIZERS),
    "lr": ["0.01", "10"],
    "batch": ["8", "32"],
    "steps": ["0", "50", "100"],
    "seed": ["0", "3"],
    "dtype": list(C.DTYPES),
    "block": list(C.BLOCKS),
    "norm": list(C.NORMS),
    "alpha": list(C.ALPHAS),
    "branch": ["1", "2"],
    "dim": ["2", "20"],
    "out": list(C.OUTPUT_INITS),
    # Phase: only its defaults (a new grid is a minute of work; the grid's own limits are tested in extremes)
    "target": ["0.5", "2"],
    "layer": ["1", "2"],
    "view": ["weights", "distinct"],
    "part": ["symmetry", "race"],
    "sb": ["0"],
    "cellsteps": ["200"],
    "res": ["coarse"],
    "color": ["loss-vs-guess"],
}
MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "[phish](https://evil.example/x)",
    "**bold** _it_ `code`",
    "$\\frac{1}{0}$",
    ":red[boom] :material/warning: :smile:",
    "<b>bold</b>",
    "\u202eevil\u202c",
    "line1\nline2\r\n# heading",
    "Ω≈ç√∫ 🧠 漢字",
    "\x00\x1b[31m",
]
NUMBERS = [
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e999", "1e-400",
    "99999999999999999999999", "-1", "-0", "-99", "0x10", "1_000", "3.", ".5", "1e2", " 5 ", "5.5", "", "None",
    "true",
]  # fmt: skip
# Raw substrings that would be live markup if user text reached st.markdown unescaped.
DANGEROUS = ["<script", "<img", "onerror=", "](javascript", "](https://evil", "<b>", ":red[", "\u202e"]


def unescaped(raw: str, body: str) -> bool:
    """True if `raw` occurs in `body` without a markdown backslash escape before it."""
    i = body.find(raw)
    while i != -1:
        if i == 0 or body[i - 1] != "\\":
            return True
        i = body.find(raw, i + 1)
    return False


def _invalid_anywhere(value: str) -> bool:
    """True if no control of any page accepts this value (so a notice must name its key)."""
    try:
        x = float(value)
    except ValueError:
        valid_words = {*C.DATASETS, *C.ACTIVATIONS, *C.BIAS_INITS, *C.OPTIMIZERS, *C.DTYPES, *C.HE_MODES,
                       *controls.FIELDS["schemes"].choices, *C.BLOCKS, *C.NORMS, *C.ALPHAS, *C.OUTPUT_INITS, "1", "auto",
                       "coarse", "fine", "loss-vs-guess", "loss-vs-start",
                       "accuracy", *PARTS, *VIEWS}  # fmt: skip
        return value not in valid_words
    return not math.isfinite(x) or abs(x) > 2**31


long_text = st.builds(
    lambda ch, n: ch * n, st.sampled_from(["x", "<", "é", "9", "%"]), st.integers(200, 20_000)
)
garbage = st.one_of(
    st.sampled_from(MARKUP),
    st.sampled_from(NUMBERS),
    long_text,
    st.text(max_size=40),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
unknown_key = st.one_of(
    st.text(min_size=1, max_size=30).filter(
        lambda k: k.strip() and k not in KNOWN | {LANG} and k not in share.RESERVED
    ),
    st.sampled_from(["Depth", "DEPTH", "depth ", "<script>", "__proto__", "page", "x" * 500, "init[]"]),
)


@st.composite
def queries(draw) -> dict[str, list[str]]:
    """A query string as a dict of key -> values (repeated keys have several)."""
    query: dict[str, list[str]] = {}
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["known", "known", "unknown", "reserved"]))
        if kind == "known":
            key = draw(st.sampled_from(sorted(KNOWN)))
            value = st.one_of(garbage, st.sampled_from(CHEAP[key]))
        elif kind == "unknown":
            key, value = draw(unknown_key), garbage
        else:
            key, value = "embed", st.sampled_from(["true", "false", "<script>"])
        query[key] = draw(st.lists(value, min_size=1, max_size=3))
    return query


# ------------------------------------------------------------------------------------ spies on the training


class Spy:
    """Wraps the functions the cached entry points call: every config they get must be valid and in budget."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.violations: list[str] = []

    def run_many(self, real):
        def wrapper(configs, progress=None, diagnostics=True):
            for c in configs:
                try:
                    C.validate(c)
                except ValueError as err:
                    self.violations.append(f"invalid config reached run_many: {err}")
                if c.work > C.MAX_WORK:
                    self.violations.append(f"work {c.work:.3g} > MAX_WORK")
            self.calls.append(f"run_many x{len(configs)}")
            return real(configs, progress=progress, diagnostics=diagnostics)

        return wrapper

    def run_grid(self, real):
        def wrapper(pc, progress=None, **kw):
            try:
                core.phase.validate_phase(pc)
            except ValueError as err:
                self.violations.append(f"invalid phase config reached run_grid: {err}")
            self.calls.append("run_grid")
            return real(pc, progress=progress, **kw)

        return wrapper


@pytest.fixture(scope="module")
def spy():
    s = Spy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(core.train, "run_many", s.run_many(core.train.run_many))
        mp.setattr(core.phase, "run_grid", s.run_grid(core.phase.run_grid))
        yield s


# ------------------------------------------------------------------------------------ reading the page


def walk(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)


MARKDOWN_KINDS = {"markdown", "caption", "warning", "info", "error", "success", "exception", "title", "header",
                  "subheader", "heading", "toast", "metric", "expander"}  # fmt: skip


def rendered_markdown(at) -> list[tuple[str, str, bool]]:
    """(kind, text, allows HTML) of every element whose text Streamlit renders as markdown."""
    out = []
    for node in walk(at._tree):
        kind = getattr(node, "type", "")
        if kind not in MARKDOWN_KINDS:
            continue
        proto = getattr(node, "proto", None)
        texts = []
        for attr in ("body", "label", "value", "message"):
            v = getattr(proto, attr, None)
            if isinstance(v, str) and v:
                texts.append(v)
        out.append((kind, "\n".join(texts), bool(getattr(proto, "allow_html", False))))
    return out


def notice(at) -> str:
    texts = [w.value for w in at.warning if w.value.startswith(NOTICE_TITLE)]
    assert len(texts) <= 1, texts
    return texts[0] if texts else ""


def link_params(at) -> dict[str, list[str]]:
    links = [link for link in share_links(at) if "?" in link]
    if not links:
        return {}
    out: dict[str, list[str]] = {}
    for k, v in parse_qsl(urlsplit(links[-1]).query, keep_blank_values=True):
        out.setdefault(k, []).append(v)
    return out


BASELINE: dict[str, dict[str, list[str]]] = {}


def baseline(page: str) -> dict[str, list[str]]:
    """The share-link parameters of the page opened with no query: its defaults."""
    if page not in BASELINE:
        at = open_page(page, {}, timeout=TIMEOUT)
        assert not at.exception
        BASELINE[page] = link_params(at)
    return BASELINE[page]


def _finite(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def check_case(page: str, query: dict[str, list[str]], spy: Spy) -> float:
    """Open `page` with `query` and assert everything a hostile link must not break. Returns seconds."""
    defaults = baseline(page)
    before = len(spy.violations)
    start = time.perf_counter()
    at = open_page(page, {k: v[0] if len(v) == 1 else v for k, v in query.items()}, timeout=TIMEOUT)
    seconds = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    assert spy.violations[before:] == []
    text = notice(at)
    used = link_params(at)
    for key, values in query.items():
        if key in share.RESERVED:
            assert f"**{share.md_escape(key)}**" not in text
            assert key not in used  # never copied into a share link
            continue
        must_report = key not in KNOWN or any(_invalid_anywhere(v) for v in values)
        must_report |= len(values) > 1 and key != controls.URL_KEYS["schemes"]
        if key == controls.URL_KEYS["schemes"] and values == [""] and page == "training":
            must_report = False  # `init=` is the multiselect's "none picked": the page asks for one in words
        if must_report and text.count("\n- ") <= share.MAX_REPORTED:
            assert f"**{share.md_escape(key)}**" in text, (key, values, text)
        malformed = all(_invalid_anywhere(v) and not _finite(v) for v in values)
        if key in defaults and key in used and malformed:  # out-of-range numbers clamp instead
            if key != controls.URL_KEYS["schemes"]:
                assert used[key] == defaults[key], (key, values, used[key])  # back to the page default
    for key, values in used.items():
        assert key in KNOWN | {LANG}, key  # the share link holds only the app's own keys ...
        if key == LANG:
            assert values in (["en"], ["de"]), values
            continue
        for v in values:
            assert not _invalid_anywhere(v), (key, v)  # ... with valid values
            assert len(v) < 40
    for kind, body, allows_html in rendered_markdown(at):
        assert not allows_html, (kind, body[:200])
        for raw in DANGEROUS:
            assert not unescaped(raw, body), (kind, raw, body[:300])
    return seconds


# ------------------------------------------------------------------------------------ the tests

HOSTILE = {
    "depth": ["<script>alert(1)</script>"],
    "steps": ["nan"],
    "lr": ["inf", "-1e308"],
    "width": ["99999999999999999999999"],
    "[x](javascript:alert(1))": ["1"],
    "act": ["tanh", "relu"],
    "zzz": ["é" * 5000],
}
SHOWN_KEYS = {"<script>": ["<img src=x onerror=alert(1)>"], "init": ["zeros", "bogus", "<b>x</b>"]}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p or "home")
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("INITLAB_FUZZ_EXAMPLES"),  # CI: the same cases every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    database=None,
)
@given(query=queries())
@example(query=HOSTILE)
@example(query=SHOWN_KEYS)
@example(query={"embed": ["true"], "embed_options": ["<script>"]})
def test_hostile_query_strings_render_with_a_notice_and_no_markup(page, query, spy):
    seconds = check_case(page, query, spy)
    assert seconds < TIMEOUT


def test_the_checks_catch_what_they_claim_to_catch():
    """The markup and notice checks are not vacuous: an unescaped value and a missing notice fail them."""
    assert "<script" in "x <script>" and share.md_escape("<script>") == "\\<script\\>"
    assert _invalid_anywhere("nan") and _invalid_anywhere("<b>") and _invalid_anywhere("1e40")
    assert (
        not _invalid_anywhere("tanh") and not _invalid_anywhere("0.5") and not _invalid_anywhere("he_normal")
    )
    at = open_page("", {"<script>": "<img src=x onerror=alert(1)>"}, timeout=TIMEOUT)
    bodies = "\n".join(body for _, body, _ in rendered_markdown(at))
    assert NOTICE_TITLE in bodies  # the walker sees the notice ...
    assert "\\<script\\>" in bodies and not unescaped("<script", bodies)  # ... and its escaped key
    assert unescaped("<script", "a <script>") and not unescaped("<script", "a \\<script\\>")


def test_budget_spy_sees_every_training(spy):
    """A new config on a lesson page goes through the spy (so the fuzz really checks what is trained)."""
    n = len(spy.calls)
    at = open_page("training", {"seed": "424242", "steps": "50", "depth": "1", "width": "8"}, timeout=TIMEOUT)
    assert not at.exception
    assert len(spy.calls) == n + 1 and spy.calls[-1] == "run_many x4"
