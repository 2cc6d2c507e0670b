"""Translations: the German catalog is complete and current, numbers read the language's way, each session
has its own language (link, browser, switch), and the navigation and share links follow it.
"""

from __future__ import annotations

import gettext
import string
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from streamlit.testing.v1 import AppTest

import i18n
from i18n import N_, numbers
from tests.apptest_util import APP, ROOT, english_left, open_page, share_link, url_notices
from ui import i18n as ui_i18n
from ui import nav

NBSP = "\u00a0"
MINUS = "\u2212"
GERMAN_TITLES = ["Start", "Symmetrie", "Tiefe", "Training", "Phasendiagramm", "Normalisierung & Residuen"]
ENGLISH_TITLES = ["Home", "Symmetry", "Depth", "Training", "Phase diagram", "Normalization & residuals"]


def _catalog(lang: str = "de") -> Catalog:
    with i18n.catalog_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def _key(message) -> tuple:
    return (message.context, message.id)


def _extracted() -> dict[tuple, object]:
    """Every message marked in the code (`pybabel extract -F babel.cfg`), done in memory."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    out: dict[tuple, object] = {}
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        out[(context, message)] = message
    return out


def _fields(text: str) -> list[str | None]:
    return [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None]


# ------------------------------------------------------------------ the catalog


def test_every_message_has_a_german_translation_that_is_not_fuzzy():
    catalog = _catalog()
    assert not catalog.fuzzy, "the catalog's header is marked fuzzy"
    missing = []
    for m in catalog:
        if not m.id:
            continue
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(f and f.strip() for f in forms):
            missing.append(m.id)
    assert missing == [], f"untranslated or fuzzy in {i18n.catalog_path('de')}: {missing}"


def test_the_catalog_holds_exactly_the_marked_messages():
    """A newly marked string must get its German entry; a string no longer in the code must leave."""
    marked = _extracted()
    catalog = {_key(m): m.id for m in _catalog() if m.id}
    assert marked, "extraction found no message: is babel.cfg still matching the code?"
    new = sorted(str(v) for k, v in marked.items() if k not in catalog)
    gone = sorted(str(v) for k, v in catalog.items() if k not in marked)
    how = "run the two pybabel commands of docs/CONTRIBUTING.md, 'Translations', then translate"
    assert new == [], f"marked in the code but not in the German catalog ({how}): {new}"
    assert gone == [], f"in the German catalog but no longer in the code ({how}): {gone}"


def test_placeholders_of_every_translation_are_the_named_ones_of_its_message():
    for m in _catalog():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        for text in ids:
            assert None not in _fields(text) and "" not in _fields(text), f"unnamed placeholder in {text!r}"
        for i, form in enumerate(forms):
            source = ids[min(i, len(ids) - 1)]
            assert sorted(set(_fields(form))) == sorted(set(_fields(source))), (source, form)


def test_german_plural_rule_is_one_and_other():
    catalog = _catalog()
    assert catalog.num_plurals == 2 and catalog.plural_expr.replace(" ", "") == "(n!=1)"


def test_the_catalog_compiles_and_translates_the_navigation():
    with i18n.use("de"):
        assert [str(p.title) for p in nav.PAGES] == GERMAN_TITLES
    with i18n.use("en"):
        assert [str(p.title) for p in nav.PAGES] == ENGLISH_TITLES
    assert str(nav.HOME.title) == "Home"  # outside a session and outside `use`: English


# ------------------------------------------------------------------ the translation functions


@pytest.fixture
def toy_catalog(tmp_path, monkeypatch):
    """A German catalog of three messages (a plural, a context, placeholders), compiled like the real one."""
    catalog = Catalog(locale="de")
    catalog.add(("{n} unit", "{n} units"), ("{n} Neuron", "{n} Neuronen"))
    catalog.add(
        "Loss fell to {loss} after {steps} steps.", "Der Verlust sank nach {steps} Schritten auf {loss}."
    )
    catalog.add("Loss", "Verlust", context="axis")
    path = tmp_path / "de" / "LC_MESSAGES"
    path.mkdir(parents=True)
    with (path / "messages.po").open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.translations.cache_clear()
    yield
    i18n.translations.cache_clear()


def test_plural_forms_context_and_named_placeholders(toy_catalog):
    with i18n.use("de"):
        assert i18n.ngettext("{n} unit", "{n} units", 1) == "1 Neuron"
        assert i18n.ngettext("{n} unit", "{n} units", 16) == "16 Neuronen"
        assert i18n.ngettext("{n} unit", "{n} units", 0) == "0 Neuronen"
        assert i18n.pgettext("axis", "Loss") == "Verlust"
        # a whole sentence with named placeholders: the German order differs, floats get a decimal comma
        assert (
            i18n._("Loss fell to {loss} after {steps} steps.", loss=0.0712, steps=300)
            == "Der Verlust sank nach 300 Schritten auf 0,0712."
        )
    with i18n.use("en"):
        assert i18n.ngettext("{n} unit", "{n} units", 1) == "1 unit"
        assert i18n._("Loss fell to {loss} after {steps} steps.", loss=0.0712, steps=300) == (
            "Loss fell to 0.0712 after 300 steps."
        )


def test_a_fuzzy_entry_falls_back_to_english(tmp_path, monkeypatch):
    catalog = Catalog(locale="de")
    catalog.add("Depth", "Tiefe", flags=["fuzzy"])
    (tmp_path / "de" / "LC_MESSAGES").mkdir(parents=True)
    with (tmp_path / "de" / "LC_MESSAGES" / "messages.po").open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with i18n.use("de"):
            assert i18n._("Depth") == "Depth"
    finally:
        i18n.translations.cache_clear()


def test_lazy_strings_translate_when_shown_and_hash_by_message():
    title = N_("Depth")
    with i18n.use("de"):
        assert str(title) == "Tiefe" and f"#### {title}" == "#### Tiefe" and title == "Tiefe"
        assert title.lower() == "tiefe"
        german_hash = hash(title)
    assert str(title) == "Depth" and hash(title) == german_hash == hash(N_("Depth"))
    assert title == N_("Depth") and title != N_("Symmetry")


def test_use_rejects_an_unknown_language_and_nests():
    with pytest.raises(ValueError):
        with i18n.use("fr"):
            pass
    with i18n.use("de"):
        with i18n.use("en"):
            assert i18n.current() == "en"
        assert i18n.current() == "de"
    assert i18n.current() == "en"


def test_browser_language_tags():
    assert [
        ui_i18n.from_locale(t) for t in ("de-DE", "de-AT", "de_CH", "DE", "en-GB", "fr-FR", "", None)
    ] == [
        "de",
        "de",
        "de",
        "de",
        "en",
        None,
        None,
        None,
    ]


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["1.7×10⁻¹²", f"{MINUS}1.7×10⁻¹²", "2.5×10⁶", "0.079", "1.2×10⁴", "1", f"{MINUS}0.5", "10⁸"]),
        (
            "de",
            [
                "1,7 × 10⁻¹²",
                f"{MINUS}1,7 × 10⁻¹²",
                "2,5 × 10⁶",
                "0,079",
                "1,2 × 10⁴",
                "1",
                f"{MINUS}0,5",
                "10⁸",
            ],
        ),
    ],
)
def test_numbers_in_both_languages(lang, expected):
    got = [
        numbers.num(1.7e-12, lang=lang),
        numbers.num(-1.66e-12, lang=lang),
        numbers.num(2.5e6, lang=lang),
        numbers.num(0.079123, lang=lang),
        numbers.num(12345.6, lang=lang),
        numbers.num(1.0, lang=lang),
        numbers.num(-0.5, lang=lang),
        numbers.num(1e8, lang=lang),
    ]
    assert got == expected


def test_decimals_percent_factors_counts_and_plotly_separators():
    assert numbers.decimal(-1234.5, lang="en") == f"{MINUS}1,234.50"
    assert numbers.decimal(-1234.5, lang="de") == f"{MINUS}1.234,50"
    assert numbers.pct(0.92, lang="en") == f"92{NBSP}%"  # a no-break space before % in both languages
    assert numbers.pct(0.92, lang="de") == f"92{NBSP}%"
    assert numbers.pct(0.9234, 1, lang="de") == f"92,3{NBSP}%"
    assert numbers.times(0.0791, lang="de") == "×0,079" and numbers.times(0.0791, lang="en") == "×0.079"
    assert numbers.integer(12345, lang="de") == "12.345" and numbers.integer(12345, lang="en") == "12,345"
    assert numbers.separators("de") == ",." and numbers.separators("en") == ".,"
    # rounding that crosses a power of ten changes the form, as %g does
    assert numbers.num(9.996e-4, lang="de") == "10⁻³" and numbers.num(99999.9, lang="de") == "10⁵"
    assert (
        numbers.num(float("nan"), lang="de") == "keine Zahl"
        and numbers.num(float("-inf")) == f"{MINUS}infinite"
    )
    assert numbers.num(0.0) == "0"


def test_numbers_follow_the_language_in_force():
    with i18n.use("de"):
        assert numbers.num(0.5) == "0,5" and numbers.separators() == ",."
    assert numbers.num(0.5) == "0.5"


# ------------------------------------------------------------------ the app


def _app(query: dict[str, str] | None = None, locale: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if locale is not None:
        at.context["locale"] = locale
    return at.run()


def _nav_titles(at: AppTest) -> list[str]:
    # AppTest keeps the pages st.navigation registered (titles as the menu shows them)
    return [p["page_name"] for p in at._registered_pages.values()]


def _lesson_headings(at: AppTest) -> list[str]:
    return [m.value.removeprefix("### ") for m in at.markdown if m.value.startswith("### ")]


def _switch(at: AppTest):
    (switch,) = [w for w in at.button_group if w.key == "_initlab_lang_switch"]
    return switch


def test_lang_de_in_the_link_gives_german_navigation_and_the_switch():
    at = _app({"lang": "de"})
    assert not at.exception
    assert _nav_titles(at) == GERMAN_TITLES
    assert set(GERMAN_TITLES[1:]) <= set(_lesson_headings(at))  # the home page's lesson cards
    switch = _switch(at)
    assert switch.options == ["English", "Deutsch"] and switch.value == "de"
    assert url_notices(at) == []


def test_the_browser_language_is_used_when_the_link_has_none_and_the_link_wins():
    assert _nav_titles(_app(locale="de-AT")) == GERMAN_TITLES
    assert _nav_titles(_app(locale="fr-FR")) == ENGLISH_TITLES  # no French: English
    assert _nav_titles(_app()) == ENGLISH_TITLES  # no browser context at all: English
    assert _nav_titles(_app({"lang": "en"}, locale="de-DE")) == ENGLISH_TITLES


def _lessons_shown(at: AppTest) -> set[str]:
    """The lesson titles on the home page's cards.

    (AppTest reruns only the page script, not app.py, so after the first run the cards, not the menu,
    show the session's language.)
    """
    return set(_lesson_headings(at))


def test_the_switch_changes_the_language_and_the_address():
    at = _app({"lang": "de"})
    _switch(at).set_value("en").run()
    assert not at.exception
    assert _lessons_shown(at) == set(ENGLISH_TITLES[1:])
    assert at.query_params["lang"] == "en"  # the address bar is a link to what the student sees
    again = _app({"lang": at.query_params["lang"]})  # opening that address
    assert _nav_titles(again) == ENGLISH_TITLES and _switch(again).value == "en"
    _switch(again).set_value("de").run()
    assert _lessons_shown(again) == set(GERMAN_TITLES[1:]) and again.query_params["lang"] == "de"


def test_a_lang_that_is_no_language_of_the_app_is_reported_and_english_is_used():
    at = _app({"lang": "fr<b>"})
    assert not at.exception
    assert _nav_titles(at) == ENGLISH_TITLES
    (notice,) = url_notices(at)
    assert "**lang** = fr\\<b\\> is not a language of Init Lab (allowed: en, de); using English." in notice


def test_two_sessions_keep_their_own_language():
    german = _app({"lang": "de"})
    english = _app({"lang": "en"})
    assert _nav_titles(german) == GERMAN_TITLES and _nav_titles(english) == ENGLISH_TITLES
    german.run()  # a rerun after the other session ran: still German
    assert _lessons_shown(german) == set(GERMAN_TITLES[1:])
    english.run()
    assert _lessons_shown(english) == set(ENGLISH_TITLES[1:])
    other = _app({"lang": "de"})
    _switch(other).set_value("en").run()  # one session switching leaves the others alone
    german.run()
    english.run()
    assert _lessons_shown(german) == set(GERMAN_TITLES[1:]) and _lessons_shown(english) == set(
        ENGLISH_TITLES[1:]
    )
    assert _lessons_shown(other) == set(ENGLISH_TITLES[1:])


@pytest.mark.slow
def test_a_lesson_in_german_keeps_german_navigation_separators_and_share_link():
    at = _app({"lang": "de", "steps": "0", "depth": "5"})  # the link as a browser opens it: app.py first
    assert _nav_titles(at) == GERMAN_TITLES
    at.switch_page(nav.by_url_path("depth").file).run()
    assert not at.exception and url_notices(at) == []
    link = share_link(at)
    assert dict(parse_qsl(urlsplit(link).query))["lang"] == "de"
    charts = at.get("plotly_chart")
    assert charts and all('"separators":",."' in c.proto.spec.replace(" ", "") for c in charts)


# Cheap settings (the page's others at their defaults): this test is about words, not training.
CHEAP_QUERY = {"depth": "2", "width": "8", "n": "200", "steps": "50", "cellsteps": "50"}


@pytest.mark.slow
@pytest.mark.parametrize("spec", nav.PAGES, ids=[p.url_path or "home" for p in nav.PAGES])
def test_no_english_sentence_of_the_catalog_on_a_german_page(spec):
    """A page opened with lang=de shows no English piece (three words or more) of the catalog's messages.

    Grows with the catalog: once a page's sentence is marked and translated, its English must be gone.
    """
    at = open_page(spec.url_path, {"lang": "de", **CHEAP_QUERY}, timeout=300)
    assert not at.exception
    english = english_left(at)
    assert english == [], f"English on the German {spec.url_path or 'home'} page: {english}"


def test_english_left_finds_every_message_shown_in_english():
    """The check of the German pages finds English: every message with three words between its placeholders,
    filled in as a page shows it, is reported; its German is not."""

    def shown(text: str) -> str:  # the message filled in: 7 reads with every format spec
        return text.format(**dict.fromkeys(_fields(text), 7))

    missed = []
    for m in _catalog():
        for english, german in zip(*(x if isinstance(x, tuple) else (x,) for x in (m.id, m.string))):
            if english and english_left([english]) and not english_left([shown(english)]):
                missed.append(english)
            assert english_left([shown(german)]) == [], german
    assert missed == []


def test_english_left_reports_an_english_page():
    at = open_page("", {"lang": "en"})
    left = english_left(at)
    assert "Why should weights start near zero — and why not at zero?" in left
    assert len(left) > 10  # the page's sentences, not one
    assert english_left(open_page("", {"lang": "de"})) == []


def test_the_in_memory_catalog_matches_gnu_msgfmt_semantics():
    """What i18n compiles is what GNU gettext reads: a .mo from the same .po translates the same."""
    catalog = _catalog()
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    reference = gettext.GNUTranslations(buf)
    for m in catalog:
        if m.id and not isinstance(m.id, tuple):
            assert i18n.translations("de").gettext(m.id) == reference.gettext(m.id) == m.string


def test_no_compiled_catalog_is_committed():
    """The .po is the one source: a committed .mo could silently disagree with it."""
    assert not list(Path(i18n.LOCALES_DIR).rglob("*.mo"))


# ------------------------------------------------------------------ in a real browser


def _nav_link_texts(page) -> list[str]:
    links = page.locator('[data-testid="stTopNavLink"]')
    # the label is the last line (the first is the icon's ligature name)
    return [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())]


def _page_lang(page, expected: str) -> str:
    """The page's language as a screen reader reads it (<html lang>), given up to 10 s to become `expected`
    (the switch's script sets it once the run's elements are drawn)."""
    try:
        page.wait_for_function("lang => document.documentElement.lang === lang", arg=expected, timeout=10_000)
    except Exception:  # noqa: BLE001 - a timeout: the caller's assert shows what it is instead
        pass
    return page.evaluate("() => document.documentElement.lang")


@pytest.mark.browser
@pytest.mark.slow
def test_a_german_browser_gets_german_and_the_switch_goes_back_to_english(app_url, browser, artifacts):
    from tests import browser_util as bu

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    try:
        page = ctx.new_page()
        bu.open_page(page, f"{app_url}/")
        assert bu.error_texts(page) == []
        assert _nav_link_texts(page) == GERMAN_TITLES
        assert _page_lang(page, "de") == "de"  # what a screen reader speaks the page in
        bu.screenshot(page, artifacts / "home-de.png")
        assert page.get_by_role("radio", name="Deutsch").get_attribute("aria-checked") == "true"
        switch = page.get_by_role("radio", name="English")  # the segmented control is a radio group
        assert switch.is_visible()
        switch.click()
        page.wait_for_url("**lang=en**")
        bu.wait_idle(page)
        assert _nav_link_texts(page) == ENGLISH_TITLES
        assert _page_lang(page, "en") == "en"
        # the choice holds on the next page, and the next page's share link carries it
        page.locator('[data-testid="stTopNavLink"]', has_text="Depth").click()
        page.wait_for_url("**/depth**")
        bu.wait_idle(page)
        assert _nav_link_texts(page) == ENGLISH_TITLES and _page_lang(page, "en") == "en"
        link = None
        for _ in range(120):  # the lesson's share box is drawn after its charts: wait for it
            link = bu.share_link(page)
            if link is not None:
                break
            page.wait_for_timeout(500)
        assert link is not None and dict(bu.split_link(link)[1])["lang"] == "en"
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_switch_is_on_screen_on_a_phone(app_url, browser, artifacts):
    from tests import browser_util as bu

    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    try:
        page = ctx.new_page()
        bu.open_page(page, f"{app_url}/?lang=de")
        button = page.get_by_role("radio", name="Deutsch")
        assert button.get_attribute("aria-checked") == "true"
        box = button.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 390 and box["y"] < 844
        bu.screenshot(page, artifacts / "home-de-phone.png")
    finally:
        ctx.close()
