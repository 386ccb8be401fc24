"""Textbook answers by the shortest honest route (issue 14).

Each named case is checked twice: its numbers against finite differences of a
hand-written NumPy function (texderive's evaluator is never the truth), and
its compact text against the form a lecturer writes.  Derivations are checked
for what they say: no false equality for a symmetric variable, one
differential of a repeated sub-expression, notes that name a rule once stated.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from test_gradients import POINTS, DIRECTIONS, Case, check_gradient_against_fd, eval_numpy, \
    expected_numpy_shape, ld, sigmoid, tr
from texderive import derive


def _inv(a):
    return np.linalg.inv(a)


SPD = "symmetric n"
CASES = [
    # known functions on the way out: sigmoid, one sign convention
    (Case("logistic_sigmoid", "sum(log(1 + exp(-y .* (X*w))))", "w",
          {"y": "vector m", "X": "matrix m n", "w": "vector n"},
          lambda v: float(np.sum(np.log1p(np.exp(-v["y"] * (v["X"] @ v["w"])))))),
     "-X'*(sigmoid(-(y .* (X*w))) .* y)"),
    (Case("logistic_single_sample", "log(1 + exp(-alpha*w'*x))", "w",
          {"alpha": "scalar", "x": "vector n", "w": "vector n"},
          lambda v: float(np.log1p(np.exp(-v["alpha"] * v["w"] @ v["x"])))),
     "-alpha*sigmoid(-alpha*w'*x)*x"),
    (Case("sigmoid_from_exp_ratio", "sum(log(ones + exp(X*w)))", "w",
          {"X": "matrix m n", "w": "vector n"},
          lambda v: float(np.sum(np.log1p(np.exp(v["X"] @ v["w"]))))),
     "X'*sigmoid(X*w)"),
    (Case("tanh_stays_tanh", "sum(tanh(W*x))", "W", {"W": "matrix m n", "x": "vector n"},
          lambda v: float(np.sum(np.tanh(v["W"] @ v["x"])))),
     "(ones - tanh(W*x) .^ 2)*x'"),
    (Case("sinh_over_cosh_is_tanh", "sum(log(cosh(W*x)))", "W", {"W": "matrix m n", "x": "vector n"},
          lambda v: float(np.sum(np.log(np.cosh(v["W"] @ v["x"]))))),
     "tanh(W*x)*x'"),
    # symmetric variables: the symmetric form, never (H + H')/2 of a factored one
    (Case("gaussian_cov_symmetric", "logdet(Sigma) + (x - mu)'*inv(Sigma)*(x - mu)", "Sigma",
          {"Sigma": SPD, "x": "vector n", "mu": "vector n"},
          lambda v: ld(v["Sigma"]) + float((v["x"] - v["mu"]) @ _inv(v["Sigma"]) @ (v["x"] - v["mu"])),
          kinds={"Sigma": "spd"}),
     "inv(Sigma) - inv(Sigma)*(x - mu)*(x - mu)'*inv(Sigma)"),
    (Case("wishart_like_logdet_trace", "logdet(S) + tr(inv(S)*C)", "S",
          {"S": SPD, "C": SPD}, lambda v: ld(v["S"]) + tr(_inv(v["S"]) @ v["C"]),
          kinds={"S": "spd", "C": "spd"}),
     "inv(S) - inv(S)*C*inv(S)"),
    (Case("trace_AS_symmetric", "tr(A*S)", "S", {"A": "matrix n n", "S": SPD},
          lambda v: tr(v["A"] @ v["S"])),
     "1/2*(A + A')"),
    # sizes and sums
    (Case("centering_norm", "norm(x - ones*sum(x)/4)^2", "x", {"x": "vector n"},
          lambda v: float(np.sum((v["x"] - np.sum(v["x"]) / 4) ** 2))),
     None),
    (Case("sum_of_transpose", "sum(x')*sum(A*x)", "x", {"x": "vector n", "A": "matrix m n"},
          lambda v: float(np.sum(v["x"]) * np.sum(v["A"] @ v["x"]))),
     None),
    (Case("inverse_of_product_with_inverse", "tr(inv(S*inv(Sigma))*A)", "S",
          {"S": "matrix n n", "Sigma": "matrix n n", "A": "matrix n n"},
          lambda v: tr(_inv(v["S"] @ _inv(v["Sigma"])) @ v["A"]), kinds={"S": "wc", "Sigma": "wc"}),
     None),
    (Case("gaussian_mean_route", "(x - mu)'*inv(Sigma)*(x - mu)", "mu",
          {"x": "vector n", "mu": "vector n", "Sigma": SPD},
          lambda v: float((v["x"] - v["mu"]) @ _inv(v["Sigma"]) @ (v["x"] - v["mu"])),
          kinds={"Sigma": "spd"}),
     "-2*inv(Sigma)*(x - mu)"),
]
BY = {c.name: (c, text) for c, text in CASES}


@pytest.mark.parametrize("name", list(BY))
def test_textbook_case_numbers_and_form(name):
    case, text = BY[name]
    doc = derive(case.expr, wrt=case.wrt, let=case.let).to_dict()
    code = doc["gradient"]["numpy"]
    want = expected_numpy_shape(case)

    def grad_at(values):
        g = eval_numpy(code, values)
        assert np.shape(g) == want
        return g

    assert check_gradient_against_fd(case, grad_at, f"numpy {code!r}") == POINTS * DIRECTIONS
    if text is not None:
        assert doc["gradient"]["text"] == text


def test_sum_of_a_transpose_is_the_sum():
    d = derive("sum(x')*sum(A*x)", wrt="x")
    assert "sum(x')" not in d.gradient_text
    assert "sum(x'" not in json.dumps(d.to_dict()["gradient"])


def test_inverse_of_a_product_with_an_inverse_is_turned_round():
    d = derive("tr(inv(S*inv(Sigma))*A)", wrt="A")
    assert d.gradient_text == "(Sigma*inv(S))'"  or d.gradient_text == "inv(S)'*Sigma'"


def test_centering_norm_collects_to_two_terms():
    d = derive("norm(x - ones*sum(x)/4)^2", wrt="x")
    g = d.gradient_text
    assert g.startswith("2*x + ") and g.count("sum(x)") == 1 and "sum(x')" not in g, g


def test_symmetric_chain_states_no_false_equality():
    """tr(A*S): the read-off A' is G (S as a general matrix); the gradient is (G + G')/2."""
    d = derive("tr(A*S)", wrt="S", let={"S": "symmetric"})
    lhs = [s.lhs for s in d.steps]
    assert lhs[-2:] == ["G", "grad"]
    assert [s for s in d.steps if s.lhs == "grad"] == [d.steps[-1]]


def test_symmetric_answer_that_is_symmetric_needs_no_symmetrising_step():
    d = derive("logdet(S) + tr(inv(S)*C)", wrt="S", let={"S": "symmetric", "C": "symmetric"})
    assert all(s.rule != "symmetric" for s in d.steps)
    assert "G" not in [s.lhs for s in d.steps]
    assert "symmetric" in d.to_dict()["steps"][-1]["note"]


def test_gaussian_mean_takes_the_differential_of_x_minus_mu_once():
    d = derive("(x - mu)'*inv(Sigma)*(x - mu)", wrt="mu", let={"mu": "vector"})
    texts = [s["text"] for s in d.to_dict()["steps"]]
    assert sum("dx + d(-mu)" in t or "d(-mu)" in t for t in texts) == 0
    assert len(d.steps) <= 10, texts


def test_a_rule_is_stated_once_then_named():
    d = derive("tr(A*X*B*X')", wrt="X")
    notes = [s["note"] for s in d.to_dict()["steps"]]
    full = [n for n in notes if "d(XY) = (dX)Y + X dY" in n]
    assert len(full) <= 1, notes


def test_squared_norm_cites_only_its_half():
    d = derive("norm(A*x - b)^2", wrt="x")
    doc = d.to_dict()
    assert any(r["id"] == "norm_squared" for r in doc["rules"]) or \
        all("‖V‖ = tr" not in s["note"] for s in doc["steps"])
    assert all("d‖V‖ = tr(Vᵀ dV)/‖V‖" not in s["note"] for s in doc["steps"])


def test_softplus_rule_gives_the_logistic_loss_in_one_step():
    d = derive("sum(log(1 + exp(X*w)))", wrt="w")
    assert any(s.rule == "softplus" for s in d.steps)
    assert d.gradient_text == "X'*sigmoid(X*w)"


# -- warnings (SPEC section 7) ---------------------------------------------------

def test_greek_scalar_added_to_a_vector_warns_with_the_declaration():
    d = derive("(x - mu)'*inv(Sigma)*(x - mu)", wrt="x")
    doc = d.to_dict()
    assert len(doc["warnings"]) == 1
    w = doc["warnings"][0]
    assert "mu" in w and "x - mu" in w and "--let 'mu: vector'" in w


@pytest.mark.parametrize("expr, let", [
    ("(x - mu)'*inv(Sigma)*(x - mu)", {"mu": "vector"}),    # declared: no warning
    ("(x - mu)'*inv(Sigma)*(x - mu)", {"mu": "scalar"}),    # declared a scalar on purpose
    ("alpha*x'*x + beta", {}),                              # scalars added to scalars
    ("sum(X + alpha)", {}),                                 # a matrix, not a vector
    ("a'*(x - b)", {}),                                     # not Greek
])
def test_no_warning_where_nothing_is_silently_broadcast(expr, let):
    doc = derive(expr, wrt="x" if "x" in expr.replace("X", "") else "X", let=let).to_dict()
    assert "warnings" not in doc


def test_warning_on_stderr_and_in_json_from_the_cli(tmp_path):
    out = tmp_path / "g.json"
    r = subprocess.run([sys.executable, "-m", "texderive.cli", "derive", "norm(y - beta - X*w)^2",
                        "--wrt", "w", "--format", "json", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("Warning: beta is a scalar") and "--let 'beta: vector'" in r.stderr
    assert "Traceback" not in r.stderr
    doc = json.loads(out.read_text())
    assert doc["warnings"] and "beta" in doc["warnings"][0]


# -- the committed list of ML and statistics problems (benchmarks/ml_problems.py) --------

def _ml_problems():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ml_problems.py"
    spec = importlib.util.spec_from_file_location("ml_problems", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.PROBLEMS


ML = _ml_problems()


def _draw(rng, kind, shape, symmetric):
    if kind in ("spd", "invertible"):
        n = shape[0]
        g = rng.standard_normal(shape)
        return g @ g.T / n + 0.5 * np.eye(n) if kind == "spd" or symmetric else \
            g + (2 * np.sqrt(n) + 1) * np.eye(n)
    v = rng.uniform(0.5, 2.0, size=shape) if kind == "positive" else rng.standard_normal(shape)
    if symmetric:
        v = (v + v.T) / 2
    return float(v) if shape == () else v


def _ns(values):
    ns = {"np": np}
    ns.update({("lambda_" if k == "lambda" else k): v for k, v in values.items()})
    return ns


@pytest.mark.parametrize("p", ML, ids=[p["id"] for p in ML])
def test_ml_problem_is_right_and_textbook_short(p):
    """Finite differences of the hand-written f_np judge both texderive's answer and the
    textbook's grad_np; the answer is at most 1.3x the textbook's size."""
    from texderive import canon, notation, shapes
    d = derive(p["expr"], wrt=p["wrt"], let=p["let"] or None)
    doc = d.to_dict()
    decl = shapes.parse_let(p["let"])
    sym = decl.get(p["wrt"], ("",))[0] == "symmetric"
    rng = np.random.default_rng(sum(map(ord, p["id"])))
    for _ in range(2):
        values = {name: _draw(rng, p["sample"].get(name, "any"), tuple(dims),
                              decl.get(name, ("",))[0] == "symmetric")
                  for name, dims in sorted(p["dims"].items())}
        ours = np.asarray(eval(doc["gradient"]["numpy"], _ns(values)), dtype=float)  # noqa: S307
        book = np.asarray(eval(p["grad_np"], _ns(values)), dtype=float)              # noqa: S307
        for _ in range(2):
            v = rng.standard_normal(np.shape(values[p["wrt"]]))
            if sym:
                v = (v + v.T) / 2

            def f_at(t):
                moved = dict(values)
                moved[p["wrt"]] = values[p["wrt"]] + t * v
                return float(eval(p["f_np"], _ns(moved)))                            # noqa: S307

            h = 1e-4
            fd = (-f_at(2 * h) + 8 * f_at(h) - 8 * f_at(-h) + f_at(-2 * h)) / (12 * h)
            for g, who in ((ours, "texderive"), (book, "textbook")):
                got = float(np.sum(g * v))
                assert abs(got - fd) <= 1e-5 * max(1.0, abs(fd)), (who, got, fd)

    def size(text):
        return canon.size(shapes.elaborate(notation.parse(text), text, decl, scalar=False))
    assert size(doc["gradient"]["text"]) <= 1.3 * size(p["expected"]), doc["gradient"]["text"]


def test_inverse_of_a_product_cancels_a_square_factor():
    """inv(L*L')*L = inv(L') for a square L; not for a rectangular one."""
    assert derive("logdet(L*L')", wrt="L", let={"L": "matrix n n"}).gradient_text == "2*inv(L)'"
    assert derive("logdet(L*L')", wrt="L").gradient_text == "2*inv(L*L')*L"


def test_terms_sharing_both_ends_are_factored_by_group():
    d = derive("tr(inv(S2)*S1) + (mu2 - mu1)'*inv(S2)*(mu2 - mu1) + logdet(S2)", wrt="S2",
               let={"S1": "symmetric", "S2": "symmetric", "mu1": "vector", "mu2": "vector"})
    assert d.gradient_text == "inv(S2) - inv(S2)*(S1 + (mu2 - mu1)*(mu2 - mu1)')*inv(S2)"


def test_a_scalar_factor_does_not_stop_a_common_factor():
    d = derive("norm(y - X*w - beta*ones)^2", wrt="w")
    assert d.gradient_text.startswith("2*X'*(") or d.gradient_text.startswith("-2*X'*("), \
        d.gradient_text


@pytest.mark.parametrize("expr, wrt, text", [
    ("norm(y - beta - X*w)^2", "beta", "-2*sum(y - beta*ones - X*w)"),   # numbers out of sum
    ("sum(2*X*beta)", "beta", "2*sum(X)"),
    ("norm(x - beta)^2 + norm(x - gamma)^2", "x", "4*x - 2*(beta + gamma)*ones"),
])
def test_scalar_broadcasts_collect(expr, wrt, text):
    d = derive(expr, wrt=wrt, check=True)
    assert d.gradient_text == text


def _np_sig(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.mark.parametrize("expr, wrt, text, f_np", [
    ("sum(sinh(W*x) ./ cosh(W*x))", "W", "(ones - tanh(W*x) .^ 2)*x'",
     lambda v: float(np.sum(np.tanh(v["W"] @ v["x"])))),
    ("sum(exp(X*w) ./ (1 + exp(X*w)))", "w", "X'*(sigmoid(X*w) - sigmoid(X*w) .^ 2)",
     lambda v: float(np.sum(_np_sig(v["X"] @ v["w"])))),
    ("exp(alpha)/(1 + exp(alpha))", "alpha", "sigmoid(alpha) - sigmoid(alpha)^2",
     lambda v: float(_np_sig(v["alpha"]))),
])
def test_named_functions_recognised_with_powers(expr, wrt, text, f_np):
    let = {"W": "matrix m n", "x": "vector n", "X": "matrix m n", "w": "vector n",
           "alpha": "scalar"}
    used = {k: v for k, v in let.items() if k in expr}
    case = Case("named_" + wrt, expr, wrt, used, f_np)
    d = derive(expr, wrt=wrt, let=used)
    assert d.gradient_text == text
    code = d.to_dict()["gradient"]["numpy"]
    assert check_gradient_against_fd(case, lambda v: eval_numpy(code, v),
                                     code) == POINTS * DIRECTIONS
    # the tidy-up step that introduced the name says so
    notes = " ".join(s["note"] for s in d.to_dict()["steps"])
    assert "= sigmoid(u)" in notes or "= tanh(u)" in notes


def test_a_matrix_times_its_inverse_is_the_identity():
    case = Case("stein", "tr(inv(Sigma)*S) - logdet(inv(Sigma)*S)", "Sigma",
                {"Sigma": "symmetric n", "S": "symmetric n"},
                lambda v: tr(_inv(v["Sigma"]) @ v["S"]) - ld(_inv(v["Sigma"]) @ v["S"]),
                kinds={"Sigma": "spd", "S": "spd"})
    d = derive(case.expr, wrt=case.wrt, let=case.let)
    assert d.gradient_text == "inv(Sigma) - inv(Sigma)*S*inv(Sigma)"
    code = d.to_dict()["gradient"]["numpy"]
    assert check_gradient_against_fd(case, lambda v: eval_numpy(code, v), code) == \
        POINTS * DIRECTIONS
    assert derive("tr(A*X*inv(A))", wrt="X").gradient_text == "I"


def test_one_minus_sigmoid_is_sigmoid_of_minus_but_still_collects():
    assert derive("-sum(log(sigmoid(y .* (X*w))))", wrt="w").gradient_text == \
        "-X'*(sigmoid(-(y .* (X*w))) .* y)"
    # multiplied out, (1 - y) .* sigmoid(X*w) - y .* (1 - sigmoid(X*w)) is sigmoid(X*w) - y
    assert derive("-sum(y .* log(sigmoid(X*w)) + (1 - y) .* log(1 - sigmoid(X*w)))",
                  wrt="w").gradient_text == "X'*(sigmoid(X*w) - y)"
    # the derivative of sigmoid stays as books write it
    assert derive("sum(sigmoid(X*w))", wrt="w").gradient_text == \
        "X'*(sigmoid(X*w) .* (ones - sigmoid(X*w)))"


def test_half_powers_are_square_roots():
    """s^(-1/2) is 1/sqrt(s): d'*x*(a'*X*b)^0.5*y'*c wrt X."""
    case = Case("sqrt_power", "d'*x*(a'*X*b)^0.5*y'*c", "X",
                {"d": "vector k", "x": "vector k", "a": "vector m", "X": "matrix m n",
                 "b": "vector n", "y": "vector p", "c": "vector p"},
                lambda v: float((v["d"] @ v["x"]) * np.sqrt(v["a"] @ v["X"] @ v["b"])
                                * (v["y"] @ v["c"])),
                kinds={"a": "positive", "X": "positive", "b": "positive"})
    d = derive(case.expr, wrt=case.wrt, let=case.let)
    assert d.gradient_text == "1/2*(d'*x)*(y'*c)*a*b'/sqrt(a'*X*b)"
    code = d.to_dict()["gradient"]["numpy"]
    assert check_gradient_against_fd(case, lambda v: eval_numpy(code, v), code) == \
        POINTS * DIRECTIONS


def test_sum_of_a_row_of_column_sums_is_the_sum():
    """sum(ones'*X) = ones'*X*ones = sum(X); sum(X*ones) = sum(X)."""
    d = derive("sum(X)*sum(ones'*X)", wrt="X")
    assert d.gradient_text == "2*sum(X)*ones"
    d = derive("sum(X*ones)^2", wrt="X", check=True)
    assert d.gradient_text == "2*sum(X)*ones"


def test_common_scalar_factors_come_out():
    """x'*A*x/(x'*x): both terms share 1/(x'*x), as in 2*(A - R(x)*I)*x/(x'*x)."""
    case = Case("rayleigh", "x'*A*x/(x'*x)", "x", {"x": "vector n", "A": "symmetric n"},
                lambda v: float(v["x"] @ v["A"] @ v["x"] / (v["x"] @ v["x"])))
    d = derive(case.expr, wrt=case.wrt, let=case.let)
    assert d.gradient_text == "2*(A - (x'*A*x)*I/(x'*x))*x/(x'*x)"
    code = d.to_dict()["gradient"]["numpy"]
    assert check_gradient_against_fd(case, lambda v: eval_numpy(code, v), code) == \
        POINTS * DIRECTIONS
