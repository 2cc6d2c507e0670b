"""The settings table (core/fields.py) is the one source of a setting's facts: the config, the controls, the
docs key table and old share links agree with it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from core import config as C
from core.activations import ACTIVATIONS
from core.config import ExperimentConfig
from core.fields import FIELDS, URL_KEYS, WIDGETS
from core.initializers import BIAS_SCHEMES, HE_MODES, PARAMS, SCHEMES
from tests.apptest_util import config_from_link

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "tests" / "fixtures" / "all_controls_page.py")

# Links and the experiment each opened on the main branch before the settings table (2026-12-04), read from
# tests/fixtures/all_controls_page.py: every field that differs from ExperimentConfig's default. A link that
# worked then must open the same experiment now (out-of-range values clamped the same way, typos ignored).
# fmt: off
OLD_LINKS: list[tuple[str, dict[str, object]]] = [
    (
        'data=moons&n=400&noise=0.2&dseed=3&depth=5&width=64&act=relu&init=he_normal&init=xavier_uniform&scale=2&gain=auto&mode=fan_out&steps=150&seed=7&opt=adam&lr=0.01&batch=128&dtype=float32',
        {'dataset': 'moons', 'n_samples': 400, 'noise': 0.2, 'data_seed': 3, 'depth': 5, 'width': 64, 'activation': 'relu', 'schemes': ('he_normal', 'xavier_uniform'), 'scale': 2.0, 'gain': 'auto', 'he_mode': 'fan_out', 'optimizer': 'adam', 'lr': 0.01, 'batch_size': 128, 'steps': 150, 'seed': 7, 'dtype': 'float32'},
    ),
    (
        'init=normal&init=truncated_normal&sigma=0.1&bias=normal&bval=0.2&act=leaky_relu&slope=0.1',
        {'activation': 'leaky_relu', 'schemes': ('normal', 'truncated_normal'), 'weight_std': 0.1, 'leaky_slope': 0.1, 'bias_init': 'normal', 'bias_value': 0.2},
    ),
    (
        'init=constant&c=0.3&bias=constant&bval=-0.5&data=blobs&k=4',
        {'dataset': 'blobs', 'n_classes': 4, 'schemes': ('constant',), 'weight_const': 0.3, 'bias_init': 'constant', 'bias_value': -0.5},
    ),
    (
        'init=uniform&a=0.2&act=sigmoid&data=circles&out=zeros',
        {'dataset': 'circles', 'activation': 'sigmoid', 'schemes': ('uniform',), 'weight_bound': 0.2, 'output_init': 'zeros'},
    ),
    (
        'init=sparse&sparsity=0.3&sigma=0.05&act=gelu&data=xor',
        {'dataset': 'xor', 'activation': 'gelu', 'schemes': ('sparse',), 'weight_std': 0.05, 'sparsity': 0.3},
    ),
    (
        'init=lsuv&init=orthogonal&block=residual&norm=layer&alpha=inv_sqrt_2l&branch=2&depth=20',
        {'depth': 20, 'block': 'residual', 'norm': 'layer', 'alpha': 'inv_sqrt_2l', 'branch_layers': 2, 'schemes': ('lsuv', 'orthogonal')},
    ),
    (
        'data=gaussian&dim=300&k=3&init=lecun_normal&act=linear&steps=0',
        {'dataset': 'gaussian', 'input_dim': 300, 'activation': 'linear', 'schemes': ('lecun_normal',), 'steps': 0},
    ),
    (
        'depth=300&width=1000&lr=50&sigma=1e-9&n=5&steps=99999&scale=0.001',
        {'n_samples': 100, 'depth': 50, 'width': 256, 'scale': 0.01, 'weight_std': 1e-06, 'lr': 10.0, 'steps': 68},
    ),
    (
        'init=he_uniform&scale=1.414&width=32&batch=8&opt=momentum&norm=batch',
        {'norm': 'batch', 'schemes': ('he_uniform',), 'scale': 1.414, 'optimizer': 'momentum', 'batch_size': 8},
    ),
    (
        'init=xavier&act=tanhh&depth=abc&unknown=1',
        {},
    ),
]
# fmt: on


def test_every_config_field_has_one_row_and_every_row_is_a_field():
    assert set(FIELDS) == {f.name for f in dataclasses.fields(ExperimentConfig)}
    assert len(set(URL_KEYS.values())) == len(URL_KEYS)  # one key per idea
    for f in FIELDS.values():
        assert f.widget in WIDGETS, f.name
        assert (f.key == "") == (f.widget == "") == (f.label is None), f.name
        if f.widget in ("select", "radio", "schemes"):
            assert f.choices, f.name
        else:
            assert f.limits is not None and f.choices is None, f.name
        if f.widget == "grid":
            assert f.limits[0] <= min(f.grid) and max(f.grid) <= f.limits[1], f.name


def test_the_choices_are_the_cores_ids():
    assert set(FIELDS["activation"].choices) == set(ACTIVATIONS)
    assert FIELDS["schemes"].choices == tuple(SCHEMES)
    assert set(FIELDS["bias_init"].choices) == set(BIAS_SCHEMES)
    assert FIELDS["he_mode"].choices == HE_MODES
    # every scheme parameter reads a setting of the table
    assert {p.field for p in PARAMS.values()} <= set(FIELDS)


def test_validation_and_the_budget_read_the_table():
    assert C.LIMITS["depth"] == FIELDS["depth"].limits and C.LIMITS["n_schemes"] == FIELDS["schemes"].limits
    assert C.ACTIVATIONS == FIELDS["activation"].choices
    with pytest.raises(ValueError, match="depth must be an integer"):
        C.validate(ExperimentConfig(depth=3.0))
    with pytest.raises(ValueError, match=r"sparsity must be a finite number in \[0, 1\]"):
        C.validate(ExperimentConfig(sparsity=1.5))
    fitted, notes = C.fit_to_budget(ExperimentConfig(sparsity=1.5, depth=0))
    assert (fitted.sparsity, fitted.depth) == (1.0, 1) and len(notes) == 2


def _docs_table() -> dict[str, str]:
    text = (ROOT / "docs" / "CONTRIBUTING.md").read_text()
    section = text[text.index("## URL keys") :]
    section = section[: section.index("\n\n", section.index("|"))]
    return dict(re.findall(r"\|\s*(\w+)\s*\|\s*`(\w+)`", section))


def test_the_contributing_key_table_is_the_field_table():
    assert _docs_table() == URL_KEYS


def _open(query: str) -> AppTest:
    """The all-controls test page opened with this link's query."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    grouped: dict[str, list[str]] = {}
    for k, v in parse_qsl(query):
        grouped.setdefault(k, []).append(v)
    for k, v in grouped.items():
        at.query_params[k] = v if len(v) > 1 else v[0]
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("query, changed", OLD_LINKS, ids=[q[:40] for q, _ in OLD_LINKS])
def test_links_from_before_the_table_open_the_same_experiment(query, changed):
    assert _open(query).session_state["_test_config"] == ExperimentConfig(**changed)


def test_a_share_link_reads_back_as_the_config_it_ran():
    """tests/apptest_util.config_from_link: the page's share link lists every control, so it is the config."""
    at = _open(OLD_LINKS[1][0])
    assert config_from_link(at, strict=True) == at.session_state["_test_config"]
    assert config_from_link(at) == at.session_state["_test_config"]
