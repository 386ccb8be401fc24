r"""Reading the user's own LaTeX into the notation's syntax tree (``--latex``).

:func:`parse_latex` turns LaTeX math such as
``\log\det(\mathbf{X}^\top\mathbf{X})`` into the *same* token stream the plain
notation's tokenizer makes for ``log(det(X'*X))`` and hands it to the same
:class:`texderive.notation.Parser`, so both spellings elaborate to the same IR.

Pipeline:

1. a pre-scan of the raw text (no recursion): the length limit, brace balance
   and nesting depth (pylatexenc recurses once per brace and raises
   ``RecursionError`` past ~330), every macro checked against the whitelist
   below (an unknown macro such as ``\input`` is an error that names it and is
   never copied anywhere), and the math delimiters ``$…$``, ``$$…$$``,
   ``\[…\]``, ``\(…\)``, allowed only around the whole input, are blanked
   (replaced by spaces, so every offset stays a column of the user's text);
2. pylatexenc's ``LatexWalker`` (``tolerant_parsing=False``) with an *empty*
   context: every macro takes no argument, so argument grabbing is uniform and
   TeX-like here (``\frac12`` is ``\frac{1}{2}``);
3. its nodes become a flat list of items per brace level: single characters,
   macros, groups, and delimiters (``(``, ``\left[``, ``\bigl\{``, ``|``,
   ``\|``, ``\lvert``, ``\langle`` ...);
4. a small recursive descent over the items emits :class:`notation.Tok`
   objects whose ``pos``/``end`` are offsets in the LaTeX text.

Token-stream conventions (what the LaTeX becomes):

* names: ``\mathbf{X}_{1}`` -> ``X1`` (digits join), ``\mathbf{W}_{q}`` ->
  ``W_q``, ``\mathbf{Wq}`` -> ``Wq``, ``\bm{\Sigma}`` -> ``Sigma``; plain
  letters are one-letter names (``AX`` is ``A X``); ``names`` maps a printed
  spelling back to the user's (``{"X1": "X_1"}``);
* ``\mathbf{1}`` -> ``ones``, ``\mathbf{0}`` -> ``zeros``, ``\mathbf{I}``/``I``
  -> ``I``; a subscript on a constant is a size and is dropped (``\mathbf{I}_n``);
* every transpose form (``^\top ^T ^{\mathsf T} ^\intercal ^\T '``) -> ``'``;
  ``^{-\top}`` -> ``^ - 1 '``; ``^{\circ k}`` -> ``.^ k``; any other exponent
  -> ``^ e`` when it is one number or name (optionally signed), else
  ``^ ( e )``;
* a function (``\tr``, ``\operatorname{tr}``, ``\log``, ``\sqrt{…}`` ...) takes
  its parenthesised argument, or else the single next factor, around which
  ``(`` ``)`` are emitted: ``\log\det\mathbf{Y}`` -> ``log ( det ( Y ) )``;
  ``\sin^2 x`` -> ``sin ( x ) ^ 2``;
* ``\frac{a}{b}`` -> ``( a / b )``, each of ``a`` and ``b`` in parentheses
  when it is more than one token; braces, brackets and ``\{ \}`` group like
  parentheses;
* ``\|e\|``, ``\|e\|_F`` -> ``norm ( e )``; ``\|e\|_2`` -> ``norm2 ( e )``
  (the vector 2-norm: for a matrix it would be the spectral norm, which
  elaboration rejects); a power after the bars follows the call;
  ``|e|``/``\lvert e\rvert`` -> ``abs ( e )``;
* ``\langle A, B\rangle`` -> ``tr ( ( A ) ' * ( B ) )``;
* ``\cdot \times \ast *`` -> ``*``, ``\odot \circ`` -> ``.*``, ``\oslash`` ->
  ``./``, ``\div /`` -> ``/``.
"""
from __future__ import annotations

import re
from fractions import Fraction

from . import notation
from .errors import LimitError, ParseError, TexderiveError
from .notation import FUNCTIONS, MAX_CHARS, MAX_DEPTH, MAX_TOKENS, NAME_RE, Syn, Tok, number_value

__all__ = ["parse_latex"]

# ---------------------------------------------------------------------------
# tables

GREEK_LOWER = {g: g for g in """alpha beta gamma delta epsilon zeta eta theta iota kappa lambda
    mu nu xi pi rho sigma tau upsilon phi chi psi omega""".split()}
GREEK_LOWER.update(varepsilon="epsilon", vartheta="theta", varphi="phi", varrho="rho",
                   varsigma="sigma", varpi="pi")
GREEK_UPPER = {g: g for g in "Sigma Lambda Gamma Delta Theta Xi Pi Phi Psi Omega Upsilon".split()}
GREEK = {**GREEK_LOWER, **GREEK_UPPER}

BOLD = frozenset(("mathbf", "bm", "boldsymbol", "mathbfit", "mathit"))
TEXT_FONTS = frozenset(("operatorname", "mathrm", "text", "textrm", "mathsf", "textsf"))
# macros that name a function directly (physics' \Tr, \trace and a user's \diag included)
FUNC_MACROS = {
    "tr": "tr", "Tr": "tr", "trace": "tr", "det": "det", "log": "log", "ln": "log",
    "exp": "exp", "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh",
    "tanh": "tanh", "diag": "diag",
}
# words inside \operatorname{...}, \mathrm{...}, \text{...}
FUNC_WORDS = {k: k for k in FUNCTIONS}
FUNC_WORDS["ln"] = "log"
FRACS = frozenset(("frac", "tfrac", "dfrac"))
TRANSPOSE_MACROS = frozenset(("top", "T", "intercal", "prime"))
T_FONTS = frozenset(("mathsf", "mathrm", "text", "textsf", "textrm", "mathbf", "mathit"))
BINOP_CHARS = {"+": "+", "-": "-", "\u2212": "-", "*": "*", "/": "/"}
BINOP_MACROS = {"cdot": "*", "times": "*", "ast": "*", "div": "/", "odot": ".*", "circ": ".*",
                "oslash": "./"}
SPACING = frozenset((",", ";", ":", "!", ">", " ", "\n", "\t", "\r", "quad", "qquad",
                     "thinspace", "medspace", "thickspace", "negthinspace", "negmedspace",
                     "negthickspace", "enspace", "displaystyle", "textstyle"))
# delimiters: token -> (kind, natural direction: 'open' | 'close' | 'bar')
DELIM_CHARS = {"(": ("paren", "open"), ")": ("paren", "close"), "[": ("bracket", "open"),
               "]": ("bracket", "close"), "|": ("abs", "bar")}
DELIM_MACROS = {"{": ("brace", "open"), "}": ("brace", "close"), "lbrace": ("brace", "open"),
                "rbrace": ("brace", "close"), "lbrack": ("bracket", "open"),
                "rbrack": ("bracket", "close"), "langle": ("angle", "open"),
                "rangle": ("angle", "close"), "lvert": ("abs", "open"), "rvert": ("abs", "close"),
                "vert": ("abs", "bar"), "lVert": ("norm", "open"), "rVert": ("norm", "close"),
                "|": ("norm", "bar"), "Vert": ("norm", "bar")}
SIZES = frozenset(("big", "Big", "bigg", "Bigg"))
SIZED = {s + suffix: {"": None, "l": "open", "r": "close"}[suffix]
         for s in SIZES for suffix in ("", "l", "r")}
MATH_DELIMS = frozenset(("(", ")", "[", "]"))
CONSTANT_NAMES = frozenset(("I", "ones", "zeros"))

KNOWN_MACROS = (set(GREEK) | BOLD | TEXT_FONTS | set(FUNC_MACROS) | FRACS | TRANSPOSE_MACROS
                | set(BINOP_MACROS) | SPACING | set(DELIM_MACROS) | set(SIZED) | MATH_DELIMS
                | {"left", "right", "sqrt", "mathbb", "otimes", "max", "min", "dd"})

_NUM_RE = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE]([+-]?\d+))?")
_MACRO_RE = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)
_SUB_RE = re.compile(r"[A-Za-z0-9]+\Z")
_MAX_EXP10 = 1000           # 1e1000000000 would make Fraction compute a billion-digit integer
_OPEN_NAME = {"paren": "(", "bracket": "[", "brace": "\\{", "angle": "\\langle",
              "abs": "|", "norm": "\\|"}


def _macro_desc(name: str) -> str:
    if len(name) > 30:
        name = name[:30] + "..."
    return "\\" + name


# ---------------------------------------------------------------------------
# entry point

_CONTEXT = None


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        from pylatexenc.macrospec import EnvironmentSpec, LatexContextDb, MacroSpec
        db = LatexContextDb()
        db.set_unknown_macro_spec(MacroSpec(""))
        db.set_unknown_environment_spec(EnvironmentSpec(""))
        _CONTEXT = db
    return _CONTEXT


def parse_latex(text: str, *, names: dict | None = None, differentials: bool = False) -> Syn:
    r"""Parse LaTeX math into a :class:`notation.Syn` tree, as the plain notation would.

    ``names`` maps printed spellings to the user's spellings (``{"X1": "X_1"}``).
    ``differentials`` reads ``\\mathrm{d}``/``\\operatorname{d}`` as the differential of
    the factor after it (for checking printed steps; ``--latex`` input never has it).
    Every failure is a :class:`ParseError` or :class:`LimitError` whose ``pos``
    is a column (offset) of ``text``.
    """
    if not isinstance(text, str):
        raise ParseError(f"the LaTeX input must be a string, not {type(text).__name__}")
    names = _check_names(names)
    if len(text) > MAX_CHARS:
        raise LimitError(f"the expression is {len(text)} characters long; the limit is {MAX_CHARS}",
                         pos=0, source=text[:80])
    try:
        toks = _tokens(text, names, differentials)
    except TexderiveError as exc:
        raise exc.with_source(text)
    except RecursionError:
        raise LimitError("the expression is nested too deeply", pos=0, source=text) from None
    except MemoryError:
        raise LimitError("the expression is too large", pos=0, source=text) from None
    try:
        return notation.Parser(toks, text).parse()
    except RecursionError:
        raise LimitError("the expression is nested too deeply", pos=0, source=text) from None


def _check_names(names) -> dict:
    if names is None:
        return {}
    if not isinstance(names, dict):
        raise ParseError("names must map printed spellings to the user's spellings")
    for k, v in names.items():
        if not (isinstance(k, str) and isinstance(v, str) and NAME_RE.match(v)
                and v not in FUNCTIONS and v not in CONSTANT_NAMES):
            raise ParseError(f"bad entry in names: {k!r}: {v!r}")
    return dict(names)


def _tokens(text: str, names: dict, differentials: bool = False) -> list:
    body = _prescan(text)
    from pylatexenc.latexwalker import LatexWalker
    try:
        walker = LatexWalker(body, latex_context=_context(), tolerant_parsing=False)
        nodes, _, _ = walker.get_latex_nodes(pos=0)
    except RecursionError:
        raise LimitError("the expression is nested too deeply", pos=0, source=text) from None
    except Exception as exc:  # pylatexenc's own errors; the pre-scan should leave none
        pos = getattr(exc, "pos", None)
        pos = pos if isinstance(pos, int) and 0 <= pos <= len(text) else 0
        raise ParseError(f"cannot read the LaTeX: {str(exc).splitlines()[0] if str(exc) else exc}",
                         pos=pos, source=text) from None
    items = _items(nodes, text)
    conv = _Converter(text, names)
    conv.differentials = differentials
    cur = _Cur(items, len(text))
    conv.expr(cur)
    if not conv.toks:
        raise ParseError("the expression is empty", pos=0, source=text)
    if not cur.done:
        conv.leftover(cur)
    conv.toks.append(Tok("end", "", len(text), len(text)))
    return conv.toks


# ---------------------------------------------------------------------------
# 1. pre-scan: limits, braces, whitelist, math delimiters

def _prescan(text: str) -> str:
    """Check braces, depth and macros without recursion; return the text with the
    math delimiters around it blanked out."""
    if not text.strip():
        raise ParseError("the expression is empty", pos=0, source=text)
    opens, macros, dollars = [], [], []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 >= n:
                raise ParseError("a lone backslash at the end", pos=i, source=text)
            m = _MACRO_RE.match(text, i)
            name = m.group()[1:]
            if name not in KNOWN_MACROS:
                raise ParseError(f"unknown macro {_macro_desc(name)}", pos=i, source=text,
                                 length=min(m.end() - i, 31))
            macros.append((name, i, m.end()))
            i = m.end()
            continue
        if c == "%":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "{":
            opens.append(i)
            if len(opens) > MAX_DEPTH:
                raise LimitError(f"the expression is nested more than {MAX_DEPTH} levels deep",
                                 pos=i, source=text)
        elif c == "}":
            if not opens:
                raise ParseError("unmatched '}'", pos=i, source=text)
            opens.pop()
        elif c == "$":
            dollars.append(i)
        i += 1
    if opens:
        raise ParseError(f"'{{' at col {opens[-1] + 1} is not closed", pos=opens[-1], source=text)

    chars = list(text)
    a = len(text) - len(text.lstrip())
    b = len(text.rstrip())
    blank = []
    math = {(name, p) for name, p, _ in macros if name in MATH_DELIMS}
    dset = set(dollars)
    if b - a >= 4 and {a, a + 1, b - 2, b - 1} <= dset:
        blank = [(a, a + 2), (b - 2, b)]
    elif b - a >= 2 and a in dset and b - 1 in dset:
        blank = [(a, a + 1), (b - 1, b)]
    elif b - a >= 4 and (("[", a) in math and ("]", b - 2) in math
                         or ("(", a) in math and (")", b - 2) in math):
        blank = [(a, a + 2), (b - 2, b)]
    for s, e in blank:
        for k in range(s, e):
            chars[k] = " "
    blanked = {k for s, e in blank for k in range(s, e)}
    for p in dollars:
        if p not in blanked:
            raise ParseError("'$' inside the expression: math delimiters may only surround "
                             "the whole input", pos=p, source=text)
    for name, p, _ in macros:
        if name in MATH_DELIMS and p not in blanked:
            raise ParseError(f"\\{name} inside the expression: math delimiters may only "
                             f"surround the whole input", pos=p, source=text, length=2)
    body = "".join(chars)
    if not body.strip():
        raise ParseError("the expression is empty", pos=0, source=text)
    return body


# ---------------------------------------------------------------------------
# 2. pylatexenc nodes -> items

class _It:
    """An item: 'c' one character, 'm' a macro, 'g' a {group} (kids), or a delimiter
    'open' / 'close' / 'bar' whose val is its kind (paren, bracket, brace, angle,
    abs, norm) and how is 'left' / 'right' for \\left / \\right, else None."""
    __slots__ = ("kind", "val", "pos", "end", "kids", "how")

    def __init__(self, kind, val, pos, end, kids=None, how=None):
        self.kind, self.val, self.pos, self.end, self.kids, self.how = kind, val, pos, end, kids, how

    def __repr__(self):
        return f"_It({self.kind!r}, {self.val!r}, {self.pos})"


def _items(nodes, text: str) -> list:
    from pylatexenc.latexwalker import (LatexCharsNode, LatexCommentNode, LatexGroupNode,
                                        LatexMacroNode)
    raw = []
    for nd in nodes:
        if nd is None or isinstance(nd, LatexCommentNode):
            continue
        if isinstance(nd, LatexCharsNode):
            for k, ch in enumerate(nd.chars):
                if ch.isspace() or ch == "~":
                    continue
                raw.append(_It("c", ch, nd.pos + k, nd.pos + k + 1))
        elif isinstance(nd, LatexMacroNode):
            name = nd.macroname
            if name in SPACING:
                continue
            if name not in KNOWN_MACROS:        # the pre-scan already refused it
                raise ParseError(f"unknown macro {_macro_desc(name)}", pos=nd.pos, source=text)
            raw.append(_It("m", name, nd.pos, nd.pos + 1 + len(name)))
        elif isinstance(nd, LatexGroupNode):
            kids = _items(nd.nodelist or [], text)
            raw.append(_It("g", None, nd.pos, nd.pos + nd.len, kids=kids))
        else:
            raise ParseError("unexpected LaTeX construct", pos=nd.pos, source=text)
    return _delimiters(raw, text)


def _delim_of(it: _It):
    if it.kind == "c":
        return DELIM_CHARS.get(it.val)
    if it.kind == "m":
        return DELIM_MACROS.get(it.val)
    return None


def _delimiters(raw: list, text: str) -> list:
    """Fold \\left, \\right, \\bigl ... and the delimiter tokens into delimiter items."""
    out = []
    i = 0
    while i < len(raw):
        it = raw[i]
        if it.kind == "m" and (it.val in ("left", "right") or it.val in SIZED):
            nxt = raw[i + 1] if i + 1 < len(raw) else None
            d = _delim_of(nxt) if nxt is not None else None
            mac = "\\" + it.val
            if d is None:
                if nxt is not None and nxt.kind == "c" and nxt.val == ".":
                    raise ParseError(f"{mac}. (an invisible delimiter) is not supported",
                                     pos=it.pos, source=text, length=nxt.end - it.pos)
                raise ParseError(f"{mac} must be followed by a delimiter such as ( [ | \\|",
                                 pos=it.pos, source=text, length=it.end - it.pos)
            kind, natural = d
            span = (it.pos, nxt.end)
            if it.val == "left":
                if natural == "close":
                    raise ParseError(f"{text[span[0]:span[1]]} opens with a closing delimiter",
                                     pos=it.pos, source=text, length=span[1] - span[0])
                out.append(_It("open", kind, *span, how="left"))
            elif it.val == "right":
                if natural == "open":
                    raise ParseError(f"{text[span[0]:span[1]]} closes with an opening delimiter",
                                     pos=it.pos, source=text, length=span[1] - span[0])
                out.append(_It("close", kind, *span, how="right"))
            else:
                direction = SIZED[it.val] or natural
                if natural != "bar" and SIZED[it.val] and direction != natural:
                    raise ParseError(f"{text[span[0]:span[1]]}: the delimiter faces the wrong way",
                                     pos=it.pos, source=text, length=span[1] - span[0])
                out.append(_It(direction, kind, *span))
            i += 2
            continue
        d = _delim_of(it)
        if d is not None:
            out.append(_It(d[1], d[0], it.pos, it.end))
        else:
            out.append(it)
        i += 1
    return out


# ---------------------------------------------------------------------------
# 3. items -> tokens

class _Cur:
    """A cursor over one level's items; ``end_pos`` is where that level ends."""
    __slots__ = ("items", "i", "end_pos")

    def __init__(self, items, end_pos):
        self.items, self.i, self.end_pos = items, 0, end_pos

    def peek(self, k: int = 0):
        j = self.i + k
        return self.items[j] if j < len(self.items) else None

    def next(self):
        it = self.items[self.i]
        self.i += 1
        return it

    @property
    def done(self) -> bool:
        return self.i >= len(self.items)


def _is_char(it, chars) -> bool:
    return it is not None and it.kind == "c" and it.val in chars


def _is_T(items) -> bool:
    """Is this exponent a transpose: T, \\top, \\T, \\intercal, \\prime, \\mathsf{T} ...?"""
    if len(items) == 1:
        it = items[0]
        if it.kind == "c":
            return it.val == "T"
        if it.kind == "m":
            return it.val in TRANSPOSE_MACROS
        if it.kind == "g":
            return _is_T(it.kids)
        return False
    if len(items) == 2 and items[0].kind == "m" and items[0].val in T_FONTS:
        return items[1].kind in ("c", "g") and _is_T([items[1]])
    return False


class _Converter:
    def __init__(self, source: str, names: dict):
        self.src = source
        self.names = names
        self.differentials = False
        self.toks: list = []
        self.depth = 0

    # -- helpers -------------------------------------------------------------
    def err(self, msg: str, pos: int, end: int | None = None) -> ParseError:
        length = 1 if end is None else max(1, end - pos)
        return ParseError(msg, pos=pos, source=self.src, length=length)

    def show(self, it: _It) -> str:
        s = self.src[it.pos:it.end]
        return s if len(s) <= 30 else s[:30] + "..."

    def emit(self, kind: str, text: str, pos: int, end: int, value=None) -> Tok:
        tok = Tok(kind, text, pos, end, value)
        self.toks.append(tok)
        if len(self.toks) > MAX_TOKENS:
            raise LimitError(f"the expression has more than {MAX_TOKENS} tokens", pos=pos,
                             source=self.src)
        return tok

    def op(self, text: str, pos: int, end: int) -> Tok:
        return self.emit("op", text, pos, end)

    def open_(self, pos: int, end: int | None = None) -> Tok:
        return self.emit("(", "(", pos, pos if end is None else end)

    def close_(self, pos: int, end: int | None = None) -> Tok:
        return self.emit(")", ")", pos, pos if end is None else end)

    def emit_name(self, name: str, pos: int, end: int) -> None:
        if name in CONSTANT_NAMES:
            self.emit("name", name, pos, end)
            return
        if name in FUNCTIONS:
            raise self.err(f"{name} is a function name; write \\operatorname{{{name}}}(...) for "
                           f"the function", pos, end)
        if not NAME_RE.match(name):
            raise self.err(f"{name!r} is not a name", pos, end)
        self.emit("name", self.names.get(name, name), pos, end)

    def wrap(self, start: int) -> None:
        """Put the tokens from ``start`` in parentheses unless they are one atom."""
        seg = self.toks[start:]
        if len(seg) == 1 and seg[0].kind in ("num", "name"):
            return
        self.toks.insert(start, Tok("(", "(", seg[0].pos, seg[0].pos))
        last = self.toks[-1]
        self.close_(last.end)

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LimitError(f"the expression is nested more than {MAX_DEPTH} levels deep",
                             pos=pos, source=self.src)

    def leave(self) -> None:
        self.depth -= 1

    def sub_cursor(self, group: _It) -> _Cur:
        return _Cur(group.kids, max(group.pos, group.end - 1))

    def leftover(self, cur: _Cur) -> None:
        """Raise the error for the item that stopped ``expr`` at the top of a level."""
        it = cur.peek()
        if it.kind == "close":
            raise self.err(f"unmatched {self.show(it)}", it.pos, it.end)
        if it.kind == "bar":
            raise self.err(f"unmatched {self.show(it)}", it.pos, it.end)
        if _is_char(it, ","):
            raise self.err("unexpected ',' (a comma only separates the two sides of "
                           "\\langle A, B \\rangle)", it.pos)
        raise self.err(f"unexpected {self.show(it)}", it.pos, it.end)

    # -- expressions -----------------------------------------------------------
    def binop(self, it: _It):
        if it.kind == "c":
            return BINOP_CHARS.get(it.val)
        if it.kind == "m":
            return BINOP_MACROS.get(it.val)
        return None

    def expr(self, cur: _Cur, bar: str | None = None) -> None:
        """Emit tokens for operands and operators until a closing delimiter, a comma,
        the end of the level, or (after an operand) a bar of kind ``bar``."""
        expect, start = True, len(self.toks)
        factor_start = start
        while True:
            it = cur.peek()
            if it is None or it.kind == "close" or _is_char(it, ","):
                return
            if it.kind == "bar" and it.val == bar and (not expect or len(self.toks) == start):
                return
            if it.kind == "g" and not it.kids:
                cur.next()
                continue
            if it.kind == "m" and it.val == "otimes":
                cur.next()
                self.kron(cur, it, None if expect else factor_start)
                continue
            op = self.binop(it)
            if op is not None:
                cur.next()
                self.op(op, it.pos, it.end)
                expect = True
                continue
            factor_start = len(self.toks)
            self.factor(cur)
            expect = False

    def kron(self, cur: _Cur, it: _It, start) -> None:
        """``A \\otimes B`` -> ``kron ( A , B )``: the factor before and the one after (the
        Kronecker product binds tighter than juxtaposition; a chain groups to the left)."""
        nxt = cur.peek()
        if start is None or nxt is None or nxt.kind == "close" or _is_char(nxt, ",") \
                or self.binop(nxt) is not None:
            raise self.err("\\otimes needs a factor on each side: A \\otimes B", it.pos, it.end)
        left = self.toks[start:]
        del self.toks[start:]
        self.emit("name", "kron", it.pos, it.end)
        self.open_(it.pos)
        self.toks.extend(left)
        self.emit(",", ",", it.pos, it.end)
        self.factor(cur)
        self.close_(self.toks[-1].end)

    def sub_expr(self, group: _It, what: str) -> None:
        """Emit a whole {group} (non-empty) as an expression."""
        if not group.kids:
            raise self.err(f"empty {what}", group.pos, group.end)
        sub = self.sub_cursor(group)
        start = len(self.toks)
        self.expr(sub)
        if not sub.done:
            self.leftover(sub)
        if len(self.toks) == start:
            raise self.err(f"empty {what}", group.pos, group.end)

    def arg_expr(self, arg: _It, what: str) -> None:
        """Emit a macro argument: a {group}, or one character or macro as TeX takes it."""
        if arg.kind == "g":
            self.sub_expr(arg, what)
            return
        if arg.kind in ("open", "close", "bar"):
            raise self.err(f"put the {what} in braces {{...}}", arg.pos, arg.end)
        sub = _Cur([arg], arg.end)
        start = len(self.toks)
        self.expr(sub)
        if not sub.done:
            self.leftover(sub)
        if len(self.toks) == start:
            raise self.err(f"empty {what}", arg.pos, arg.end)

    def factor(self, cur: _Cur) -> None:
        first = cur.peek()
        self.enter(first.pos if first is not None else cur.end_pos)
        self.primary(cur)
        self.postfix(cur)
        self.leave()

    def postfix(self, cur: _Cur) -> None:
        while True:
            it = cur.peek()
            if _is_char(it, "'") or (it is not None and it.kind == "m" and it.val == "T"):
                cur.next()                  # X' and texderive.sty's X\T (\T is ^{\top})
                self.op("'", it.pos, it.end)
            elif _is_char(it, "^"):
                cur.next()
                self.exponent(cur, it)
            elif _is_char(it, "_"):
                raise self.err("a subscript must follow a name directly (write X_1^T, not "
                               "X^T_1); other subscripts are not supported", it.pos)
            else:
                return

    # -- operands --------------------------------------------------------------
    def primary(self, cur: _Cur) -> None:
        it = cur.peek()
        if it is None:
            raise self.err("the expression ends where an operand is expected", cur.end_pos)
        if it.kind == "c":
            ch = it.val
            if (ch.isascii() and ch.isdigit()) or ch == ".":
                self.number(cur)
            elif ch.isascii() and ch.isalpha():
                self.letter(cur)
            elif ch in "^_'":
                raise self.err(f"'{ch}' needs something before it", it.pos)
            else:
                raise self.err(f"unexpected {ch!r} where an operand is expected", it.pos)
            return
        cur.next()
        if it.kind == "g":
            if not it.kids:
                raise self.err("empty group {} where an operand is expected", it.pos, it.end)
            self.open_(it.pos, it.pos + 1)
            self.sub_expr(it, "group {}")
            self.close_(it.end - 1, it.end)
        elif it.kind in ("open", "bar"):
            self.delimited(cur, it)
        elif it.kind == "close":
            raise self.err(f"unmatched {self.show(it)}", it.pos, it.end)
        else:
            self.macro(cur, it)

    def number(self, cur: _Cur) -> None:
        first = cur.peek()
        s, end, j = "", first.pos, cur.i
        while j < len(cur.items):
            c = cur.items[j]
            if c.kind != "c" or c.pos != end or not (
                    (c.val.isascii() and c.val.isdigit()) or c.val in ".eE+-"):
                break
            s += c.val
            end = c.end
            j += 1
        m = _NUM_RE.match(s)
        if m is None:
            raise self.err("unexpected '.' (a number such as 0.5, or \\cdot for a product)",
                           first.pos)
        lit = m.group()
        if m.group(1) is not None and (len(m.group(1).lstrip("+-")) > 4 or
                                       abs(int(m.group(1))) > _MAX_EXP10):
            raise LimitError(f"the number {lit} is out of range", pos=first.pos, source=self.src,
                             length=len(lit))
        cur.i += len(lit)
        self.emit("num", lit, first.pos, first.pos + len(lit), number_value(lit, first.pos, self.src))

    def letter(self, cur: _Cur) -> None:
        it = cur.next()
        # a run of letters spelling a function (tr, det, log ...) is a typo for the macro
        prev = cur.items[cur.i - 2] if cur.i >= 2 else None
        if not (prev is not None and prev.kind == "c" and prev.end == it.pos and prev.val.isalpha()):
            word, end, j = it.val, it.end, cur.i
            while j < len(cur.items) and cur.items[j].kind == "c" and cur.items[j].pos == end \
                    and cur.items[j].val.isascii() and cur.items[j].val.isalpha():
                word += cur.items[j].val
                end = cur.items[j].end
                j += 1
            if len(word) > 1 and word in FUNC_WORDS:
                raise self.err(f"write \\operatorname{{{word}}} (or \\{word} where LaTeX has it) "
                               f"for the function {word}; plain letters are one-letter names",
                               it.pos, end)
        self.finish_name(cur, it.val, it.pos, it.end, plain=True)

    def finish_name(self, cur: _Cur, base: str, pos: int, end: int, plain: bool = False,
                    inner_sub: str | None = None) -> None:
        """Emit a name, joining a subscript that follows: X_1 -> X1, W_q -> W_q.

        A subscript on a constant is its size (``\\mathbf{I}_n``, ``\\mathbf{1}_{m,n}``), and
        ``\\mathbf{K}_{m,n}`` (a comma in the subscript) is the commutation matrix."""
        sub = inner_sub
        nxt = cur.peek()
        if _is_char(nxt, "_") and (base in CONSTANT_NAMES or (base == "K" and self.comma_sub(cur))):
            cur.next()
            sizes, end = self.size_sub(cur, nxt)
            if base == "K":
                self.emit("name", "commutation", pos, end)
                self.open_(pos)
                self.emit("name", "zeros", pos, end, tuple(sizes))
                self.close_(end)
                return
            if len(sizes) > 2:
                raise self.err(f"{self.src[pos:end]}: a constant has one or two sizes", pos, end)
            self.emit("name", base, pos, end, sizes[0] if len(sizes) == 1 else tuple(sizes))
            return
        if base in CONSTANT_NAMES and inner_sub is not None:
            self.emit("name", base, pos, end, inner_sub)
            return
        if base in ("ones", "zeros") and self.differentials and sub is None:
            # a printed step: a bare 1 or 0 is never a row (a row is printed 1^T)
            self.emit("name", base, pos, end, notation.NOT_A_ROW)
            return
        if _is_char(nxt, "_"):
            if sub is not None or re.search(r"\d\Z", base):
                raise self.err(f"{self.src[pos:end]} already has a subscript", nxt.pos)
            cur.next()
            sub, end = self.read_sub(cur, nxt)
        elif plain and nxt is not None and nxt.kind == "c" and nxt.val.isascii() \
                and nxt.val.isdigit() \
                and nxt.pos == end:
            raise self.err(f"a number right after the name {self.src[pos:end]}: write "
                           f"{self.src[pos:end]}_{nxt.val} for a subscripted name, or put a "
                           f"space or \\cdot between them", nxt.pos)
        if sub is None or base in CONSTANT_NAMES:   # a subscript on I, 1, 0 is a size
            name = base
        elif sub.isdigit():
            name = base + sub
        else:
            name = base + "_" + sub
        self.emit_name(name, pos, end)

    def comma_sub(self, cur: _Cur) -> bool:
        """Is the item after the ``_`` at the cursor a group with a comma: ``_{m,n}``?"""
        arg = cur.peek(1)
        return arg is not None and arg.kind == "g" and any(_is_char(k, ",") for k in arg.kids)

    def size_sub(self, cur: _Cur, us: _It) -> tuple:
        """After ``_`` (taken): the sizes of a constant, ``n``, ``{mn}``, ``{m,n}``, ``{2n}``."""
        arg = cur.peek()
        if arg is None:
            raise self.err("'_' needs a subscript", us.pos)
        cur.next()
        items = arg.kids if arg.kind == "g" else [arg]
        sizes, word = [], ""
        for k in items:
            if _is_char(k, ","):
                sizes.append(word)
                word = ""
            elif k.kind == "c" and k.val.isascii() and k.val.isalnum():
                word += k.val
            elif k.kind == "g" and all(c.kind == "c" and c.val.isascii() and (c.val.isalnum()
                                       or c.val == "_") for c in k.kids):
                word += "".join(c.val for c in k.kids)        # \mathit{ab}: one name
            elif k.kind == "m" and k.val in ("mathit", "mathrm"):
                pass
            else:
                raise self.err("the size of a constant is letters and digits, such as _n, "
                               "_{mn} or _{m,n}", k.pos, k.end)
        sizes.append(word)
        if not all(sizes):
            raise self.err("an empty size in a subscript", arg.pos, arg.end)
        return sizes, arg.end

    def read_sub(self, cur: _Cur, us: _It) -> tuple:
        """After ``_`` (taken): the subscript's text and end (``_1``, ``_{ij}``, ``_\\mathrm{F}``)."""
        arg = cur.peek()
        if arg is None:
            raise self.err("'_' needs a subscript", us.pos)
        cur.next()
        if arg.kind == "m" and arg.val in T_FONTS:
            inner = cur.peek()
            if inner is None or inner.kind not in ("c", "g"):
                raise self.err(f"\\{arg.val} needs an argument", arg.pos, arg.end)
            cur.next()
            return self.sub_text(inner), inner.end
        return self.sub_text(arg), arg.end

    def sub_text(self, arg: _It) -> str:
        """The letters and digits of a subscript (``1``, ``{ij}``, ``{\\mathrm{F}}``)."""
        parts = []

        def walk(it, top):
            if it.kind == "c" and it.val.isascii() and it.val.isalnum():
                parts.append(it.val)
            elif it.kind == "m" and it.val in GREEK:
                parts.append(GREEK[it.val])
            elif it.kind == "g" and top:
                for k in it.kids:
                    walk(k, False)
            elif it.kind == "g" and it.kids and all(k.kind == "c" for k in it.kids):
                for k in it.kids:
                    walk(k, False)
            elif it.kind == "m" and it.val in T_FONTS:
                pass                     # \mathrm{F}: the group that follows is read next
            else:
                raise self.err("a subscript must be letters and digits, such as _1, _{ij} or "
                               "_{\\mathrm{F}}", it.pos, it.end)

        walk(arg, True)
        text = "".join(parts)
        if not _SUB_RE.match(text):
            raise self.err("a subscript must be letters and digits", arg.pos, arg.end)
        return text

    # -- macros --------------------------------------------------------------
    def macro(self, cur: _Cur, it: _It) -> None:
        name = it.val
        if name in GREEK:
            self.finish_name(cur, GREEK[name], it.pos, it.end, plain=True)
        elif name in BOLD:
            self.bold(cur, it)
        elif name in FUNC_MACROS:
            self.function(cur, FUNC_MACROS[name], it.pos, it.end)
        elif name in TEXT_FONTS:
            self.text_font(cur, it)
        elif name in FRACS:
            self.frac(cur, it)
        elif name == "sqrt":
            self.sqrt(cur, it)
        elif name == "mathbb":
            arg = self.take_arg(cur, it)
            word = self.plain_word(arg)
            const = {"1": "ones", "0": "zeros", "I": "I"}.get(word)
            if const is None:
                raise self.err(f"{self.src[it.pos:arg.end]}: only \\mathbb{{1}}, \\mathbb{{0}} and "
                               f"\\mathbb{{I}} are read", it.pos, arg.end)
            self.finish_name(cur, const, it.pos, arg.end)
        elif name in TRANSPOSE_MACROS:
            raise self.err(f"\\{name} (transpose) must follow ^, as in X^\\{name}", it.pos, it.end)
        elif name in BINOP_MACROS or name == "otimes":
            raise self.err(f"\\{name} where an operand is expected", it.pos, it.end)
        elif name == "dd" and self.differentials:       # texderive.sty's \dd
            self.emit("name", "d", it.pos, it.end, notation.DIFFERENTIAL)
            self.open_(it.end)
            self.primary(cur)
            self.close_(self.toks[-1].end)
        elif name == "dd":
            raise self.err("unknown macro \\dd (a differential is not part of an expression)",
                           it.pos, it.end)
        elif name in ("max", "min"):
            raise self.err(notation.unknown_function_message(name), it.pos, it.end)
        else:
            raise self.err(f"unexpected {_macro_desc(name)}", it.pos, it.end)

    def take_arg(self, cur: _Cur, mac: _It) -> _It:
        arg = cur.peek()
        if arg is None:
            raise self.err(f"\\{mac.val} needs an argument", mac.pos, mac.end)
        cur.next()
        return arg

    def plain_word(self, arg: _It) -> str:
        """The characters of a {word} or a single character argument ('' if not plain)."""
        if arg.kind == "c":
            return arg.val
        if arg.kind == "g" and all(k.kind == "c" for k in arg.kids):
            return "".join(k.val for k in arg.kids)
        return ""

    def bold(self, cur: _Cur, mac: _It) -> None:
        """\\mathbf{X}, \\bm{\\Sigma}, \\mathbf{Wq}, \\mathbf{X_1}, \\mathbf{1}, \\mathbf{0}."""
        arg = self.take_arg(cur, mac)
        content = arg.kids if arg.kind == "g" else [arg]
        where = self.src[mac.pos:arg.end]
        if len(content) == 1 and _is_char(content[0], "10"):
            if content[0].val == "1" and self.reciprocal_one(cur):
                # \mathbf{1} \oslash \mathbf{x} starting a term is the printer's 1 ./ x
                self.emit("num", "1", mac.pos, arg.end, Fraction(1))
                return
            self.finish_name(cur, "ones" if content[0].val == "1" else "zeros", mac.pos, arg.end)
            return
        k = 0
        if content and content[0].kind == "m" and content[0].val in GREEK:
            base = GREEK[content[0].val]
            k = 1
        else:
            base = ""
            while k < len(content) and content[k].kind == "c" and content[k].val.isascii() \
                    and content[k].val.isalnum():
                base += content[k].val
                k += 1
        if not base or not base[0].isalpha():
            raise self.err(f"{where} must hold a name, such as \\mathbf{{X}}", mac.pos, arg.end)
        inner_sub = None
        if k < len(content) and _is_char(content[k], "_") and k + 1 < len(content):
            inner_sub = self.sub_text(content[k + 1])
            k += 2
        if k < len(content):
            raise self.err(f"{where} must hold one name, such as \\mathbf{{X}}", content[k].pos,
                           content[k].end)
        if inner_sub is not None and inner_sub.isdigit() and re.search(r"\d\Z", base):
            raise self.err(f"{where} has two subscripts", mac.pos, arg.end)
        self.finish_name(cur, base, mac.pos, arg.end, inner_sub=inner_sub)

    def reciprocal_one(self, cur: _Cur) -> bool:
        """Is a ``\\mathbf{1}`` just taken the numerator of ``\\oslash`` at the start of a term?"""
        nxt = cur.peek()
        if nxt is None or nxt.kind != "m" or nxt.val != "oslash":
            return False
        prev = self.toks[-1] if self.toks else None
        # a zero-width '(' is the one put around a function's single-factor argument
        return (prev is None or (prev.kind == "(" and prev.end > prev.pos)
                or (prev.kind == "op" and prev.text in ("+", "-")))

    def text_font(self, cur: _Cur, mac: _It) -> None:
        """\\operatorname{tr}, \\mathrm{tr}, \\text{tr}, \\mathrm{I}."""
        if mac.val == "operatorname" and _is_char(cur.peek(), "*"):
            cur.next()
        arg = self.take_arg(cur, mac)
        word = self.plain_word(arg)
        if word == "d" and self.differentials and mac.val in ("mathrm", "operatorname"):
            # d X, d(A X), d tr(X): the differential of the next operand, under any postfix
            self.emit("name", "d", mac.pos, arg.end, notation.DIFFERENTIAL)
            self.open_(arg.end)
            self.primary(cur)
            self.close_(self.toks[-1].end)
            return
        if word in FUNC_WORDS:
            self.function(cur, FUNC_WORDS[word], mac.pos, arg.end)
        elif word == "I":
            self.finish_name(cur, "I", mac.pos, arg.end)
        else:
            shown = self.src[mac.pos:arg.end]
            shown = shown if len(shown) <= 40 else shown[:40] + "..."
            raise self.err(f"unknown function {shown}", mac.pos, arg.end)

    def function(self, cur: _Cur, key: str, pos: int, end: int) -> None:
        """fn(arg), fn{arg}, or fn applied to the single next factor; \\sin^2 x."""
        power = []
        if _is_char(cur.peek(), "^"):
            caret = cur.next()
            start = len(self.toks)
            self.exponent(cur, caret)
            power = self.toks[start:]
            del self.toks[start:]
        nxt = cur.peek()
        if nxt is None or nxt.kind == "close" or _is_char(nxt, ",") or self.binop(nxt):
            raise self.err(f"{self.src[pos:end]} needs an argument", pos, end)
        self.emit("name", key, pos, end)
        if nxt.kind == "open" and nxt.val in ("paren", "bracket", "brace"):
            cur.next()
            self.delimited(cur, nxt)
        elif nxt.kind == "g" and nxt.kids:
            cur.next()
            self.open_(nxt.pos, nxt.pos + 1)
            self.sub_expr(nxt, "argument")
            self.close_(nxt.end - 1, nxt.end)
        else:
            self.open_(nxt.pos)
            self.factor(cur)
            self.close_(self.toks[-1].end)
        self.toks.extend(power)

    def frac(self, cur: _Cur, mac: _It) -> None:
        num = cur.peek()
        den = cur.peek(1)
        if num is None or den is None:
            raise self.err(f"\\{mac.val} needs two arguments: \\{mac.val}{{a}}{{b}}", mac.pos,
                           mac.end)
        cur.i += 2
        self.open_(mac.pos, mac.end)
        start = len(self.toks)
        self.arg_expr(num, f"numerator of \\{mac.val}")
        self.wrap(start)
        self.op("/", den.pos, den.pos)
        start = len(self.toks)
        self.arg_expr(den, f"denominator of \\{mac.val}")
        self.wrap(start)
        self.close_(den.end - 1, den.end)

    def sqrt(self, cur: _Cur, mac: _It) -> None:
        index = None
        nxt = cur.peek()
        if nxt is not None and nxt.kind == "open" and nxt.val == "bracket" and nxt.how is None:
            cur.next()
            start = len(self.toks)
            self.expr(cur)
            close = cur.peek()
            if close is None or close.kind != "close" or close.val != "bracket":
                raise self.err("the [ of \\sqrt[n] is not closed", nxt.pos, nxt.end)
            cur.next()
            if len(self.toks) == start:
                raise self.err("empty index of \\sqrt[n]", nxt.pos, close.end)
            index = self.toks[start:]
            del self.toks[start:]
        arg = self.take_arg(cur, mac)
        if index is None:
            self.emit("name", "sqrt", mac.pos, mac.end)
            self.open_(arg.pos)
            self.arg_expr(arg, "argument of \\sqrt")
            self.close_(self.toks[-1].end)
            return
        # \sqrt[n]{x} -> ((x) .^ (1 / (n)))
        self.open_(mac.pos, mac.end)
        start = len(self.toks)
        self.arg_expr(arg, "argument of \\sqrt")
        self.wrap(start)
        self.op(".^", nxt.pos, nxt.pos)
        self.open_(nxt.pos)
        self.emit("num", "1", nxt.pos, nxt.pos, Fraction(1))
        self.op("/", nxt.pos, nxt.pos)
        self.open_(nxt.pos)
        self.toks.extend(index)
        self.close_(self.toks[-1].end)
        self.close_(self.toks[-1].end)
        self.close_(arg.end)

    # -- exponents -------------------------------------------------------------
    def exponent(self, cur: _Cur, caret: _It) -> None:
        """After ``^``: a transpose, an inverse transpose, an elementwise or ordinary power."""
        arg = cur.peek()
        if arg is None:
            raise self.err("'^' needs an exponent", caret.pos)
        cur.next()
        braces = "put the exponent in braces: ^{...}"
        if arg.kind == "c":
            ch = arg.val
            if ch == "T":
                self.op("'", caret.pos, arg.end)
            elif ch.isascii() and ch.isdigit():
                self.op("^", caret.pos, caret.end)
                self.emit("num", ch, arg.pos, arg.end, Fraction(ch))
            elif ch.isascii() and ch.isalpha():
                self.op("^", caret.pos, caret.end)
                self.emit_name(ch, arg.pos, arg.end)
            elif ch == "-" and cur.peek() is not None:
                raise self.err(f"{braces} (^{{-1}}, not ^-1)", arg.pos)
            else:
                raise self.err(braces, arg.pos)
        elif arg.kind == "m":
            if arg.val in TRANSPOSE_MACROS:
                self.op("'", caret.pos, arg.end)
            elif arg.val in T_FONTS:
                inner = self.take_arg(cur, arg)
                if not _is_T([arg, inner]):
                    raise self.err(f"{self.src[arg.pos:inner.end]} as an exponent: {braces}",
                                   arg.pos, inner.end)
                self.op("'", caret.pos, inner.end)
            elif arg.val in GREEK:
                self.op("^", caret.pos, caret.end)
                self.emit_name(GREEK[arg.val], arg.pos, arg.end)
            else:
                raise self.err(f"{braces} (\\{arg.val} as an exponent)", arg.pos, arg.end)
        elif arg.kind == "g":
            kids = arg.kids
            if not kids:
                raise self.err("empty exponent ^{}", caret.pos, arg.end)
            if _is_T(kids):
                self.op("'", caret.pos, arg.end)
            elif _is_char(kids[0], "-\u2212") and len(kids) > 1 and _is_T(kids[1:]):
                # X^{-T}: the inverse, then the transpose
                self.op("^", caret.pos, caret.end)
                self.op("-", kids[0].pos, kids[0].end)
                self.emit("num", "1", kids[1].pos, kids[1].pos, Fraction(1))
                self.op("'", kids[1].pos, arg.end)
            elif kids[0].kind == "m" and kids[0].val == "circ":
                if len(kids) == 1:
                    raise self.err("^{\\circ} needs a power: ^{\\circ 2}", caret.pos, arg.end)
                self.op(".^", caret.pos, kids[0].end)
                rest = _It("g", None, kids[1].pos, arg.end, kids=kids[1:])
                self.general_exponent(rest)
            else:
                self.op("^", caret.pos, caret.end)
                self.general_exponent(arg)
        else:
            raise self.err(braces, arg.pos, arg.end)

    def general_exponent(self, group: _It) -> None:
        start = len(self.toks)
        self.sub_expr(group, "exponent")
        seg = self.toks[start:]
        if len(seg) == 2 and seg[0].kind == "op" and seg[0].text in "+-" \
                and seg[1].kind in ("num", "name"):
            return
        self.wrap(start)

    # -- delimiters ------------------------------------------------------------
    def delimited(self, cur: _Cur, op: _It) -> None:
        """After an opening delimiter (already taken): ( ), [ ], \\{ \\}, | |, \\| \\|, \\langle."""
        kind = op.val
        if kind == "angle":
            self.inner_product(cur, op)
            return
        if kind in ("abs", "norm"):
            self.bars(cur, op)
            return
        self.open_(op.pos, op.end)
        start = len(self.toks)
        self.expr(cur)
        close = self.check_close(cur, op)
        if len(self.toks) == start:
            raise self.err(f"empty {self.show(op)}{self.show(close)}", op.pos, close.end)
        self.close_(close.pos, close.end)

    def check_close(self, cur: _Cur, op: _It) -> _It:
        """Take the delimiter that closes ``op``, or raise the error saying why not."""
        close = cur.peek()
        shown = self.show(op)
        if close is None:
            if op.how == "left":
                raise self.err(f"{shown} at col {op.pos + 1} has no matching \\right",
                               op.pos, op.end)
            raise self.err(f"{shown} at col {op.pos + 1} is not closed", op.pos, op.end)
        if close.kind not in ("close", "bar"):
            if _is_char(close, ","):
                raise self.err(f"unexpected ',' inside {shown} at col {op.pos + 1}", close.pos)
            raise self.err(f"unexpected {self.show(close)} inside {shown}", close.pos, close.end)
        if close.val != op.val:
            raise self.err(f"{shown} at col {op.pos + 1} is closed by {self.show(close)}",
                           close.pos, close.end)
        if op.how == "left" and close.how != "right":
            raise self.err(f"{shown} at col {op.pos + 1} must be closed by \\right, not "
                           f"{self.show(close)}", close.pos, close.end)
        if close.how == "right" and op.how != "left":
            raise self.err(f"{self.show(close)} closes {shown} at col {op.pos + 1}, which is "
                           f"not a \\left", close.pos, close.end)
        cur.next()
        return close

    def bars(self, cur: _Cur, op: _It) -> None:
        """|x|, \\lvert x \\rvert, \\left| x \\right| -> abs(x); \\|x\\|_2^2 -> norm2(x)^2."""
        kind = op.val
        fn = self.emit("name", "abs" if kind == "abs" else "norm", op.pos, op.end)
        self.open_(op.end)
        start = len(self.toks)
        self.expr(cur, bar=None if op.how == "left" else kind)
        close = self.check_close(cur, op)
        if len(self.toks) == start:
            hint = " (a norm is \\|x\\|)" if kind == "abs" else ""
            raise self.err(f"empty {self.show(op)} {self.show(close)}{hint}", op.pos, close.end)
        self.close_(close.pos, close.end)
        if kind != "norm":
            return
        seen_sub = seen_sup = False
        while True:
            it = cur.peek()
            if _is_char(it, "_") and not seen_sub:
                cur.next()
                sub, sub_end = self.read_sub(cur, it)
                if sub == "2":
                    fn.text = "norm2"
                elif sub not in ("F", "fro"):
                    raise self.err(f"the {sub}-norm is not supported: write \\|...\\| or "
                                   f"\\|...\\|_2 (vectors) or \\|...\\|_F (matrices)",
                                   it.pos, sub_end)
                seen_sub = True
            elif _is_char(it, "^") and not seen_sup:
                cur.next()
                self.exponent(cur, it)
                seen_sup = True
            else:
                return

    def inner_product(self, cur: _Cur, op: _It) -> None:
        """\\langle A, B \\rangle -> tr((A)'*(B))."""
        self.emit("name", "tr", op.pos, op.end)
        self.open_(op.pos)
        self.open_(op.end)
        start = len(self.toks)
        self.expr(cur)
        comma = cur.peek()
        if len(self.toks) == start:
            raise self.err(f"empty first argument of {self.show(op)}", op.pos, op.end)
        if not _is_char(comma, ","):
            raise self.err(f"{self.show(op)} at col {op.pos + 1} needs two arguments: "
                           f"\\langle A, B \\rangle", op.pos, op.end)
        cur.next()
        self.close_(comma.pos)
        self.op("'", comma.pos, comma.pos)
        self.op("*", comma.pos, comma.end)
        self.open_(comma.end)
        start = len(self.toks)
        self.expr(cur)
        close = cur.peek()
        if len(self.toks) == start and close is not None and close.kind == "close":
            raise self.err(f"empty second argument of {self.show(op)}", comma.pos, close.end)
        close = self.check_close(cur, op)
        self.close_(close.pos)
        self.close_(close.pos, close.end)
        if _is_char(cur.peek(), "_"):
            us = cur.next()
            sub, sub_end = self.read_sub(cur, us)
            if sub != "F":
                raise self.err("only the Frobenius inner product \\langle A, B \\rangle_F is "
                               "supported", us.pos, sub_end)
