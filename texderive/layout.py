r"""Layout: estimated widths, line breaking and frame fitting.

The one place that knows points, page widths, frame heights and themes.  It
reads LaTeX strings (math of the derivation document, or text-mode LaTeX
with math between ``\\(`` and ``\\)``) and returns rows and frames for the
view model of :mod:`texderive.render`; it never fills a template.

- :func:`math_width`, :func:`text_width`: estimated natural widths (pt, 10pt
  type, Computer Modern), and :class:`Widths`, their memo for one render call.
- :func:`break_points`, :func:`break_math`: where a row of math may break,
  and the row cut into lines that fit.
- :func:`layout_rows`: the rows of an ``align*`` for a chain, with notes as
  ``\\tag*`` and the page breaks a paper may take.
- :func:`frames`: a derivation cut into Beamer frames that fit.
- :func:`text_rows`: the chain padded for a terminal.
"""
from __future__ import annotations

import math
import re

from .tex import Tex, escape_latex

# ---------------------------------------------------------------------------
# Widths (for the layout): estimated natural widths in pt at 10pt
# ---------------------------------------------------------------------------
# Computer Modern glyph widths, rounded up.  Calibrated against pdfTeX on the
# derivations in the tests: estimate/real is 0.99-1.12 (median 1.02); the
# layout keeps a margin on top of that.

# A token: a macro (\alpha, \section*), a control symbol (\, \{) or one
# other character.  Whitespace is no token: math skips it, text counts each
# run as a space; _SPACED_TOKEN reads each token with the whitespace before
# it, and an empty token for the end.
TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|\S", re.S)
_SPACED_TOKEN = re.compile(r"(\s*)(\\[A-Za-z]+\*?|\\.|\S|\Z)", re.S)

_RM = dict(zip("abcdefghijklmnopqrstuvwxyz", (5.0, 5.6, 4.4, 5.6, 4.4, 3.1, 5.0, 5.6, 2.8, 3.1, 5.3, 2.8,
                                               8.3, 5.6, 5.0, 5.6, 5.3, 3.9, 3.9, 3.9, 5.6, 5.3, 7.2, 5.3,
                                               5.3, 4.4)))
_IT = dict(zip("abcdefghijklmnopqrstuvwxyz", (5.3, 4.3, 4.3, 5.2, 4.7, 4.9, 4.8, 5.8, 3.5, 4.1, 5.2, 3.0,
                                               8.8, 6.0, 4.9, 5.0, 4.5, 4.5, 4.7, 3.6, 5.7, 4.9, 7.2, 5.7,
                                               4.9, 4.7)))
_SYMBOL_W = {
    r"\,": 1.7, r"\:": 2.2, r"\;": 2.8, r"\!": -1.7, r"\ ": 3.4, r"\quad": 10.0, r"\qquad": 20.0,
    r"\|": 5.0, r"\{": 5.0, r"\}": 5.0, r"\top": 7.8, r"\nabla": 8.4, r"\partial": 5.8,
    r"\ldots": 13.4, r"\cdots": 13.4, r"\dots": 13.4, r"\infty": 10.0, r"\prime": 2.8,
    r"\langle": 3.9, r"\rangle": 3.9, r"\lvert": 2.8, r"\rvert": 2.8, r"\lVert": 5.0, r"\rVert": 5.0,
    r"\intercal": 5.6, r"\dagger": 4.5, r"\ast": 5.0, r"\star": 5.0, r"\sum": 14.5, r"\prod": 13.0,
}
_BIN_MACROS = {r"\odot", r"\otimes", r"\oplus", r"\cdot", r"\times", r"\circ", r"\pm", r"\mp",
               r"\oslash", r"\div", r"\ominus"}
_REL_MACROS = {r"\leq", r"\geq", r"\le", r"\ge", r"\neq", r"\approx", r"\equiv", r"\to",
               r"\mapsto", r"\in", r"\succ", r"\succeq", r"\prec", r"\preceq", r"\sim"}
_OPERATORS = {r"\log", r"\det", r"\exp", r"\sin", r"\cos", r"\tan", r"\sinh", r"\cosh", r"\tanh",
              r"\ln", r"\max", r"\min", r"\lim", r"\arg", r"\sup", r"\inf"}
_FONTS = {r"\mathbf": "bf", r"\bm": "bf", r"\boldsymbol": "bf", r"\mathrm": "rm", r"\mathit": "it",
          r"\mathsf": "rm", r"\mathtt": "rm", r"\mathcal": "it", r"\mathbb": "bf", r"\text": "text",
          r"\textrm": "text", r"\textup": "text", r"\textit": "text", r"\textbf": "text",
          r"\mbox": "text", r"\operatorname": "rm"}
_ACCENTS = {r"\hat", r"\tilde", r"\bar", r"\vec", r"\dot", r"\ddot", r"\widehat", r"\widetilde",
            r"\overline", r"\underline", r"\check", r"\breve"}
_SIZED = {r"\left", r"\right", r"\middle", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl",
          r"\biggr", r"\big", r"\Big", r"\bigg", r"\bigm", r"\Bigm"}
_SIZES = {r"\footnotesize": 0.8, r"\small": 0.9, r"\scriptsize": 0.7}
_SCRIPT = 0.72


def _char_w(c: str, font: str) -> float:
    if c.isdigit():
        return 5.0
    if c.isalpha():
        if font == "bf":
            return 8.7 if c.isupper() else 6.4
        if font in ("rm", "text"):
            return 7.5 if c.isupper() else _RM.get(c, 5.6)
        return 8.0 if c.isupper() else _IT.get(c, 5.6)
    if c in "()[]":
        return 3.9
    if c in "|,;.:'!":
        return 2.8
    if c == "/":
        return 5.0
    return 7.8


# The tokens that read arguments (a group, a script, \frac{.}{.}, \left( ...),
# which _Measure.atom reads; any other token is a plain atom, whose width
# depends on the font only: _PLAIN has those of ASCII and the tables above,
# for the measure's inner loop to look up.
_TAKES_ARGS = frozenset({"{", "^", "_", r"\frac", r"\dfrac", r"\tfrac", r"\sqrt", r"\overset", r"\underset",
                         r"\stackrel", r"\eqref", r"\ref", r"\label", r"\tag", r"\parbox", r"\tdR"}
                        | _FONTS.keys() | _ACCENTS | _SIZED)


def _plain_atom(tok: str, font: str) -> tuple:
    """(width, kind) of a token that reads no argument (not in ``_TAKES_ARGS``)."""
    if font != "text" and tok in "+-":
        return 7.8, "bin"
    if font != "text" and tok in "=<>":
        return 7.8, "rel"
    if tok in "([":
        return 3.9, "open"
    if not tok.startswith("\\"):
        return _char_w(tok, font), "ord"
    if tok in (r"\(", r"\)"):
        return 0.0, "ord"
    if tok in _OPERATORS:
        return sum(_RM.get(c, 5.0) for c in tok[1:]), "op"
    if tok in _SIZES:
        return 0.0, "ord"
    if tok in _BIN_MACROS:
        return 7.8, "bin"
    if tok in _REL_MACROS:
        return 7.8, "rel"
    if tok in _SYMBOL_W:
        return _SYMBOL_W[tok], "ord"
    if len(tok) > 2:                       # Greek letters and other symbols
        return (7.8 if font == "bf" or tok[1].isupper() else 6.2), "ord"
    return 5.0, "ord"


_PLAIN = {font: {tok: _plain_atom(tok, font)
                 for tok in [chr(c) for c in range(33, 127)] + [r"\(", r"\)"]
                 + [*_OPERATORS, *_SIZES, *_BIN_MACROS, *_REL_MACROS, *_SYMBOL_W]
                 if tok not in _TAKES_ARGS}
          for font in {"it", *_FONTS.values()}}


def _tokens(source: str) -> tuple:
    """(spaces, toks): the tokens of ``source`` without its whitespace, then ""
    for the end, and the whitespace before each of them (the end's included)."""
    pairs = _SPACED_TOKEN.findall(source)       # ends with an empty match at the end
    if len(pairs) > 1 and not pairs[-2][1]:
        pairs.pop()                             # whitespace at the end: it precedes the end
    spaces, toks = zip(*pairs)
    return spaces, toks


class _Measure:
    """A small reader of LaTeX math that adds up estimated glyph widths.

    It reads the tokens of the source once, without its whitespace (``toks``,
    ending with "" for the end): math ignores whitespace; text counts each run
    as a space, which is where ``spaces`` (the whitespace before each token,
    read only where text needs it) comes in.  Whitespace at the end counts
    once, and not once math has reached the end (``past_end``)."""

    def __init__(self, source: str, text=False):
        self.source = source
        if text:
            self._spaces, self.toks = _tokens(source)
        else:
            self._spaces, self.toks = None, TOKEN.findall(source) + [""]
        self.i = 0
        self.past_end = False

    @property
    def spaces(self):
        if self._spaces is None:
            self._spaces = _tokens(self.source)[0]
        return self._spaces

    def peek(self):
        tok = self.toks[self.i]
        if tok:
            return tok
        self.past_end = True                    # math skips the whitespace at the end
        return None

    def take(self):
        tok = self.peek()
        if tok is not None:
            self.i += 1
        return tok

    def arg(self, font):
        toks, i = self.toks, self.i
        tok = toks[i]
        if not tok:
            self.past_end = True                # as peek() at the end
            return 0.0
        if tok != "{":
            self.i = i + 1
            return self.atom(tok, font)[0]
        # {X}, the commonest argument, is one plain atom: seq would make it
        # 0.0 + its width, which is its width
        if font != "text" and toks[i + 1] not in ("", "}") and toks[i + 2] == "}":
            one = _PLAIN[font].get(toks[i + 1])
            if one is not None and one[1] == "ord":
                self.i = i + 3
                return one[0]
        self.i = i + 1
        return self.seq(font, "}")

    def skip_optional(self):
        if self.peek() != "[":
            return
        depth = 0
        while (tok := self.take()) is not None:
            depth += tok == "["
            depth -= tok == "]"
            if depth == 0:
                return

    def atom(self, tok, font):
        """(width, kind) of the atom that starts with ``tok`` (already read): kind
        is ord, bin, rel, open, op or script."""
        if tok not in _TAKES_ARGS:
            return _PLAIN[font].get(tok) or _plain_atom(tok, font)
        if tok in _FONTS:
            return self.arg(_FONTS[tok]), ("op" if tok == r"\operatorname" else "ord")
        if tok in ("^", "_"):
            return _SCRIPT * self.arg(font) + 0.5, "script"
        if tok == "{":
            return self.seq(font, "}"), "ord"
        if tok in (r"\frac", r"\dfrac"):
            return max(self.arg(font), self.arg(font)) + 2.4, "ord"
        if tok == r"\tfrac":
            return _SCRIPT * max(self.arg(font), self.arg(font)) + 2.4, "ord"
        if tok == r"\sqrt":
            self.skip_optional()
            return self.arg(font) + 8.4, "ord"
        if tok in (r"\overset", r"\underset", r"\stackrel"):
            top = _SCRIPT * self.arg(font)
            return max(top, self.arg(font)), "ord"     # the base's own spacing counted
        if tok in (r"\eqref", r"\ref"):
            self.arg("text")
            return 14.0 if tok == r"\eqref" else 8.0, "ord"
        if tok == r"\tdR":                     # \tdR{ID}{N}: a rule's number, N in this file
            self.arg("text")
            return self.arg(font), "ord"
        if tok in (r"\label", r"\tag"):
            self.arg("text")
            return 0.0, "ord"
        if tok == r"\parbox":
            self.skip_optional()
            self.arg("text")
            return self.arg("text"), "ord"
        if tok in _ACCENTS:
            return self.arg(font), "ord"
        delim = self.take() or "."             # _SIZED: \left( ...
        width = (1.2 if delim == "." else _SYMBOL_W.get(delim, 3.9)) + (tok not in (r"\left", r"\right")) * 1.5
        return width, ("open" if tok in (r"\left", r"\bigl", r"\Bigl", r"\biggl") else "ord")

    def seq(self, font, stop=None, marks=None):
        """Width up to ``stop``; ``marks[i]`` gets the width so far at each atom's first token i."""
        toks, plain, atom = self.toks, _PLAIN[font], self.atom
        spaces = self.spaces if font == "text" else None
        width, prev, i = 0.0, None, self.i
        while True:
            tok = toks[i]
            if not tok:                         # the end
                if spaces is not None and spaces[i] and not self.past_end:
                    width += 3.4
                self.past_end = True
                break
            if spaces is not None and spaces[i]:
                width += 3.4
            i += 1
            if tok == stop:
                break
            if marks is not None:
                marks[i - 1] = width
            hit = plain.get(tok)
            if hit is None:
                self.i = i
                w, kind = atom(tok, font)
                i = self.i
            else:
                w, kind = hit
            if kind == "bin":
                if prev in (None, "bin", "rel", "open"):
                    kind = "ord"                 # a sign
                else:
                    w += 4.4
            elif kind == "rel":
                w += 5.6
            elif kind == "op" and prev not in (None, "open", "bin", "rel"):
                w += 1.7
            elif kind == "script":
                kind = prev or "ord"
            width += w
            prev = kind
        self.i = i
        return width


_CAL = 1.03


def math_width(latex: str) -> float:
    """Estimated natural width (pt, 10pt type, display style) of a math expression."""
    return _CAL * _Measure(latex).seq("it")


def text_width(latex_text: str) -> float:
    """Estimated width of text-mode LaTeX whose math is between ``\\(`` and ``\\)``."""
    return Widths().text(latex_text)


_MATH_DELIMS = re.compile(r"\\\(|\\\)")


class Widths:
    """Widths measured during one render call, by string: the rows of a
    derivation repeat their left-hand sides, relations and pieces of notes."""

    def __init__(self):
        self.maths, self.texts = {}, {}

    def math(self, latex: str) -> float:
        """math_width(latex)"""
        width = self.maths.get(latex)
        if width is None:
            width = self.maths[latex] = math_width(latex)
        return width

    def lines(self, latex: str, first: float, rest: float) -> list:
        """break_math, without measuring again math that fits."""
        width = self.maths.get(latex)
        if width is not None and width <= first:
            return [(latex, width)]
        return break_math(latex, first, rest)

    def text(self, latex_text: str) -> float:
        """text_width(latex_text)"""
        width = 0.0
        for k, part in enumerate(_MATH_DELIMS.split(latex_text)):
            width += self.math(part) if k % 2 else self._plain(part)
        return width

    def _plain(self, text: str) -> float:
        width = self.texts.get(text)
        if width is None:
            width = self.texts[text] = _CAL * _Measure(text, text=True).seq("text")
        return width


# ---------------------------------------------------------------------------
# Breaking long math at top-level + and -
# ---------------------------------------------------------------------------

_NO_BREAK_AFTER = {"(", "[", "{", "=", "+", "-", "^", "_", "&", ",", r"\left", r"\middle", r"\,",
                   r"\;", r"\!", r"\quad", r"\qquad"} | _BIN_MACROS | _REL_MACROS | _OPERATORS | _SIZED
_FACTOR_START = {"(", r"\,", r"\mathbf", r"\bm", r"\boldsymbol", r"\mathrm", r"\operatorname", r"\log",
                 r"\det", r"\exp", r"\mathbb", r"\mathsf", r"\mathit", r"\mathcal"}
_OPERATOR_GROUPS = {r"\operatorname", r"\mathrm"}     # \operatorname{tr}(...), \mathrm{d}X: keep together
# a product's operators: a row may break before them as between two factors
_PRODUCT_OPS = {r"\odot", r"\oslash", r"\otimes", r"\cdot", r"\times", r"\circ"}
# brackets a row may break inside, only where no break outside fits (\| opens
# and closes a norm: the first of a pair opens it)
_OPENS = {"(", "[", r"\lVert", r"\lvert", r"\langle"}
_CLOSES = {")", "]", r"\rVert", r"\rvert", r"\rangle"}


def break_points(latex: str) -> list:
    r"""[(offset, kind, paren depth)] where a row may break, outside braces and
    \left...\right: kind 0 before a + or - that is not a sign, kind 1 between
    two factors of a product (used only where no + or - break fits)."""
    starts = [m.start() for m in TOKEN.finditer(latex)]
    return [(starts[k], kind, depth) for k, kind, depth in _break_tokens(TOKEN.findall(latex) + [""])]


def _break_tokens(toks) -> list:
    """break_points by token index, of the tokens of a row (ending with "")."""
    points, brace, leftright, paren = [], 0, 0, 0
    bars = []                               # the depths of the open norm bars \|
    # at brace depth 0: the token before, and the macro that the last group
    # belonged to (\operatorname{tr}), if any
    prev, group_macro = None, None
    for k, tok in enumerate(toks):
        if brace:                           # in a group (or after a stray "}"): only nesting counts
            if tok == "{":
                brace += 1
            elif tok == "}":
                brace -= 1
            elif tok == r"\left":
                leftright += 1
            elif tok == r"\right":
                leftright -= 1
            elif not tok:                   # the end
                break
            if brace == 0:
                prev = tok
            continue
        if not tok:
            break
        if leftright == 0:
            if tok in "+-" and prev is not None and prev not in _NO_BREAK_AFTER:
                points.append((k, 0, max(paren, 0)))
            elif tok == "=" and prev is not None and paren == 0:     # y = f(x) = ...: before the second "="
                points.append((k, 0, 0))
            elif ((tok in _FACTOR_START or tok in _PRODUCT_OPS) and prev is not None
                  and prev not in _NO_BREAK_AFTER
                  and not (prev == "}" and group_macro in _OPERATOR_GROUPS)):
                points.append((k, 1, max(paren, 0)))
        if tok == "{":
            group_macro = prev if prev is not None and prev.startswith("\\") else None
            brace = 1
        elif tok == "}":
            brace = -1
            continue                        # prev stays: "}" closes no group here
        elif tok == r"\left":
            leftright += 1
        elif tok == r"\right":
            leftright -= 1
        elif leftright == 0:
            if tok in _OPENS or (tok == r"\|" and not bars[-1:] == [paren]):
                paren += 1
                if tok == r"\|":
                    bars.append(paren)
                prev = "("                  # no break right after an opening bracket
                continue
            if tok in _CLOSES or tok == r"\|":
                if tok == r"\|":
                    bars.pop()
                paren -= 1
        prev = tok
    return points


_SIZED_PAIR = re.compile(r"\\(left|right)(?![A-Za-z])")


def break_math(latex: str, first: float, rest: float) -> list:
    """:func:`_break_row`, and where a line is still too wide and the row has
    ``\\left``/``\\right`` (which cannot span two lines), the row again with
    every such pair as ``\\biggl``/``\\biggr``: the same size for all (they hold
    a fraction), balanced, and breakable inside."""
    lines = _break_row(latex, first, rest)
    too_wide = any(w > (first if k == 0 else rest) for k, (_, w) in enumerate(lines))
    if too_wide and r"\left" in latex:
        sized = _SIZED_PAIR.sub(lambda m: r"\biggl" if m.group(1) == "left" else r"\biggr", latex)
        lines = _break_row(sized, first, rest)
    return lines


def _break_row(latex: str, first: float, rest: float) -> list:
    """Cut ``latex`` into lines of at most ``first`` (then ``rest``) pt where it
    can: before a + or -, else between two factors, else as early as possible;
    of the breaks that fit, the outermost in the last half of the line.
    Returns [(line, estimated width)].  The row is read once: its width, and
    the width up to each token, come from one pass of the measure."""
    measure = _Measure(latex)
    marks = [0.0] * len(measure.toks)
    total = _CAL * measure.seq("it", marks=marks)
    if total <= first:
        return [(latex, total)]
    starts = [m.start() for m in TOKEN.finditer(latex)]
    points, at = [], {}
    for k, kind, depth in _break_tokens(measure.toks):
        points.append((starts[k], kind, depth))
        at[starts[k]] = _CAL * marks[k]
    lines, start, start_w, avail, i = [], 0, 0.0, first, 0
    while total - start_w > avail:
        while i < len(points) and points[i][0] <= start:
            i += 1
        if i == len(points):
            break
        j = i
        while j < len(points) and at[points[j][0]] - start_w <= avail:
            j += 1
        fitting = points[i:j]
        if fitting:
            # the outermost kind of break that fits: a top-level + or -, then
            # between top-level factors, then inside brackets, the shallowest
            # (of those past the first third of the line: no stub of a line; but
            # "y = f(w)" before a second "=" is a statement of its own)
            fitting = [p for p in fitting if at[p[0]] - start_w >= avail / 3
                       or latex.startswith("=", p[0])] or fitting
            best = min((depth, kind) for _, kind, depth in fitting)
            pos = max(p for p, kind, depth in fitting if (depth, kind) == best)
        else:
            pos = points[i][0]
        lines.append((latex[start:pos].rstrip(), at[pos] - start_w))
        start, start_w, avail = pos, at[pos], rest
    lines.append((latex[start:], total - start_w))
    return lines



# ---------------------------------------------------------------------------
# Page geometry (pt at 10pt type) and the layout of a chain
# ---------------------------------------------------------------------------

# Beamer: 307pt of text on a 4:3 frame, 11pt sans-serif math, which the
# 10pt serif estimate matches within -8%..+5% (notes at \footnotesize: 0.85).
WIDTH = {"onecolumn": 345.0, "twocolumn": 220.0,        # article; [a4paper,twocolumn]{article}
          "beamer": 307.3 / 1.05}
LIST_INDENT = {"onecolumn": 25.0, "twocolumn": 20.0, "beamer": 22.0}
PAPER_LIST_INDENT = 25.0   # \leftmargini of an article's enumerate (2.5em), at most
#: The named widths of a paper's snippet (SPEC section 7): ``column`` the
#: narrowest common two-column measure, ``text`` an article's text width.
NAMED_WIDTHS = {"column": 220.0, "text": 345.0}
_UNITS = {"pt": 1.0, "bp": 72.27 / 72, "in": 72.27, "cm": 72.27 / 2.54, "mm": 7.227 / 2.54}
_LENGTH = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*\Z")
MIN_WIDTH, MAX_WIDTH = 100.0, 1000.0


def parse_width(value) -> float:
    """``column``, ``text`` or a TeX length (``3.5in``, ``252pt``) -> points."""
    from .errors import TexderiveError
    if isinstance(value, str) and value.strip() in NAMED_WIDTHS:
        return NAMED_WIDTHS[value.strip()]
    m = _LENGTH.match(value) if isinstance(value, str) else None
    if m is None or m.group(2) not in _UNITS:
        raise TexderiveError(f"bad width {value!r}: use column ({NAMED_WIDTHS['column']:g}pt), "
                             f"text ({NAMED_WIDTHS['text']:g}pt) or a length with a unit pt, bp, "
                             f"in, cm or mm, such as 3.5in")
    points = float(m.group(1)) * _UNITS[m.group(2)]
    if not MIN_WIDTH <= points <= MAX_WIDTH:
        raise TexderiveError(f"width {value!r} is {points:.0f}pt: a display needs between "
                             f"{MIN_WIDTH:g}pt and {MAX_WIDTH:g}pt")
    return points
_MARGIN = 6.0          # room for the estimate's error
_BREAKABLE_ROWS = 8    # a paper's display longer than this may break across pages
_NOTE_GAP = 12.0       # amsmath keeps at least this between a row and its \tag
_INDENT_CONT = 16.0    # \quad and the sign's spacing on a continued row
_NOTE_WRAP = 0.8       # a note wider than this part of the line is set in a box that wide
# Beamer: heights (pt) on a 4:3 frame of 269pt text height, 11pt type.
# Measured: a frame holds 10 rows of a chain with a rule number over "=", 13
# continued rows, or 6 rows whose notes need lines of their own; 2 rows fewer
# under three bullets.
_FRAME_H = 198.0
_ROW_H = {"plain": 14.0, "numbered": 17.5, "cont": 13.5}     # with \jot = 1pt (frames set it)
_NOTE_H = 12.5         # a note that TeX sets on a line of its own
_ITEM_H = 14.5         # a line of a bullet
_LIST_BONUS = 15.0     # a frame of bullets only has no display skips
RULES_PER_FRAME = 9


def note_scale(fmt):
    return 0.86 if fmt in ("beamer", "deck") else 0.92       # \footnotesize, \small


def layout_rows(groups, width, note_scale, widths, breaks=False, tall=True):
    """Rows of an ``align*`` from ``groups`` = [(lhs, rel, math, note, kind, slide)].

    Math wider than the page is broken before a top-level + or - into
    ``cont`` rows.  A step's note goes on its last row, as ``\\tag*``: TeX sets
    it at the right margin, or on a line of its own below the row where the
    row leaves no room, so notes never push a row past the margin.  A row's
    ``tall`` (left out where ``tall`` is false) says whether its note is
    expected on a line of its own.  With ``breaks`` (a paper), a display longer
    than a few rows may break across pages after any step (``breakable``), and
    inside a step only where that step alone is that long.  ``widths``: the
    render call's :class:`Widths`."""
    measured = not math.isinf(width)          # Markdown and text: no page to fit
    lhs_w = max((widths.math(g[0]) for g in groups), default=0.0) if measured else 0.0
    usable = width - _MARGIN
    out, sizes = [], []
    for lhs, rel, mathx, note, kind, slide in groups:
        rel_w = widths.math(rel) if measured else 0.0
        lines = (widths.lines(mathx, usable - lhs_w - rel_w, usable - lhs_w - _INDENT_CONT)
                 if measured else [(mathx, 0.0)])
        rows = []
        for k, (line, _) in enumerate(lines):
            first = k == 0
            row = {"lhs": lhs if first else Tex(""), "rel": rel if first else Tex(""),
                   "math": Tex(line if first else "{}" + line), "note": Tex(""),
                   "kind": kind if first else "cont", "slide": slide}
            if tall:
                row["tall"] = False
            row["breakable"] = False
            rows.append(row)
        if note:
            last = rows[-1]
            last["note"] = note
            note_w = note_scale * widths.text(note) if measured else 0.0
            if note_w > _NOTE_WRAP * width:
                # wider than the line itself: amsmath would push it past the left
                # margin, unreported; a ragged-left box of a few lines instead
                last["note"] = Tex(r"\parbox[t]{%g\linewidth}{\raggedleft %s}" % (_NOTE_WRAP, note))
                note_w = _NOTE_WRAP * width
            if measured and tall:
                used = lhs_w + (rel_w if len(rows) == 1 else _INDENT_CONT) + lines[-1][1]
                last["tall"] = used + _NOTE_GAP + note_w > width
                if note_w and note_scale * widths.text(note) > _NOTE_WRAP * width:
                    last["note_lines"] = math.ceil(note_scale * widths.text(note) / (_NOTE_WRAP * width * 0.9))
        out.extend(rows)
        sizes.extend([len(rows)] * len(rows))
    if breaks and len(out) > _BREAKABLE_ROWS:
        for row, nxt, size in zip(out, out[1:], sizes):
            row["breakable"] = nxt["kind"] != "cont" or size > _BREAKABLE_ROWS
        # the statement and the first step stay together: no orphan "y = ..." at a page foot
        for row in out[:2]:
            row["breakable"] = False
    return out


def _chunks(groups, first, rest, height):
    """Split ``groups`` into frames of at most ``first`` (then ``rest``) pt of
    estimated height, as evenly as the fewest frames allow."""
    heights = [height(g) for g in groups]

    def greedy(scale):
        frames, current, used, budget = [], [], 0.0, first * scale
        for group, h in zip(groups, heights):
            if current and used + h > budget:
                frames.append(current)
                current, used, budget = [], 0.0, rest * scale
            current.append(group)
            used += h
        return frames + [current] if current else frames

    best = greedy(1.0)
    for k in range(19, 9, -1):            # tighter budgets, as long as no frame is added
        trial = greedy(k / 20)
        if len(trial) > len(best) or any(sum(map(height, f)) > (first if i == 0 else rest)
                                         for i, f in enumerate(trial)):
            break
        best = trial
    return best



_TEXT_NOTE_COL = 56


def text_rows(d):
    """The chain for a terminal: lhs right-aligned, notes in a column where they fit."""
    y = d.get("value_lhs_text", "y")
    lines, prev = [(y, d["statement_text"], "")], y
    for s in d["steps"]:
        lines.append((s["lhs_text"] if s["lhs_text"] != prev else "", s["text"] or s["latex"], s["note"]))
        prev = s["lhs_text"]
    lhs_w = max(len(lhs) for lhs, _, _ in lines)
    col = min(max(lhs_w + 3 + len(m) for _, m, _ in lines), _TEXT_NOTE_COL) + 3
    rows = []
    for lhs, mathx, note in lines:
        used = lhs_w + 3 + len(mathx)
        gap = " " * (col - used) if used + 3 <= col else "\n" + " " * (lhs_w + 5)
        rows.append({"lhs": lhs.rjust(lhs_w), "math": mathx, "note": note, "gap": gap})
    return rows


def _row_height(row) -> float:
    kind = "cont" if row["kind"] == "cont" else "numbered" if row["rel"] != "=" else "plain"
    return _ROW_H[kind] + (_NOTE_H * row.get("note_lines", 1) if row["tall"] else 0.0)


def fit_frames(d, width, style, widths):
    """Cut a derivation into Beamer frames that fit, evenly; continuation
    frames restate the current left-hand side and are titled "... (cont.)"."""
    item_w = width - LIST_INDENT["beamer"]

    def lines(w, avail=item_w):
        return max(1, math.ceil(w / avail))

    text = d["text"] if isinstance(d["text"], Tex) else escape_latex(d["text"])     # Tex: with its maths
    intro = [widths.text(text)] if text else []
    intro.append(widths.text(r"Find \(%s\) for \(y = %s\)" % (d["grad_lhs"], d["function"])))
    first = _FRAME_H - _ITEM_H * (sum(lines(w) for w in intro) + 1)
    if style == "steps":
        sub_w = item_w - LIST_INDENT["beamer"]

        def height(s):
            head = widths.text(s["heading"]) + widths.text(s["remark"]) + 20
            return _ITEM_H * (lines(head, sub_w) + lines(widths.math(s["lhs"]) + widths.math(s["latex"]) + 14, sub_w))
        chunks = _chunks(d["steps"], first + _LIST_BONUS, _FRAME_H + _LIST_BONUS - _ITEM_H, height)
    else:
        # the laid-out chain by step: a step's row with its continued rows
        by_step = []
        for row in d["rows"]:
            if row["kind"] in ("first", "step"):
                by_step.append([row])
            else:
                by_step[-1].append(row)
        # a step taller than a frame continues on the next one
        by_step = [piece for group in by_step for piece in _chunks(group, _FRAME_H, _FRAME_H, _row_height)]
        chunks = _chunks(by_step, first, _FRAME_H,
                         lambda g: sum(_row_height(r) for r in g))
    frames, lhs = [], Tex("y")
    for c, chunk in enumerate(chunks):
        frame = {"title": d["title"] if c == 0 else _cont(d["title"]), "first": c == 0,
                 "steps": [], "rows": []}
        if style == "steps":
            frame["steps"] = chunk
        else:
            for g, group in enumerate(chunk):
                for r, row in enumerate(group):
                    row = dict(row)
                    if g == 0 and r == 0 and not row["lhs"]:
                        row["lhs"] = lhs       # a continued chain restates what it equals
                    frame["rows"].append(row)
                if group[0]["lhs"]:
                    lhs = group[0]["lhs"]
            first_slide = frame["rows"][0]["slide"]   # overlays restart on each frame
            for row in frame["rows"]:
                row["slide"] -= first_slide - 1
        frames.append(frame)
    return frames


def _cont(title):
    return Tex(title + r" (cont.)") if isinstance(title, Tex) else f"{title} (cont.)"

