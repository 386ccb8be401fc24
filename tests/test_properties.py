"""Property tests: random well-typed expressions, each built together with its NumPy function.

The strategy ``exprs(shape, depth)`` (tensorgrad's ``random_tensor_expr`` style)
returns an :class:`Ex`: the expression in the input notation, its shape, and
a NumPy function of the point that computes the same thing, written by the
strategy itself.  The truth therefore never comes from texderive's evaluator.

Variables have fixed sizes, declared in ``let`` with symbolic dimensions
(``n`` = 3, ``p`` = 2): X n×n, Y n×p, x an n-vector, alpha a scalar and S
symmetric n×n (symmetric values and directions); constants A B (n×n), C
(n×p), E (p×p), a (n), c (p) and P (n×n, sampled near 5I so that
``inv(P + M)`` is well conditioned).  Constructs: sums, differences,
products (matrix, outer, scaling), transposes, number coefficients, ``e + ones``, ``.*``,
``.^ k``, ``./ (1 + e.^2)``, ``diag`` both ways, ``M^2``, elementwise
exp/tanh/sin/sigmoid and log/sqrt of ``1 + e.^2``; scalars from ``tr``,
``u'*M*u``, ``norm``, ``norm^2``, ``sum``, ``ones'*v`` (top-level terms only),
powers and quotients of scalars.  Inverses, logdets and dets are only taken
of well-conditioned things: ``inv(M'*M + I)``, ``inv(P + M)``,
``logdet(M'*M + I)``, ``det(M'*M + I)``.

Properties:
(a) the derived gradient (``gradient.numpy``) equals finite differences of
    the strategy's own function, or derive refuses with TexderiveError;
(b) ``parse(to_text(e)) == e`` for the elaborated input and for the gradient;
(c) shuffling the terms of a top-level sum gives the same gradient numbers;
(d) deriving twice gives byte-identical ``to_dict()`` JSON.

Profiles (tests/conftest.py): ``ci`` (derandomized, no deadline, no example
database) in ``make test`` and CI, so every run gives the same result;
``fuzz`` (fresh seeds, more examples) in ``make fuzz``.
"""
from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from texderive import TexderiveError, derive, ir, notation, shapes
from texderive.printers.text import to_text

# Hypothesis's pytest plugin imports its patch writer (libcst) only when reporting a
# failure; libcst's import warns, and under filterwarnings=error that warning would
# turn a failure report into an INTERNALERROR.  Import it once here, quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import hypothesis.extra._patching  # noqa: F401
    except Exception:       # not installed: the plugin then skips the patch
        pass

# The profile (``ci``: derandomized, the default; ``fuzz``: fresh seeds) is loaded by
# tests/conftest.py; these tests draw 150 examples under ``ci``.
EXAMPLES = settings(max_examples=150) if settings().max_examples < 150 else settings()

N, P_ = 3, 2
SIZE = {"n": N, "p": P_, 1: 1}
LET = {
    "X": "matrix n n", "Y": "matrix n p", "x": "vector n", "alpha": "scalar",
    "A": "matrix n n", "B": "matrix n n", "C": "matrix n p", "E": "matrix p p",
    "a": "vector n", "c": "vector p", "P": "matrix n n", "S": "symmetric n",
}
VARIABLES = ("X", "Y", "x", "alpha", "S")
RTOL = 1e-5


class Ex:
    """An expression: text in the input notation, shape (dims 'n', 'p' or 1), NumPy function.

    ``fn`` maps a dict of 2-D arrays (vectors (k, 1), scalars (1, 1)) to a 2-D array.
    ``text`` is atomic (a name or parenthesised) unless it is a leaf.
    ``fixed`` (rows, cols): whether the expression's own content fixes that size (an
    open-size constant ``I``/``ones``/``zeros`` fixes neither; a variable both).  Where
    a size would be fixed by nothing at all (``ones'*(ones*x)``: the inner ``ones`` may
    be n×n or 1×n), the input is ambiguous, so the strategy anchors it with a variable.
    """
    __slots__ = ("text", "shape", "fn", "fixed")

    def __init__(self, text: str, shape: tuple, fn, fixed=(True, True)):
        self.text, self.shape, self.fn, self.fixed = text, shape, fn, tuple(fixed)

    def __repr__(self):
        return f"Ex({self.text!r}, {self.shape})"


def _leaf(name: str, shape: tuple, transpose: bool = False) -> Ex:
    if transpose:
        return Ex(name + "'", shape, lambda v: v[name].T)
    return Ex(name, shape, lambda v: v[name])


def _num(value: float, text: str) -> Ex:
    return Ex(text, (1, 1), lambda v: np.full((1, 1), value))


LEAVES = {
    ("n", "n"): [_leaf("X", ("n", "n")), _leaf("X", ("n", "n"), True), _leaf("A", ("n", "n")),
                 _leaf("B", ("n", "n"), True), _leaf("S", ("n", "n"))],
    ("n", "p"): [_leaf("Y", ("n", "p")), _leaf("C", ("n", "p"))],
    ("p", "n"): [_leaf("Y", ("p", "n"), True), _leaf("C", ("p", "n"), True)],
    ("p", "p"): [_leaf("E", ("p", "p")), _leaf("E", ("p", "p"), True)],
    ("n", 1): [_leaf("x", ("n", 1)), _leaf("a", ("n", 1))],
    ("p", 1): [_leaf("c", ("p", 1))],
    (1, "n"): [_leaf("x", (1, "n"), True), _leaf("a", (1, "n"), True)],
    (1, "p"): [_leaf("c", (1, "p"), True)],
    (1, 1): [_leaf("alpha", (1, 1)), _num(2.0, "2"), _num(0.5, "0.5")],
}
SHAPES = tuple(LEAVES)


def _const(name: str, shape: tuple) -> Ex:
    """An open-size constant (``I``, ``ones``, ``zeros``): its size comes from the context."""
    rows, cols = (SIZE[d] for d in shape)
    if name == "I":
        return Ex("I", shape, lambda v: np.eye(rows), (False, False))
    value = 1.0 if name == "ones" else 0.0
    return Ex(name, shape, lambda v: np.full((rows, cols), value), (False, False))


#: Open-size constants of each shape (issue 12 item 3: ``diag(I)`` was wrong): drawn as
#: leaves anywhere, so inside every function, like any other leaf.
#: Not of shape 1×1: ``alpha + ones`` may be a scalar or a broadcast array.
CONSTANTS = {shape: [_const("ones", shape), _const("zeros", shape)]
             + ([_const("I", shape)] if shape[0] == shape[1] else [])
             for shape in SHAPES if shape != (1, 1)}


def _or(*fixes) -> tuple:
    return (any(f[0] for f in fixes), any(f[1] for f in fixes))


def _square(fixed) -> tuple:
    both = fixed[0] or fixed[1]
    return (both, both)


def _anchored(draw, e: Ex, rows: bool = True, cols: bool = True) -> Ex:
    """``e`` if its content fixes the sizes asked for, else a variable of its shape."""
    if (rows and not e.fixed[0]) or (cols and not e.fixed[1]):
        return draw(st.sampled_from(LEAVES[e.shape]))
    return e


def _mul_values(a, b, sa, sb):
    if sa == (1, 1) or sb == (1, 1):
        return a * b
    return a @ b


def _fn_product(e1: Ex, e2: Ex):
    f1, f2, s1, s2 = e1.fn, e2.fn, e1.shape, e2.shape
    return lambda v: _mul_values(f1(v), f2(v), s1, s2)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ELEMENTWISE = {"exp": np.exp, "tanh": np.tanh, "sin": np.sin, "sigmoid": _sigmoid}


@st.composite
def exprs(draw, shape: tuple, depth: int) -> Ex:
    """A random well-typed expression of ``shape`` with its NumPy function."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        if shape in CONSTANTS and draw(st.integers(0, 3)) == 0:
            return draw(st.sampled_from(CONSTANTS[shape]))
        return draw(st.sampled_from(LEAVES[shape]))
    r, c = shape
    d = depth - 1
    kinds = ["add", "mul", "transpose", "coef", "func"]
    if shape != (1, 1):
        kinds += ["hadamard", "scale", "hpow", "hquot", "hlog", "plus_ones", "scalar_plus"]
    if c == 1 and r != 1:
        kinds += ["diagvec"]
    if r == c and r != 1:
        kinds += ["inv_gram", "power", "diagmat"]
        if r == "n":
            kinds += ["inv_shift"]
    if shape == (1, 1):
        kinds += ["trace", "quad", "norm2", "norm", "logdet", "sum", "spow", "sdiv", "slog", "det"]
    kind = draw(st.sampled_from(kinds))

    if kind == "add":
        e1, e2 = draw(exprs(shape, d)), draw(exprs(shape, d))
        op = draw(st.sampled_from(["+", "-"]))
        f1, f2 = e1.fn, e2.fn
        fn = (lambda v: f1(v) + f2(v)) if op == "+" else (lambda v: f1(v) - f2(v))
        return Ex(f"({e1.text} {op} {e2.text})", shape, fn, _or(e1.fixed, e2.fixed))
    if kind == "mul":
        k = draw(st.sampled_from(["n", "p", 1]))
        e1, e2 = draw(exprs((r, k), d)), draw(exprs((k, c), d))
        if e1.shape == (1, 1) or e2.shape == (1, 1):   # a scaling: the array's sizes
            fixed = e2.fixed if e1.shape == (1, 1) else e1.fixed
            return Ex(f"({e1.text}*{e2.text})", shape, _fn_product(e1, e2), fixed)
        if not (e1.fixed[1] or e2.fixed[0]):          # nothing fixes the inner size
            e2 = _anchored(draw, e2)
        if shape == (1, 1):       # ones*x may be 1x1 or a column: a scalar's sizes are fixed
            e1, e2 = _anchored(draw, e1, cols=False), _anchored(draw, e2, rows=False)
        return Ex(f"({e1.text}*{e2.text})", shape, _fn_product(e1, e2),
                  (e1.fixed[0], e2.fixed[1]))
    if kind == "scale":
        s, e = draw(exprs((1, 1), d)), draw(exprs(shape, d))
        return Ex(f"({s.text}*{e.text})", shape, _fn_product(s, e), e.fixed)
    if kind == "transpose":
        e = draw(exprs((c, r), d))
        f = e.fn
        return Ex(f"({e.text}')", shape, lambda v: f(v).T, e.fixed[::-1])
    if kind == "coef":
        e = draw(exprs(shape, d))
        f = e.fn
        form = draw(st.sampled_from(["2*{}", "-{}", "{}/2", "0.5*{}", "3*{}"]))
        k = {"2*{}": 2.0, "-{}": -1.0, "{}/2": 0.5, "0.5*{}": 0.5, "3*{}": 3.0}[form]
        return Ex("(" + form.format(e.text) + ")", shape, lambda v: k * f(v), e.fixed)
    if kind == "func":
        name = draw(st.sampled_from(sorted(ELEMENTWISE)))
        e = draw(exprs(shape, d))
        f, g = e.fn, ELEMENTWISE[name]
        return Ex(f"{name}({e.text})", shape, lambda v: g(f(v)), e.fixed)
    if kind == "hadamard":
        e1, e2 = draw(exprs(shape, d)), draw(exprs(shape, d))
        f1, f2 = e1.fn, e2.fn
        return Ex(f"({e1.text} .* {e2.text})", shape, lambda v: f1(v) * f2(v),
                  _or(e1.fixed, e2.fixed))
    if kind == "hpow":
        e = draw(exprs(shape, d))
        f = e.fn
        k = draw(st.sampled_from([2, 3]))
        return Ex(f"({e.text} .^ {k})", shape, lambda v: f(v) ** k, e.fixed)
    if kind == "hquot":
        # 1 + I.^2 on its own may be 1x1: anchor an all-open e2 (``X ./ (1 + I.^2)``)
        e1, e2 = draw(exprs(shape, d)), _anchored(draw, draw(exprs(shape, d)))
        f1, f2 = e1.fn, e2.fn
        return Ex(f"({e1.text} ./ (1 + {e2.text} .^ 2))", shape,
                  lambda v: f1(v) / (1.0 + f2(v) ** 2), _or(e1.fixed, e2.fixed))
    if kind == "hlog":
        e = _anchored(draw, draw(exprs(shape, d)))
        f = e.fn
        name = draw(st.sampled_from(["log", "sqrt"]))
        g = np.log if name == "log" else np.sqrt
        return Ex(f"{name}(1 + {e.text} .^ 2)", shape, lambda v: g(1.0 + f(v) ** 2), e.fixed)
    if kind == "plus_ones":
        e = draw(exprs(shape, d))
        f = e.fn
        return Ex(f"({e.text} + ones)", shape, lambda v: f(v) + 1.0, e.fixed)
    if kind == "scalar_plus":
        # a scalar added to an array, often an open-size constant (2 + I: 2 on every entry
        # of I, sized by its context); an array with one size fixed and one open
        # (ones*c: k×1) is anchored, as s + ones*c reads ones*c as a number
        s, e = draw(exprs((1, 1), d)), draw(exprs(shape, d))
        if e.fixed[0] != e.fixed[1]:
            e = _anchored(draw, e)
        fs, fe = s.fn, e.fn
        return Ex(f"({s.text} + {e.text})", shape, lambda v: fs(v) + fe(v), e.fixed)
    if kind == "diagvec":
        e = draw(exprs((r, r), d))
        if not (e.fixed[1] or e.text == "I"):
            # diag(ones), diag(X*ones): open columns are 1, so it is diag of a column
            e = _anchored(draw, e)
        f = e.fn
        return Ex(f"diag({e.text})", shape, lambda v: np.diag(f(v)).reshape(-1, 1),
                  (e.fixed[0] or e.fixed[1], True))
    if kind == "diagmat":
        e = draw(exprs((r, 1), d))
        f = e.fn
        # the matrix's size is the column's length: its width (1) fixes nothing
        return Ex(f"diag({e.text})", shape, lambda v: np.diag(f(v)[:, 0]), (e.fixed[0],) * 2)
    if kind == "inv_gram":
        k = draw(st.sampled_from(["n", "p", 1]))
        s = _anchored(draw, draw(exprs((k, r), d)), cols=False)
        f, size = s.fn, SIZE[r]
        return Ex(f"inv({s.text}'*{s.text} + I)", shape,
                  lambda v: np.linalg.inv(f(v).T @ f(v) + np.eye(size)), (s.fixed[1],) * 2)
    if kind == "inv_shift":
        m = draw(st.sampled_from(LEAVES[("n", "n")]))
        f = m.fn
        return Ex(f"inv(P + {m.text})", shape, lambda v: np.linalg.inv(v["P"] + f(v)))
    if kind == "power":
        e = draw(exprs(shape, d))
        f = e.fn
        return Ex(f"({e.text}^2)", shape, lambda v: f(v) @ f(v), _square(e.fixed))
    # -- scalars ------------------------------------------------------------------
    if kind == "trace":
        k = draw(st.sampled_from(["n", "p"]))
        e = draw(exprs((k, k), d))
        e = e if (e.fixed[0] or e.fixed[1]) else _anchored(draw, e)
        f = e.fn
        return Ex(f"tr({e.text})", shape, lambda v: np.full((1, 1), np.trace(f(v))))
    if kind == "quad":
        k = draw(st.sampled_from(["n", "p"]))
        u, m = draw(exprs((k, 1), d)), draw(exprs((k, k), d))
        u = _anchored(draw, u)     # ones'*X*ones may be a matrix of ones'X ones: not a scalar
        fu, fm = u.fn, m.fn
        return Ex(f"({u.text}'*{m.text}*{u.text})", shape, lambda v: fu(v).T @ fm(v) @ fu(v))
    if kind in ("norm2", "norm"):
        s = draw(st.sampled_from(SHAPES))
        e = _anchored(draw, draw(exprs(s, d)))
        f = e.fn
        if kind == "norm2":
            return Ex(f"(norm({e.text})^2)", shape, lambda v: np.full((1, 1), np.sum(f(v) ** 2)))
        return Ex(f"norm({e.text})", shape,
                  lambda v: np.full((1, 1), math.sqrt(np.sum(f(v) ** 2))))
    if kind == "logdet":
        k = draw(st.sampled_from(["n", "p"]))
        j = draw(st.sampled_from(["n", "p", 1]))
        s = _anchored(draw, draw(exprs((j, k), d)))
        f, size = s.fn, SIZE[k]
        return Ex(f"logdet({s.text}'*{s.text} + I)", shape,
                  lambda v: np.full((1, 1), np.linalg.slogdet(f(v).T @ f(v) + np.eye(size))[1]))
    if kind == "det":
        k = draw(st.sampled_from(["n", "p"]))
        j = draw(st.sampled_from(["n", "p", 1]))
        s = _anchored(draw, draw(exprs((j, k), d)))
        f, size = s.fn, SIZE[k]
        return Ex(f"det({s.text}'*{s.text} + I)", shape,
                  lambda v: np.full((1, 1), np.linalg.det(f(v).T @ f(v) + np.eye(size))))
    if kind == "sum":
        s = draw(st.sampled_from(SHAPES))
        e = _anchored(draw, draw(exprs(s, d)))
        f = e.fn
        return Ex(f"sum({e.text})", shape, lambda v: np.full((1, 1), np.sum(f(v))))
    if kind == "spow":
        e = draw(exprs(shape, d))
        f = e.fn
        form = draw(st.sampled_from(["({}^2)", "((1 + {}^2)^0.5)", "((1 + {}^2)^(-1))",
                                     "((1 + {}^2)^(1/3))"]))
        p = {"({}^2)": None, "((1 + {}^2)^0.5)": 0.5, "((1 + {}^2)^(-1))": -1.0,
             "((1 + {}^2)^(1/3))": 1.0 / 3.0}[form]
        if p is None:
            return Ex(form.format(e.text), shape, lambda v: f(v) ** 2)
        return Ex(form.format(e.text), shape, lambda v: (1.0 + f(v) ** 2) ** p)
    if kind == "sdiv":
        e1, e2 = draw(exprs(shape, d)), draw(exprs(shape, d))
        f1, f2 = e1.fn, e2.fn
        return Ex(f"({e1.text}/(1 + {e2.text}^2))", shape, lambda v: f1(v) / (1.0 + f2(v) ** 2))
    if kind == "slog":
        e = draw(exprs(shape, d))
        f = e.fn
        return Ex(f"log(1 + {e.text}^2)", shape, lambda v: np.log(1.0 + f(v) ** 2))
    raise AssertionError(kind)


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])", text) is not None


@st.composite
def ones_dots(draw, depth: int) -> Ex:
    """``ones'*v``: a top-level term only, where f being a scalar fixes the size of ones
    (inside a product, ``(ones'*c)*c'`` may as well be an outer product)."""
    k = draw(st.sampled_from(["n", "p"]))
    e = _anchored(draw, draw(exprs((k, 1), depth)), cols=False)
    f = e.fn
    return Ex(f"ones'*{e.text}", (1, 1), lambda v: np.full((1, 1), np.sum(f(v))))


@st.composite
def problems(draw, max_terms: int = 3, depth: int = 3, min_terms: int = 1):
    """(terms, wrt, seed): a scalar f = sum of terms that mentions wrt."""
    terms = draw(st.lists(st.one_of(exprs((1, 1), depth), ones_dots(depth - 1)),
                          min_size=min_terms, max_size=max_terms))
    text = " + ".join(t.text for t in terms)
    present = [n for n in VARIABLES if _mentions(text, n)]
    assume(present)
    wrt = draw(st.sampled_from(present))
    seed = draw(st.integers(0, 2**32 - 1))
    return terms, wrt, seed


def join(terms) -> str:
    return " + ".join(t.text for t in terms)


def sample_point(seed: int) -> dict:
    """Values in NumPy layout: vectors 1-D, scalars float."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, decl in LET.items():
        kind, dims = shapes.parse_declaration(name, decl)
        shape = tuple(SIZE[d] for d in dims)
        if kind == "scalar":
            out[name] = float(rng.standard_normal())
        elif kind == "symmetric":
            g = rng.standard_normal(shape * 2)
            out[name] = (g + g.T) / 2
        else:
            out[name] = rng.standard_normal(shape)
    out["P"] = 5.0 * np.eye(N) + 0.3 * rng.standard_normal((N, N))
    return out


def as_2d(values: dict) -> dict:
    out = {}
    for k, val in values.items():
        a = np.asarray(val, dtype=float)
        out[k] = a.reshape(1, 1) if a.ndim == 0 else (a.reshape(-1, 1) if a.ndim == 1 else a)
    return out


def f_value(terms, values: dict) -> float:
    v = as_2d(values)
    with np.errstate(all="ignore"):
        total = sum(float(np.asarray(t.fn(v)).reshape(-1)[0]) for t in terms)
    return total


def fd(terms, values: dict, wrt: str, direction, h: float) -> float:
    def at(t):
        moved = dict(values)
        moved[wrt] = values[wrt] + t * direction
        return f_value(terms, moved)
    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


def eval_numpy(code: str, values: dict):
    with np.errstate(all="ignore"):
        return np.asarray(eval(code, {"np": np, **values}), dtype=float)  # noqa: S307


def directions(values: dict, wrt: str, seed: int, k: int = 2) -> list:
    """Unit random directions; symmetric ones for a symmetric variable."""
    rng = np.random.default_rng(seed ^ 0x5EED)
    shape = np.shape(values[wrt])
    symmetric = LET[wrt].split()[0] == "symmetric"
    out = []
    for _ in range(k):
        if shape == ():
            out.append(1.0)
        else:
            v = rng.standard_normal(shape)
            if symmetric:
                v = (v + v.T) / 2
            out.append(v / np.linalg.norm(v))
    return out


def assume_tame(terms, values) -> float:
    """Reject points where f is not finite or huge (exp of exp of ...)."""
    f0 = f_value(terms, values)
    assume(math.isfinite(f0) and abs(f0) < 1e6)
    return f0


def parse_ir(text: str, scalar: bool = True):
    return shapes.elaborate(notation.parse(text), text, shapes.parse_let(LET), scalar=scalar)


def _rename_dims(node, mapping: dict):
    """The same tree with dimension symbols renamed (for a gradient parsed on its own,
    whose lone I/ones get fresh dimension names that its context would have fixed)."""
    if isinstance(node, (ir.Ident, ir.Ones, ir.Zeros)):
        return node.rebuild(*[mapping.get(a, a) for a in node.args])
    if isinstance(node, ir.Sym):
        return node
    kids = [(_rename_dims(a, mapping) if isinstance(a, ir.Node) else a) for a in node.args]
    return node.rebuild(*kids)


# ---------------------------------------------------------------------------
# (a) gradient = finite differences, or a refusal

@EXAMPLES
@given(problems())
def test_gradient_matches_finite_differences(problem):
    terms, wrt, seed = problem
    text = join(terms)
    note(f"f = {text}   wrt {wrt}")
    values = sample_point(seed)
    f0 = assume_tame(terms, values)
    try:
        d = derive(text, wrt=wrt, let=LET)
    except TexderiveError as exc:
        note(f"refused: {exc}")
        return
    code = d.gradient_numpy
    note(f"gradient.numpy = {code}")
    g = eval_numpy(code, values)
    assert g.shape == np.shape(values[wrt]), f"{code!r} has shape {g.shape}"
    assert np.all(np.isfinite(g)), f"gradient not finite: {g}"
    if LET[wrt].split()[0] == "symmetric":
        assert np.allclose(g, g.T, rtol=1e-9, atol=1e-9), \
            f"the gradient of the symmetric {wrt} is not symmetric: {g}"
    scale = float(np.linalg.norm(g))
    for v in directions(values, wrt, seed):
        got = float(np.sum(g * v))
        # a step over which f changes by about its own size at most: sin(exp(det(...)))
        # turns through many periods within 1e-3, where two stencils agree by aliasing
        h = 1e-3 * min(1.0, (1.0 + abs(f0)) / max(abs(got), 1e-300))
        d1, d2 = fd(terms, values, wrt, v, h), fd(terms, values, wrt, v, h / 2)
        assume(math.isfinite(d1) and math.isfinite(d2))
        noise = 10 * abs(d1 - d2) + 1e-9 * (1 + abs(f0))
        tol = max(RTOL * max(abs(d1), abs(got), 1e-3 * scale), noise)
        assert abs(d1 - got) <= tol, (
            f"f = {text} wrt {wrt}: finite differences {d1!r} (h/2: {d2!r}) but sum(G*V) = "
            f"{got!r}; gradient {d.gradient_text}")


# ---------------------------------------------------------------------------
# (b) parse(to_text(e)) == e

@EXAMPLES
@given(problems())
def test_text_round_trips(problem):
    terms, wrt, _ = problem
    text = join(terms)
    note(f"f = {text}   wrt {wrt}")
    try:
        d = derive(text, wrt=wrt, let=LET)
    except TexderiveError:
        try:
            f = parse_ir(text)
        except TexderiveError:
            return                    # refused while elaborating: nothing to print
        printed = to_text(f)
        again = parse_ir(printed)
        assert again == f, (f"input {text!r} prints as {printed!r}, which parses to a "
                            f"different tree:\n{again!r}\n!=\n{f!r}")
        return
    printed = to_text(d.f)
    again = parse_ir(printed)
    assert again == d.f, (f"input {text!r} prints as {printed!r}, which parses to "
                          f"{to_text(again)!r}:\n{again!r}\n!=\n{d.f!r}")
    gtext = d.to_dict()["gradient"]["text"]     # sizes named by the inputs: rows(x)
    # parsed on its own, the gradient's outer shape is the wrt variable's: a scalar for a
    # scalar wrt; otherwise fresh dimension names of a lone I or ones are renamed to it
    g2 = parse_ir(gtext, scalar=d.wrt_sym.shape == (1, 1))
    mapping = {a: b for a, b in zip(g2.shape, d.gradient.shape) if a != b and isinstance(a, str)}
    if mapping:
        g2 = _rename_dims(g2, mapping)
    if g2 != d.gradient and re.search(r"\b(I|ones|zeros|rows|cols|sum)\b", gtext):
        # parsed apart from f, an open-size constant may come back as another tree of the
        # same value (ones' of a row vs ones; rows(C)*cols(C) is the product of two sizes
        # where the gradient had one size n*p; sum(M) printed for ones'*M*ones inside a
        # product): compare the values at a point
        from texderive.printers.numpy import to_numpy
        values = sample_point(0)
        try:
            code = to_numpy(g2, d.f, d.wrt_sym)
        except TexderiveError as exc:       # a size the parsed text alone cannot name
            note(f"{gtext!r} parsed apart from f has no NumPy form: {exc}")
            return
        a = eval_numpy(code, values)
        b = eval_numpy(d.gradient_numpy, values)
        assert a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-9), (
            f"gradient of {text!r} prints as {gtext!r}, which parses to {to_text(g2)!r}: "
            f"another value")
        return
    assert g2 == d.gradient, (
        f"gradient of {text!r} prints as {gtext!r}, which parses to {to_text(g2)!r}\n"
        f"{g2!r}\n!=\n{d.gradient!r}")


# ---------------------------------------------------------------------------
# (c) shuffling the terms of a top-level sum

@EXAMPLES
@given(problems(max_terms=4, min_terms=2), st.randoms(use_true_random=False))
def test_shuffled_sum_gives_the_same_gradient(problem, rnd):
    terms, wrt, seed = problem
    shuffled = list(terms)
    rnd.shuffle(shuffled)
    t1, t2 = join(terms), join(shuffled)
    note(f"f = {t1}\nshuffled = {t2}\nwrt {wrt}")
    values = sample_point(seed)
    assume_tame(terms, values)
    outcomes = []
    for text in (t1, t2):
        try:
            outcomes.append(derive(text, wrt=wrt, let=LET))
        except TexderiveError as exc:
            outcomes.append(exc)
    refused = [isinstance(o, TexderiveError) for o in outcomes]
    assert refused[0] == refused[1], f"one order is refused and the other not: {outcomes}"
    if refused[0]:
        return
    g1 = eval_numpy(outcomes[0].gradient_numpy, values)
    g2 = eval_numpy(outcomes[1].gradient_numpy, values)
    assert g1.shape == g2.shape
    scale = max(1.0, float(np.linalg.norm(g1)))
    assert np.allclose(g1, g2, rtol=1e-8, atol=1e-8 * scale), (
        f"{outcomes[0].gradient_text}\n  vs\n{outcomes[1].gradient_text}\n{g1}\n{g2}")


# ---------------------------------------------------------------------------
# (d) byte-identical output

@EXAMPLES
@given(problems())
def test_derive_twice_is_byte_identical(problem):
    terms, wrt, _ = problem
    text = join(terms)
    note(f"f = {text}   wrt {wrt}")
    try:
        first = derive(text, wrt=wrt, let=LET)
    except TexderiveError as exc:
        with pytest.raises(TexderiveError) as again:
            derive(text, wrt=wrt, let=LET)
        assert str(again.value) == str(exc)
        return
    a = json.dumps(first.to_dict(), ensure_ascii=False)
    b = json.dumps(derive(text, wrt=wrt, let=LET).to_dict(), ensure_ascii=False)
    assert a == b


# ---------------------------------------------------------------------------
# (e) an open-size constant that nothing sizes is refused, never read as a number

UNSIZED = ["({s} + {c})", "({s}*{c})", "{s}*(2 + {c})", "{s}*sum({c})", "({c} - 1)*{s}",
           "{s} .* exp({c})"]


@EXAMPLES
@given(exprs((1, 1), 2), st.sampled_from(UNSIZED), st.sampled_from(["I", "ones", "zeros"]))
def test_an_unsized_constant_in_a_scalar_is_refused(s, template, const):
    """I, ones or zeros in a scalar context that gives it no size would be 1×1: the
    number 1 or 0, which nobody who wrote I or ones meant (sum(X ./ (1 + I.^2)) once
    gave sum(X)/2)."""
    text = template.format(s=s.text, c=const)
    note(f"f = {text}")
    present = [n for n in VARIABLES if _mentions(text, n)] or [None]
    with pytest.raises(TexderiveError, match=rf"{const} is 1×1 here|size of {const} is not"):
        derive(text, wrt=present[0] or "alpha", let=LET)


# ---------------------------------------------------------------------------
# the strategy itself

@EXAMPLES
@given(st.sampled_from(SHAPES).flatmap(lambda s: exprs(s, 3)), st.integers(0, 2**32 - 1))
def test_strategy_builds_well_typed_expressions(e, seed):
    """Each expression elaborates to its own shape, and its function gives that shape."""
    node = parse_ir(e.text, scalar=False)
    want = tuple(SIZE[d] for d in e.shape)
    with np.errstate(all="ignore"):
        val = np.asarray(e.fn(as_2d(sample_point(seed))))
    assert val.shape == want, (e.text, val.shape, want)
    got = tuple(d if isinstance(d, int) else SIZE.get(d) for d in node.shape)
    for k in (0, 1):                 # a size that only the context fixes is open here
        if e.fixed[k]:
            assert got[k] == want[k], (e.text, node.shape, e.shape, e.fixed)
