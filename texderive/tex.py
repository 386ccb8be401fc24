"""The :class:`Tex` marker and LaTeX text escaping, shared by the layout and the view model."""
from __future__ import annotations


class Tex(str):
    """LaTeX that texderive wrote (or took from the document's math): printed as is."""
    __slots__ = ()


_LATEX_ESCAPES = str.maketrans({
    "\\": r"\(\backslash\)", "{": r"\(\{\)", "}": r"\(\}\)", "$": r"\(\$\)", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    # \textless, \textgreater, \textbar and an upright \$ take a T1 or TS1 font, a
    # bitmap one where cm-super is missing; \textbackslash and \{ (OMS) have no sans-serif
    # shape, so Beamer warns: the math glyphs look the same and need none
    "<": r"\(<\)", ">": r"\(>\)", "|": r"\(|\)",
})


# Unicode that LaTeX's default fonts can set, as macros every engine reads alike
# (pdfLaTeX, XeLaTeX and LuaLaTeX: no raw character reaches the output, so no
# engine-specific preamble is needed): Greek, the common maths symbols, dashes
# and quotes.  Latin letters with accents (U+00C0-U+017F) pass through: every
# engine sets them with its default set-up.  Anything else (CJK, emoji, ...) is
# refused by name and position (unsupported_character).
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
          "varsigma sigma tau upsilon phi chi psi omega").split()
_UNICODE = {chr(0x3B1 + k): r"\(\%s\)" % name for k, name in enumerate(_GREEK) if name != "omicron"}
_UNICODE.update({"ο": "o", "ϑ": r"\(\vartheta\)", "ϕ": r"\(\phi\)", "ϵ": r"\(\epsilon\)", "ϖ": r"\(\varpi\)",
                 "ϱ": r"\(\varrho\)"})
_UNICODE.update({c: r"\(\%s\)" % name for c, name in zip("ΓΔΘΛΞΠΣΥΦΨΩ", ("Gamma Delta Theta Lambda Xi Pi "
                                                                      "Sigma Upsilon Phi Psi Omega").split())})
_UNICODE.update(dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX")))
_UNICODE.update({
    "−": r"\(-\)", "∇": r"\(\nabla\)", "∂": r"\(\partial\)", "≤": r"\(\le\)", "≥": r"\(\ge\)",
    "≠": r"\(\neq\)", "≈": r"\(\approx\)", "≡": r"\(\equiv\)", "×": r"\(\times\)", "÷": r"\(\div\)",
    "·": r"\(\cdot\)", "±": r"\(\pm\)", "∓": r"\(\mp\)", "∞": r"\(\infty\)", "∑": r"\(\sum\)",
    "∏": r"\(\prod\)", "∫": r"\(\int\)", "√": r"\(\surd\)", "∈": r"\(\in\)", "∉": r"\(\notin\)",
    "⊂": r"\(\subset\)", "⊆": r"\(\subseteq\)", "∪": r"\(\cup\)", "∩": r"\(\cap\)", "∀": r"\(\forall\)",
    "∃": r"\(\exists\)", "→": r"\(\to\)", "←": r"\(\leftarrow\)", "↔": r"\(\leftrightarrow\)",
    "⇒": r"\(\Rightarrow\)", "⇔": r"\(\Leftrightarrow\)", "↦": r"\(\mapsto\)", "∘": r"\(\circ\)",
    "⊙": r"\(\odot\)", "⊗": r"\(\otimes\)", "⊕": r"\(\oplus\)", "⊘": r"\(\oslash\)", "⊤": r"\(\top\)",
    "ᵀ": r"\(^\top\)", "⁻": r"\(^{-}\)", "ᵏ": r"\(^k\)", "ⁿ": r"\(^n\)", "ⁱ": r"\(^i\)", "ᵢ": r"\(_i\)",
    "ⱼ": r"\(_j\)", "²": r"\(^2\)", "³": r"\(^3\)", "¹": r"\(^1\)", "‖": r"\(\|\)",
    "⟨": r"\(\langle\)", "⟩": r"\(\rangle\)", "°": r"\(^\circ\)", "µ": r"\(\mu\)", "…": r"\ldots{}",
    "–": "--", "—": "---", "‐": "-", "‑": "-", "‘": "`", "’": "'", "‚": ",", "“": "``", "”": "''",
    "„": ",,", "«": r"\guillemotleft{}", "»": r"\guillemotright{}", "\u00a0": "~", "\u2009": r"\,",
    "\u202f": r"\,", "¬": r"\(\neg\)", "§": r"\S{}", "¶": r"\P{}", "©": r"\copyright{}", "†": r"\dag{}",
    "‡": r"\ddag{}", "•": r"\(\bullet\)", "′": r"\('\)", "″": r"\(''\)",
    "≻": r"\(\succ\)", "≺": r"\(\prec\)", "⪰": r"\(\succeq\)", "⪯": r"\(\preceq\)", "≽": r"\(\succeq\)",
    "≼": r"\(\preceq\)", "∼": r"\(\sim\)", "∝": r"\(\propto\)", "⊥": r"\(\perp\)", "∥": r"\(\parallel\)",
})
_LATEX_ESCAPES.update(str.maketrans(_UNICODE))


def _settable(c: str) -> bool:
    """Whether LaTeX sets ``c`` from the text as it is (ASCII, accented Latin letters)."""
    o = ord(c)
    return o < 0x7F and (c.isprintable() or c in "\t\n") or 0xC0 <= o <= 0x17F and c not in "×÷"


def unsupported_character(text: str):
    """(offset, character) of the first character of ``text`` that LaTeX cannot
    set (neither plain nor mapped above), or None."""
    for k, c in enumerate(str(text)):
        if not _settable(c) and c not in _UNICODE:
            return k, c
    return None


def describe_character(c: str) -> str:
    import unicodedata
    return f"{c!r} (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})"


def cannot_set(c: str, at: str = "") -> str:
    """The refusal of a character LaTeX cannot set (``at``: where, e.g. " at col 3")."""
    return (f"the character {describe_character(c)}{at} cannot be typeset by LaTeX's default "
            f"fonts; Greek letters, maths symbols, dashes, quotes and accented Latin letters can")


def escape_latex(text: str) -> Tex:
    """Free text -> LaTeX text-mode source that prints exactly ``text`` (one pass).
    A character LaTeX cannot set is an error naming it (check with
    :func:`unsupported_character` first to say where it is)."""
    text = str(text)
    bad = unsupported_character(text)
    if bad is not None:
        from .errors import TexderiveError
        raise TexderiveError(f"the character {describe_character(bad[1])} at col {bad[0] + 1} of "
                             f"{text!r} cannot be typeset by LaTeX's default fonts: leave it out "
                             f"or spell it (Greek letters, maths symbols, dashes and quotes are fine)")
    return Tex(text.translate(_LATEX_ESCAPES))
