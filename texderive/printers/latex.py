r"""LaTeX printer: one math expression per tree, in the notation of SPEC section 1.

``to_latex(node, notation)`` writes one math-mode expression (no ``&``, ``\\``,
environment or ``\label``) that the LaTeX reader (:mod:`texderive.latex_input`)
reads back into the same tree.  The forms it writes, with the default
:class:`LatexNotation`::

    X1, W_q, Wq, Sigma    \mathbf{X}_{1}  \mathbf{W}_{q}  \mathbf{Wq}  \bm{\Sigma}
    alpha2, scalar c, ab  \alpha_{2}  c  \mathit{ab}   (one group is one name)
    2*X, -X, 1/2*x        2\mathbf{X}  -\mathbf{X}  \frac{1}{2}\mathbf{x}
    x/t, 2*x/t            \frac{\mathbf{x}}{t}  \frac{2\mathbf{x}}{t}
    1/2*x/t               \frac{1}{2}\frac{\mathbf{x}}{t}
    x/t/s, x/(t*s)        \frac{\mathbf{x}}{t}\frac{1}{s}  \frac{\mathbf{x}}{t s}
    1/t, t^-1*x           \frac{1}{t}  t^{-1}\mathbf{x}
    X', inv(X), inv(X)'   \mathbf{X}^\top  \mathbf{X}^{-1}  \mathbf{X}^{-\top}
    X^3, X^-2, inv(X')    \mathbf{X}^{3}  \mathbf{X}^{-2}  (\mathbf{X}^\top)^{-1}
    a^0.5, norm(x)^2      a^{1/2}  \|\mathbf{x}\|^{2}  (a matrix: \|\mathbf{X}\|_F)
    A.*B, A./B, 1./B      \mathbf{A} \odot \mathbf{B}  \mathbf{A} \oslash \mathbf{B}
                          \mathbf{1} \oslash \mathbf{B}
    B.^2                  \mathbf{B}^{\circ 2}
    d(X), d(A*B), d(X)'   \mathrm{d}\mathbf{X}  \mathrm{d}(\mathbf{A}\mathbf{B})
                          (\mathrm{d}\mathbf{X})^\top

Parentheses come from the precedence table below and the tree, never from the
printed string; they become ``\left(``/``\right)`` when the printer wrote a
``\frac`` inside them (it counts the fractions it writes).  Names go through
:func:`name_latex`: a name is checked against the notation's name pattern and
mapped by a table (Greek letters) or written as the letters and digits it is,
so no other text reaches the output.
"""
from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from .. import ir
from ..errors import TexderiveError
from ..shapes import GREEK, KINDS, default_kind, split_name
from .text import is_elementwise_reciprocal, is_negative, leading_coef, sized_form

# Precedence, loosest first.  A child printed where a tighter level is needed
# is parenthesised.  DIFF (``\mathrm{d}\mathbf{X}``) binds inside a product but
# not under a postfix: ``(\mathrm{d}\mathbf{X})^\top``.
ADD, MUL, NEG, KRON, POW, DIFF, ATOM = 10, 20, 25, 27, 30, 35, 40

GREEK_UPPER = frozenset("Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_CONTROL_WORD_END = re.compile(r"\\[A-Za-z]+\Z")

_FUNC_OPERATORS = {           # Func name -> LaTeX operator, written before "(...)"
    "log": r"\log", "exp": r"\exp", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan",
    "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh",
    "sigmoid": r"\operatorname{sigmoid}",
}


# ---------------------------------------------------------------------------
# settings

class LatexNotation:
    r"""Immutable, validated settings of the LaTeX output.

    ``bold``          ``"mathbf"`` (``\mathbf{X}``) | ``"bm"`` (``\bm{X}``) | ``"none"`` (``X``);
                      Greek vectors and matrices are always ``\bm`` (``\boldsymbol`` with
                      ``web``) unless ``"none"``
    ``transpose``     ``"top"`` (``^\top``) | ``"mathsf"`` (``^{\mathsf T}``) | ``"T"`` (``^T``)
    ``trace``         ``"tr"`` (``\operatorname{tr}``) | ``"Tr"`` (``\operatorname{Tr}``)
    ``gradient``      ``"nabla"`` (``\nabla_{\mathbf{X}} f``) | ``"partial"``
                      (``\frac{\partial f}{\partial \mathbf{X}}``)
    ``differential``  ``"mathrm"`` (``\mathrm{d}``) | ``"operatorname"`` (``\operatorname{d}``,
                      for Beamer's sans-serif math)
    ``equals``        ``"overset"`` (``\overset{(2)}{=}``) | ``"stackrel"`` (``\stackrel{(2)}{=}``)
    ``web``           ``True``: ``\boldsymbol`` for ``\bm`` (MathJax 3 and KaTeX have no ``\bm``)
    ``macros``        ``True``: ``\tr``, ``\dd``, ``^\T`` of ``texderive.sty`` in place of the
                      trace, differential and transpose forms above
    """

    FIELDS = ("bold", "transpose", "trace", "gradient", "differential", "equals", "web",
                 "macros")
    __slots__ = FIELDS + ("_key_", "_hash_")

    CHOICES = {
        "bold": ("mathbf", "bm", "none"),
        "transpose": ("top", "mathsf", "T"),
        "trace": ("tr", "Tr"),
        "gradient": ("nabla", "partial"),
        "differential": ("mathrm", "operatorname"),
        "equals": ("overset", "stackrel"),
        "web": (False, True),
        "macros": (False, True),
    }

    def __init__(self, bold: str = "mathbf", transpose: str = "top", trace: str = "tr",
                 gradient: str = "nabla", differential: str = "mathrm",
                 equals: str = "overset", web: bool = False, macros: bool = False):
        values = (bold, transpose, trace, gradient, differential, equals, web, macros)
        for field, value in zip(self.FIELDS, values):
            allowed = self.CHOICES[field]
            # bool is checked by type: 1 == True, but web=1 is a mistake worth naming.
            ok = (type(value) is bool) if isinstance(allowed[0], bool) else (
                isinstance(value, str) and value in allowed)
            if not ok:
                shown = ", ".join(str(a).lower() if isinstance(a, bool) else a for a in allowed)
                raise TexderiveError(f"bad LaTeX notation option {field}={value!r}: "
                                     f"allowed values are {shown}")
            object.__setattr__(self, field, value)
        object.__setattr__(self, "_key_", values)
        object.__setattr__(self, "_hash_", hash(("LatexNotation",) + values))

    @classmethod
    def from_options(cls, **options) -> "LatexNotation":
        """Settings from keywords; ``None`` values mean "the default" (unset CLI flags)."""
        unknown = sorted(k for k in options if k not in cls.FIELDS)
        if unknown:
            raise TexderiveError(f"unknown LaTeX notation option {unknown[0]}: the options are "
                                 f"{', '.join(cls.FIELDS)}")
        return cls(**{k: v for k, v in options.items() if v is not None})

    def replace(self, **options) -> "LatexNotation":
        """A copy with some fields changed (validated like the constructor)."""
        merged = self.as_dict()
        merged.update(options)
        return type(self).from_options(**merged)

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.FIELDS}

    def _key(self) -> tuple:
        return self._key_

    def __setattr__(self, name, value):
        raise AttributeError("LatexNotation is immutable; use .replace(...)")

    def __delattr__(self, name):
        raise AttributeError("LatexNotation is immutable")

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return self._hash_

    def __reduce__(self):
        return (type(self), self._key())

    def __repr__(self) -> str:
        changed = [f"{f}={getattr(self, f)!r}" for f, d in zip(self.FIELDS, _DEFAULT_VALUES)
                   if getattr(self, f) != d]
        return f"LatexNotation({', '.join(changed)})"


_DEFAULT_VALUES = ("mathbf", "top", "tr", "nabla", "mathrm", "overset", False, False)
DEFAULT = LatexNotation()
WEB = LatexNotation(web=True)


def _notation(notation) -> LatexNotation:
    if notation is None:
        return DEFAULT
    if not isinstance(notation, LatexNotation):
        raise TypeError(f"expected a LatexNotation, got {type(notation).__name__}")
    return notation


# ---------------------------------------------------------------------------
# small pieces

def _join(a: str, b: str) -> str:
    r"""Juxtapose two pieces, with a space where the tokens would run together.

    ``\alpha`` + ``x`` must not become the undefined ``\alphax``; ``a`` + ``b``
    becomes ``a b`` so that every reader sees two names.
    """
    if a and b and b[0].isalpha() and (a[-1].isalpha() or _CONTROL_WORD_END.search(a)):
        return a + " " + b
    return a + b


def joined_sub(pattern: str, repl, s: str) -> str:
    r"""``re.sub`` that keeps tokens apart: where a replacement starting with a letter
    follows a control word (``\det`` + ``Y``), a space goes between them, as in
    :func:`_join` (``\det\mathbf{Y}`` with bold none is ``\det Y``, never ``\detY``)."""
    out, last = "", 0
    for m in re.finditer(pattern, s):
        out = _join(out + s[last:m.start()], repl(m))
        last = m.end()
    return out + s[last:]


def _bold(core: str, notation: LatexNotation, greek: bool) -> str:
    if notation.bold == "none":
        return core
    if greek or notation.bold == "bm":
        return (r"\boldsymbol{" if notation.web else r"\bm{") + core + "}"
    return r"\mathbf{" + core + "}"


@lru_cache(maxsize=4096)
def _name_latex(name: str, kind: str, notation: LatexNotation) -> str:
    # Checked here, not only at parse time: a Sym built by the engine goes through this too.
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise TexderiveError(f"bad name {name!r}: a name is a letter followed by letters, "
                             f"digits and underscores")
    if kind not in KINDS:
        raise TexderiveError(f"bad kind {kind!r} of {name}: one of {', '.join(KINDS)}")
    base, sub = split_name(name)
    greek = base in GREEK or base in GREEK_UPPER
    core = "\\" + base if greek else base     # a table entry, or letters and digits only
    if kind == "scalar" or notation.bold == "none":
        if not greek and len(base) > 1:
            core = r"\mathit{" + core + "}"     # one group is one name: ab is not a*b
    else:
        core = _bold(core, notation, greek)
    if sub:
        core += "_{" + sub.replace("_", r"\_") + "}"
    return core


def name_latex(name: str, kind: str | None = None, notation: LatexNotation | None = None) -> str:
    r"""A variable's name in LaTeX (SPEC "Names in LaTeX").

    ``kind`` is ``scalar`` (not bold), ``vector``, ``matrix`` or ``symmetric``
    (bold); ``None`` takes the kind the name has by default.
    """
    if kind is None and isinstance(name, str) and _NAME_RE.match(name):
        kind = default_kind(name)
    nt = _notation(notation)
    try:
        return _name_latex(name, kind, nt)
    except TypeError:                           # unhashable name or kind
        raise TexderiveError(f"bad name {name!r} or kind {kind!r}") from None


def num_latex(v: Fraction) -> str:
    r"""A number as it stands in an expression: ``2``, ``\frac{1}{2}``, ``-\frac{3}{4}``."""
    sign = "-" if v < 0 else ""
    v = abs(v)
    if v.denominator == 1:
        return sign + str(v.numerator)
    return sign + r"\frac{" + str(v.numerator) + "}{" + str(v.denominator) + "}"


def exponent_num(v: Fraction) -> str:
    """A number as it stands in an exponent: ``2``, ``1/2``, ``-1/2``."""
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def _d(notation: LatexNotation) -> str:
    if notation.macros:
        return r"\dd"
    return r"\operatorname{d}" if notation.differential == "operatorname" else r"\mathrm{d}"


# transpose option -> (superscript of a transpose, of an inverse transpose)
_TRANSPOSE = {
    "top": (r"^\top", r"^{-\top}"),
    "mathsf": (r"^{\mathsf T}", r"^{-\mathsf T}"),
    "T": ("^T", "^{-T}"),
}
# texderive.sty defines \T as ^{\top}: X\T; an inverse transpose keeps ^{-\top} (X^{-1}\T
# would be a double superscript)
_TRANSPOSE_MACRO = (r"\T", r"^{-\top}")


def _transpose_mark(notation: LatexNotation, inverse: bool = False) -> str:
    """The superscript of a transpose (``^\\top``), or of an inverse transpose (``^{-\\top}``)."""
    marks = _TRANSPOSE_MACRO if notation.macros else _TRANSPOSE[notation.transpose]
    return marks[1] if inverse else marks[0]


def _trace_op(notation: LatexNotation) -> str:
    if notation.macros:
        return r"\tr"
    return r"\operatorname{" + notation.trace + "}"


# ---------------------------------------------------------------------------
# tree predicates

def is_reciprocal(node: ir.Node) -> bool:
    """``Pow(t, -1)`` with a base that prints as ``\\frac{1}{t}``."""
    return (isinstance(node, ir.Pow) and node.args[1] == ir.MINUS_ONE
            and not isinstance(node.args[0], ir.Num))


def _starts_with_digit(node: ir.Node) -> bool:
    """Whether the printed node starts with a digit (``2^{a}``), from the tree."""
    while True:
        if isinstance(node, ir.Num):
            return node.value >= 0 and node.value.denominator == 1
        if isinstance(node, ir.Pow) and not is_reciprocal(node):
            node = node.args[0]
        elif isinstance(node, ir.HadPow) and not is_elementwise_reciprocal(node):
            node = node.args[0]
        elif isinstance(node, (ir.Transpose, ir.Inverse, ir.MatPow)):
            node = node.args[0]
        elif isinstance(node, ir.Size):
            return isinstance(ir.dim_factors(node.args[0])[0], int)
        else:
            return False


# ---------------------------------------------------------------------------
# the printer

class LatexPrinter:
    """One function per node class (``TABLE``); each returns (string, precedence).

    An instance prints one expression: it counts the ``\\frac`` it writes, so
    that parentheses around a fraction grow (``\\left(``).
    """

    def __init__(self, notation: LatexNotation | None = None):
        self.n = _notation(notation)
        self.fracs = 0
        self.root = None
        self._known = None

    # -- entry points -------------------------------------------------------
    def __call__(self, node: ir.Node) -> str:
        if self.root is None:
            self.root = node
        return self.p(node)[0]

    def known(self, d) -> bool:
        """Does the page show the size d elsewhere: is each factor a size of a variable
        in the expression, or of the expression itself?  A 1 or I of another size is
        printed with its size (``\\mathbf{1}_{m}``): nothing around it would say it."""
        if self._known is None:
            dims = set()
            shapes = [self.root.shape] + [s.shape for s in ir.free_syms(self.root)]
            for shape in shapes:
                for dim in shape:
                    dims.update(ir.dim_factors(dim))
            self._known = dims
        return all(isinstance(f, int) or f in self._known for f in ir.dim_factors(d))

    def p(self, node: ir.Node) -> tuple:
        if type(node) in (ir.Sum, ir.Trace, ir.MatMul):
            alt = sized_form(node)          # sum(1) is n: a size the page would lose
            if alt is not None:
                return self.p(alt)
        fn = TABLE.get(type(node))
        if fn is None:
            raise TypeError(f"no LaTeX form for {type(node).__name__}")
        return fn(self, node)

    def full(self, node: ir.Node) -> tuple:
        """(string, tall): the node printed bare, and whether it holds a ``\\frac``."""
        before = self.fracs
        s = self.p(node)[0]
        return s, self.fracs > before

    def paren(self, node: ir.Node) -> str:
        s, tall = self.full(node)
        return (r"\left(" + s + r"\right)") if tall else ("(" + s + ")")

    def at(self, node: ir.Node, prec: int) -> str:
        """The node printed where precedence ``prec`` is needed."""
        before = self.fracs
        s, q = self.p(node)
        if q >= prec:
            return s
        return (r"\left(" + s + r"\right)") if self.fracs > before else ("(" + s + ")")

    def frac(self, num: str, den: str) -> str:
        self.fracs += 1
        return r"\frac{" + num + "}{" + den + "}"

    def call(self, op: str, arg: ir.Node) -> tuple:
        return op + self.paren(arg), ATOM

    # -- leaves -------------------------------------------------------------
    def _Sym(self, n):
        return _name_latex(n.name, n.kind, self.n), ATOM

    def num(self, v: Fraction) -> str:
        """A number, counting the ``\\frac`` of a fraction."""
        if v.denominator != 1:
            self.fracs += 1
        return num_latex(v)

    def _Num(self, n):
        v = n.value
        return self.num(v), (NEG if v < 0 else (ATOM if v.denominator == 1 else MUL))

    def _Ident(self, n, sized: bool = False):
        s = _bold("I", self.n, False)
        sized = sized or not self.known(n.args[0])
        return (s + "_{" + self.size(n.args[0]) + "}" if sized else s), ATOM

    def _constant(self, n, digit: str, sized: bool) -> tuple:
        r"""``\mathbf{1}``, a row ``\mathbf{1}^\top`` (never a bare 1 for a row: the transpose
        is part of what the formula says); ``sized``: with its size, ``\mathbf{1}_{m}``,
        ``\mathbf{1}_{m,n}`` for a matrix."""
        s = r"\mathbf{" + digit + "}" if self.n.bold == "none" else _bold(digit, self.n, False)
        r, c = n.args
        row = r == 1 and c != 1
        if sized or not (self.known(r) and self.known(c)):
            if row:
                s += "_{" + self.size(c) + "}"
            elif c == 1:
                s += "_{" + self.size(r) + "}"
            else:
                s += "_{" + self.size(r) + "," + self.size(c) + "}"
        if row:
            return s + _transpose_mark(self.n), POW
        return s, ATOM

    def _Ones(self, n, sized: bool = False):
        return self._constant(n, "1", sized)

    def _Zeros(self, n, sized: bool = False):
        return self._constant(n, "0", sized)

    # -- sizes and the Kronecker notation (SPEC section 6) ----------------------
    def size(self, d) -> str:
        """A dimension as it is written: ``n``, ``mn``, ``2n``, ``6``."""
        out = ""
        for f in ir.dim_factors(d):
            if isinstance(f, int) or len(f) == 1:
                out += str(f)                     # 2n, mn: a number only comes first
            else:
                out = _join(out, _name_latex(f, "scalar", self.n))
        return out

    def _Size(self, n):
        s = self.size(n.args[0])
        return s, (ATOM if len(ir.dim_factors(n.args[0])) == 1 else MUL)

    def operand(self, a: ir.Node) -> str:
        r"""An operand of ``\otimes`` or ``vec``: a constant with its size (nothing around
        it gives one), anything but an atom or a postfix form in parentheses."""
        if isinstance(a, (ir.Ident, ir.Ones, ir.Zeros)):
            return self.p_sized(a)
        if isinstance(a, ir.Transpose) and isinstance(a.args[0], (ir.Ones, ir.Zeros, ir.Ident)):
            return self.p_sized(a.args[0]) + _transpose_mark(self.n)
        return self.at(a, POW)

    def p_sized(self, a: ir.Node) -> str:
        s = TABLE[type(a)](self, a, sized=True)[0]
        return s

    def _Kron(self, n):
        a, b = n.args
        left = self.operand(a) if not isinstance(a, ir.Kron) else self.paren(a)
        right = self.operand(b) if not isinstance(b, ir.Kron) else self.paren(b)
        return left + r" \otimes " + right, KRON

    def _Vec(self, n):
        a = n.args[0]
        if isinstance(a, (ir.Ident, ir.Ones, ir.Zeros)):
            return r"\operatorname{vec}(" + self.p_sized(a) + ")", ATOM
        return self.call(r"\operatorname{vec}", a)

    def _Commutation(self, n):
        r, c = n.args[0].shape
        k = "K" if self.n.bold == "none" else _bold("K", self.n, False)
        return k + "_{" + self.size(r) + "," + self.size(c) + "}", ATOM

    # -- sums ---------------------------------------------------------------
    def _Add(self, n):
        out = ""
        for i, t in enumerate(n.args):
            if i == 0:
                out = self.at(t, NEG if is_negative(t) else MUL)
            elif is_negative(t):
                c, rest = leading_coef(t)
                if rest is None:
                    neg = ir.Num(-c)
                elif c == -1:
                    neg = rest
                else:
                    neg = ir.MatMul(ir.Num(-c),
                                    *(rest.args if isinstance(rest, ir.MatMul) else (rest,)))
                out += " - " + self.at(neg, MUL)
            else:
                out += " + " + self.at(t, MUL)
        return out, ADD

    # -- products -----------------------------------------------------------
    def _factor(self, f: ir.Node, follows: bool) -> str:
        """A factor of a product; ``follows``: a coefficient or factor is printed before it.

        A number factor that is not the leading coefficient, and a factor that
        starts with a digit after something else (``3(2^{a})``), get parentheses.
        """
        if isinstance(f, ir.Num) or (follows and _starts_with_digit(f)):
            return self.paren(f)
        if is_reciprocal(f):                      # not trailing: t^{-1}
            return self.at(f.args[0], ATOM) + "^{-1}"
        if isinstance(f, ir.Size):                # mn\mathbf{x}: a product in a product
            return self.p(f)[0]
        return self.at(f, POW)

    def _product(self, factors, follows: bool) -> str:
        out = ""
        last = len(factors) - 1
        all_scalar = all(f.shape == (1, 1) for f in factors)
        for i, f in enumerate(factors):
            if isinstance(f, ir.D) and i < last and isinstance(f.args[0], ir.Sym):
                piece = "(" + self(f) + ")"          # (dA)XB, never dAXB: it reads as d(AXB)
            elif all_scalar and isinstance(f, ir.MatMul):
                piece = self(f)                      # a product of scalars needs no brackets
            else:
                piece = self._factor(f, follows or i > 0)
            out = _join(out, piece)
        return out

    def _MatMul(self, n):
        factors = list(n.args)
        coef = Fraction(1)
        if isinstance(factors[0], ir.Num):
            coef = factors.pop(0).value
        denoms = []
        while factors and is_reciprocal(factors[-1]):
            denoms.insert(0, factors.pop().args[0])
        sign = "-" if coef < 0 else ""
        mag = abs(coef)
        prec = NEG if coef < 0 else MUL
        if not denoms:
            if mag == 1:
                return sign + self._product(factors, False), prec
            return _join(sign + self.num(mag), self._product(factors, True)), prec
        # a trailing run of reciprocals: \frac{numerator}{t}, then \frac{1}{s} for each other one
        if mag.denominator != 1:
            head = sign + self.frac(str(mag.numerator), str(mag.denominator))
            numerator = self._numerator(factors, None)
        else:
            head = sign
            numerator = self._numerator(factors, mag if mag != 1 else None)
        out = head + self.frac(numerator, self(denoms[0]))
        for d in denoms[1:]:
            out += self.frac("1", self(d))
        return out, prec

    def _numerator(self, factors, coef) -> str:
        if not factors:
            return str(coef.numerator) if coef is not None else "1"
        if coef is None and len(factors) == 1 and not isinstance(factors[0], (ir.MatMul, ir.Num)):
            return self(factors[0])               # the braces of \frac group it: \frac{a + b}{t}
        if coef is None:
            return self._product(factors, False)
        return _join(str(coef.numerator), self._product(factors, True))

    # -- elementwise ----------------------------------------------------------
    def _had_factor(self, f: ir.Node) -> str:
        if isinstance(f, (ir.MatMul, ir.Add, ir.Hadamard)) or is_elementwise_reciprocal(f) \
                or (isinstance(f, ir.Num) and (f.value < 0 or f.value.denominator != 1)):
            return self.paren(f)
        return self.at(f, POW)

    def _Hadamard(self, n):
        out = self._had_factor(n.args[0])
        for f in n.args[1:]:
            if is_elementwise_reciprocal(f):
                out += r" \oslash " + self._had_factor(f.args[0])
            else:
                out += r" \odot " + self._had_factor(f)
        return out, MUL

    def _HadPow(self, n):
        base, e = n.args
        if e == ir.MINUS_ONE:
            one = r"\mathbf{1}" if self.n.bold == "none" else _bold("1", self.n, False)
            return one + r" \oslash " + self._had_factor(base), MUL
        return self.at(base, ATOM) + r"^{\circ " + self._exponent(e) + "}", POW

    # -- postfix --------------------------------------------------------------
    def _Transpose(self, n):
        a = n.args[0]
        if isinstance(a, ir.Inverse):
            return self.at(a.args[0], ATOM) + _transpose_mark(self.n, inverse=True), POW
        return self.at(a, ATOM) + _transpose_mark(self.n), POW

    def _Inverse(self, n):
        return self.at(n.args[0], ATOM) + "^{-1}", POW

    def _MatPow(self, n):
        base, k = n.args
        if isinstance(base, ir.Inverse):          # inv(X)^2 is X^{-2}, as a reader writes it
            return self.at(base.args[0], ATOM) + "^{-" + str(k) + "}", POW
        return self.at(base, ATOM) + "^{" + str(k) + "}", POW

    def _exponent(self, e: ir.Node) -> str:
        if isinstance(e, ir.Num):
            return exponent_num(e.value)
        return self(e)

    def _Pow(self, n):
        base, e = n.args
        if is_reciprocal(n):
            return self.frac("1", self(base)), MUL
        return self.at(base, ATOM) + "^{" + self._exponent(e) + "}", POW

    # -- functions --------------------------------------------------------------
    def _Trace(self, n):
        return self.call(_trace_op(self.n), n.args[0])

    def _Det(self, n):
        return self.call(r"\det", n.args[0])

    def _LogDet(self, n):
        return self.call(r"\log\det", n.args[0])

    def _Sum(self, n):
        return self.call(r"\operatorname{sum}", n.args[0])

    def _DiagMat(self, n):
        return self.call(r"\operatorname{diag}", n.args[0])

    _DiagVec = _DiagMat

    def _Norm(self, n):
        a = n.args[0]
        s = r"\|" + self(a) + r"\|"
        return (s if a.shape[1] == 1 else s + "_F"), ATOM

    def _Func(self, n):
        name, a = n.args
        if name == "sqrt":
            return r"\sqrt{" + self(a) + "}", ATOM
        if name == "abs":
            return _join(r"\lvert", self(a)) + r"\rvert", ATOM
        return self.call(_FUNC_OPERATORS[name], a)

    def _D(self, n):
        a = n.args[0]
        if isinstance(a, (ir.Sym, ir.Ident, ir.Ones, ir.Zeros)) and self.p(a)[1] == ATOM:
            return _join(_d(self.n), self(a)), DIFF
        if isinstance(a, (ir.Trace, ir.Det, ir.LogDet)):     # d tr(AXB), as a lecturer writes it
            return _d(self.n) + r"\," + self(a), DIFF
        return _d(self.n) + self.paren(a), DIFF


TABLE = {
    ir.Sym: LatexPrinter._Sym, ir.Num: LatexPrinter._Num, ir.Ident: LatexPrinter._Ident,
    ir.Ones: LatexPrinter._Ones, ir.Zeros: LatexPrinter._Zeros, ir.Add: LatexPrinter._Add,
    ir.MatMul: LatexPrinter._MatMul, ir.Transpose: LatexPrinter._Transpose,
    ir.Inverse: LatexPrinter._Inverse, ir.MatPow: LatexPrinter._MatPow,
    ir.Trace: LatexPrinter._Trace, ir.Det: LatexPrinter._Det, ir.LogDet: LatexPrinter._LogDet,
    ir.Norm: LatexPrinter._Norm, ir.Sum: LatexPrinter._Sum, ir.DiagMat: LatexPrinter._DiagMat,
    ir.DiagVec: LatexPrinter._DiagVec, ir.Pow: LatexPrinter._Pow, ir.Func: LatexPrinter._Func,
    ir.Hadamard: LatexPrinter._Hadamard, ir.HadPow: LatexPrinter._HadPow, ir.D: LatexPrinter._D,
    ir.Size: LatexPrinter._Size, ir.Kron: LatexPrinter._Kron, ir.Vec: LatexPrinter._Vec,
    ir.Commutation: LatexPrinter._Commutation,
}


# ---------------------------------------------------------------------------
# public helpers

def to_latex(node: ir.Node, notation: LatexNotation | None = None) -> str:
    """One math expression (no ``&``, ``\\\\``, environment or ``\\label``)."""
    if not isinstance(node, ir.Node):
        raise TypeError(f"to_latex needs an expression tree, got {type(node).__name__}")
    return LatexPrinter(notation)(node)


def differential(node: ir.Node, notation: LatexNotation | None = None) -> str:
    r"""The differential of a node: ``\mathrm{d}\mathbf{X}``, or ``\mathrm{d}(\ldots)``."""
    return to_latex(ir.D(node), notation)


def dy(notation: LatexNotation | None = None) -> str:
    r"""``\mathrm{d}y``: the differential of the function's value."""
    return _join(_d(_notation(notation)), "y")


def gradient_lhs(wrt_sym, notation: LatexNotation | None = None, f: str = "f") -> str:
    r"""``\nabla_{\mathbf{X}} f`` or ``\frac{\partial f}{\partial \mathbf{X}}``.

    ``wrt_sym`` is the ``Sym`` of the variable (or its name, with its default kind).
    """
    nt = _notation(notation)
    if isinstance(wrt_sym, ir.Sym):
        x = name_latex(wrt_sym.name, wrt_sym.kind, nt)
    else:
        x = name_latex(wrt_sym, None, nt)
    fn = name_latex(f, "scalar", nt)
    if nt.gradient == "partial":
        return r"\frac{\partial " + fn + r"}{\partial " + x + "}"
    return r"\nabla_{" + x + "} " + fn


def equals(number: int | None, notation: LatexNotation | None = None) -> str:
    r"""``=`` annotated with a rule's number: ``\overset{(2)}{=}``; plain ``=`` for None."""
    nt = _notation(notation)
    if number is None:
        return "="
    if type(number) is not int or number < 0:
        raise TexderiveError(f"bad rule number {number!r}: a non-negative integer or None")
    return "\\" + nt.equals + "{(" + str(number) + ")}{=}"
