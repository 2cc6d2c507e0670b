"""Every number a student reads, written one way (the house style) and the language's way.

The house style: m×10ⁿ for small and large numbers (never 4.2e-06), a real minus sign (U+2212),
percentages with a no-break space ("38 %"). German writes the decimal comma and spaces the times sign
("2,1 × 10⁻¹¹", "0,079", "38 %"); the decimal and group marks come from CLDR through Babel.
Every function takes `lang` (default: the calling session's, `i18n.current()`).
"""

from __future__ import annotations

import functools
import math

from babel import Locale
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

from i18n import current, translations

MINUS = "\u2212"  # −, not the hyphen-minus "-"
TIMES = "\u00d7"  # ×
PERCENT = "\u00a0%"  # a no-break space keeps "38 %" on one line
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
FIXED_RANGE = (1e-3, 1e4)  # `num` writes |x| in this range as a decimal, outside it as a power of ten


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def _lang(lang: str | None) -> str:
    return current() if lang is None else lang


def minus(text: str) -> str:
    """`text` with every ASCII hyphen-minus that precedes a digit replaced by the minus sign U+2212."""
    out = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        out.append(MINUS if ch == "-" and (nxt.isdigit() or nxt == ".") else ch)
    return "".join(out)


def _special(x: float, lang: str) -> str | None:
    if math.isnan(x):
        return translations(lang).gettext("not a number")
    if math.isinf(x):
        word = translations(lang).gettext("infinite")
        return word if x > 0 else MINUS + word
    return None


def _point(text: str, lang: str) -> str:
    """A number written with "." as decimal mark, in the language's decimal mark."""
    return text.replace(".", get_decimal_symbol(_locale(lang)))


def num(x: float, digits: int = 2, *, lang: str | None = None) -> str:
    """A number with `digits` significant digits: 0.08, 3.2, 640, 2.1×10⁻¹¹, 10⁸, −0.05 (German 2,1 × 10⁻¹¹).

    Plain decimals from 0.001 to below 10 000; outside that m×10ⁿ (10ⁿ alone when m rounds to 1).
    """
    lang = _lang(lang)
    x = float(x)
    special = _special(x, lang)
    if special:
        return special
    if x == 0:
        return "0"
    if FIXED_RANGE[0] <= abs(x) < FIXED_RANGE[1]:
        # Whole numbers past the significant digits stay whole (640, not 6.4e+02).
        text = f"{x:.{digits}g}"
        return _point(minus(f"{x:.0f}" if "e" in text else text), lang)
    exp = math.floor(math.log10(abs(x)))
    mant = round(x / 10.0**exp, digits - 1)
    if abs(mant) >= 10:
        exp, mant = exp + 1, mant / 10
    power = "10" + str(exp).translate(_SUPERSCRIPT)
    if abs(mant) == 1:
        return (MINUS if mant < 0 else "") + power
    sign = TIMES if lang == "en" else f" {TIMES} "
    return _point(minus(f"{mant:.{digits - 1}f}"), lang) + sign + power


def pct(fraction: float, decimals: int = 0, *, lang: str | None = None) -> str:
    """A share as a percentage: 0.383 -> "38 %" (a no-break space before %), German "38,3 %"."""
    lang = _lang(lang)
    special = _special(float(fraction), lang)
    if special:
        return special
    return _point(minus(f"{100 * fraction:.{decimals}f}"), lang) + PERCENT


def times(x: float, digits: int = 2, *, lang: str | None = None) -> str:
    """A factor: ×0.079 / ×0,079."""
    return TIMES + num(x, digits, lang=lang)


def decimal(x: float, digits: int = 2, *, lang: str | None = None) -> str:
    """x with exactly `digits` decimals and the language's grouping: 1,234.50 / 1.234,50."""
    lang = _lang(lang)
    special = _special(float(x), lang)
    if special:
        return special
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return minus(format_decimal(x, format=pattern, locale=_locale(lang)))


def integer(n: int, *, lang: str | None = None) -> str:
    """A count with the language's grouping: 12,345 / 12.345 (from 10¹⁵ on as a power of ten, as `num` writes it:
    Babel's decimal context cannot group more digits)."""
    if abs(n) >= 1e15:
        return num(n, 2, lang=lang)
    return minus(format_decimal(int(n), format="#,##0", locale=_locale(_lang(lang))))


def separators(lang: str | None = None) -> str:
    """Plotly's layout.separators for the language: decimal then thousands mark, ".," / ",."."""
    loc = _locale(_lang(lang))
    return get_decimal_symbol(loc) + get_group_symbol(loc)
