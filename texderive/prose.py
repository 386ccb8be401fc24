r"""Free text with maths: a deck's ``text:`` -> LaTeX text (SPEC section 7).

Between backticks is section-1 notation, optionally an equation or inequality
joined by ``=``, ``<``, ``<=``, ``>``, ``>=``, with ``dX`` for the differential
of ``X``: "`Y = X'X` is symmetric", "`dy = g' dx` gives the gradient g".  Each
such piece is parsed, given shapes like an expression (with the deck's
declarations; ``y``, the function's value, is a scalar unless declared or a
variable of the derivation) and
printed by the LaTeX printer in the deck's notation, between ``\(`` and ``\)``.
Everything else is escaped text: no LaTeX from a deck reaches the output.

``text_latex(text, notation, let) -> Tex``
    The text as LaTeX (a last backtick without a partner is text).  A bad piece raises :class:`ProseError` with ``pos``:
    the offset in ``text`` of the character at fault.
"""
from __future__ import annotations

import re

from .errors import TexderiveError
from .tex import Tex, escape_latex

_RELATIONS = {"=": "=", "<=": r"\le", ">=": r"\ge", "<": "<", ">": ">"}
_RELATION = re.compile(r"<=|>=|=|<|>")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_PLACEHOLDER = "Dtd{}x"      # a name no one writes: dX while parsing


class ProseError(TexderiveError):
    """An error in the maths of a free text, at ``pos`` (an offset in the text)."""


def text_latex(text: str, notation=None, let=None, value_y: bool = True) -> Tex:
    """``text`` with its backtick maths printed (see the module doc).  ``value_y``:
    an undeclared ``y`` is the function's value, a scalar (not where the derivation
    itself has a variable ``y``)."""
    from .tex import cannot_set, unsupported_character
    bad = unsupported_character(text)
    if bad is not None:
        raise ProseError(cannot_set(bad[1]), pos=bad[0])
    parts = text.split("`")
    if len(parts) % 2 == 0:                  # a backtick with no partner is text (a quote)
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    out, offset = [], 0
    for k, part in enumerate(parts):
        if k % 2 == 0:
            out.append(escape_latex(part))
        else:
            if not part.strip():
                raise ProseError(f"empty maths between the backticks at col {offset}", pos=offset - 1)
            declared = dict(let or {})
            if value_y:
                declared.setdefault("y", "scalar")
            out.append(r"\(" + _math(part, offset, notation, declared) + r"\)")
        offset += len(part) + 1
    return Tex("".join(out))


def _math(source: str, offset: int, notation, let: dict) -> str:
    """One backtick piece: expressions joined by relations, each printed."""
    sides, relations, start, depth = [], [], 0, 0
    k = 0
    while k < len(source):
        c = source[k]
        depth += (c in "([") - (c in ")]")
        m = _RELATION.match(source, k) if depth == 0 else None
        if m:
            sides.append((source[start:k], offset + start))
            relations.append(_RELATIONS[m.group(0)])
            start = k = m.end()
            continue
        k += 1
    sides.append((source[start:], offset + start))
    printed = []
    for side, at in sides:
        if not side.strip():
            raise ProseError("a relation needs an expression on each side", pos=max(at - 1, 0))
        printed.append(_expression(side, at, notation, let))
    latex = printed[0]
    for rel, side in zip(relations, printed[1:]):
        latex += f" {rel} {side}"
    return latex


def _expression(source: str, at: int, notation, let: dict) -> str:
    from . import ir, notation as parser, shapes
    from .notation import FUNCTIONS, CONSTANTS
    from .printers.latex import to_latex
    declared = dict(let)
    # dX -> a placeholder of X's kind, read back as the differential of X
    differentials, names = {}, set(_NAME.findall(source))

    def differential(m):
        word, rest = m.group(0), m.group(0)[1:]
        after = source[m.end():].lstrip()[:1]
        if (len(word) < 2 or word[0] != "d" or word in declared or word in FUNCTIONS
                or word in CONSTANTS or after == "(" or not _NAME.fullmatch(rest)
                or rest in FUNCTIONS or rest in CONSTANTS):
            return word
        placeholder = _PLACEHOLDER.format(len(differentials))
        while placeholder in names:
            placeholder += "x"
        differentials[placeholder] = rest
        if rest in declared:
            declared[placeholder] = declared[rest]
        else:
            declared[placeholder] = shapes.default_kind(rest)
        return placeholder

    # the placeholders change lengths: an error's column counts only where none was put
    rewritten = re.sub(r"(?<![A-Za-z0-9_])d[A-Za-z][A-Za-z0-9_]*", differential, source)
    try:
        syn = parser.parse(rewritten)
        node = shapes.elaborate(syn, rewritten, shapes.parse_let(declared), scalar=False)
    except TexderiveError as e:
        pos = e.pos if e.pos is not None and rewritten == source else 0
        message = e.message
        for placeholder, name in differentials.items():
            message = message.replace(placeholder, "d" + name)
        raise ProseError(f"{message} (in the maths `{source.strip()}`)", pos=at + pos) from None

    def restore(n):
        if isinstance(n, ir.Sym):
            return ir.D(ir.Sym(differentials[n.name], *n.args[1:])) if n.name in differentials else n
        return n.rebuild(*(restore(a) if isinstance(a, ir.Node) else a for a in n.args))

    return to_latex(restore(node), notation)
