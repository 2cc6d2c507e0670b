"""The websocket load driver (benchmarks/ws_load.py): its protocol client against the real app, and its
rebuilding of a page from ForwardMsgs (cache references, errors) on hand-made messages."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from benchmarks import ws_load
from benchmarks.load_test import Link, preset_links

LESSON = next(link for link in preset_links() if link.page == "symmetry")  # a small training, 4 charts


def drive(url: str, n: int, plans: dict[int, list[Link]]) -> list:
    """ws_load.drive on its own event loop in a thread (the browser tests' sync Playwright holds this one)."""
    coro = ws_load.drive(url, n, lambda i, k: plans[i][k] if k < len(plans[i]) else None, 0, 120)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_protocol_client_renders_home_and_a_lesson(fresh_app_url: str) -> None:
    # The lesson first, alone, on a server no one has visited: the page's first run reruns through app.py's
    # navigation (ui.nav.through_app), so the client must read past FINISHED_EARLY_FOR_RERUN.
    (first,) = drive(fresh_app_url, 1, {0: [LESSON]})
    assert first.errors == [] and first.runs == 2 and first.charts >= 1
    plans = {0: [LESSON], 1: [Link(""), LESSON, Link("no-such-page")]}
    visits = drive(fresh_app_url, 2, plans)
    assert sorted(v.link for v in visits) == sorted(link.url("") for plan in plans.values() for link in plan)
    by_link: dict[str, list] = {}
    for v in visits:
        by_link.setdefault(v.link, []).append(v)
    (missing,) = by_link.pop("/no-such-page")
    assert any("page not found" in e for e in missing.errors), missing.errors
    for v in (*by_link["/"], *by_link[LESSON.url("")]):
        assert v.errors == [], v.errors
        assert v.time_to_title is not None and v.time_to_idle is not None
        assert v.time_to_title <= v.time_to_chart <= v.time_to_idle
        assert v.messages > 0 and v.runs >= 1
    (home,) = by_link["/"]
    assert home.charts == 0 and home.time_to_chart == home.time_to_title  # Home: the title is its chart
    for v in by_link[LESSON.url("")]:
        assert v.charts >= 1


def test_first_views_of_different_pages_on_a_cold_server_all_render(fresh_app_url: str) -> None:
    """A class opening links right after a deploy: their scripts import numpy, pandas and plotly at the same
    moment. Without ui.boot one of them got a partially initialized module and an error page (7 of 8 fresh
    servers with 2-3 such sessions)."""
    lessons = {link.page: link for link in preset_links()}
    plans = {0: [Link("")]} | {
        i + 1: [lessons[p]] for i, p in enumerate(("symmetry", "depth", "training", "phase"))
    }
    visits = drive(fresh_app_url, len(plans), plans)
    assert len(visits) == len(plans)
    for v in visits:
        assert v.errors == [], (v.link, v.errors)
        assert v.time_to_idle is not None, v.link


def _element_msg(path: list[int], hash_: str, cacheable: bool) -> ForwardMsg:
    msg = ForwardMsg(hash=hash_)
    msg.metadata.delta_path[:] = path
    msg.metadata.cacheable = cacheable
    msg.delta.new_element.plotly_chart.spec = "{}"
    return msg


def test_page_render_resolves_cache_references_and_sees_errors() -> None:
    render = ws_load.PageRender()
    frames = [ForwardMsg(), _element_msg([0, 1], "h1", cacheable=True)]
    frames[0].new_session.name = "app"
    ref = ForwardMsg(ref_hash="h1")  # the same chart again, at another place
    ref.metadata.delta_path[:] = [0, 2]
    error = ForwardMsg()
    error.metadata.delta_path[:] = [0, 3]
    error.delta.new_element.alert.body = "boom"
    error.delta.new_element.alert.format = Alert.ERROR
    rerun, done = ForwardMsg(), ForwardMsg()
    rerun.script_finished = ForwardMsg.FINISHED_EARLY_FOR_RERUN
    done.script_finished = ForwardMsg.FINISHED_SUCCESSFULLY
    frames += [ref, error, rerun]
    assert not any(render.feed(f.SerializeToString(), 0.1 * i) for i, f in enumerate(frames))
    assert render.charts == 2 and render.refs == 1 and render.at["chart"] == 0.1
    assert render.errors == ["error alert: boom"] and "finished" not in render.at
    assert render.feed(done.SerializeToString(), 1.0) and render.at["finished"] == 1.0
    unknown = ForwardMsg(ref_hash="never-sent")
    render.feed(unknown.SerializeToString(), 1.1)
    assert "not in this connection's cache" in render.errors[-1]
