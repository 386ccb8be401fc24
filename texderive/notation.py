"""Tokenizer and precedence-climbing parser for the plain notation (SPEC section 1).

Grammar (EBNF; tightest binding last)::

    expr     = term { ("+" | "-") term } ;
    term     = unary { ("*" | "/" | ".*" | "./") unary | postfix } ;   (* juxtaposition = product *)
    unary    = ("-" | "+") unary | postfix ;
    postfix  = primary { "'" | ".T" | "^" "T" | ("^" | ".^") exponent } ;
    exponent = [ "-" | "+" ] atom { ("^" | ".^") exponent } ;           (* right-associative *)
    atom     = NUMBER | NAME | "(" expr ")" ;
    primary  = NUMBER | NAME | FUNC "(" expr { "," expr } ")" | "(" expr ")" ;
    NAME     = [A-Za-z][A-Za-z0-9_]* ;
    NUMBER   = digits [ "." digits ] [ ("e"|"E") ["+"|"-"] digits ] | "." digits ... ;

``1./x`` is ``1 ./ x`` and ``2.^x`` is ``2 .^ x`` (a number never ends with a
dot).  Juxtaposition never starts with a sign, so ``a - b`` and ``a -b`` are
differences while ``a*-b`` is a product with a negated factor.

The parser builds a syntax tree of :class:`Syn` nodes with source spans; shapes
and meaning are given to it by :mod:`texderive.shapes`.  The LaTeX reader
(:mod:`texderive.latex_input`) produces the same :class:`Tok` stream and uses
the same parser.
"""
from __future__ import annotations

import re
from fractions import Fraction

from .errors import LimitError, ParseError

MAX_CHARS = 20_000
MAX_TOKENS = 4_000
MAX_DEPTH = 100

FUNCTIONS = {
    "tr": "tr", "Tr": "tr", "trace": "tr",
    "det": "det", "logdet": "logdet", "inv": "inv",
    "norm": "norm", "norm2": "norm2", "sum": "sum", "diag": "diag",
    "log": "log", "exp": "exp", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "sigmoid": "sigmoid", "abs": "abs",
    "kron": "kron", "vec": "vec", "commutation": "commutation", "rows": "rows", "cols": "cols",
}
# how many arguments each function takes (every other one takes one)
ARITY = {"kron": 2}
# Common function names texderive does not implement (SPEC section 7): followed by "(" they
# are an error that names the function, never a variable times a bracket.  The value is
# (the call, its rewrite in texderive's notation), or None when there is none.
UNKNOWN_FUNCTIONS = {
    "softmax": ("softmax(z)", "exp(z) ./ sum(exp(z))"),
    "logsumexp": ("logsumexp(z)", "log(sum(exp(z)))"),
    "softplus": ("softplus(z)", "log(1 + exp(z))"),
    "log1p": ("log1p(z)", "log(1 + z)"),
    "norm1": ("norm1(z)", "sum(abs(z))"),
    "relu": ("relu(z)", "(z + abs(z))/2"),
    "max": ("max(a, b)", "(a + b + abs(a - b))/2"),
    "min": ("min(a, b)", "(a + b - abs(a - b))/2"),
    "expm": None, "logm": None, "sqrtm": None,
}
CONSTANTS = ("I", "ones", "zeros")
# the value of a name token that is a differential operator (only the LaTeX reader makes
# it, when asked to read printed steps: latex_input.parse_latex(differentials=True))
DIFFERENTIAL = object()
# the value of a constant's token that may not be a row (a printed 1 or 0 without ^T)
NOT_A_ROW = object()


def known_functions() -> str:
    """The function names of the notation, for messages: ``tr, Tr, trace, det, ...``."""
    return ", ".join(FUNCTIONS)


def unknown_function_message(name: str) -> str:
    """"unknown function 'softmax'" with the rewrite where one exists and the known names."""
    rewrite = UNKNOWN_FUNCTIONS.get(name)
    hint = (f": write {rewrite[0]} as {rewrite[1]}" if rewrite else
            " (a matrix function texderive has no rule for)")
    return f"unknown function '{name}'{hint}; the known functions are {known_functions()}"


def arity_message(name: str, got: int) -> str:
    want = ARITY.get(name, 1)
    if want == 1:
        return (f"{name} takes one argument, got {got}: a call with two or more arguments is "
                f"not supported (kron(A, B) is the only two-argument function)")
    return f"{name} takes {want} arguments, got {got}: {name}(A, B)"
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


class Tok:
    """One token: kind is 'name', 'num', 'op', '(', ')', ',' or 'end'."""
    __slots__ = ("kind", "text", "pos", "end", "value")

    def __init__(self, kind: str, text: str, pos: int, end: int, value=None):
        self.kind, self.text, self.pos, self.end, self.value = kind, text, pos, end, value

    def __repr__(self) -> str:
        return f"Tok({self.kind!r}, {self.text!r}, {self.pos})"


class Syn:
    """A syntax-tree node: kind, value, children and the source span [pos, end)."""
    __slots__ = ("kind", "value", "kids", "pos", "end")

    def __init__(self, kind: str, value, kids: tuple, pos: int, end: int):
        self.kind, self.value, self.kids, self.pos, self.end = kind, value, kids, pos, end

    def __repr__(self) -> str:
        return f"Syn({self.kind!r}, {self.value!r}, {self.kids!r})"


_TOKEN_RE = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<dotT>\.T(?![A-Za-z0-9_]))
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<op>\.\*|\./|\.\^|[-+*/^'])
  | (?P<paren>[(),])
""", re.VERBOSE)


MAX_EXPONENT = 300
MAX_DIGITS = 60


def number_value(s: str, pos: int, text: str) -> Fraction:
    """The exact value of a numeric literal, refusing ones too large to be meant."""
    mant, _, exp = s.lower().partition("e")
    if len(mant.replace(".", "")) > MAX_DIGITS or len(exp.lstrip("+-")) > 4 or \
            (exp and abs(int(exp)) > MAX_EXPONENT):
        raise LimitError(f"the number {s[:20]}{'...' if len(s) > 20 else ''} is too large "
                         f"(at most {MAX_DIGITS} digits and an exponent within ±{MAX_EXPONENT})",
                         pos=pos, source=text, length=len(s))
    return Fraction(s)


def tokenize(text: str) -> list:
    if len(text) > MAX_CHARS:
        raise LimitError(f"the expression is {len(text)} characters long; the limit is {MAX_CHARS}",
                         pos=0, source=text[:80])
    toks, i = [], 0
    while i < len(text):
        m = _TOKEN_RE.match(text, i)
        if m is None:
            ch = text[i]
            hint = ""
            if ch == ".":
                hint = " (a dot starts .* ./ .^ or .T)"
            elif ch in "[]{}":
                hint = "; group with ( )"
            shown = repr(ch) if ch.isascii() and ch.isprintable() else \
                (f"U+{ord(ch):04X}" if 0xD800 <= ord(ch) <= 0xDFFF or not ch.isprintable()
                 else f"{ch!r} (U+{ord(ch):04X})")
            raise ParseError(f"unexpected character {shown}{hint}", pos=i, source=text)
        kind = m.lastgroup
        s = m.group()
        if kind == "num":
            toks.append(Tok("num", s, i, m.end(), number_value(s, i, text)))
        elif kind == "dotT":
            toks.append(Tok("op", ".T", i, m.end()))
        elif kind == "name":
            toks.append(Tok("name", s, i, m.end()))
        elif kind == "op":
            toks.append(Tok("op", s, i, m.end()))
        elif kind == "paren":
            toks.append(Tok(s, s, i, m.end()))
        i = m.end()
        if len(toks) > MAX_TOKENS:
            raise LimitError(f"the expression has more than {MAX_TOKENS} tokens", pos=i, source=text)
    toks.append(Tok("end", "", len(text), len(text)))
    return toks


def parse(text: str) -> Syn:
    """Parse plain notation into a syntax tree; ParseError/LimitError on bad input."""
    if not text.strip():
        raise ParseError("the expression is empty", pos=0, source=text)
    return Parser(tokenize(text), text).parse()


class Parser:
    def __init__(self, toks: list, source: str):
        self.toks, self.i, self.source, self.depth = toks, 0, source, 0

    # -- helpers ---------------------------------------------------------
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def next(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def error(self, msg: str, tok: Tok | None = None) -> ParseError:
        tok = tok or self.tok
        return ParseError(msg, pos=tok.pos, source=self.source, length=max(1, tok.end - tok.pos))

    def describe(self, tok: Tok) -> str:
        return "the end of the expression" if tok.kind == "end" else repr(tok.text)

    def is_op(self, *ops) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LimitError(f"the expression is nested more than {MAX_DEPTH} levels deep",
                             pos=self.tok.pos, source=self.source)

    def leave(self):
        self.depth -= 1

    # -- grammar ---------------------------------------------------------
    def parse(self) -> Syn:
        node = self.expr()
        if self.tok.kind != "end":
            t = self.tok
            if t.kind == ")":
                raise self.error("unmatched ')'", t)
            raise self.error(f"unexpected {self.describe(t)} after a complete expression", t)
        return node

    def expr(self) -> Syn:
        self.enter()
        left = self.term()
        while self.is_op("+", "-"):
            op = self.next()
            right = self.term()
            left = Syn("add" if op.text == "+" else "sub", op.pos, (left, right), left.pos, right.end)
        self.leave()
        return left

    def starts_operand(self) -> bool:
        t = self.tok
        return t.kind in ("name", "num", "(")

    def term(self) -> Syn:
        left = self.unary()
        kinds = {"*": "mul", "/": "div", ".*": "hmul", "./": "hdiv"}
        while True:
            if self.is_op(*kinds):
                op = self.next()
                right = self.unary()
                left = Syn(kinds[op.text], op.pos, (left, right), left.pos, right.end)
            elif self.starts_operand():
                right = self.postfix()
                left = Syn("mul", right.pos, (left, right), left.pos, right.end)
            else:
                return left

    def unary(self) -> Syn:
        if self.is_op("-", "+"):
            op = self.next()
            self.enter()
            arg = self.unary()
            self.leave()
            return arg if op.text == "+" else Syn("neg", None, (arg,), op.pos, arg.end)
        return self.postfix()

    def postfix(self) -> Syn:
        node = self.primary()
        count = 0
        while True:
            count += 1
            if count > MAX_DEPTH:
                raise LimitError(f"more than {MAX_DEPTH} transposes or powers in a row",
                                 pos=self.tok.pos, source=self.source)
            if self.is_op("'", ".T"):
                t = self.next()
                node = Syn("transpose", None, (node,), node.pos, t.end)
            elif self.is_op("^", ".^"):
                op = self.next()
                if op.text == "^" and self.tok.kind == "name" and self.tok.text == "T":
                    t = self.next()
                    node = Syn("transpose", None, (node,), node.pos, t.end)
                    continue
                exp = self.exponent(op)
                node = Syn("pow" if op.text == "^" else "hpow", op.pos, (node, exp), node.pos, exp.end)
            else:
                return node

    def exponent(self, op: Tok) -> Syn:
        self.enter()
        if self.is_op("-", "+"):
            sign = self.next()
            inner = self.exponent_atom(op)
            node = inner if sign.text == "+" else Syn("neg", None, (inner,), sign.pos, inner.end)
        else:
            node = self.exponent_atom(op)
        self.leave()
        return node

    def exponent_atom(self, op: Tok) -> Syn:
        t = self.tok
        if t.kind == "num":
            self.next()
            node = Syn("num", t.value, (), t.pos, t.end)
        elif t.kind == "name":
            if t.text in FUNCTIONS:
                raise self.error(f"put a function in an exponent in parentheses: "
                                 f"{op.text}({t.text}(...))", t)
            self.next()
            node = self.name_node(t)
        elif t.kind == "(":
            node = self.paren()
        else:
            raise self.error(f"expected an exponent after {op.text!r}, found {self.describe(t)}", t)
        if self.is_op("^", ".^"):
            op2 = self.next()
            exp = self.exponent(op2)
            node = Syn("pow" if op2.text == "^" else "hpow", op2.pos, (node, exp), node.pos, exp.end)
        return node

    def paren(self) -> Syn:
        open_ = self.next()
        if self.tok.kind == ")":
            raise self.error("empty parentheses", self.tok)
        inner = self.expr()
        if self.tok.kind != ")":
            raise self.error(f"'(' at col {open_.pos + 1} is not closed; found "
                             f"{self.describe(self.tok)}", self.tok)
        close = self.next()
        return Syn("paren", None, (inner,), open_.pos, close.end)

    def name_node(self, t: Tok) -> Syn:
        if t.text in CONSTANTS and t.value is NOT_A_ROW:
            return Syn("colconst", t.text, (), t.pos, t.end)
        if t.text in CONSTANTS and t.value is not None:
            # a constant with its size, from the LaTeX reader (\mathbf{I}_n, \mathbf{1}_{mn})
            return Syn("sconst", (t.text, t.value), (), t.pos, t.end)
        if t.text in CONSTANTS:
            return Syn("const", t.text, (), t.pos, t.end)
        return Syn("name", t.text, (), t.pos, t.end)

    def primary(self) -> Syn:
        t = self.tok
        if t.kind == "num":
            self.next()
            return Syn("num", t.value, (), t.pos, t.end)
        if t.kind == "(":
            return self.paren()
        if t.kind == "name":
            self.next()
            if t.value is DIFFERENTIAL:
                arg = self.primary()
                return Syn("call", "d", (arg,), t.pos, arg.end)
            if t.text in UNKNOWN_FUNCTIONS and self.tok.kind == "(":
                raise self.error(unknown_function_message(t.text), t)
            if t.text in FUNCTIONS:
                if self.tok.kind != "(":
                    raise self.error(f"{t.text} is a function: write {t.text}(...)", t)
                open_ = self.next()
                args = [self.expr()]
                while self.tok.kind == ",":
                    self.next()
                    args.append(self.expr())
                if self.tok.kind != ")":
                    raise self.error(f"'(' of {t.text} at col {open_.pos + 1} is not closed; found "
                                     f"{self.describe(self.tok)}", self.tok)
                close = self.next()
                if len(args) != ARITY.get(FUNCTIONS[t.text], 1):
                    raise ParseError(arity_message(t.text, len(args)), pos=t.pos,
                                     source=self.source, length=close.end - t.pos)
                return Syn("call", FUNCTIONS[t.text], tuple(args), t.pos, close.end)
            return self.name_node(t)
        if t.kind == "end":
            raise self.error("the expression ends where an operand is expected", t)
        if t.kind == ")":
            raise self.error("unexpected ')' where an operand is expected", t)
        if t.kind == ",":
            raise self.error("unexpected ',' outside a function's arguments", t)
        raise self.error(f"unexpected {self.describe(t)} where an operand is expected", t)
