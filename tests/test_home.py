"""AppTest of the home page: it renders the question, the answer and one preset link per lesson preset.

Links are checked against ui.presets (the single definition) and must carry exactly the preset's params.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from tests.apptest_util import english_left, open_page, url_notices
from ui import nav, presets, share


def test_home_renders_the_question_and_the_three_answers():
    at = open_page("")
    assert not at.exception
    assert at.title[0].value == "Why should weights start near zero — and why not at zero?"
    text = "\n".join(m.value for m in at.markdown)
    for part in (
        "**Near zero.**",
        "**Not at zero.**",
        "**Not too small, not too large.**",
        "LeCun",
        "Xavier",
        "He/Kaiming",
        "1/√fan_in",
    ):
        assert part in text
    assert "Glorot & Bengio (2010)" in text and "Delving Deep into Rectifiers" in text
    assert url_notices(at) == []


def test_every_preset_of_every_landed_lesson_has_a_link_with_its_params():
    at = open_page("")
    links = {
        (pl.proto.page, pl.value): parse_qs(
            parse_qs(pl.proto.query_string, keep_blank_values=True)[share.OPEN_KEY][0], keep_blank_values=True
        )  # a link between pages carries its settings in one open= value (ui.share.page_link)
        for pl in at.page_link
    }
    expected = list(presets.PRESETS)
    assert len(at.page_link) == len(expected)
    for preset in expected:
        got = links[(preset.page, preset.label)]
        want = {k: list(v) if isinstance(v, tuple) else [v] for k, v in preset.params.items()}
        assert got == want, preset.label


def test_presets_use_only_url_keys_of_config_fields():
    from ui.controls import FIELDS_BY_KEY

    for preset in presets.PRESETS:
        assert set(preset.params) <= set(FIELDS_BY_KEY), preset.label
        assert preset.page in {p.url_path for p in nav.LESSONS}


def test_home_with_garbage_params_shows_a_notice_and_no_exception():
    at = open_page("", {"foo": "<img src=x onerror=alert(1)>", "depth": "99", "init": ["zeros", "zeros"]})
    assert not at.exception
    (notice,) = url_notices(at)
    assert "**foo** is ignored" in notice and "<img" not in notice
    assert "**depth** = 99 is ignored: this page has no hidden layers setting" in notice
    assert at.title[0].value.startswith("Why should weights")


# ------------------------------------------------------------------------------------------ German
def test_home_in_german_has_no_english_sentence_of_the_catalog():
    at = open_page("", {"lang": "de"})
    assert not at.exception
    assert at.title[0].value == "Warum sollten Gewichte nahe null starten – und warum nicht bei null?"
    assert english_left(at) == []
    labels = {pl.value for pl in at.page_link}
    assert "alles null" in labels and "σ=0,01, 10 tanh-Schichten" in labels
