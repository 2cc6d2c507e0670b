"""The house style for numbers in every computed sentence: one formatter per kind of number.

Small and large numbers as m×10ⁿ (never 4.2e-06), a real minus sign (U+2212), percentages as "38 %".
"""

from __future__ import annotations

import math

MINUS = "\u2212"
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
PERCENT = "\u00a0%"  # a no-break space keeps "38 %" on one line


def minus(text: str) -> str:
    """`text` with every ASCII hyphen-minus that precedes a digit replaced by the minus sign U+2212."""
    out = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        out.append(MINUS if ch == "-" and (nxt.isdigit() or nxt == ".") else ch)
    return "".join(out)


def num(x: float, digits: int = 2) -> str:
    """A number with `digits` significant digits: 0.08, 3.2, 640, 2.1×10⁻¹¹, 10⁸, −0.05.

    Plain decimals from 0.001 to below 10 000; outside that m×10ⁿ (10ⁿ alone when m rounds to 1).
    """
    if math.isnan(x):
        return "not a number"
    if math.isinf(x):
        return "infinite" if x > 0 else MINUS + "infinite"
    if x == 0:
        return "0"
    if 0.001 <= abs(x) < 10_000:
        # Whole numbers past the significant digits stay whole (640, not 6.4e+02).
        text = f"{x:.{digits}g}"
        return minus(f"{x:.0f}" if "e" in text else text)
    exp = math.floor(math.log10(abs(x)))
    mant = round(x / 10.0**exp, digits - 1)
    if abs(mant) >= 10:
        exp, mant = exp + 1, mant / 10
    power = "10" + str(exp).translate(_SUPERSCRIPT)
    if abs(mant) == 1:
        return (MINUS if mant < 0 else "") + power
    return minus(f"{mant:.{digits - 1}f}") + "×" + power


def pct(x: float, decimals: int = 0) -> str:
    """A share as a percentage: 0.383 -> "38 %" (a no-break space before %)."""
    if not math.isfinite(x):
        return "not a number"
    return minus(f"{100 * x:.{decimals}f}") + PERCENT
