"""Jacobians (SPEC section 6) against finite differences of hand-written NumPy functions.

Every case has a NumPy function ``f_np`` written by hand from the mathematics,
never from texderive's output.  The truth is a central finite difference of
``vec(f_np)`` (column-major, numerator layout: J = d vec F / d (vec X)'), with
respect to a scalar F's own shape.  texderive's ``result.numpy`` string (the
code that ships) is evaluated and compared; every step of the derivation is
evaluated with texderive's evaluator along a direction V and compared with the
directional difference of ``f_np`` (a wrong middle step fails even when the
final answer is right).  Shapes are non-square wherever the expression allows:
a wrong commutation matrix or a transposed Kronecker factor is invisible on
square matrices.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from texderive import TexderiveError, derive
from texderive.evaluate import evaluate

RTOL = 1e-6


def vec(a):
    return np.asarray(a, dtype=float).reshape(-1, order="F")


def commutation(m, n):
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0           # K vec(X) = vec(X') for X m x n
    return k


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# name, expr, wrt, let, dims {name: shape}, f_np, special sampling
CASES = [
    ("Ax", "A*x", "x", {}, {"A": (3, 4), "x": (4,)}, lambda v: v["A"] @ v["x"], None),
    ("AXB", "A*X*B", "X", {}, {"A": (2, 3), "X": (3, 4), "B": (4, 5)},
     lambda v: v["A"] @ v["X"] @ v["B"], None),
    ("AX", "A*X", "X", {}, {"A": (2, 3), "X": (3, 4)}, lambda v: v["A"] @ v["X"], None),
    ("XB", "X*B", "X", {}, {"X": (3, 4), "B": (4, 2)}, lambda v: v["X"] @ v["B"], None),
    ("Xt", "X'", "X", {}, {"X": (3, 2)}, lambda v: v["X"].T, None),
    ("AXtB", "A*X'*B", "X", {}, {"A": (2, 4), "X": (3, 4), "B": (3, 5)},
     lambda v: v["A"] @ v["X"].T @ v["B"], None),
    ("XtX", "X'*X", "X", {}, {"X": (4, 3)}, lambda v: v["X"].T @ v["X"], None),
    ("XAX", "X*A*X", "X", {}, {"X": (3, 2), "A": (2, 3)},
     lambda v: v["X"] @ v["A"] @ v["X"], None),
    ("inv", "inv(X)", "X", {}, {"X": (4, 4)}, lambda v: np.linalg.inv(v["X"]), "invertible"),
    ("inv_XA", "inv(X*A + 3*I)", "X", {}, {"X": (2, 3), "A": (3, 2)},
     lambda v: np.linalg.inv(v["X"] @ v["A"] + 3 * np.eye(2)), None),
    ("row_xtA", "x'*A", "x", {}, {"x": (4,), "A": (4, 3)}, lambda v: v["x"] @ v["A"], None),
    ("row_xtAX", "x'*A*X", "X", {}, {"x": (2,), "A": (2, 3), "X": (3, 4)},
     lambda v: v["x"] @ v["A"] @ v["X"], None),
    ("AXb", "A*X*b", "X", {}, {"A": (2, 3), "X": (3, 4), "b": (4,)},
     lambda v: v["A"] @ v["X"] @ v["b"], None),
    ("sigmoid_Wx", "sigmoid(W*x)", "x", {}, {"W": (3, 4), "x": (4,)},
     lambda v: sigmoid(v["W"] @ v["x"]), None),
    ("sigmoid_Wx_W", "sigmoid(W*x)", "W", {}, {"W": (3, 4), "x": (4,)},
     lambda v: sigmoid(v["W"] @ v["x"]), None),
    ("tanh_Xw", "tanh(X*w)", "w", {}, {"X": (5, 3), "w": (3,)},
     lambda v: np.tanh(v["X"] @ v["w"]), None),
    ("exp_X", "exp(X)", "X", {}, {"X": (2, 3)}, lambda v: np.exp(v["X"]), None),
    ("normalise", "x/norm(x)", "x", {}, {"x": (4,)},
     lambda v: v["x"] / np.linalg.norm(v["x"]), None),
    ("softmax", "exp(x)/sum(exp(x))", "x", {}, {"x": (4,)},
     lambda v: np.exp(v["x"]) / np.sum(np.exp(v["x"])), None),
    ("outer_scalar", "(a'*x)*b", "x", {}, {"a": (4,), "x": (4,), "b": (3,)},
     lambda v: (v["a"] @ v["x"]) * v["b"], None),
    ("trace_times_A", "tr(X)*A", "X", {}, {"X": (3, 3), "A": (2, 4)},
     lambda v: np.trace(v["X"]) * v["A"], None),
    ("hadamard", "X .* A", "X", {}, {"X": (2, 3), "A": (2, 3)}, lambda v: v["X"] * v["A"], None),
    ("diag_x_A", "diag(x)*A", "x", {}, {"x": (3,), "A": (3, 2)},
     lambda v: np.diag(v["x"]) @ v["A"], None),
    ("diag_X", "diag(X)", "X", {}, {"X": (3, 3)}, lambda v: np.diag(v["X"]).copy(), None),
    ("log_Ax", "log(A*x)", "x", {}, {"A": (3, 2), "x": (2,)},
     lambda v: np.log(v["A"] @ v["x"]), "positive"),
    ("scalar_exp", "exp(alpha*a)", "alpha", {}, {"alpha": (), "a": (4,)},
     lambda v: np.exp(v["alpha"] * v["a"]), None),
    ("scalar_resolvent", "inv(A + alpha*I)", "alpha", {}, {"A": (4, 4), "alpha": ()},
     lambda v: np.linalg.inv(v["A"] + v["alpha"] * np.eye(4)), "invertible"),
    ("scalar_matrix", "alpha^2*A + alpha*B", "alpha", {}, {"A": (2, 3), "B": (2, 3), "alpha": ()},
     lambda v: v["alpha"] ** 2 * v["A"] + v["alpha"] * v["B"], None),
    ("scalar_row", "alpha*x'*A", "alpha", {}, {"alpha": (), "x": (3,), "A": (3, 2)},
     lambda v: v["alpha"] * (v["x"] @ v["A"]), None),
    ("residual", "A*x - b", "x", {}, {"A": (5, 3), "x": (3,), "b": (5,)},
     lambda v: v["A"] @ v["x"] - v["b"], None),
    ("XXt_inv_X", "inv(X*X')*X", "X", {}, {"X": (2, 4)},
     lambda v: np.linalg.inv(v["X"] @ v["X"].T) @ v["X"], None),
]
BY_NAME = {c[0]: c for c in CASES}


def lets(case):
    name, expr, wrt, let, dims, f_np, sample = case
    out = dict(let)
    for k, shape in dims.items():
        if k in out:
            continue
        if shape == ():
            out[k] = "scalar"
        elif len(shape) == 1:
            out[k] = f"vector {shape[0]}"
        else:
            out[k] = f"matrix {shape[0]} {shape[1]}"
    return out


def sample(case, rng):
    name, expr, wrt, let, dims, f_np, kind = case
    v = {}
    for k, shape in sorted(dims.items()):
        if shape == ():
            v[k] = float(rng.uniform(0.3, 0.8))
        elif kind == "positive":
            v[k] = rng.uniform(0.5, 1.5, shape)
        elif kind == "invertible" and len(shape) == 2 and shape[0] == shape[1]:
            v[k] = rng.standard_normal(shape) / np.sqrt(shape[0]) + 2.0 * np.eye(shape[0])
        else:
            v[k] = rng.standard_normal(shape)
    return v


def fd_jacobian(f_np, v, wrt, h=1e-5):
    x0 = v[wrt]
    if np.ndim(x0) == 0:
        up, dn = dict(v), dict(v)
        up[wrt], dn[wrt] = x0 + h, x0 - h
        return (np.asarray(f_np(up)) - np.asarray(f_np(dn))) / (2 * h)
    cols = []
    for k in range(np.size(x0)):
        e = np.zeros(np.size(x0))
        e[k] = 1.0
        e = e.reshape(np.shape(x0), order="F")
        up, dn = dict(v), dict(v)
        up[wrt], dn[wrt] = x0 + h * e, x0 - h * e
        cols.append((vec(f_np(up)) - vec(f_np(dn))) / (2 * h))
    return np.column_stack(cols)


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    assert float(np.max(np.abs(a - b))) <= rtol * scale, (a, b)


def run_numpy(code, v):
    return eval(code, {"np": np}, dict(v))       # texderive's printed code, not user text


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_jacobian_against_finite_differences(name):
    case = BY_NAME[name]
    _, expr, wrt, _, dims, f_np, _ = case
    d = derive(expr, wrt=wrt, let=lets(case))
    assert d.result_kind == "jacobian"
    res = d.to_dict()["result"]
    assert res["kind"] == "jacobian" and len(res["shape"]) == 2
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for _ in range(3):
        v = sample(case, rng)
        got = run_numpy(res["numpy"], v)
        want = fd_jacobian(f_np, v, wrt)
        if dims[wrt] == ():
            assert np.shape(got) == np.shape(f_np(v))      # F's own NumPy shape
        close(got, want)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_jacobian_step_keeps_the_value(name):
    """dF steps are the directional derivative of F; d vec F steps its vec; J steps
    times vec V give it too."""
    case = BY_NAME[name]
    _, expr, wrt, _, dims, f_np, _ = case
    d = derive(expr, wrt=wrt, let=lets(case))
    rng = np.random.default_rng(7)
    v = sample(case, rng)
    x0 = v[wrt]
    direction = rng.standard_normal(np.shape(x0)) if np.ndim(x0) else 0.7
    h = 1e-5
    up, dn = dict(v), dict(v)
    up[wrt], dn[wrt] = x0 + h * direction, x0 - h * direction
    dF = (np.asarray(f_np(up), dtype=float) - np.asarray(f_np(dn), dtype=float)) / (2 * h)
    values = {k: (np.array([[x]]) if np.ndim(x) == 0 else x) for k, x in v.items()}
    dirv = np.array([[direction]]) if np.ndim(direction) == 0 else direction
    seen = set()
    prev = None
    for step in d.steps:
        seen.add(step.lhs)
        if step.rule == "abbreviate":      # display only: the name stands for what the note says
            name, node = step.note[1][1], step.note[1][2]
            assert _unname(step.expr, name, node) == prev.expr
            continue
        prev = step
        val = evaluate(step.expr, values, direction=dirv, wrt=wrt)
        if step.lhs == "dF":
            close(vec(val), vec(dF), 1e-5)
        elif step.lhs == "dvecF":
            close(vec(val), vec(dF), 1e-5)
        elif step.lhs == "J":
            close(val @ vec(dirv), vec(dF), 1e-5)
        elif step.lhs == "Fprime":
            close(vec(val) * direction, vec(dF), 1e-5)
        else:
            raise AssertionError(f"unexpected lhs {step.lhs}")
    assert "dF" in seen and ({"J", "Fprime"} & seen)


def test_textbook_forms():
    assert derive("A*X*B", wrt="X").result_text == "kron(B', A)"
    assert derive("inv(X)", wrt="X").result_text == "-kron(inv(X)', inv(X))"
    assert derive("A*x", wrt="x").result_text == "A"
    assert derive("x'*A", wrt="x").result_text == "A'"
    assert derive("sigmoid(W*x)", wrt="x").result_text == \
        "diag(sigmoid(W*x) .* (ones - sigmoid(W*x)))*W"


def test_shapes_follow_spec():
    def shape(expr, wrt, let=None):
        return derive(expr, wrt=wrt, let=let or {}).to_dict()["result"]["shape"]
    assert shape("A*X*B", "X", {"A": "matrix p m", "X": "matrix m n", "B": "matrix n q"}) == \
        ["p*q", "m*n"]
    assert shape("A*x", "x", {"A": "matrix m n", "x": "vector n"}) == ["m", "n"]
    assert shape("x'*A", "x", {"A": "matrix n q", "x": "vector n"}) == ["q", "n"]
    assert shape("alpha*a", "alpha", {"a": "vector m", "alpha": "scalar"}) == ["m", "1"]
    assert shape("X'", "X", {"X": "matrix n m"}) == ["m*n", "n*m"]
    assert shape("A*X", "X", {"A": "matrix 2 3", "X": "matrix 3 4"}) == ["8", "12"]


def test_commutation_matrix_of_a_non_square_transpose():
    d = derive("X'", wrt="X", let={"X": "matrix 3 2"})
    k = run_numpy(d.result_numpy, {"X": np.zeros((3, 2))})
    close(k, commutation(3, 2))


@pytest.mark.parametrize("expr, wrt, let, fragment", [
    ("S*a", "S", {"S": "symmetric"}, "symmetric"),
    ("S*a", "S", {"S": "symmetric"}, "duplication"),
    ("A*x", "y", {}, "does not occur"),
    ("A*X", "X", {}, None),
])
def test_refusals(expr, wrt, let, fragment):
    if fragment is None:
        assert derive(expr, wrt=wrt, let=let).result_kind == "jacobian"
        return
    with pytest.raises(TexderiveError) as ei:
        derive(expr, wrt=wrt, let=let)
    assert fragment in str(ei.value)


def test_gradient_accessors_refuse_a_jacobian():
    d = derive("A*x", wrt="x")
    with pytest.raises(TexderiveError):
        d.gradient_text
    with pytest.raises(TexderiveError):
        d.gradient_numpy
    assert "gradient" not in d.to_dict()
    assert d.result_latex == r"\mathbf{A}"


@pytest.mark.parametrize("name", ["AXB", "Xt", "inv", "row_xtA", "sigmoid_Wx", "softmax",
                                  "scalar_resolvent", "normalise", "diag_x_A"])
def test_numeric_check_passes_and_exact_check_proves(name):
    case = BY_NAME[name]
    _, expr, wrt, _, dims, f_np, _ = case
    d = derive(expr, wrt=wrt, let=lets(case), check=True)
    assert d.check["passed"] and d.check["max_rel_error"] < 1e-6
    if name in ("AXB", "Xt", "inv", "row_xtA", "diag_x_A"):
        small = {k: s for k, s in lets(case).items()}
        d = derive(expr, wrt=wrt, let={k: s.replace("4", "3").replace("5", "2")
                                       for k, s in small.items()}, exact=True)
        assert d.check["status"] == "proved", d.check


def test_numeric_check_catches_a_wrong_jacobian():
    from texderive import ir
    from texderive.check import numeric_check
    d = derive("A*X*B", wrt="X", let={"A": "matrix m m", "X": "matrix m m", "B": "matrix m m"})
    assert numeric_check(d.f, d.result, "X", kind="jacobian", numpy=d.result_numpy)["passed"]
    a, b = (next(s for s in ir.free_syms(d.f) if s.name == n) for n in "AB")
    for wrong in (ir.Kron(b, a), ir.Kron(a, ir.Transpose(b)),
                  ir.MatMul(ir.Commutation(ir.Sym("X", "matrix", "m", "m")), d.result)):
        assert not numeric_check(d.f, wrong, "X", kind="jacobian")["passed"]
    # a numpy string that disagrees with the derived expression is caught too
    out = numeric_check(d.f, d.result, "X", kind="jacobian", numpy="np.kron(B, A)")
    assert not out["passed"] and "numpy" in out["reason"]


def test_check_refuses_a_dense_jacobian_too_large_at_declared_sizes():
    from texderive.errors import CheckError
    with pytest.raises(CheckError) as ei:
        derive("A*X*B", wrt="X", let={"A": "matrix 60 60", "X": "matrix 60 60",
                                      "B": "matrix 60 60"}, check=True)
    assert "entries" in str(ei.value)


@pytest.mark.parametrize("name", ["AXB", "Xt", "inv", "row_xtA", "sigmoid_Wx", "softmax",
                                  "scalar_exp", "XtX"])
def test_result_text_reads_back_to_the_same_numbers(name):
    from texderive import notation, shapes
    case = BY_NAME[name]
    let = lets(case)
    res = derive(case[1], wrt=case[2], let=let).to_dict()["result"]
    tree = shapes.elaborate(notation.parse(res["text"]), res["text"], shapes.parse_let(let),
                            scalar=False, shape=tuple(res["shape"]))
    v = sample(case, np.random.default_rng(5))
    got = evaluate(tree, v)
    want = run_numpy(res["numpy"], v)
    close(vec(got), vec(want), 1e-9)


def test_latex_of_a_jacobian_compiles(tmp_path):
    import subprocess
    d = derive("A*X'*B", wrt="X", let={"A": "matrix p n", "X": "matrix m n", "B": "matrix m q"})
    tex = d.to_standalone()
    (tmp_path / "j.tex").write_text(tex, encoding="utf-8")
    for _ in range(2):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "j.tex"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "j.log").read_text(encoding="utf-8", errors="replace")
    assert run.returncode == 0, log[-2000:]
    assert "Overfull" not in log and "multiply defined" not in log
    assert r"\mathbf{K}_{m,n}" in tex or r"\mathbf{K}_{n,m}" in tex


def _unname(expr, name, node):
    from texderive import ir
    if expr == name:
        return node
    if not expr.children:
        return expr
    return expr.rebuild(*[_unname(a, name, node) if isinstance(a, ir.Node) else a
                          for a in expr.args])
