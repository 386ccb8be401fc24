"""The numeric and exact checks (SPEC section 5) on gradients written by hand.

f and its gradient are parsed with the same declarations, sizes included, so that
their dimension names agree; the gradients here never come from the engine.
"""
from __future__ import annotations

import numpy as np
import pytest

from texderive import ir, notation, shapes
from texderive.check import exact_check, numeric_check
from texderive.errors import CheckError, TexderiveError

LET = {"X": "matrix m n", "A": "matrix p m", "B": "matrix n p", "C": "matrix m m",
       "Q": "matrix m m", "S": "symmetric m", "x": "vector m", "b": "vector m",
       "a": "vector m", "y": "vector n", "c": "vector n"}


def elab(text: str, scalar: bool = True) -> ir.Node:
    return shapes.elaborate(notation.parse(text), text, shapes.parse_let(LET), scalar=scalar)


def pair(f: str, g: str):
    return elab(f), elab(g, scalar=False)


# ---------------------------------------------------------------------------
# numeric

RIGHT = [
    ("tr(A*X*B)", "X", "A'*B'"),
    ("log(det(X'*X))", "X", "2*X*inv(X'*X)"),
    ("log(det(X*X'))", "X", "2*inv(X*X')*X"),
    ("norm(A*x - B'*y)^2", "x", "2*A'*(A*x - B'*y)"),
    ("b'*(X .* X)*c", "X", "2*X .* (b*c')"),
    ("sum(log(x))", "x", "1 ./ x"),
    ("x'*Q*x/(x'*x)", "x", "(Q + Q')*x/(x'*x) - 2*(x'*Q*x)*x/(x'*x)^2"),
    ("tr(inv(X'*C*X)*X'*Q*X)", "X",
     "-C*X*inv(X'*C*X)*X'*Q*X*inv(X'*C*X) - C'*X*inv(X'*C'*X)*X'*Q'*X*inv(X'*C'*X)"
     " + Q*X*inv(X'*C*X) + Q'*X*inv(X'*C'*X)"),
    ("logdet(S)", "S", "inv(S)"),
    ("tr(Q*S)", "S", "(Q + Q')/2"),
    ("alpha^2*tr(Q)", "alpha", "2*alpha*tr(Q)"),
    ("sum(sigmoid(A*b))", "b", "A'*(sigmoid(A*b) .* (1 - sigmoid(A*b)))"),
    ("tr(Q^3)", "Q", "3*(Q^2)'"),
    ("det(Q)", "Q", "det(Q)*inv(Q)'"),
    ("sqrt(x'*x) + sum(abs(x))", "x", "x/sqrt(x'*x) + x ./ abs(x)"),
]


@pytest.mark.parametrize("case", RIGHT, ids=[c[0] + " d/d" + c[1] for c in RIGHT])
def test_numeric_check_passes_a_right_gradient(case):
    f, g = pair(case[0], case[2])
    r = numeric_check(f, g, case[1])
    assert r["passed"], r
    assert r["kind"] == "numeric" and r["points"] == 3 and r["seed"] == 0
    assert 0 <= r["max_rel_error"] < 1e-7
    assert {"kind", "points", "max_rel_error", "passed", "seed"} <= set(r)


WRONG = [
    ("tr(A*X*B)", "X", "B*A"),                 # transposed: the wrong shape
    ("tr(A*X*B)", "X", "-A'*B'"),              # sign
    ("tr(A*X*B)", "X", "2*A'*B'"),             # factor 2
    ("tr(Q*C)", "Q", "C"),                     # transposed, same shape
    ("x'*Q*Q*x", "x", "2*Q*Q*x"),              # forgot the non-symmetric part
    ("log(det(X'*X))", "X", "X*inv(X'*X)"),    # off by 2
    ("tr(Q*S)", "S", "Q'"),                    # not the symmetric gradient of SPEC
    ("logdet(S)", "S", "2*inv(S) - inv(S) .* I"),   # the Cookbook's 2H - H.*I
    ("alpha^3", "alpha", "2*alpha^2"),
]


@pytest.mark.parametrize("case", WRONG, ids=[c[0] + " -> " + c[2] for c in WRONG])
def test_numeric_check_fails_a_wrong_gradient(case):
    f, g = pair(case[0], case[2])
    r = numeric_check(f, g, case[1])
    assert not r["passed"], r
    assert r["max_rel_error"] > 1e-3 and r["reason"]


def test_numeric_check_refuses_where_f_is_defined_nowhere():
    f, g = pair("log(-x'*x)", "-2*x/(x'*x)")
    with pytest.raises(CheckError, match="no point found where f is defined") as info:
        numeric_check(f, g, "x")
    assert isinstance(info.value, TexderiveError)


def test_numeric_check_sizes_make_f_defined():
    f, g = pair("log(det(X'*X))", "2*X*inv(X'*X)")
    sizes = numeric_check(f, g, "X")["sizes"]
    assert sizes["m"] > sizes["n"]                 # X tall: X'X invertible
    f, g = pair("log(det(X*X'))", "2*inv(X*X')*X")
    sizes = numeric_check(f, g, "X")["sizes"]
    assert sizes["m"] < sizes["n"]
    f, g = pair("tr(A*X*B)", "A'*B'")
    sizes = numeric_check(f, g, "X")["sizes"]
    assert len(set(sizes.values())) == 3           # distinct: a transposition shows


def test_numeric_check_is_deterministic_and_seeded():
    f, g = pair("sum(log(x)) + x'*x", "1 ./ x + 2*x")
    assert numeric_check(f, g, "x") == numeric_check(f, g, "x")
    other = numeric_check(f, g, "x", seed=5, points=2)
    assert other["passed"] and other["seed"] == 5 and other["points"] == 2


def test_numeric_check_accepts_a_sym_for_wrt_and_maps_a_lone_constant():
    f = elab("tr(Q)")
    wrt = ir.free_syms(f)[0]
    g = shapes.elaborate(notation.parse("I"), "I", {}, scalar=False)   # its own dimension
    assert numeric_check(f, g, wrt)["passed"]


# ---------------------------------------------------------------------------
# exact

def test_exact_check_proves_trace_and_logdet():
    f, g = pair("tr(A*X*B)", "A'*B'")
    r = exact_check(f, g, "X")
    assert r["kind"] == "exact" and r["status"] == "proved", r
    assert set(r["sizes"]) == {"m", "n", "p"} and set(r["sizes"].values()) <= {2, 3}
    assert isinstance(r["seconds"], float)
    f, g = pair("log(det(X'*X))", "2*X*inv(X'*X)")
    r = exact_check(f, g, "X")
    assert r["status"] == "proved", r
    assert r["sizes"] == {"m": 3, "n": 2}           # X is 3x2, not 2x3 (X'X singular)


def test_exact_check_proves_rational_functions_quickly():
    f, g = pair(*(RIGHT[7][0], RIGHT[7][2]))       # tr(inv(X'*C*X)*X'*Q*X)
    r = exact_check(f, g, "X", timeout=30)
    assert r["status"] == "proved", r


@pytest.mark.parametrize("case", [
    ("logdet(S)", "S", "inv(S)"), ("tr(Q*S)", "S", "(Q + Q')/2"),
    ("sum(sigmoid(A*b))", "b", "A'*(sigmoid(A*b) .* (1 - sigmoid(A*b)))"),
    ("sqrt(x'*x) + sum(abs(x))", "x", "x/sqrt(x'*x) + x ./ abs(x)"),
    ("alpha^beta", "alpha", "beta*alpha^(beta - 1)"),
    ("sum(sin(b).^2 + cos(b).^2)", "b", "zeros"),
])
def test_exact_check_proves_with_functions(case):
    f, g = pair(case[0], case[2])
    assert exact_check(f, g, case[1])["status"] == "proved"


@pytest.mark.parametrize("case", WRONG, ids=[c[0] + " -> " + c[2] for c in WRONG])
def test_exact_check_fails_a_wrong_gradient(case):
    f, g = pair(case[0], case[2])
    r = exact_check(f, g, case[1])
    assert r["status"] == "failed", r
    assert r["message"]


def test_exact_check_is_inconclusive_where_it_cannot_reduce():
    # sqrt(b.^2) is |b|, a relation the exact check does not know: the numeric check stands
    f, g = pair("sum(sqrt(b.^2))", "b ./ abs(b)")
    assert numeric_check(f, g, "b")["passed"]
    r = exact_check(f, g, "b")
    assert r["status"] == "inconclusive", r
    assert "numeric check" in r["message"]


def test_exact_check_respects_its_time_budget():
    f, g = pair(RIGHT[7][0], RIGHT[7][2])
    r = exact_check(f, g, "X", timeout=0.001)
    assert r["status"] == "timeout", r
    assert r["message"] == "not finished within 0.001 s"
    assert r["seconds"] < 5


def test_exact_check_refuses_where_f_is_defined_nowhere():
    f, g = pair("log(-x'*x)", "-2*x/(x'*x)")
    with pytest.raises(CheckError, match="no point found where f is defined"):
        exact_check(f, g, "x")


def test_checks_agree_on_symmetric_conventions():
    """SPEC: for a symmetric wrt, G = (H + H')/2; the checks compare along symmetric
    directions and want G symmetric."""
    f, g = pair("b'*S*a", "(b*a' + a*b')/2")
    assert numeric_check(f, g, "S")["passed"]
    assert exact_check(f, g, "S")["status"] == "proved"
    f, g = pair("b'*S*a", "b*a'")
    assert not numeric_check(f, g, "S")["passed"]
    assert exact_check(f, g, "S")["status"] == "failed"


def test_numeric_results_are_plain_json():
    import json
    f, g = pair("tr(A*X*B)", "B*A")
    r = numeric_check(f, g, "X")
    assert json.loads(json.dumps(r, allow_nan=False)) == r
    assert np.isfinite(r["max_rel_error"])


def test_checks_refuse_or_skip_huge_declared_sizes():
    let = {"X": "matrix 999999 999999"}
    f = shapes.elaborate(notation.parse("tr(X)"), "tr(X)", shapes.parse_let(let))
    g = shapes.elaborate(notation.parse("I"), "I", shapes.parse_let(let), scalar=False)
    with pytest.raises(CheckError, match="too large"):
        numeric_check(f, g, "X")
    assert exact_check(f, g, "X")["status"] == "inconclusive"


def test_numeric_check_skips_points_where_finite_differences_fail():
    # near tr(X) = 0 the argument of tan races through its poles; such a point says nothing
    f, g = pair("tan(tr(Q)^-2)", "-2*(1 + tan(tr(Q)^-2)^2)*tr(Q)^-3*I")
    assert numeric_check(f, g, "Q")["passed"]
    assert numeric_check(f, g, "Q", seed=3)["passed"]


def test_huge_numbers_evaluate_to_infinities_and_are_refused():
    from fractions import Fraction
    q = ir.Sym("Q", "matrix", "m", "m")
    big = ir.Num(Fraction(10) ** 999)
    f, g = ir.MatMul(big, ir.Trace(q)), ir.MatMul(big, ir.Ident("m"))
    with pytest.raises(CheckError, match="no point"):
        numeric_check(f, g, "Q")


def test_the_exact_evaluator_has_every_node_class():
    from texderive.check import _ExactEval
    table = _ExactEval(None, {}, {}).table
    assert all(cls in table for cls in ir.NODE_CLASSES)
