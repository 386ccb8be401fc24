"""The gradient as one NumPy expression (SPEC section 4, ``gradient.numpy``).

``to_numpy(grad, f, wrt)`` writes a Python expression over ``np`` and the
input's names in which a vector is a 1-D array, a matrix a 2-D array and a
scalar a float; it evaluates to an array of the shape of ``wrt`` (a 1-D array
for a vector, a float for a scalar).  A name that is a Python keyword takes a
trailing underscore (``lambda_``).

Every sub-expression is printed in one of four *forms*, decided by its IR
shape: ``S`` a scalar (1x1), ``V`` a column vector (n x 1) held as a 1-D
array, ``R`` a row vector (1 x n), also held as a 1-D array, and ``M`` a
matrix (2-D).  NumPy's rules for 1-D operands of ``@`` then give the right
result without reshaping: ``R @ V`` is a scalar, ``M @ V`` a vector,
``R @ M`` a row; only an outer product ``V @ R`` needs ``np.outer``, and a
transpose of a vector changes its form, not its code.  Sizes of ``I``,
``ones`` and ``zeros`` come from the variables of ``f`` (``X.shape[0]``).

Parentheses come from Python's precedence table and the tree.  Output is
deterministic.  This module does not import NumPy.
"""
from __future__ import annotations

import keyword
import re
from fractions import Fraction

from .. import ir
from ..errors import UnsupportedError

# Python precedence, loosest first
ADD, MUL, NEG, POW, ATOM = 10, 20, 25, 30, 40

_FUNCS = {"log": "np.log", "exp": "np.exp", "sqrt": "np.sqrt", "sin": "np.sin",
          "cos": "np.cos", "tan": "np.tan", "sinh": "np.sinh", "cosh": "np.cosh",
          "tanh": "np.tanh", "abs": "np.abs"}


def py_name(name: str) -> str:
    """A variable's name in Python: a keyword takes a trailing underscore."""
    return name + "_" if keyword.iskeyword(name) else name


def form_of(shape) -> str:
    r, c = shape
    if r == 1 and c == 1:
        return "S"
    if c == 1:
        return "V"
    if r == 1:
        return "R"
    return "M"


def num_code(v: Fraction, as_float: bool = False) -> tuple:
    """(code, precedence) of a rational number: an integer, a short decimal, ``p / q``,
    or else the nearest float (which is what NumPy computes with anyway)."""
    prec = ATOM if v >= 0 else NEG
    if v.denominator == 1 and abs(v.numerator) < 10 ** 15 and not as_float:
        return str(v.numerator), prec
    try:
        s = repr(float(v))
    except OverflowError:
        return ("np.inf" if v > 0 else "-np.inf"), prec
    if Fraction(s) == v or v.denominator == 1 or max(abs(v.numerator), v.denominator) >= 10 ** 15:
        return s, prec
    return f"{v.numerator} / {v.denominator}", MUL


class _Code:
    """A printed sub-expression: its code, precedence and form."""
    __slots__ = ("code", "prec", "form")

    def __init__(self, code: str, prec: int, form: str):
        self.code, self.prec, self.form = code, prec, form

    def at(self, prec: int) -> str:
        return f"({self.code})" if self.prec < prec else self.code


class NumpyPrinter:
    """One function per node class; ``dims`` maps a dimension to the code of its size."""

    def __init__(self, dims: dict):
        self.dims = dims
        # the section-6 nodes join as their entries land (ir.SECOND_ORDER_CLASSES)
        self.table = {cls: getattr(self, "_" + cls.__name__)
                      for cls in ir.NODE_CLASSES + ir.SECOND_ORDER_CLASSES
                      if hasattr(self, "_" + cls.__name__)}

    def p(self, node: ir.Node) -> _Code:
        return self.table[type(node)](node)

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        if "*" in d and d not in self.dims:   # a product dimension (kron, vec)
            return " * ".join(self.dim(f) for f in ir.dim_factors(d))
        if d not in self.dims:
            raise UnsupportedError(f"no NumPy form for the gradient: the size {d} of an I, "
                                   f"ones or zeros in it is not the size of any variable of f")
        return self.dims[d]

    # -- leaves ------------------------------------------------------------
    def _Sym(self, n):
        name, form = py_name(n.name), form_of(n.shape)
        layout = {"scalar": "S", "vector": "V"}.get(n.kind, "M")
        if layout == form:
            return _Code(name, ATOM, form)
        # a variable whose declared size makes it 1 along a side
        if form == "S":
            return _Code(f"{name}.item()", ATOM, form)
        if layout == "M":
            return _Code(f"{name}.ravel()", ATOM, form)
        return _Code(name, ATOM, form)          # a vector of length 1 is fine as 1-D

    def _Num(self, n):
        code, prec = num_code(n.value)
        return _Code(code, prec, "S")

    def _const(self, n, fill: str, scalar: str):
        form = form_of(n.shape)
        if form == "S":
            return _Code(scalar, ATOM, form)
        if form in "VR":
            d = n.shape[0] if form == "V" else n.shape[1]
            return _Code(f"np.{fill}({self.dim(d)})", ATOM, form)
        return _Code(f"np.{fill}(({self.dim(n.shape[0])}, {self.dim(n.shape[1])}))", ATOM, form)

    def _Ident(self, n):
        if form_of(n.shape) == "S":
            return _Code("1.0", ATOM, "S")
        return _Code(f"np.eye({self.dim(n.args[0])})", ATOM, "M")

    def _Ones(self, n):
        return self._const(n, "ones", "1.0")

    def _Size(self, n):
        """A size as the product of the inputs' shapes: ``X.shape[0]``, ``X.shape[0] * X.shape[1]``."""
        parts = [str(f) if isinstance(f, int) else self.dim(f) for f in ir.dim_factors(n.args[0])]
        if len(parts) == 1:
            return _Code(parts[0], ATOM, "S")
        return _Code(" * ".join(parts), MUL, "S")

    def _Zeros(self, n):
        return self._const(n, "zeros", "0.0")

    # -- sums and products -------------------------------------------------
    def _Add(self, n):
        parts = []
        for i, t in enumerate(n.args):
            coef = t.args[0].value if isinstance(t, ir.MatMul) and isinstance(t.args[0], ir.Num) \
                else (t.value if isinstance(t, ir.Num) else None)
            if i and coef is not None and coef < 0:
                neg = ir.Num(-coef) if isinstance(t, ir.Num) else _scaled(-coef, t.args[1:])
                parts.append(" - " + self.p(neg).at(ADD + 1))
            elif i:
                parts.append(" + " + self.p(t).at(ADD + 1))
            else:
                parts.append(self.p(t).at(ADD))
        return _Code("".join(parts), ADD, form_of(n.shape))

    def _MatMul(self, n):
        factors = list(n.args)
        coef = Fraction(1)
        if isinstance(factors[0], ir.Num) and len(factors) > 1:
            coef = factors.pop(0).value
        acc = None                      # _Code of the chain so far
        for f in factors:
            if isinstance(f, ir.Pow) and f.args[1] == ir.MINUS_ONE and acc is not None:
                d = self.p(f.args[0])
                acc = _Code(f"{acc.at(MUL)} / {d.at(MUL + 1)}", MUL, acc.form)
                continue
            b = self.p(f)
            if acc is None:
                acc = b
            elif acc.form == "S" or b.form == "S":
                form = b.form if acc.form == "S" else acc.form
                acc = _Code(f"{acc.at(MUL)} * {b.at(MUL + 1)}", MUL, form)
            elif (acc.form, b.form) == ("V", "R"):
                acc = _Code(f"np.outer({acc.code}, {b.code})", ATOM, "M")
            else:
                form = {("R", "V"): "S", ("R", "M"): "R", ("M", "V"): "V",
                        ("M", "M"): "M"}.get((acc.form, b.form))
                if form is None:
                    raise ValueError(f"a product of forms {acc.form} and {b.form}")
                acc = _Code(f"{acc.at(MUL)} @ {b.at(MUL + 1)}", MUL, form)
        if coef == 1:
            return acc
        if coef == -1:
            return _neg(acc)
        c, cp = num_code(coef)
        c = f"({c})" if cp < MUL else c
        return _Code(f"{c} * {acc.at(MUL)}", MUL, acc.form)

    def _Hadamard(self, n):
        out = None
        for f in n.args:
            if isinstance(f, ir.HadPow) and f.args[1] == ir.MINUS_ONE and out is not None:
                out = _Code(f"{out.at(MUL)} / {self.p(f.args[0]).at(MUL + 1)}", MUL, out.form)
                continue
            b = self.p(f)
            out = b if out is None else _Code(f"{out.at(MUL)} * {b.at(MUL + 1)}", MUL, out.form)
        return _Code(out.code, out.prec, form_of(n.shape))

    # -- postfix -------------------------------------------------------------
    def _Transpose(self, n):
        a = self.p(n.args[0])
        form = {"S": "S", "V": "R", "R": "V", "M": "M"}[a.form]
        if a.form == "M":
            return _Code(f"{a.at(ATOM)}.T", ATOM, form)
        return _Code(a.code, a.prec, form)

    def _Inverse(self, n):
        a = self.p(n.args[0])
        if a.form == "S":
            return _Code(f"1 / {a.at(MUL + 1)}", MUL, "S")
        return _Code(f"np.linalg.inv({a.code})", ATOM, "M")

    def _MatPow(self, n):
        a, k = self.p(n.args[0]), n.args[1]
        if a.form == "S":
            return self._power(a, _Code(str(k), ATOM if k >= 0 else NEG, "S"), Fraction(k))
        return _Code(f"np.linalg.matrix_power({a.code}, {k})", ATOM, "M")

    def _power(self, base: _Code, exp: _Code, value) -> _Code:
        """base ** exp, elementwise; ``value`` is the exponent when it is a number."""
        if value is not None:
            if value == -1:
                return _Code(f"1 / {base.at(MUL + 1)}", MUL, base.form)
            if value == Fraction(1, 2):
                return _Code(f"np.sqrt({base.code})", ATOM, base.form)
            if value.denominator == 1 and value > 0:
                return _Code(f"{base.at(ATOM)} ** {value}", POW, base.form)
        return _Code(f"np.power({base.code}, {exp.code})", ATOM,
                     base.form if exp.form == "S" else exp.form)

    def _exp_and_base(self, n):
        base, exp = n.args
        value = exp.value if isinstance(exp, ir.Num) else None
        b = self.p(base)
        if isinstance(base, ir.Num):          # never an int base: np.power(2, -1) raises
            code, prec = num_code(base.value, as_float=True)
            b = _Code(code, prec, "S")
        if value is not None:
            code, prec = num_code(value, as_float=value.denominator != 1 or value < 0)
            e = _Code(code, prec, "S")
        else:
            e = self.p(exp)
        return b, e, value

    def _Pow(self, n):
        return self._power(*self._exp_and_base(n))

    def _HadPow(self, n):
        b, e, value = self._exp_and_base(n)
        out = self._power(b, e, value)
        return _Code(out.code, out.prec, form_of(n.shape))

    # -- functions -------------------------------------------------------------
    def _Trace(self, n):
        a = self.p(n.args[0])
        return a if a.form == "S" else _Code(f"np.trace({a.code})", ATOM, "S")

    def _Det(self, n):
        a = self.p(n.args[0])
        return a if a.form == "S" else _Code(f"np.linalg.det({a.code})", ATOM, "S")

    def _LogDet(self, n):
        a = self.p(n.args[0])
        if a.form == "S":
            return _Code(f"np.log({a.code})", ATOM, "S")
        return _Code(f"np.linalg.slogdet({a.code})[1]", ATOM, "S")

    def _Norm(self, n):
        a = self.p(n.args[0])
        if a.form == "S":
            return _Code(f"np.abs({a.code})", ATOM, "S")
        return _Code(f"np.linalg.norm({a.code})", ATOM, "S")

    def _Sum(self, n):
        a = self.p(n.args[0])
        return a if a.form == "S" else _Code(f"np.sum({a.code})", ATOM, "S")

    def _DiagMat(self, n):
        a = self.p(n.args[0])
        return a if a.form == "S" else _Code(f"np.diag({a.code})", ATOM, "M")

    def _DiagVec(self, n):
        a = self.p(n.args[0])
        return a if a.form == "S" else _Code(f"np.diag({a.code})", ATOM, "V")

    def _Func(self, n):
        a = self.p(n.args[1])
        if n.name == "sigmoid":
            return _Code(f"1 / (1 + np.exp({_neg(a).code}))", MUL, a.form)
        return _Code(f"{_FUNCS[n.name]}({a.code})", ATOM, a.form)

    # -- SPEC section 6: kron, vec, commutation -------------------------------
    def _Vec(self, n):
        a = self.p(n.args[0])
        if a.form in "SVR":                 # a vector is its own vec (1-D either way)
            return _Code(a.code, a.prec, "S" if a.form == "S" else "V")
        return _Code(f'{a.at(ATOM)}.reshape(-1, order="F")', ATOM, "V")

    def _kron_operand(self, a: _Code) -> str:
        if a.form == "V":
            return f"{a.at(ATOM)}.reshape(-1, 1)"
        if a.form == "R":
            return f"{a.at(ATOM)}.reshape(1, -1)"
        if a.form == "S":
            return f"np.asarray({a.code})"
        return a.code

    def _Kron(self, n):
        a, b = self.p(n.args[0]), self.p(n.args[1])
        code = f"np.kron({self._kron_operand(a)}, {self._kron_operand(b)})"
        form = form_of(n.shape)
        if form in "VR":
            return _Code(f"{code}.ravel()", ATOM, form)
        if form == "S":
            return _Code(f"{code}.item()", ATOM, form)
        return _Code(code, ATOM, form)

    def _Commutation(self, n):
        x = n.args[0]
        r, c = x.shape
        if r == 1 or c == 1:                # K of a vector or a scalar is the identity
            return self._Ident(ir.Ident(ir.dim_mul(r, c)))
        if isinstance(x, ir.Sym):
            name = py_name(x.name)
            return _Code(f'np.eye({name}.size)[np.arange({name}.size).reshape({name}.shape, '
                         f'order="F").ravel()]', ATOM, "M")
        rows, cols = self.dim(r), self.dim(c)
        size = self.dim(ir.dim_mul(r, c))
        return _Code(f'np.eye({size})[np.arange({size}).reshape(({rows}, {cols}), '
                     f'order="F").ravel()]', ATOM, "M")

    def _D(self, n):
        raise ValueError("a differential has no NumPy form")


def _scaled(coef: Fraction, rest) -> ir.Node:
    rest = tuple(rest)
    if coef == 1:
        return rest[0] if len(rest) == 1 else ir.MatMul(*rest)
    return ir.MatMul(ir.Num(coef), *rest)


def _neg(a: _Code) -> _Code:
    if a.prec > NEG:
        return _Code("-" + a.code, NEG, a.form)
    return _Code(f"-({a.code})", NEG, a.form)


def _dim_sources(f: ir.Node, grad: ir.Node, wrt: ir.Sym, gradient: bool = True) -> dict:
    """Each dimension symbol -> the code of its size: from ``wrt`` if it has it, else
    from the first variable of ``f`` (then of ``grad``) that has it."""
    dims: dict = {}
    for s in [wrt] + ir.free_syms(f) + ir.free_syms(grad):
        name = py_name(s.name)
        if s.kind == "scalar":
            continue
        if s.kind == "vector":
            if isinstance(s.shape[0], str):
                dims.setdefault(s.shape[0], f"{name}.shape[0]")
            continue
        for axis, d in enumerate(s.shape):
            if isinstance(d, str):
                dims.setdefault(d, f"{name}.shape[{axis}]")
    # a gradient has the shape of wrt: this sizes a lone I or ones whose dimension no
    # variable fixes
    for d, w in zip(grad.shape if gradient else (), wrt.shape):
        if isinstance(d, str) and d not in dims:
            if isinstance(w, int):
                dims[d] = str(w)
            elif w in dims:
                dims[d] = dims[w]
    return dims


def _fix_dims(node: ir.Node, sub: dict, memo: dict) -> ir.Node:
    """node with the dimensions in ``sub`` replaced by numbers."""
    out = memo.get(node)
    if out is not None:
        return out
    if isinstance(node, ir.Sym):
        r, c = node.shape
        out = ir.Sym(node.name, node.kind, sub.get(r, r), sub.get(c, c))
    elif isinstance(node, (ir.Ident, ir.Ones, ir.Zeros)):
        out = node.rebuild(*(sub.get(d, d) for d in node.args))
    else:
        args = tuple(_fix_dims(a, sub, memo) if isinstance(a, ir.Node) else a
                     for a in node.args)
        out = node if args == node.args else node.rebuild(*args)
    memo[node] = out
    return out


def to_numpy(grad: ir.Node, f: ir.Node, wrt) -> str:
    """One Python expression over ``np`` and the input's names that evaluates ``grad``.

    ``wrt`` is the variable (a name or its ``Sym`` in ``f``); the result has its
    layout: a float for a scalar, a 1-D array for a vector, 2-D for a matrix.
    """
    if not isinstance(wrt, ir.Sym):
        found = [s for s in ir.free_syms(f) if s.name == wrt]
        if not found:
            raise ValueError(f"{wrt} does not occur in f")
        wrt = found[0]
    # the gradient has wrt's shape: a dimension of its own (a lone ones parsed apart from
    # f) that stands where wrt has a number is that number
    sub = {d: w for d, w in zip(grad.shape, wrt.shape)
           if isinstance(d, str) and isinstance(w, int)}
    if sub:
        try:
            grad = _fix_dims(grad, sub, {})
        except ValueError:                  # an IR constructor refused: keep the gradient
            pass
    code = _to_numpy(grad, f, wrt)
    if any(s.name == "np" for s in ir.free_syms(f) + ir.free_syms(grad)):
        code = module_as_numpy(code)
    return code


_VAR_ATTRS = re.compile(r"\bnp\.(?!(?:shape|T|item|ravel|reshape|size|copy)\b)")


def module_as_numpy(code: str) -> str:
    """Where an input is named ``np``, the module is ``numpy`` (SPEC section 4): every
    ``np.`` that is not an attribute an array variable takes (``np.shape[0]``,
    ``np.item()``) becomes ``numpy.``."""
    return _VAR_ATTRS.sub("numpy.", code)


def _to_numpy(grad: ir.Node, f: ir.Node, wrt: ir.Sym) -> str:
    out = NumpyPrinter(_dim_sources(f, grad, wrt)).p(grad)
    return layout_code(out, grad, f, wrt, "gradient")


def _gradient_layout(out, grad: ir.Node, wrt: ir.Sym) -> str:
    """The gradient's printed code in wrt's layout."""
    if isinstance(grad, ir.Num) and wrt.kind == "scalar":
        return num_code(grad.value, as_float=True)[0]
    layout = {"scalar": "S", "vector": "V"}.get(wrt.kind, "M")
    form = out.form
    if layout == "S" or (layout == "V" and form in "VR"):
        if form != "S" and layout == "S":
            return f"{out.at(ATOM)}.item()"
        return out.code
    if layout == "V":                       # a vector wrt of length 1
        return f"np.array([{out.code}])"
    if form == "M":
        return out.code
    if form == "S":
        return f"np.array([[{out.code}]])"
    return f"{out.at(ATOM)}.reshape({'-1, 1' if form == 'V' else '1, -1'})"


def result_numpy(node: ir.Node, f: ir.Node, wrt: ir.Sym, kind: str) -> str:
    """The NumPy expression of a result of any kind (SPEC section 6).

    A gradient has wrt's layout (:func:`to_numpy`); a Jacobian with respect to a
    scalar has F's own layout (a vector 1-D); any other Jacobian and a Hessian are
    2-D, except a 1x1 Hessian, which is a float.
    """
    if kind == "gradient":
        return to_numpy(node, f, wrt)
    out = NumpyPrinter(_dim_sources(f, node, wrt, gradient=False)).p(node)
    return layout_code(out, node, f, wrt, kind)


def _integer_valued(node: ir.Node) -> bool:
    """Is ``node`` built from sizes and whole numbers only (``2*rows(c)``), so that its
    code evaluates to a Python int, where SPEC section 4 promises a float?"""
    if isinstance(node, ir.Size):
        return True
    if isinstance(node, ir.Num):
        return node.value == int(node.value)
    if isinstance(node, (ir.MatMul, ir.Add)):
        return all(isinstance(a, ir.Node) and _integer_valued(a) for a in node.args)
    if isinstance(node, ir.Pow):              # rows(c)^2: an int to a whole power >= 0
        b, e = node.args
        return _integer_valued(b) and isinstance(e, ir.Num) and e.value >= 0 and \
            e.value.denominator == 1
    return False


def layout_code(out, node: ir.Node, f: ir.Node, wrt: ir.Sym, kind: str) -> str:
    """The printed code ``out`` of a result ``node`` in SPEC's layout for its kind (the
    NumPy printer and the code export share it); a scalar is a float, also where it is a
    count (``float(2 * c.shape[0])``)."""
    code = _layout_code(out, node, f, wrt, kind)
    if out.form == "S" and code == out.code and not isinstance(node, ir.Num) \
            and _integer_valued(node):
        if any(s.name == "float" for s in ir.free_syms(f)):
            return f"1.0 * {out.at(MUL)}"       # an input named float: not the builtin
        return f"float({code})"
    return code


def _layout_code(out, node: ir.Node, f: ir.Node, wrt: ir.Sym, kind: str) -> str:
    if kind == "gradient":
        return _gradient_layout(out, node, wrt)
    if kind == "jacobian" and wrt.shape == (1, 1):
        want = form_of(f.shape)
        want = "V" if want == "R" else want           # a row F is 1-D too
        if out.form in "VR" and want == "V" or out.form == want:
            return out.code
        if want == "V":
            return f"np.ravel({out.code})"
        if want == "M" and out.form == "S":
            return f"np.array([[{out.code}]])"
        return out.code
    if kind == "hessian" and wrt.shape == (1, 1):
        if isinstance(node, ir.Num):
            return num_code(node.value, as_float=True)[0]
        return out.code if out.form == "S" else f"{out.at(ATOM)}.item()"
    if out.form == "M":
        return out.code
    if out.form == "S":
        return f"np.array([[{out.code}]])"
    return f"{out.at(ATOM)}.reshape({'-1, 1' if out.form == 'V' else '1, -1'})"
