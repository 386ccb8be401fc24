"""Limits on option values that every entry point (CLI, deck, API, notebook) shares.

Only the standard library: the command line validates its options with these
before anything heavy loads.
"""
from __future__ import annotations

import math

from .errors import TexderiveError

#: The longest time budget ``--exact`` / ``exact_timeout:`` may be given, in seconds.
MAX_EXACT_TIMEOUT = 3600.0


def exact_timeout(value, where: str = "exact_timeout") -> float:
    """``value`` as a time budget in seconds: a finite number in (0, MAX_EXACT_TIMEOUT].

    Raises :class:`TexderiveError` naming ``where`` otherwise (``inf``, ``nan``,
    ``1e300``, ``0``, a negative number, text that is not a number).
    """
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_EXACT_TIMEOUT):
        shown = str(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise TexderiveError(f"{where} must be a number of seconds greater than 0 and at most "
                             f"{MAX_EXACT_TIMEOUT:g}, not {shown!r}")
    return seconds


def _bad_char(text: str, newlines: bool):
    for i, ch in enumerate(text):
        o = ord(ch)
        if 0xD800 <= o <= 0xDFFF:
            return i, ch, "is not valid Unicode (a byte that is not UTF-8, or half of a " \
                          "surrogate pair such as \\ud83d)"
        if (o < 0x20 and ch not in ("\t", "\n" if newlines else "\t")) or 0x7F <= o <= 0x9F:
            return i, ch, "is a control character"
    return None


def plain_text(text: str, what: str, newlines: bool = False) -> str:
    """``text`` unchanged if it holds no control character (tab allowed, newline when
    ``newlines``) and no lone surrogate; else a :class:`TexderiveError` that names
    ``what``, the position and the character as ``U+XXXX`` (never the raw character:
    an escape sequence must not reach the terminal)."""
    bad = _bad_char(text, newlines)
    if bad is None:
        return text
    i, ch, why = bad
    return _refuse(f"{what}: the character U+{ord(ch):04X} at position {i + 1} {why}; "
                   "remove it")


def _refuse(message: str):
    raise TexderiveError(message)


def visible(text: str) -> str:
    """``text`` for a terminal: control characters (but newlines and tabs) and lone
    surrogates shown as escapes (``\\x1b``, ``\\udcff``), so an error message that
    quotes the input never sends an escape sequence to the terminal."""
    out = []
    for ch in str(text):
        o = ord(ch)
        if ch in "\n\t" or not ((o < 0x20) or (0x7F <= o <= 0x9F) or (0xD800 <= o <= 0xDFFF)):
            out.append(ch)
        elif o <= 0xFF:
            out.append(f"\\x{o:02x}")
        else:
            out.append(f"\\u{o:04x}")
    return "".join(out)


def decade_bound(err: float) -> float:
    """The least power of ten above ``err`` (0 stays 0): the same on every machine
    for errors that differ in their last digits (SPEC section 5)."""
    if not isinstance(err, (int, float)) or isinstance(err, bool) or not math.isfinite(err) \
            or err <= 0:
        return err
    k = math.ceil(math.log10(err))
    bound = float(f"1e{k}")
    return bound if bound > err else float(f"1e{k + 1}")

