"""Numbers written the language's way (CLDR data through Babel): 0,079 and 1,7 × 10⁻¹² in German.

Every function takes `lang` (default: the calling session's, `i18n.current()`); negatives get a real minus (−).
"""

from __future__ import annotations

import functools
import math

from babel import Locale
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol

from i18n import current

MINUS = "\u2212"  # −, not the hyphen-minus "-"
TIMES = "\u00d7"  # ×
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
FIXED_RANGE = (1e-3, 1e5)  # `number` writes |x| in this range as a decimal, outside it as a power of ten


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def _lang(lang: str | None) -> str:
    return current() if lang is None else lang


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def _special(x: float) -> str | None:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    return None


def decimal(x: float, digits: int = 2, *, lang: str | None = None) -> str:
    """x with exactly `digits` decimals and the language's grouping: 1,234.50 / 1.234,50."""
    special = _special(float(x))
    if special:
        return special
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return _minus(format_decimal(x, format=pattern, locale=_locale(_lang(lang))))


def integer(n: int, *, lang: str | None = None) -> str:
    """A count with the language's grouping: 12,345 / 12.345."""
    return _minus(format_decimal(int(n), format="#,##0", locale=_locale(_lang(lang))))


def percent(fraction: float, digits: int = 0, *, lang: str | None = None) -> str:
    """A share as a percentage: 0.92 -> 92% / 92 % (German sets a no-break space before %)."""
    special = _special(float(fraction))
    if special:
        return special
    loc = _locale(_lang(lang))
    if digits == 0:
        return _minus(format_percent(fraction, locale=loc))
    # The locale's own percent pattern (where the sign goes, the space before it), with more decimals.
    template = format_percent(0, locale=loc).replace("0", "{}", 1)
    return template.format(decimal(fraction * 100, digits, lang=lang))


def sci(x: float, digits: int = 1, *, lang: str | None = None) -> str:
    """x as mantissa × power of ten with `digits` decimals: 1.7 × 10⁻¹² / 1,7 × 10⁻¹²."""
    x = float(x)
    special = _special(x)
    if special:
        return special
    if x == 0:
        return decimal(0.0, digits, lang=lang)
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    power = str(int(exponent)).translate(_SUPERSCRIPT)
    return f"{decimal(float(mantissa), digits, lang=lang)} {TIMES} 10{power}"


def number(x: float, sig: int = 3, *, lang: str | None = None) -> str:
    """x to `sig` significant digits, trailing zeros dropped (like %g): 0.0791, 12,300 or 1.7 × 10⁻¹²."""
    x = float(x)
    special = _special(x)
    if special:
        return special
    if x == 0:
        return "0"
    rounded = float(f"{x:.{sig}g}")
    if not FIXED_RANGE[0] <= abs(rounded) < FIXED_RANGE[1]:
        mantissa = f"{rounded:.{sig - 1}e}".split("e")[0]
        digits = len(mantissa.split(".")[1].rstrip("0")) if "." in mantissa else 0
        return sci(rounded, digits, lang=lang)
    text = f"{rounded:.{max(sig - 1 - math.floor(math.log10(abs(rounded))), 0)}f}"
    digits = len(text.split(".")[1].rstrip("0")) if "." in text else 0
    return decimal(rounded, digits, lang=lang)


def times(x: float, sig: int = 2, *, lang: str | None = None) -> str:
    """A factor: ×0.079 / ×0,079."""
    return TIMES + number(x, sig, lang=lang)


def separators(lang: str | None = None) -> str:
    """Plotly's layout.separators for the language: decimal then thousands mark, ".," / ",."."""
    loc = _locale(_lang(lang))
    return get_decimal_symbol(loc) + get_group_symbol(loc)
