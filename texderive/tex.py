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


def escape_latex(text: str) -> Tex:
    """Free text -> LaTeX text-mode source that prints exactly ``text`` (one pass)."""
    return Tex(str(text).translate(_LATEX_ESCAPES))
