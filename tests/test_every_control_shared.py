"""Every control of every lesson reaches the share link: set each to a value other than its default, open the
page's share link in a fresh session, and every widget, metric and sentence is the same.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_util import open_page, share_link

pytestmark = pytest.mark.slow

KINDS = ("selectbox", "multiselect", "slider", "select_slider", "number_input", "radio")

# url_path -> (URL key, value) in drawing order: each a non-default value (a control that only appears
# for some values, such as bval for a normal bias, comes after the control that shows it).
SETTINGS: dict[str, list[tuple[str, object]]] = {
    "symmetry": [
        ("init", "zeros"),
        ("bias", "normal"),
        ("bval", 0.2),
        ("act", "relu"),
        ("depth", 3),
        ("width", 8),
        ("opt", "adam"),
        ("lr", 0.01),
        ("steps", 100),
        ("data", "moons"),
        ("seed", 3),
        ("layer", 1),
    ],
    "depth": [
        ("init", "he_normal"),
        ("mode", "fan_out"),
        ("scale", 2.0),
        ("gain", "auto"),
        ("depth", 5),
        ("width", 32),
        ("act", "leaky_relu"),
        ("slope", 0.1),
        ("bias", "constant"),
        ("bval", 0.1),
        ("data", "blobs"),
        ("k", 4),
        ("noise", 0.2),
        ("n", 400),
        ("dseed", 1),
        ("seed", 2),
        ("steps", 50),
        ("opt", "momentum"),
        ("lr", 0.05),
        ("batch", 128),
        ("dtype", "float32"),
    ],
    "training": [
        ("init", ["normal", "he_normal", "constant", "uniform"]),
        ("sigma", 0.1),
        ("c", 0.2),
        ("a", 0.1),
        ("depth", 2),
        ("width", 16),
        ("act", "leaky_relu"),
        ("scale", 0.5),
        ("bias", "normal"),
        ("bval", 0.05),
        ("opt", "adam"),
        ("lr", 0.01),
        ("batch", 32),
        ("steps", 100),
        ("data", "blobs"),
        ("seed", 1),
        ("k", 4),
        ("noise", 0.2),
        ("n", 300),
        ("dseed", 2),
        ("gain", "auto"),
        ("mode", "fan_out"),
        ("slope", 0.2),
        ("dtype", "float32"),
        ("target", 0.3),
    ],
    "phase": [
        ("act", "relu"),
        ("sb", 0.1),
        ("data", "circles"),
        ("width", 16),
        ("cellsteps", 50),
        ("seed", 1),
        ("color", None),  # the radio's second option
    ],
}


def widget(at: AppTest, key: str):
    for kind in KINDS:
        try:
            return getattr(at, kind)(key=key)
        except KeyError:
            continue
    raise KeyError(f"no widget with key {key!r}")


def seen(at: AppTest, keys: list[str]) -> dict:
    return {
        "widgets": {k: at.session_state[k] for k in keys},
        "metrics": [m.value for m in at.metric],
        "text": [m.value for m in at.markdown],
    }


@pytest.mark.parametrize("page", list(SETTINGS))
def test_every_control_reaches_the_share_link(page):
    at = open_page(page, timeout=180)
    assert not at.exception
    for key, value in SETTINGS[page]:
        w = widget(at, key)
        if value is None:
            value = w.options[1]
        assert w.value != value, f"{key}: {value!r} is its default already"
        w.set_value(value).run()
        assert not at.exception, f"{key}={value!r}: {at.exception}"
        assert [e.value for e in at.error] == []
    if page == "training":
        # Which schemes the histograms show is a display choice of that section, not a setting of the
        # experiment (not in the link): it starts as every trained scheme, as in a fresh session.
        hist = at.multiselect(key="tr_hist_schemes")
        hist.set_value(list(hist.options)).run()
    keys = [k for k, _ in SETTINGS[page]]
    link = share_link(at)
    pairs = parse_qsl(urlsplit(link).query)
    for key in keys:
        assert key in dict(pairs), f"{key} is not in the share link"
    query: dict[str, list[str]] = {}
    for k, v in pairs:
        query.setdefault(k, []).append(v)
    fresh = open_page(page, query, timeout=180)
    assert not fresh.exception
    a, b = seen(at, keys), seen(fresh, keys)
    assert a["widgets"] == b["widgets"] and a["metrics"] == b["metrics"]
    diff = [(x, y) for x, y in zip(a["text"], b["text"]) if x != y]
    assert not diff and len(a["text"]) == len(b["text"]), [(x[:60], y[:60]) for x, y in diff]
    assert share_link(fresh) == link


# The pages that let a student pick the init scheme, and the link that picks `sparse` there.
SPARSE_LINKS = {
    "symmetry": {"init": "sparse"},
    "depth": {"init": "sparse"},
    "training": {"init": ["sparse", "he_normal"]},
}


@pytest.mark.parametrize("page", list(SPARSE_LINKS))
def test_a_scheme_brings_the_controls_of_the_parameters_it_reads(page):
    """core.initializers.Scheme.params decides the controls: `sparse` reads σ and its sparsity."""
    at = open_page(page, SPARSE_LINKS[page], timeout=180)
    assert not at.exception
    for key in ("sparsity", "sigma"):
        widget(at, key)  # raises KeyError if the page has no control for it
    assert "sparsity" in dict(parse_qsl(urlsplit(share_link(at)).query))
