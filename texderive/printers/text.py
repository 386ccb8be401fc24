"""Plain-text printers: the input notation (parses back) and Unicode for reading.

``to_text(node)`` writes SPEC section 1 notation: ``parse(to_text(e))`` gives a
tree equal to ``e`` (a property the tests check).  ``to_pretty(node)`` writes
the readable form of the ``text`` output: ``tr(A dX B)``, ``Xᵀ``, ``(XᵀX)⁻¹``.

Parentheses come from the precedence table below and the tree, never from the
printed string.
"""
from __future__ import annotations

from fractions import Fraction

from .. import ir

ADD, MUL, NEG, POW, ATOM = 10, 20, 25, 30, 40

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def num_str(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def leading_coef(node: ir.Node) -> tuple:
    """(c, rest): node == c * rest, with rest None when node is a number."""
    if isinstance(node, ir.Num):
        return node.value, None
    if isinstance(node, ir.MatMul) and isinstance(node.args[0], ir.Num):
        rest = node.args[1:]
        return node.args[0].value, (rest[0] if len(rest) == 1 else ir.MatMul(*rest))
    return Fraction(1), node


def is_negative(node: ir.Node) -> bool:
    if isinstance(node, ir.Num):
        return node.value < 0
    return isinstance(node, ir.MatMul) and isinstance(node.args[0], ir.Num) and node.args[0].value < 0


def is_reciprocal(node: ir.Node) -> bool:
    return isinstance(node, ir.Pow) and node.args[1] == ir.MINUS_ONE


def is_elementwise_reciprocal(node: ir.Node) -> bool:
    return isinstance(node, ir.HadPow) and node.args[1] == ir.MINUS_ONE


def merge_ones(factors) -> list:
    """A product's factors with each run of all-ones factors multiplied out, as the
    exact identity ``ones(a,b)*ones(b,c) = b*ones(a,c)`` (``ones(1,b)*ones(b,1) = b``):
    printed as ``ones*ones`` the inner size would be lost.  The sizes, scalars, go
    first (after a leading number)."""
    out, sizes = [], []
    for f in factors:
        prev = out[-1] if out else None
        if isinstance(f, ir.Ones) and isinstance(prev, ir.Ones) and f.shape != (1, 1) \
                and prev.shape != (1, 1):
            out.pop()
            a, b, c = prev.args[0], prev.args[1], f.args[1]
            sizes.append(ir.Size(b) if not isinstance(b, int) else ir.Num(b))
            if (a, c) != (1, 1):
                out.append(ir.Ones(a, c))
            continue
        out.append(f)
    if not sizes:
        return out
    lead = [out.pop(0)] if out and isinstance(out[0], ir.Num) else []
    return lead + sizes + out


def _is_size_product(n: ir.Node) -> bool:
    """A number, a size, or a product of them."""
    if isinstance(n, ir.MatMul):
        return all(isinstance(g, (ir.Num, ir.Size)) for g in n.args)
    return isinstance(n, (ir.Num, ir.Size))


def sized_form(node: ir.Node):
    """The same value with a size that printing would lose made explicit, or None:
    ``sum(ones)`` of an m×n ones is ``m*n``, ``tr(I)`` and ``tr(ones)`` are ``n``, a
    product of ones is multiplied out (:func:`merge_ones`), and such a size inside a
    product goes first."""
    if isinstance(node, ir.Sum) and isinstance(node.args[0], ir.Ones):
        d = ir.dim_mul(*node.args[0].args)
        return ir.Num(d) if isinstance(d, int) else ir.Size(d)
    if isinstance(node, ir.Trace) and isinstance(node.args[0], (ir.Ident, ir.Ones)):
        d = node.args[0].args[0]
        return ir.Num(d) if isinstance(d, int) else ir.Size(d)
    if not isinstance(node, ir.MatMul):
        return None
    if not any(isinstance(f, (ir.Ones, ir.Sum, ir.Trace, ir.MatMul)) for f in node.args):
        return None
    coef, sizes, rest, changed = Fraction(1), [], [], False
    for f in node.args:
        alt = sized_form(f) if isinstance(f, (ir.Sum, ir.Trace, ir.MatMul)) else None
        if alt is not None and _is_size_product(alt):
            changed = True
            for g in (alt.args if isinstance(alt, ir.MatMul) else (alt,)):
                if isinstance(g, ir.Num):
                    coef *= g.value
                else:
                    sizes.append(g)
        elif isinstance(f, ir.Num) and not rest and not sizes:
            coef *= f.value
        else:
            rest.append(f)
    merged = merge_ones(rest)
    if merged != rest:
        changed = True
        while merged and isinstance(merged[0], ir.Num):
            coef *= merged.pop(0).value
        while merged and isinstance(merged[0], ir.Size):
            sizes.append(merged.pop(0))
    if not changed:
        return None
    factors = ([ir.Num(coef)] if coef != 1 or not (sizes or merged) else []) + sizes + merged
    return factors[0] if len(factors) == 1 else ir.MatMul(*factors)


def _scalar_prefix(factors) -> int | None:
    """Where a chain read left to right would close a 1×1 product of two or more matrix
    factors before its end (``x'*a`` in x'*a*c'): the index at which the rest must be
    bracketed so that the text parses back to the same flat chain, or None."""
    for j in range(2, len(factors)):
        head = factors[:j]
        if sum(f.shape != (1, 1) for f in head) >= 2 and \
                ir.product_shape([f.shape for f in head]) == (1, 1):
            return j - 1
    return None


def _ones_sum(f: ir.Node):
    """A 1×1 product with ones at an end, as the sum it is (``ones'*M*ones`` is
    ``sum(M)``, ``ones'*v`` is ``sum(v)``), or None.  Inside a longer product its ones
    have no size of their own when read back: ``(ones'*M*ones)*x`` parses as an n×n ones."""
    if not isinstance(f, ir.MatMul) or f.shape != (1, 1):
        return None
    args = list(f.args)
    if isinstance(args[0], ir.Ones) and args[0].args[0] == 1:
        args.pop(0)
    if args and isinstance(args[-1], ir.Ones) and args[-1].args[1] == 1:
        args.pop()
    if len(args) == len(f.args) or not args:
        return None
    return ir.Sum(args[0] if len(args) == 1 else ir.MatMul(*args))


class TextPrinter:
    """One function per node class; ``pretty`` selects the Unicode reading form.

    ``inputs`` are the variables of the input (``Sym`` nodes): a size (``Size``) prints as
    ``rows(X)``/``cols(X)`` of the first input that carries it, so that the text is over
    input names only (SPEC section 6).  Without inputs, the printed tree's own variables
    serve; a size that no variable carries prints as its name.
    """

    def __init__(self, pretty: bool = False, inputs=()):
        self.pretty = pretty
        self.inputs = tuple(inputs)
        self.table = {cls: getattr(self, "_" + cls.__name__)
                      for cls in ir.NODE_CLASSES + ir.SECOND_ORDER_CLASSES}
        self.root = None

    # -- entry points -------------------------------------------------------
    def __call__(self, node: ir.Node) -> str:
        if self.root is None:
            self.root = node
            try:
                return self.p(node)[0]
            finally:
                self.root = None
        return self.p(node)[0]

    def p(self, node: ir.Node) -> tuple:
        """(string, precedence)."""
        if type(node) in (ir.Sum, ir.Trace, ir.MatMul):
            alt = sized_form(node)
            if alt is not None:
                return self.p(alt)
        return self.table[type(node)](node)

    def at(self, node: ir.Node, prec: int) -> str:
        s, q = self.p(node)
        return f"({s})" if q < prec else s

    # -- leaves -------------------------------------------------------------
    def _Sym(self, n):
        return n.name, ATOM

    def _Num(self, n):
        v = n.value
        if v < 0:
            return "-" + num_str(-v), NEG
        return num_str(v), (ATOM if v.denominator == 1 else MUL)

    def _Ident(self, n):
        return "I", ATOM

    def _Ones(self, n):
        if n.args[0] == 1 and n.args[1] != 1:           # a row of ones
            return ("1ᵀ" if self.pretty else "ones'"), POW
        return ("1" if self.pretty else "ones"), ATOM

    def _Zeros(self, n):
        if n.args[0] == 1 and n.args[1] != 1:           # a row of zeros
            return ("0ᵀ" if self.pretty else "zeros'"), POW
        return ("0" if self.pretty else "zeros"), ATOM

    # -- sums and products ---------------------------------------------------
    def _Add(self, n):
        parts = []
        for i, t in enumerate(n.args):
            if i and is_negative(t):
                c, rest = leading_coef(t)
                neg = ir.Num(-c) if rest is None else (
                    rest if c == -1 else ir.MatMul(ir.Num(-c), *(
                        rest.args if isinstance(rest, ir.MatMul) else (rest,))))
                parts.append(" - " + self.at(neg, MUL))
            elif i:
                parts.append(" + " + self.at(t, MUL if not is_negative(t) else NEG))
            else:
                parts.append(self.at(t, NEG if is_negative(t) else MUL))
        return "".join(parts), ADD

    def _factor(self, f: ir.Node) -> str:
        if isinstance(f, (ir.Hadamard, ir.Add)) or is_elementwise_reciprocal(f):
            return "(" + self(f) + ")"
        if isinstance(f, ir.Num):
            return self.at(f, ATOM)
        return self.at(f, POW)

    def _MatMul(self, n):
        factors = list(n.args)
        coef = Fraction(1)
        if isinstance(factors[0], ir.Num):
            coef = factors.pop(0).value
        denoms = []
        if not self.pretty:
            while factors and is_reciprocal(factors[-1]) and len(factors) > 1:
                denoms.insert(0, factors.pop().args[0])
        sep = " " if self.pretty else "*"
        body = []
        all_scalar = all(f.shape == (1, 1) for f in factors)
        split = None if all_scalar or self.pretty else _scalar_prefix(factors)
        if split is not None:
            # x'*(a*c'): written x'*a*c', it would read back as (x'*a)*c', another tree
            factors = factors[:split] + [ir.MatMul(*factors[split:])]
        for k, f in enumerate(factors):
            if all_scalar and isinstance(f, ir.MatMul):
                body.append(self(f))          # x'*x/t: a product of scalars needs no brackets
                continue
            if self.pretty and isinstance(f, ir.D) and k < len(factors) - 1 \
                    and isinstance(f.args[0], ir.Sym):
                body.append("(" + self(f) + ")")      # (dA) X B, never dA X B
                continue
            summed = None if self.pretty or len(factors) == 1 else _ones_sum(f)
            if summed is not None:
                body.append(self(summed))     # (ones'*M*ones)*x would read ones as n×n
                continue
            if is_reciprocal(f) and not self.pretty:
                body.append(self.at(f.args[0], ATOM) + "^-1")
            else:
                body.append(self._factor(f))
        s = sep.join(body)
        if coef != 1:
            mag = abs(coef)
            if mag != 1:
                s = num_str(mag) + sep + s
            if coef < 0:
                s = "-" + s
        for d in denoms:
            s += "/" + self.at(d, ATOM)
        if coef < 0:
            return s, NEG
        return s, MUL

    def _Hadamard(self, n):
        parts = [self._had_factor(n.args[0])]
        for f in n.args[1:]:
            if is_elementwise_reciprocal(f):
                parts.append((" ⊘ " if self.pretty else " ./ ") + self._had_factor(f.args[0]))
            else:
                parts.append((" ⊙ " if self.pretty else " .* ") + self._had_factor(f))
        return "".join(parts), MUL

    def _had_factor(self, f):
        if isinstance(f, (ir.MatMul, ir.Add, ir.Hadamard)) or is_elementwise_reciprocal(f) \
                or (isinstance(f, ir.Num) and (f.value < 0 or f.value.denominator != 1)):
            return "(" + self(f) + ")"
        return self.at(f, POW)

    # -- postfix --------------------------------------------------------------
    def _Transpose(self, n):
        return self.at(n.args[0], ATOM) + ("ᵀ" if self.pretty else "'"), POW

    def _Inverse(self, n):
        if self.pretty:
            return self.at(n.args[0], ATOM) + "⁻¹", POW
        return f"inv({self(n.args[0])})", ATOM

    def _MatPow(self, n):
        k = n.args[1]
        if self.pretty:
            return self.at(n.args[0], ATOM) + str(k).translate(_SUP), POW
        return f"{self.at(n.args[0], ATOM)}^{k}", POW

    def _exponent(self, e: ir.Node) -> str:
        if isinstance(e, ir.Num) and e.value.denominator == 1:
            return num_str(e.value) if e.value >= 0 else "-" + num_str(-e.value)
        if isinstance(e, ir.Sym):
            return e.name
        return "(" + self(e) + ")"

    def _Pow(self, n):
        base, e = n.args
        if e == ir.MINUS_ONE and not self.pretty:
            return "1/" + self.at(base, ATOM), MUL
        if self.pretty and isinstance(e, ir.Num) and e.value.denominator == 1:
            if isinstance(base, ir.Norm):
                return self(base) + str(e.value).translate(_SUP), POW
            return self.at(base, ATOM) + str(e.value).translate(_SUP), POW
        return f"{self.at(base, ATOM)}^{self._exponent(e)}", POW

    def _HadPow(self, n):
        base, e = n.args
        if e == ir.MINUS_ONE:
            return ("1 ⊘ " if self.pretty else "1 ./ ") + self._had_factor(base), MUL
        op = "^∘" if self.pretty else " .^ "
        return f"{self.at(base, ATOM)}{op}{self._exponent(e)}", POW

    # -- functions --------------------------------------------------------------
    def _call(self, name, arg):
        return f"{name}({self(arg)})", ATOM

    def _Trace(self, n):
        return self._call("tr", n.args[0])

    def _Det(self, n):
        return self._call("det", n.args[0])

    def _LogDet(self, n):
        return self._call("log det" if self.pretty else "logdet", n.args[0])

    def _Norm(self, n):
        if self.pretty:
            return f"‖{self(n.args[0])}‖", ATOM
        return self._call("norm", n.args[0])

    def _Sum(self, n):
        return self._call("sum", n.args[0])

    def _DiagMat(self, n):
        return self._call("diag", n.args[0])

    def _DiagVec(self, n):
        return self._call("diag", n.args[0])

    def _Func(self, n):
        return self._call(n.name, n.args[1])

    # -- sizes and the Kronecker notation (SPEC section 6) ------------------------
    def size_text(self, d) -> str:
        """``rows(X)``, ``cols(X)``, ``rows(X)*cols(Y)``, ``6`` for a dimension."""
        syms = list(self.inputs)
        if self.root is not None:
            syms += [s for s in ir.free_syms(self.root) if s not in syms]
        parts = []
        for f in ir.dim_factors(d):
            if isinstance(f, int):
                parts.append(str(f))
                continue
            for sym in syms:
                if sym.shape[0] == f:
                    parts.append(f"rows({sym.name})")
                    break
                if sym.shape[1] == f:
                    parts.append(f"cols({sym.name})")
                    break
            else:
                parts.append(f)          # no variable has it (a key, not output)
        return ("·" if self.pretty else "*").join(parts)

    def _Size(self, n):
        s = self.size_text(n.args[0])
        return s, (ATOM if "*" not in s and "·" not in s else MUL)

    def _Kron(self, n):
        a, b = n.args
        if self.pretty:
            return f"{self.at(a, POW)} ⊗ {self.at(b, POW)}", MUL
        return f"kron({self(a)}, {self(b)})", ATOM

    def _Vec(self, n):
        return self._call("vec", n.args[0])

    def _Commutation(self, n):
        if self.pretty:
            r, c = n.args[0].shape
            return f"K[{self.size_text(r)},{self.size_text(c)}]", ATOM
        return self._call("commutation", n.args[0])

    def _D(self, n):
        a = n.args[0]
        if self.pretty:
            if isinstance(a, ir.Sym):
                return "d" + a.name, POW
            s, q = self.p(a)
            if q == ATOM and s[:1].isalpha():
                return "d " + s, POW        # d tr(X), d log det(Y)
            return f"d({s})", POW
        return f"d({self(a)})", ATOM


_TEXT = TextPrinter(pretty=False)
_PRETTY = TextPrinter(pretty=True)


def to_text(node: ir.Node, inputs=()) -> str:
    """SPEC section 1/6 notation that parses back; ``inputs``: the input's variables,
    which name the sizes (``rows(X)``)."""
    return (TextPrinter(False, inputs) if inputs else _TEXT)(node)


def to_pretty(node: ir.Node, inputs=()) -> str:
    """The Unicode reading form: ``tr(A dX B)``, ``Xᵀ``, ``(XᵀX)⁻¹``, ``A ⊗ B``."""
    return (TextPrinter(True, inputs) if inputs else _PRETTY)(node)
