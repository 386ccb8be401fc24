"""Hessians (SPEC section 6) against finite differences of hand-written NumPy gradients.

Each case has ``f_np`` and its gradient ``grad_np``, both written by hand from
the mathematics (and the gradient checked against differences of ``f_np``
here too).  The truth is the central-difference Jacobian of ``vec(grad_np)``
in column-major order; texderive's shipped ``result.numpy`` must match it, be
symmetric, be ``mn x mn`` (a float for a scalar variable).  Every step of the
derivation is evaluated along a direction V: the gradient's steps give the
directional derivative of f, the ``d²f`` step gives ``vᵀHv``, the ``dG`` and
``d vec G`` steps give ``H vec V``.  Shapes are non-square wherever the
expression allows: ``tr(A*X*C*X)`` with X 3x2 needs the right K.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from test_jacobians import close, fd_jacobian, lets, run_numpy, sample, vec
from texderive import TexderiveError, derive
from texderive.evaluate import evaluate


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def inv(a):
    return np.linalg.inv(a)


# name, expr, wrt, let, dims, f_np, grad_np, sampling
CASES = [
    ("xAx", "x'*A*x", "x", {}, {"x": (4,), "A": (4, 4)},
     lambda v: v["x"] @ v["A"] @ v["x"], lambda v: (v["A"] + v["A"].T) @ v["x"], None),
    ("least_squares", "norm(A*x - b)^2", "x", {}, {"A": (5, 3), "x": (3,), "b": (5,)},
     lambda v: np.sum((v["A"] @ v["x"] - v["b"]) ** 2),
     lambda v: 2 * v["A"].T @ (v["A"] @ v["x"] - v["b"]), None),
    ("logistic", "sum(log(1 + exp(X*w))) - y'*X*w", "w", {}, {"X": (5, 3), "w": (3,), "y": (5,)},
     lambda v: np.sum(np.log1p(np.exp(v["X"] @ v["w"]))) - v["y"] @ v["X"] @ v["w"],
     lambda v: v["X"].T @ (sigmoid(v["X"] @ v["w"]) - v["y"]), None),
    ("poisson_glm", "sum(exp(X*w)) - y'*X*w", "w", {}, {"X": (5, 3), "w": (3,), "y": (5,)},
     lambda v: np.sum(np.exp(v["X"] @ v["w"])) - v["y"] @ v["X"] @ v["w"],
     lambda v: v["X"].T @ (np.exp(v["X"] @ v["w"]) - v["y"]), None),
    ("log_barrier", "-sum(log(b - A*x))", "x", {}, {"A": (5, 3), "x": (3,), "b": (5,)},
     lambda v: -np.sum(np.log(v["b"] - v["A"] @ v["x"])),
     lambda v: v["A"].T @ (1.0 / (v["b"] - v["A"] @ v["x"])), "barrier"),
    ("logdet", "logdet(X)", "X", {}, {"X": (3, 3)},
     lambda v: np.linalg.slogdet(v["X"])[1], lambda v: inv(v["X"]).T, "invertible"),
    ("tr_XtAX", "tr(X'*A*X)", "X", {}, {"X": (3, 2), "A": (3, 3)},
     lambda v: np.trace(v["X"].T @ v["A"] @ v["X"]), lambda v: (v["A"] + v["A"].T) @ v["X"], None),
    ("tr_AXBXt", "tr(A*X*B*X')", "X", {}, {"A": (3, 3), "X": (3, 4), "B": (4, 4)},
     lambda v: np.trace(v["A"] @ v["X"] @ v["B"] @ v["X"].T),
     lambda v: v["A"].T @ v["X"] @ v["B"].T + v["A"] @ v["X"] @ v["B"], None),
    ("tr_AXCX", "tr(A*X*C*X)", "X", {}, {"A": (2, 3), "X": (3, 2), "C": (2, 3)},
     lambda v: np.trace(v["A"] @ v["X"] @ v["C"] @ v["X"]),
     lambda v: (v["C"] @ v["X"] @ v["A"]).T + (v["A"] @ v["X"] @ v["C"]).T, None),
    ("trace_product", "tr(A*X)*tr(B*X)", "X", {}, {"A": (3, 2), "B": (3, 2), "X": (2, 3)},
     lambda v: np.trace(v["A"] @ v["X"]) * np.trace(v["B"] @ v["X"]),
     lambda v: np.trace(v["B"] @ v["X"]) * v["A"].T + np.trace(v["A"] @ v["X"]) * v["B"].T, None),
    ("tr_invX_A", "tr(inv(X)*A)", "X", {}, {"X": (3, 3), "A": (3, 3)},
     lambda v: np.trace(inv(v["X"]) @ v["A"]),
     lambda v: -(inv(v["X"]) @ v["A"] @ inv(v["X"])).T, "invertible"),
    ("gaussian_mean", "(x - mu)'*inv(C)*(x - mu)", "mu", {}, {"x": (3,), "mu": (3,), "C": (3, 3)},
     lambda v: (v["x"] - v["mu"]) @ inv(v["C"]) @ (v["x"] - v["mu"]),
     lambda v: -(inv(v["C"]) + inv(v["C"]).T) @ (v["x"] - v["mu"]), "invertible"),
    ("gaussian_cov", "logdet(C) + tr(inv(C)*M)", "C", {}, {"C": (3, 3), "M": (3, 3)},
     lambda v: np.linalg.slogdet(v["C"])[1] + np.trace(inv(v["C"]) @ v["M"]),
     lambda v: inv(v["C"]).T - (inv(v["C"]) @ v["M"] @ inv(v["C"])).T, "invertible"),
    ("norm", "norm(x)", "x", {}, {"x": (4,)},
     lambda v: np.linalg.norm(v["x"]), lambda v: v["x"] / np.linalg.norm(v["x"]), None),
    ("fro_AXB", "norm(A*X*B - C)^2", "X", {}, {"A": (2, 3), "X": (3, 4), "B": (4, 2), "C": (2, 2)},
     lambda v: np.sum((v["A"] @ v["X"] @ v["B"] - v["C"]) ** 2),
     lambda v: 2 * v["A"].T @ (v["A"] @ v["X"] @ v["B"] - v["C"]) @ v["B"].T, None),
    ("scalar_logdet", "logdet(A + alpha*I)", "alpha", {}, {"A": (4, 4), "alpha": ()},
     lambda v: np.linalg.slogdet(v["A"] + v["alpha"] * np.eye(4))[1],
     lambda v: np.trace(inv(v["A"] + v["alpha"] * np.eye(4))), "invertible"),
    ("scalar_exp_quad", "exp(alpha)*x'*x + alpha^3", "alpha", {}, {"alpha": (), "x": (3,)},
     lambda v: np.exp(v["alpha"]) * v["x"] @ v["x"] + v["alpha"] ** 3,
     lambda v: np.exp(v["alpha"]) * v["x"] @ v["x"] + 3 * v["alpha"] ** 2, None),
    # ENGINE.md's table: (a'dx)(b'dx), (a .* dx)'dx, tr(A'(F .* dX .* dX))
    ("product_of_linear", "(a'*x)*(b'*x)", "x", {}, {"a": (4,), "b": (4,), "x": (4,)},
     lambda v: (v["a"] @ v["x"]) * (v["b"] @ v["x"]),
     lambda v: v["a"] * (v["b"] @ v["x"]) + v["b"] * (v["a"] @ v["x"]), None),
    ("hadamard_cubic", "sum(a .* x .^ 3)", "x", {}, {"a": (4,), "x": (4,)},
     lambda v: np.sum(v["a"] * v["x"] ** 3), lambda v: 3 * v["a"] * v["x"] ** 2, None),
    ("hadamard_exp", "sum(A .* exp(X))", "X", {}, {"A": (2, 3), "X": (2, 3)},
     lambda v: np.sum(v["A"] * np.exp(v["X"])), lambda v: v["A"] * np.exp(v["X"]), None),
    ("rayleigh", "x'*A*x/(x'*x)", "x", {}, {"x": (3,), "A": (3, 3)},
     lambda v: v["x"] @ v["A"] @ v["x"] / (v["x"] @ v["x"]),
     lambda v: ((v["A"] + v["A"].T) @ v["x"] * (v["x"] @ v["x"])
                - 2 * v["x"] * (v["x"] @ v["A"] @ v["x"])) / (v["x"] @ v["x"]) ** 2, None),
]
BY_NAME = {c[0]: c for c in CASES}


def _jcase(case):
    name, expr, wrt, let, dims, f_np, grad_np, kind = case
    return (name, expr, wrt, let, dims, f_np, kind)


def _sample(case, rng):
    v = sample(_jcase(case), rng)
    if case[-1] == "barrier":
        v["b"] = np.abs(v["A"]) @ np.abs(v["x"]) + rng.uniform(0.5, 1.5, v["b"].shape)
    return v


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_hand_written_gradients_are_right(name):
    case = BY_NAME[name]
    _, expr, wrt, _, dims, f_np, grad_np, _ = case
    v = _sample(case, np.random.default_rng(3))
    g = fd_jacobian(f_np, v, wrt)
    close(vec(g), vec(grad_np(v)), 1e-5)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_hessian_against_finite_differences_of_the_gradient(name):
    case = BY_NAME[name]
    _, expr, wrt, _, dims, f_np, grad_np, _ = case
    d = derive(expr, wrt=wrt, let=lets(_jcase(case)), hessian=True)
    assert d.result_kind == "hessian"
    res = d.to_dict()["result"]
    assert res["kind"] == "hessian" and len(res["shape"]) == 2 and res["shape"][0] == res["shape"][1]
    assert d.to_dict()["input"]["hessian"] is True and "gradient" not in d.to_dict()
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for _ in range(3):
        v = _sample(case, rng)
        got = run_numpy(res["numpy"], v)
        want = fd_jacobian(grad_np, v, wrt)
        if dims[wrt] == ():
            assert isinstance(got, float), type(got)
            close(got, want)
            continue
        close(got, want, 1e-5)
        close(got, got.T, 1e-9)                    # symmetric


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_hessian_step_keeps_the_value(name):
    case = BY_NAME[name]
    _, expr, wrt, _, dims, f_np, grad_np, _ = case
    d = derive(expr, wrt=wrt, let=lets(_jcase(case)), hessian=True)
    rng = np.random.default_rng(11)
    v = _sample(case, rng)
    x0 = v[wrt]
    direction = rng.standard_normal(np.shape(x0)) if np.ndim(x0) else 0.7
    h = 1e-5
    up, dn = dict(v), dict(v)
    up[wrt], dn[wrt] = x0 + h * direction, x0 - h * direction
    df = (f_np(up) - f_np(dn)) / (2 * h)
    dg = (np.asarray(grad_np(up), dtype=float) - np.asarray(grad_np(dn), dtype=float)) / (2 * h)
    d2f = float(vec(dg) @ vec(direction))
    values = {k: (np.array([[x]]) if np.ndim(x) == 0 else x) for k, x in v.items()}
    dirv = np.array([[direction]]) if np.ndim(direction) == 0 else direction
    lhs_seen = []
    prev = None
    for step in d.steps:
        lhs_seen.append(step.lhs)
        if step.rule == "abbreviate":      # display only: the name stands for what the note says
            name, node = step.note[1][1], step.note[1][2]
            assert _unname(step.expr, name, node) == prev.expr
            continue
        prev = step
        if step.lhs == "y":
            continue
        val = evaluate(step.expr, values, direction=dirv, wrt=wrt)
        if step.lhs == "dy":
            close(float(val[0, 0]), df, 1e-5)
        elif step.lhs == "grad":
            close(vec(val), vec(grad_np(v)), 1e-7)
        elif step.lhs == "d2f":
            close(float(val[0, 0]), d2f, 1e-5)
        elif step.lhs in ("dG", "dvecG"):
            close(vec(val), vec(dg), 1e-5)
        elif step.lhs == "H":
            close(vec(val @ vec(dirv)) if val.shape != (1, 1) else vec(val * direction),
                  vec(dg), 1e-5)
        else:
            raise AssertionError(step.lhs)
    assert "d2f" in lhs_seen and lhs_seen[-1] == "H"
    notes = [" ".join(str(s) for s in st.note) for st in d.steps if st.rule == "identify_hessian"]
    assert len(notes) == 1


def test_textbook_forms():
    assert derive("x'*A*x", wrt="x", hessian=True).result_text == "A + A'"
    assert derive("norm(A*x - b)^2", wrt="x", hessian=True).result_text == "2*A'*A"
    assert derive("tr(X'*A*X)", wrt="X", hessian=True).result_text == "kron(I, A + A')"
    assert derive("logdet(X)", wrt="X", hessian=True).result_text in (
        "-commutation(X)*kron(inv(X)', inv(X))", "-kron(inv(X), inv(X)')*commutation(X)")
    logistic = derive("sum(log(1 + exp(X*w))) - y'*X*w", wrt="w", hessian=True).result_text
    assert logistic.startswith("X'*diag(") and logistic.endswith(")*X"), logistic


@pytest.mark.parametrize("expr, wrt, let, fragment", [
    ("logdet(S)", "S", {"S": "symmetric"}, "symmetric"),
    ("logdet(S)", "S", {"S": "symmetric"}, "duplication"),
    ("A*x", "x", {}, "third-order"),
    ("x'*A*x", "y", {}, "does not occur"),
])
def test_refusals(expr, wrt, let, fragment):
    with pytest.raises(TexderiveError) as ei:
        derive(expr, wrt=wrt, let=let, hessian=True)
    assert fragment in str(ei.value)


@pytest.mark.parametrize("name", ["xAx", "logistic", "logdet", "tr_AXCX", "scalar_logdet",
                                  "trace_product", "log_barrier"])
def test_numeric_check(name):
    case = BY_NAME[name]
    d = derive(case[1], wrt=case[2], let=lets(_jcase(case)), hessian=True, check=True)
    assert d.check["passed"] and d.check["max_rel_error"] < 1e-5, d.check


def test_numeric_check_catches_a_wrong_hessian():
    from texderive import ir
    from texderive.check import numeric_check
    d = derive("tr(A*X*C*X)", wrt="X", let={"A": "matrix n m", "X": "matrix m n",
                                            "C": "matrix n m"}, hessian=True)
    assert numeric_check(d.f, d.result, "X", kind="hessian", numpy=d.result_numpy)["passed"]
    # the same form with the other K (right only for a square X)
    x = next(s for s in ir.free_syms(d.f) if s.name == "X")
    swapped = ir.MatMul(ir.Commutation(ir.Transpose(x)),
                        ir.MatMul(ir.Commutation(ir.Transpose(x)), d.result))
    assert not numeric_check(d.f, swapped, "X", kind="hessian")["passed"]


@pytest.mark.parametrize("expr, wrt, let", [
    ("x'*A*x", "x", {"x": "vector 3", "A": "matrix 3 3"}),
    ("logdet(X)", "X", {"X": "matrix 2 2"}),
    ("tr(A*X*C*X)", "X", {"A": "matrix 2 3", "X": "matrix 3 2", "C": "matrix 2 3"}),
])
def test_exact_check_proves(expr, wrt, let):
    d = derive(expr, wrt=wrt, let=let, hessian=True, exact=True)
    assert d.check["status"] == "proved", d.check


def test_cli_hessian_and_its_refusal():
    from click.testing import CliRunner
    from texderive import cli
    ok = CliRunner().invoke(cli.main, ["derive", "x'*A*x", "--wrt", "x", "--hessian",
                                       "--format", "json"])
    assert ok.exit_code == 0, ok.output
    import json
    doc = json.loads(ok.output)
    assert doc["result"]["kind"] == "hessian" and doc["check"]["passed"]
    assert doc["input"]["hessian"] is True and "gradient" not in doc
    bad = CliRunner().invoke(cli.main, ["derive", "A*x", "--wrt", "x", "--hessian"])
    assert bad.exit_code == 2
    assert "third-order" in bad.output and "Traceback" not in bad.output


def test_deck_hessian_key(tmp_path):
    from click.testing import CliRunner
    from texderive import cli
    deck = tmp_path / "deck.yaml"
    deck.write_text("title: Newton\nformat: article\nderivations:\n"
                    "  - title: Logistic regression\n"
                    "    expr: \"sum(log(1 + exp(X*w))) - y'*X*w\"\n"
                    "    wrt: w\n    hessian: true\n"
                    "  - title: Its gradient\n"
                    "    expr: \"sum(log(1 + exp(X*w))) - y'*X*w\"\n    wrt: w\n",
                    encoding="utf-8")
    out = CliRunner().invoke(cli.main, ["build", str(deck)])
    assert out.exit_code == 0, out.output
    assert r"\mathbf{H}" in out.output and r"\nabla_{\mathbf{w}} f" in out.output


@pytest.mark.parametrize("name", ["xAx", "logdet", "tr_AXCX", "trace_product", "scalar_logdet",
                                  "logistic"])
def test_result_text_reads_back_to_the_same_numbers(name):
    """SPEC 6: result.text is section-1/6 notation over input names that texderive's parser
    reads back, given the result's shape, to the same numbers."""
    from texderive import notation, shapes
    from texderive.evaluate import evaluate
    case = BY_NAME[name]
    let = lets(_jcase(case))
    d = derive(case[1], wrt=case[2], let=let, hessian=True)
    res = d.to_dict()["result"]
    tree = shapes.elaborate(notation.parse(res["text"]), res["text"], shapes.parse_let(let),
                            scalar=False, shape=tuple(res["shape"]))
    v = _sample(case, np.random.default_rng(5))
    got = evaluate(tree, v)
    want = run_numpy(res["numpy"], v)
    close(vec(got), vec(want), 1e-9)


def _unname(expr, name, node):
    from texderive import ir
    if expr == name:
        return node
    if not expr.children:
        return expr
    return expr.rebuild(*[_unname(a, name, node) if isinstance(a, ir.Node) else a
                          for a in expr.args])


def test_logistic_slide_names_the_sigmoid_once():
    d = derive("sum(log(1 + exp(X*w))) - y'*X*w", wrt="w", hessian=True)
    last = d.to_dict()["steps"][-1]
    assert last["rule"] == "abbreviate"
    assert last["latex"] == r"\mathbf{X}^\top\operatorname{diag}(\mathbf{s} \odot (\mathbf{1} - \mathbf{s}))\mathbf{X}"
    assert "s = sigmoid(X w)" in last["note"]
    assert d.result_text == "X'*diag(sigmoid(X*w) .* (ones - sigmoid(X*w)))*X"   # written out
