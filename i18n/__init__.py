"""Translations of Init Lab (English source strings, German catalog): gettext, plurals and lazy strings.

Streamlit-free, so figures/ and ui/ both use it; the language of a call is the calling session's (`current`).
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path
from typing import Any

LANGS: tuple[str, ...] = ("en", "de")  # English is the source language: its "translation" is the msgid
DEFAULT = "en"
NAMES = {"en": "English", "de": "Deutsch"}  # each language by its own name, as language switches show them
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

# The language of this call, when a caller fixes it explicitly (`use`); else the resolver's.
_override: ContextVar[str | None] = ContextVar("initlab_lang", default=None)
# ui.i18n registers a function that reads the running session's language from its session state; the
# language itself is never stored here, so one visitor's choice cannot leak to another session.
_resolver: Callable[[], str | None] | None = None


def set_resolver(resolver: Callable[[], str | None] | None) -> None:
    """Register how to find the calling session's language (ui.i18n does; None outside a script run)."""
    global _resolver
    _resolver = resolver


def current() -> str:
    """The language of this call: `use(...)` if inside one, else the session's (resolver), else English."""
    lang = _override.get()
    if lang is None and _resolver is not None:
        lang = _resolver()
    return lang if lang in LANGS else DEFAULT


@contextmanager
def use(lang: str) -> Iterator[None]:
    """Translate everything in this block (this thread or task only) into `lang`."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; one of {LANGS}")
    token = _override.set(lang)
    try:
        yield
    finally:
        _override.reset(token)


def catalog_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of `lang`, compiled from its .po in memory once per process (no build step, no .mo)."""
    if lang == DEFAULT:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)  # a fuzzy entry is not a translation: it falls back to English
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _fill(text: str, values: dict[str, Any], lang: str) -> str:
    if not values:
        return text
    from i18n import numbers

    # Floats are written the language's way (0,079 in German); ints and strings as given.
    shown = {k: numbers.num(v, 3, lang=lang) if isinstance(v, float) else v for k, v in values.items()}
    return text.format(**shown)


def _(message: str, /, **values: Any) -> str:
    """`message` in the caller's language, its {named} placeholders filled with `values`."""
    lang = current()
    return _fill(translations(lang).gettext(message), values, lang)


def ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The form for the count `n` (German, like English, has one form for 1 and one for the rest).

    `n` fills a {n} placeholder unless `values` gives another text for it.
    """
    lang = current()
    return _fill(translations(lang).ngettext(singular, plural, n), {"n": n, **values}, lang)


def pgettext(context: str, message: str, /, **values: Any) -> str:
    """Like `_`, for a short text whose translation depends on where it stands (context, e.g. "axis")."""
    lang = current()
    return _fill(translations(lang).pgettext(context, message), values, lang)


class LazyString:
    """A message marked at import time and translated each time it is shown, in the showing session's language.

    For texts defined in module-level constants (page titles, labels); str() / f-strings translate it.
    """

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return _(self.message)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"N_({self.message!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyString):
            return self.message == other.message
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:  # by the message, so a hash does not change with the language
        return hash(self.message)

    def __bool__(self) -> bool:
        return bool(self.message)

    def __getattr__(self, name: str) -> Any:  # str methods (lower, startswith, ...) on the translation
        if name.startswith("__") or name == "message":  # copy/pickle probes on a half-built object
            raise AttributeError(name)
        return getattr(str(self), name)


def N_(message: str) -> LazyString:  # noqa: N802 - gettext's conventional name; `pybabel extract` finds it
    """Mark `message` for translation where no session is running yet (module constants): a LazyString."""
    return LazyString(message)


Text = str | LazyString  # a text field that may hold a lazy message

__all__ = [
    "DEFAULT",
    "LANGS",
    "NAMES",
    "LazyString",
    "N_",
    "Text",
    "_",
    "current",
    "ngettext",
    "pgettext",
    "set_resolver",
    "translations",
    "use",
]
