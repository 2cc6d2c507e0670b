"""A student who closes the tab mid-training must not hold a training slot for nothing.

Streamlit stops a closed session's script at its next message to the browser (StopException); the progress
bar of ui.runs sends one at least every progress call after PROGRESS_AFTER, so the training stops there and
its slot (or its place in the queue) is released. benchmarks/closed_tab.py measures the next student's wait
in a real browser (docs/classroom.md).
"""

from __future__ import annotations

import threading

import pytest
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from ui import runs


@pytest.fixture
def one_slot(monkeypatch):
    monkeypatch.setattr(runs, "TRAINING_SLOTS", 1)
    sem = threading.Semaphore(1)
    monkeypatch.setattr(runs, "_SLOTS", sem)
    return sem


def test_a_stopped_training_releases_its_slot(one_slot):
    def closed_tab(fraction: float, message: str) -> None:
        raise StopException()

    with pytest.raises(StopException):
        with runs.training_slot(closed_tab):
            closed_tab(0.5, "step 150 of 300")  # what core.train's progress call meets after the tab closed
    assert one_slot.acquire(blocking=False), "the slot is still held"
    one_slot.release()


def test_a_closed_tab_waiting_for_a_slot_leaves_the_queue(one_slot):
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with runs.training_slot():
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(5)
    calls = []

    def closed_tab(fraction: float, message: str) -> None:
        calls.append(message)
        raise StopException()

    with pytest.raises(StopException):
        with runs.training_slot(closed_tab, poll=0.02):
            pytest.fail("a closed tab must not get the slot")
    assert calls and runs._waiting == []  # it told the (gone) page once, then left the queue
    release.set()
    t.join(5)
    assert one_slot.acquire(blocking=False)
    one_slot.release()
