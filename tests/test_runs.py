"""The shared run cache (ui/runs.py): computes once per config and code version, reports errors in words.

Also checks the progress bar trick: a callback passed into a cached function must not break cache replay.
"""

from __future__ import annotations

from unittest.mock import patch

from streamlit.testing.v1 import AppTest

from ui import runs

CALLS: list[object] = []


def fake_run_experiment(config, progress=None):
    CALLS.append(config)
    for i in range(3):
        if progress is not None:
            progress(i / 3, f"step {i}")
    return {s: f"record of {s}" for s in config.schemes}


def _script():
    import streamlit as st

    from core.config import ExperimentConfig
    from ui import runs

    records = runs.experiment(ExperimentConfig(schemes=("zeros", "he_normal"), seed=987654, steps=10))
    st.text(repr(records))


def test_one_computation_per_config_and_no_replay_error():
    runs.clear()
    CALLS.clear()
    with patch("core.train.run_experiment", fake_run_experiment), patch.object(runs, "PROGRESS_AFTER", 0.0):
        first = AppTest.from_function(_script).run()
        second = AppTest.from_function(_script).run()  # another session, same link
    for at in (first, second):
        assert not at.exception
        assert at.text[0].value == "{'zeros': 'record of zeros', 'he_normal': 'record of he_normal'}"
    assert len(CALLS) == 1  # the second session was served from the shared cache
    assert not second.get("progress")  # the finished bar is removed, and nothing was replayed


def test_invalid_config_is_a_plain_error_not_a_traceback():
    def script():
        import streamlit as st

        from core.config import ExperimentConfig
        from ui import runs

        runs.experiment(ExperimentConfig(depth=500))
        st.text("not reached: the page stops after the error")

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert (
        at.error[0].value
        == "This experiment can't run as set: depth must be a finite number in [1, 50], got 500."
    )
    assert not at.text


def test_no_scheme_picked_reads_plainly():
    def script():
        from core.config import ExperimentConfig
        from ui import runs

        runs.experiment(ExperimentConfig(schemes=()), stop=False)

    at = AppTest.from_function(script).run()
    assert at.error[0].value == "Pick at least one initialization to run the experiment."


def test_code_version_follows_the_core_sources(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(runs, "_CORE", tmp_path)
    v1 = runs._code_version()
    (tmp_path / "a.py").write_text("x = 2\n")
    v2 = runs._code_version()
    assert v1 != v2 and len(v1) == 12


def test_config_key_distinguishes_every_field():
    from dataclasses import fields

    from core.config import ExperimentConfig

    base = ExperimentConfig()
    keys = {runs.config_key(base)}
    for f in fields(ExperimentConfig):
        value = getattr(base, f.name)
        if isinstance(value, str):
            changed = value + "x"
        elif isinstance(value, tuple):
            changed = value + ("zeros",)
        else:
            changed = value + 1
        keys.add(runs.config_key(base.replace(**{f.name: changed})))
    assert len(keys) == 1 + len(fields(ExperimentConfig))


def test_trainings_beyond_the_slots_wait_their_turn_and_say_so(monkeypatch):
    """With one slot, later trainings wait (their progress bar says for how many) and start when the first
    ends; a nested cached call of the holder does not wait for itself."""
    import threading

    from ui import runs

    monkeypatch.setattr(runs, "TRAINING_SLOTS", 1)
    monkeypatch.setattr(runs, "_SLOTS", threading.Semaphore(1))
    inside, release, order = threading.Event(), threading.Event(), []
    messages: dict[str, list[str]] = {"second": [], "third": []}

    def first() -> None:
        with runs.training_slot():
            with runs.training_slot():  # nested: no second slot needed
                order.append("first in")
                inside.set()
                release.wait(5)
            order.append("first out")

    def later(name: str) -> None:
        with runs.training_slot(lambda f, m: messages[name].append(m), poll=0.02):
            order.append(f"{name} in")

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(5)
    b = threading.Thread(target=later, args=("second",))
    b.start()
    b.join(0.2)
    c = threading.Thread(target=later, args=("third",))
    c.start()
    c.join(0.2)
    assert b.is_alive() and c.is_alive() and order == ["first in"]  # both wait for the slot
    release.set()
    for t in (a, b, c):
        t.join(5)
    assert order[:2] == ["first in", "first out"] and sorted(order[2:]) == ["second in", "third in"]
    assert (
        messages["second"][0]
        == "Waiting for the server: 1 experiment running, 0 others waiting since before this one…"
    )
    assert (
        messages["third"][0]
        == "Waiting for the server: 1 experiment running, 1 other waiting since before this one…"
    )
