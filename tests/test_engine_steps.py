"""The three worked examples of the lecture deck come out on the deck's own route,
and the step records and the JSON document follow SPEC section 4."""
import json

import pytest

from texderive import TexderiveError, derive
from texderive.steps import number_rules


def rules_of(d):
    return [s.rule for s in d.steps]


def texts(d):
    return [s["text"] for s in d.to_dict()["steps"]]


def test_least_squares_expands_first_then_differentiates_term_by_term():
    d = derive("norm(A*x - b)^2", wrt="x")
    r = rules_of(d)
    assert r[0] == "expand" and r[1] == "differential"
    t = texts(d)
    assert t[0] == "xᵀ Aᵀ A x - 2 bᵀ A x + bᵀ b"
    assert "d(bᵀ b)" not in t[2]                          # (1) removes d(b'b) first
    assert "constant" in r and "product" in r and "transpose" in r
    assert "scalar_transpose" in r                          # p'q = q'p
    assert "2 xᵀ Aᵀ A dx - 2 bᵀ A dx" in t                 # collected
    assert d.gradient_text == "2*A'*(A*x - b)"
    doc = d.to_dict()
    constant = next(s for s in doc["steps"] if s["rule"] == "constant")
    assert constant["number"] == 1 and constant["note"].startswith("by (1), d(bᵀ b) = 0")


def test_trace_example_trace_product_constants_cyclic_read_off():
    d = derive("tr(A*X*B)", wrt="X")
    assert rules_of(d) == ["differential", "trace", "product", "constant", "cyclic", "read_off",
                           "transpose_product"]
    assert texts(d) == ["d tr(A X B)", "tr(d(A X B))", "tr((dA) X B + A (dX) B + A X dB)", "tr(A (dX) B)",
                        "tr(B A dX)", "(B A)ᵀ", "Aᵀ Bᵀ"]
    doc = d.to_dict()
    assert [s["number"] for s in doc["steps"]][:5] == [None, 4, 2, 1, 6]
    assert doc["steps"][3]["note"] == "by (1), dA = 0 and dB = 0"


def test_logdet_example_substitutes_y_and_merges_the_two_traces():
    d = derive("log(det(X'*X))", wrt="X")
    r = rules_of(d)
    assert r[:4] == ["differential", "logdet", "product", "transpose"]
    doc = d.to_dict()
    assert "with Y = Xᵀ X" in doc["steps"][1]["note"]
    assert "2 tr((Xᵀ X)⁻¹ Xᵀ dX)" in texts(d)
    assert d.gradient_text == "2*X*inv(X'*X)"


def test_symmetric_variable_says_which_convention():
    d = derive("tr(A*S)", wrt="S", let={"S": "symmetric"})
    steps = d.to_dict()["steps"]
    last = steps[-1]
    assert last["rule"] == "symmetric" and "(G + Gᵀ)" in last["note"] and "2G − G∘I" in last["note"]
    # never the false chain "∇f = Aᵀ = ½(Aᵀ + A)": the read-off Aᵀ is G, a new left-hand side
    assert steps[-2]["rule"] == "read_off" and steps[-2]["lhs"] == r"\mathbf{G}"
    assert steps[-2]["text"] == "Aᵀ" and last["lhs"].startswith(r"\nabla")
    assert d.gradient_text == "1/2*(A + A')"


def test_document_schema():
    doc = derive("tr(A*X*B)", wrt="X").to_dict()
    assert set(doc) == {"schema_version", "generator", "input", "function", "rules", "steps",
                        "gradient", "result"}
    assert doc["schema_version"] == 1
    assert doc["generator"].startswith("texderive ")
    assert doc["input"] == {"expr": "tr(A*X*B)", "wrt": "X", "let": {}, "hessian": False}
    assert doc["result"] == {"kind": "gradient", **doc["gradient"], "shape": ["n", "q"]}
    for step in doc["steps"]:
        assert set(step) == {"rule", "number", "lhs", "latex", "text", "note", "note_latex"}
        for key in ("latex", "lhs"):
            assert "&" not in step[key] and "\\\\" not in step[key] and "\\label" not in step[key]
    assert doc["steps"][-1]["lhs"] == r"\nabla_{\mathbf{X}} f"
    assert {r["id"] for r in doc["rules"]} >= {"trace", "product", "constant", "cyclic"}
    json.dumps(doc)
    checked = derive("tr(A*X*B)", wrt="X", check=True).to_dict()
    assert checked["check"]["kind"] == "numeric" and checked["check"]["passed"]


def test_numbers_basic_rules_fixed_others_in_order_of_first_use_across_a_deck():
    d1 = derive("log(det(X'*X))", wrt="X")
    d2 = derive("det(X)", wrt="X")
    n = number_rules([d1, d2])
    assert [n[r] for r in ("constant", "product", "transpose", "trace", "inverse")] == [1, 2, 3, 4, 5]
    assert n["logdet"] == 6 and n["det"] > n["cyclic"] > n["logdet"]
    doc = d2.to_dict(numbers=n)
    assert next(s for s in doc["steps"] if s["rule"] == "det")["number"] == n["det"]
    assert all(s["number"] is None for s in doc["steps"] if s["rule"] in ("collect", "read_off"))


@pytest.mark.parametrize("expr, wrt, fragment", [
    ("tr(A*X", "X", "is not closed"),
    ("tr(A*X)", "Y", "does not occur"),
    ("tr(A*X)", "1X", "bad variable name"),
    ("A*X", "Y", "does not occur"),
])
def test_bad_input_raises_texderive_error(expr, wrt, fragment):
    with pytest.raises(TexderiveError) as ei:
        derive(expr, wrt=wrt)
    assert fragment in str(ei.value)


def test_same_input_same_document():
    a = json.dumps(derive("tr(inv(X'*C*X)*(X'*B*X))", wrt="X", let={"B": "symmetric"}).to_dict())
    b = json.dumps(derive("tr(inv(X'*C*X)*(X'*B*X))", wrt="X", let={"B": "symmetric"}).to_dict())
    assert a == b


def test_readme_documents_every_rule_id_with_its_statement():
    from pathlib import Path
    from texderive.rules import RULES
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for r in RULES:
        assert f"| `{r.id}` |" in readme, r.id
        assert r.text.replace("|", "\\|") in readme, r.id


def test_a_numeric_check_failure_is_confirmed_by_the_exact_check():
    # finite differences cannot follow sin(999999*alpha); the exact check proves the gradient
    d = derive("sin(999999*alpha)*tr(X)", wrt="alpha", check=True)
    assert d.check["kind"] == "exact" and d.check["status"] == "proved"
    assert d.check["numeric"]["passed"] is False


@pytest.mark.parametrize("expr, wrt, text", [
    ("sum((tr(X)*a'))", "X", "sum(a)*I"),      # a row times ones is a sum; sum(a') = sum(a)
    ("sum(c*tr(X))", "X", "sum(c)*I"),
    ("y'*x + ones'*x", "x", "y + ones"),
    ("ones'*(diag(x)*x)", "x", "2*x"),          # diag(x)*ones = diag(x*ones') = x
    ("sum(diag(x))", "x", "ones"),              # diag(ones) = ones, never the ambiguous diag(ones)
])
def test_sums_of_ones_print_unambiguously(expr, wrt, text):
    # ones times a vector prints as sum(...): "(a'*ones)*I" would read back as a'*ones(n,n)*I
    d = derive(expr, wrt=wrt, check=True)
    assert d.gradient_text == text
