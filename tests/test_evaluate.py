"""The NumPy evaluator and the NumPy printer, against hand-written NumPy.

The truth here is always an independent NumPy function written beside each
case; texderive's evaluator is what is being tested, never the reference.
"""
from __future__ import annotations

import keyword
from fractions import Fraction

import numpy as np
import pytest

from texderive import ir, notation, shapes
from texderive.evaluate import evaluate
from texderive.printers.numpy import NumpyPrinter, to_numpy


def elab(text: str, let=None, scalar: bool = True) -> ir.Node:
    return shapes.elaborate(notation.parse(text), text, shapes.parse_let(let), scalar=scalar)


def spd(rng, n):
    g = rng.standard_normal((n, n))
    return g @ g.T / n + np.eye(n)


def as_ir(values: dict) -> dict:
    """The IR's convention: vectors (n, 1), scalars (1, 1)."""
    out = {}
    for k, v in values.items():
        a = np.asarray(v, dtype=float)
        out[k] = a.reshape(-1, 1) if a.ndim == 1 else (a.reshape(1, 1) if a.ndim == 0 else a)
    return out


def close(a, b, rtol=1e-9, atol=1e-11):
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol,
                       atol=atol, equal_nan=True)


# ---------------------------------------------------------------------------
# one test per node class, built directly as IR

M, N = "m", "n"
X = ir.Sym("X", "matrix", M, N)          # 3x2
Y = ir.Sym("Y", "matrix", M, N)
Q = ir.Sym("Q", "matrix", M, M)          # square 3x3
x = ir.Sym("x", "vector", M, 1)
alpha = ir.Sym("alpha", "scalar", 1, 1)


@pytest.fixture
def vals():
    rng = np.random.default_rng(7)
    return {"X": rng.standard_normal((3, 2)), "Y": rng.uniform(0.5, 2.0, (3, 2)),
            "Q": spd(rng, 3) + 0.3 * rng.standard_normal((3, 3)),
            "x": rng.uniform(0.5, 2.0, (3, 1)), "alpha": 0.7}


def test_every_node_class_has_an_evaluator_and_a_numpy_printer():
    from texderive.evaluate import Evaluator
    ev = Evaluator({})
    printer = NumpyPrinter({})
    for cls in ir.NODE_CLASSES:
        assert cls in ev.vtable and cls in ev.ttable and cls in printer.table, cls.__name__


def test_leaves(vals):
    assert close(evaluate(X, vals), vals["X"])
    assert evaluate(alpha, vals).shape == (1, 1) and evaluate(alpha, vals)[0, 0] == 0.7
    assert evaluate(x, {"x": np.array([1.0, 2.0])}).shape == (2, 1)        # 1-D promoted
    assert close(evaluate(ir.Num(Fraction(1, 3)), {}), [[1 / 3]])
    assert close(evaluate(ir.MatMul(ir.Ident(N), ir.Transpose(X), ir.Ones(M, N)), vals),
                 np.eye(2) @ vals["X"].T @ np.ones((3, 2)))
    assert close(evaluate(ir.Add(X, ir.Zeros(M, N)), vals), vals["X"])


def test_dims_come_from_values_or_from_dims():
    with pytest.raises(ValueError, match="size of dimension"):
        evaluate(ir.Ident("k"), {})
    assert close(evaluate(ir.Ident("k"), {}, dims={"k": 2}), np.eye(2))
    with pytest.raises(ValueError, match="dimension m"):
        evaluate(ir.Add(x, ir.MatMul(X, ir.Sym("z", "vector", N, 1))),
                 {"x": np.ones(3), "X": np.ones((4, 2)), "z": np.ones(2)})
    with pytest.raises(ValueError, match="no value"):
        evaluate(X, {})


def test_products_sums_transposes(vals):
    Xv, Qv, xv = vals["X"], vals["Q"], vals["x"]
    assert close(evaluate(ir.MatMul(ir.Num(2), alpha, Q, X), vals), 2 * 0.7 * Qv @ Xv)
    # a 1x1 factor in the middle of a chain scales
    xtx = ir.MatMul(ir.Transpose(x), x)
    assert close(evaluate(ir.MatMul(Q, xtx, X), vals), Qv @ Xv * (xv.T @ xv)[0, 0])
    assert close(evaluate(ir.Add(X, ir.MatMul(ir.MINUS_ONE, Y)), vals), Xv - vals["Y"])
    assert close(evaluate(ir.Transpose(X), vals), Xv.T)
    assert close(evaluate(ir.MatMul(x, ir.Transpose(x)), vals), xv @ xv.T)


def test_matrix_functions(vals):
    Qv = vals["Q"]
    assert close(evaluate(ir.Inverse(Q), vals), np.linalg.inv(Qv))
    assert close(evaluate(ir.MatPow(Q, 3), vals), Qv @ Qv @ Qv)
    assert close(evaluate(ir.MatPow(ir.Inverse(Q), 2), vals), np.linalg.inv(Qv @ Qv))
    assert close(evaluate(ir.Trace(Q), vals), [[np.trace(Qv)]])
    assert close(evaluate(ir.Det(Q), vals), [[np.linalg.det(Qv)]])
    assert close(evaluate(ir.LogDet(Q), vals), [[np.log(np.linalg.det(Qv))]])
    assert np.isnan(evaluate(ir.LogDet(Q), {"Q": -np.eye(3)})[0, 0])   # det < 0: undefined
    assert close(evaluate(ir.Norm(X), vals), [[np.sqrt(np.sum(vals["X"] ** 2))]])
    assert close(evaluate(ir.Norm(x), vals), [[np.linalg.norm(vals["x"])]])
    assert close(evaluate(ir.Sum(X), vals), [[vals["X"].sum()]])
    assert close(evaluate(ir.DiagMat(x), vals), np.diag(vals["x"][:, 0]))
    assert close(evaluate(ir.DiagVec(Q), vals), np.diag(Qv).reshape(-1, 1))


def test_scalar_and_elementwise_functions(vals):
    Xv, Yv, a = vals["X"], vals["Y"], 0.7
    refs = {"log": np.log(Yv), "exp": np.exp(Xv), "sqrt": np.sqrt(Yv), "sin": np.sin(Xv),
            "cos": np.cos(Xv), "tan": np.tan(Xv), "sinh": np.sinh(Xv), "cosh": np.cosh(Xv),
            "tanh": np.tanh(Xv), "sigmoid": 1 / (1 + np.exp(-Xv)), "abs": np.abs(Xv)}
    for name, want in refs.items():
        arg = Y if name in ("log", "sqrt") else X
        assert close(evaluate(ir.Func(name, arg), vals), want), name
    assert close(evaluate(ir.Func("log", alpha), vals), [[np.log(a)]])
    assert close(evaluate(ir.Pow(alpha, ir.Num(Fraction(1, 3))), vals), [[a ** (1 / 3)]])
    assert close(evaluate(ir.Pow(alpha, alpha), vals), [[a ** a]])
    assert close(evaluate(ir.Hadamard(X, Y, X), vals), Xv * Yv * Xv)
    assert close(evaluate(ir.HadPow(Y, ir.Num(-1)), vals), 1 / Yv)
    assert close(evaluate(ir.HadPow(Y, X), vals), Yv ** Xv)
    assert close(evaluate(ir.HadPow(ir.Num(2), X), vals), 2.0 ** Xv)    # scalar base
    assert np.isnan(evaluate(ir.Pow(ir.Num(-8), ir.Num(Fraction(1, 3))), {})[0, 0])


# ---------------------------------------------------------------------------
# parsed expressions against hand-written NumPy

def _values(shapes_, rng, positive=(), spd_names=()):
    out = {}
    for name, shape in shapes_.items():
        if name in spd_names:
            out[name] = spd(rng, shape[0])
        elif name in positive:
            out[name] = rng.uniform(0.5, 2.0, shape)
        else:
            out[name] = rng.standard_normal(shape)
    return out


def _tr(a):
    return float(np.trace(a))


def sc(a) -> float:
    """A 1x1 array (or a scalar) as a float."""
    return np.asarray(a, dtype=float).item()


# (text, {name: shape}, positive names, spd names, wrt, hand-written f)
EXPRS = [
    ("tr(A*X*B)", {"A": (2, 3), "X": (3, 4), "B": (4, 2)}, (), (), "X",
     lambda v: _tr(v["A"] @ v["X"] @ v["B"])),
    ("log(det(X'*X))", {"X": (4, 2)}, (), (), "X",
     lambda v: np.log(np.linalg.det(v["X"].T @ v["X"]))),
    ("norm(A*x - b)^2", {"A": (3, 2), "x": (2, 1), "b": (3, 1)}, (), (), "x",
     lambda v: sc(np.sum((v["A"] @ v["x"] - v["b"]) ** 2))),
    ("a'*(X .* X)*b", {"a": (3, 1), "X": (3, 2), "b": (2, 1)}, (), (), "X",
     lambda v: sc(v["a"].T @ (v["X"] * v["X"]) @ v["b"])),
    ("sum(log(x))", {"x": (4, 1)}, ("x",), (), "x", lambda v: sc(np.sum(np.log(v["x"])))),
    ("x'*A*x/(x'*x)", {"x": (3, 1), "A": (3, 3)}, (), (), "x",
     lambda v: sc(v["x"].T @ v["A"] @ v["x"]) / sc(v["x"].T @ v["x"])),
    ("tr(inv(X'*C*X)*X'*B*X)", {"X": (3, 2), "C": (3, 3), "B": (3, 3)}, (), ("C",), "X",
     lambda v: _tr(np.linalg.inv(v["X"].T @ v["C"] @ v["X"]) @ v["X"].T @ v["B"] @ v["X"])),
    ("logdet(S)", {"S": (3, 3)}, (), ("S",), "S", lambda v: np.log(np.linalg.det(v["S"]))),
    ("sum(exp(X) - 1)", {"X": (2, 3)}, (), (), "X", lambda v: sc(np.sum(np.exp(v["X"]) - 1))),
    ("sum(sigmoid(X*w))", {"X": (4, 2), "w": (2, 1)}, (), (), "w",
     lambda v: sc(np.sum(1 / (1 + np.exp(-(v["X"] @ v["w"])))))),
    ("x'*diag(x)*x", {"x": (3, 1)}, (), (), "x", lambda v: sc(np.sum(v["x"] ** 3))),
    ("diag(X)'*diag(X)", {"X": (3, 3)}, (), (), "X", lambda v: sc(np.sum(np.diag(v["X"]) ** 2))),
    ("tr(X^3)", {"X": (3, 3)}, (), (), "X", lambda v: _tr(np.linalg.matrix_power(v["X"], 3))),
    ("tr(X^-2)", {"X": (3, 3)}, (), ("X",), "X",
     lambda v: _tr(np.linalg.matrix_power(np.linalg.inv(v["X"]), 2))),
    ("alpha*tr(X) + lambda^2", {"alpha": (), "X": (2, 2), "lambda": ()}, (), (), "alpha",
     lambda v: sc(v["alpha"] * np.trace(v["X"]) + v["lambda"] ** 2)),
    ("sum(2.^x)", {"x": (3, 1)}, (), (), "x", lambda v: sc(np.sum(2.0 ** v["x"]))),
    ("sum(A ./ X)", {"A": (2, 3), "X": (2, 3)}, ("X",), (), "X",
     lambda v: sc(np.sum(v["A"] / v["X"]))),
    ("sqrt(x'*x) + abs(alpha)", {"x": (3, 1), "alpha": ()}, (), (), "x",
     lambda v: sc(np.linalg.norm(v["x"]) + abs(v["alpha"]))),
    ("sum(tanh(A*x)) + sin(alpha)*cos(beta)", {"A": (3, 2), "x": (2, 1), "alpha": (),
                                               "beta": ()}, (), (), "x",
     lambda v: sc(np.sum(np.tanh(v["A"] @ v["x"])) + np.sin(v["alpha"]) * np.cos(v["beta"]))),
    ("det(X)^2*tan(gamma)", {"X": (3, 3), "gamma": ()}, (), (), "X",
     lambda v: np.linalg.det(v["X"]) ** 2 * np.tan(v["gamma"])),
    ("(x'*x)^(1/3)", {"x": (3, 1)}, (), (), "x", lambda v: sc(v["x"].T @ v["x"]) ** (1 / 3)),
    ("sum(cosh(X) .* sinh(X))", {"X": (2, 2)}, (), (), "X",
     lambda v: sc(np.sum(np.cosh(v["X"]) * np.sinh(v["X"])))),
    ("x'*ones*tr(I*X)/3", {"x": (3, 1), "X": (2, 2)}, (), (), "X",
     lambda v: sc(np.sum(v["x"])) * _tr(v["X"]) / 3),
    ("alpha^beta - norm(X)", {"alpha": (), "beta": (), "X": (2, 3)}, ("alpha",), (), "beta",
     lambda v: v["alpha"] ** v["beta"] - np.linalg.norm(v["X"])),
]


@pytest.mark.parametrize("case", EXPRS, ids=[c[0] for c in EXPRS])
def test_expression_matches_hand_written_numpy(case):
    text, shapes_, positive, spd_names, _, fn = case
    f = elab(text)
    rng = np.random.default_rng(3)
    for _ in range(3):
        values = _values(shapes_, rng, positive, spd_names)
        got = evaluate(f, as_ir(values))
        assert got.shape == (1, 1)
        assert close(got[0, 0], fn(values), rtol=1e-10), text


def _fd(fn, values, name, v, h=1e-4):
    def at(t):
        moved = dict(values)
        moved[name] = values[name] + t * v
        return fn(moved)
    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


@pytest.mark.parametrize("case", EXPRS, ids=[c[0] for c in EXPRS])
def test_differential_equals_finite_difference(case):
    """D(f) evaluated along V is the directional derivative of the hand-written f."""
    text, shapes_, positive, spd_names, wrt, fn = case
    f = elab(text)
    rng = np.random.default_rng(5)
    values = _values(shapes_, rng, positive, spd_names)
    v = rng.standard_normal(np.shape(values[wrt]))
    if wrt in spd_names:
        v = (v + v.T) / 2
    got = evaluate(ir.D(f), as_ir(values), direction=v, wrt=wrt)[0, 0]
    want = _fd(fn, values, wrt, v)
    assert abs(got - want) <= 1e-6 * max(1.0, abs(want)), (text, got, want)


def test_differentials_inside_intermediate_steps():
    rng = np.random.default_rng(11)
    A, Xv, B, V = (rng.standard_normal(s) for s in ((2, 3), (3, 4), (4, 2), (3, 4)))
    values = {"A": A, "X": Xv, "B": B}
    # dy = tr(A dX B): d(X) is the direction, d of a constant is zero
    step = elab("tr(A*X*B)")
    a, xs, b = step.args[0].args
    dy = ir.Trace(ir.MatMul(a, ir.D(xs), b))
    assert close(evaluate(dy, values, direction=V, wrt="X"), [[np.trace(A @ V @ B)]])
    assert close(evaluate(ir.D(a), values, direction=V, wrt="X"), np.zeros((2, 3)))
    assert close(evaluate(ir.D(xs), values, direction=V, wrt=xs), V)
    # product rule written out equals the differential of the product
    s = elab("tr(X'*X)", {"X": "matrix m n"})
    xx = ir.free_syms(s)[0]
    written = ir.Add(ir.Trace(ir.MatMul(ir.Transpose(ir.D(xx)), xx)),
                     ir.Trace(ir.MatMul(ir.Transpose(xx), ir.D(xx))))
    assert close(evaluate(written, values, direction=V, wrt="X"),
                 evaluate(ir.D(s), values, direction=V, wrt="X"))
    assert close(evaluate(written, values, direction=V, wrt="X"), [[2 * np.sum(Xv * V)]])
    # several variables moving at once
    both = evaluate(ir.D(step), values, direction={"A": A, "X": V})
    assert close(both, [[np.trace(A @ Xv @ B) + np.trace(A @ V @ B)]])
    with pytest.raises(ValueError, match="direction"):
        evaluate(dy, values)


def test_differential_of_inverse_det_and_powers():
    rng = np.random.default_rng(2)
    Qv, V = spd(rng, 3) + 0.2 * rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    for text, fn in [("tr(inv(X))", lambda v: np.trace(np.linalg.inv(v["X"]))),
                     ("det(X)", lambda v: np.linalg.det(v["X"])),
                     ("logdet(X)", lambda v: np.log(np.linalg.det(v["X"]))),
                     ("tr(X^4)", lambda v: np.trace(np.linalg.matrix_power(v["X"], 4))),
                     ("tr(X^-3)", lambda v: np.trace(np.linalg.inv(v["X"] @ v["X"] @ v["X"]))),
                     ("sum(diag(X).^2.5)", lambda v: np.sum(np.diag(v["X"]) ** 2.5))]:
        f = elab(text)
        got = evaluate(ir.D(f), {"X": Qv}, direction=V, wrt="X")[0, 0]
        want = _fd(fn, {"X": Qv}, "X", V)
        assert abs(got - want) <= 1e-6 * max(1.0, abs(want)), text
    # the differential of a determinant is exact at a singular matrix too
    sing = np.array([[1.0, 2.0], [2.0, 4.0]])
    f = elab("det(X)")
    got = evaluate(ir.D(f), {"X": sing}, direction=np.eye(2), wrt="X")[0, 0]
    assert close(got, np.trace(np.array([[4.0, -2.0], [-2.0, 1.0]])))


# ---------------------------------------------------------------------------
# the NumPy printer: its strings evaluate to the evaluator's numbers

def numpy_env(values: dict) -> dict:
    env = {"np": np}
    for k, v in values.items():
        env[k + "_" if keyword.iskeyword(k) else k] = v
    return env


def layout(a, kind):
    if kind == "scalar":
        return float(a[0, 0])
    if kind == "vector":
        return a[:, 0]
    return a


LET = {"X": "matrix m n", "A": "matrix p m", "B": "matrix n p", "Q": "matrix m m",
       "x": "vector m", "a": "vector m", "b": "vector n", "y": "vector m", "S": "symmetric m"}
SIZES = {"m": 3, "n": 2, "p": 4}
# f fixes the variables and their sizes; each gradient-like expression is printed and
# evaluated (the printer does not care whether it is the right gradient)
PRINTED = [
    ("tr(A*X*B)", "X", ["A'*B'", "-A'*B'", "2*A'*B' - A'*B'/3", "a*b'", "-(a*b')",
                       "X .* (a*b') ./ (X .* X + 1)", "a'*X*b*X + X", "exp(X)/(a'*a)",
                       "I*X*I", "X*b*b'", "a*diag(X'*X)'*diag(b)", "1/3*X + 0.1*X - X/3",
                       "(a'*a)^-1.5*X + (b'*b)^0.5*X + (b'*b)^(1/3)*X + (b'*b)^3*X",
                       "inv(X'*X)^2*X'*A'*A*X*X'*X", "log(det(X'*X))*X + det(X'*X)*X",
                       "sum(X)*X + norm(X)*X + norm(a)*X + tr(X*X')*X", "zeros + ones + X",
                       "abs(X).^2.5 + X.^-2 + X.^3 + X.^(a*b')", "sigmoid(X) - 2.^X",
                       "(Q + Q')*X*diag(b)", "tr(Q^3)*X - (Q^2)'*X", "sqrt(abs(X)) .* tanh(X)",
                       "x'*x*(a*b')", "a*(X*b)'", "(A'*B')*(x'*a)"]),
    ("x'*Q'*Q*x*alpha + lambda*a'*Q*a", "x", ["2*Q'*Q*x*alpha", "x*(a'*a)", "diag(x*x')",
                                              "(a'*Q)'*0 + x.^2*lambda", "ones*alpha",
                                              "zeros", "Q'*Q*x/norm(Q*x)"]),
    ("x'*Q'*Q*x*alpha + lambda*a'*Q*a", "alpha", ["x'*Q'*Q*x", "2", "alpha^2*lambda",
                                                  "-tr(Q)", "1/alpha", "alpha^0.5"]),
    ("x'*Q'*Q*x*alpha + lambda*a'*Q*a", "lambda", ["a'*Q*a", "sum(exp(a))"]),
    ("logdet(S) + tr(Q*S)", "S", ["inv(S)", "(Q + Q')/2 + inv(S)", "I", "S^2 - S .* I"]),
]
PRINT_CASES = [(f, w, g) for f, w, gs in PRINTED for g in gs]


@pytest.mark.parametrize("case", PRINT_CASES, ids=[f"{c[1]}:{c[2]}" for c in PRINT_CASES])
def test_to_numpy_evaluates_like_evaluate(case):
    f_text, wrt, g_text = case
    f = elab(f_text, LET)
    g = elab(g_text, LET, scalar=False)
    code = to_numpy(g, f, wrt)
    assert "\n" not in code and to_numpy(g, f, wrt) == code        # one line, deterministic
    rng = np.random.default_rng(1)
    values = {}
    for s in ir.free_syms(f) + ir.free_syms(g):
        if s.name in values:
            continue
        shape = tuple(SIZES.get(d, d) if isinstance(d, str) else d for d in s.shape)
        if s.kind == "scalar":
            values[s.name] = float(rng.uniform(0.5, 2.0))
        elif s.kind == "vector":
            values[s.name] = rng.uniform(0.5, 2.0, shape[0])
        elif s.kind == "symmetric":
            values[s.name] = spd(rng, shape[0])
        else:
            values[s.name] = rng.uniform(0.5, 2.0, shape)
    w = next(s for s in ir.free_syms(f) if s.name == wrt)
    kind = w.kind
    # a lone I or zeros parsed on its own has a dimension of its own: it is wrt's
    dims = {d: SIZES.get(e, e) for d, e in zip(g.shape, w.shape) if isinstance(d, str)}
    with np.errstate(all="ignore"):
        want = layout(evaluate(g, values, dims=dims), kind)
        got = eval(code, numpy_env(values))                          # noqa: S307
    assert np.shape(got) == np.shape(want), (code, np.shape(got), np.shape(want))
    if kind == "scalar":
        assert isinstance(got, (float, np.floating)), (code, type(got))
    assert close(got, want, rtol=1e-10), code


def test_to_numpy_reads_well():
    let = {"X": "matrix m n", "A": "matrix p m", "B": "matrix n p"}
    f = elab("tr(A*X*B)", let)
    assert to_numpy(elab("A'*B'", let, scalar=False), f, "X") == "A.T @ B.T"
    assert to_numpy(elab("I*X", let, scalar=False), f, "X") == "np.eye(X.shape[0]) @ X"
    fx = elab("norm(A*x - b)^2")
    assert to_numpy(elab("2*A'*(A*x - b)", scalar=False), fx, "x") in (
        "2 * A.T @ (A @ x - b)", "2 * (A.T @ (A @ x - b))")
    fl = elab("lambda*x'*x")
    assert to_numpy(elab("x'*x", scalar=False), fl, "lambda") == "x @ x"
    assert to_numpy(elab("2*lambda*x", scalar=False), fl, "x") == "2 * lambda_ * x"
    assert to_numpy(ir.Num(2), fl, "lambda") == "2.0"


def test_to_numpy_refuses_a_size_no_variable_has():
    from texderive.errors import UnsupportedError
    from texderive import ir
    from texderive.errors import ShapeError
    with pytest.raises(ShapeError, match="size of I is not fixed"):
        elab("alpha*tr(I)")                 # refused where it is written
    f = elab("alpha*tr(X)")
    with pytest.raises(UnsupportedError, match="not the size of any variable"):
        to_numpy(ir.Trace(ir.Ident("zz")), f, "alpha")
