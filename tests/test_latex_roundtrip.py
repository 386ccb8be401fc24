"""Issue 5: the LaTeX texderive prints reads back (--latex) to the same tree, for the
benchmark sample's functions and gradients, in every notation option."""
import json
from pathlib import Path

import pytest

from texderive import derive, shapes
from texderive.latex_input import parse_latex
from texderive.printers.latex import LatexNotation, to_latex
from texderive.printers.text import to_text

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "corpus.json"
PROBLEMS = json.loads(CORPUS.read_text()) if CORPUS.exists() else []
OWN = [("tr(A*X*B)", "X", {}), ("log(det(X'*X))", "X", {}), ("norm(A*x - b)^2", "x", {}),
       ("x'*A*x", "x", {}), ("det(X)", "X", {}), ("tr(A*S)", "S", {"S": "symmetric"}),
       ("sum(log(x))", "x", {}), ("a'*(X .* X)*b", "X", {}), ("tr(A*X)/tr(B*X)", "X", {}),
       ("tr(X^-2)", "X", {}), ("sum(sigmoid(X*w))", "w", {}), ("norm(x - a)", "x", {})]
CASES = [(p["expr"], p["wrt"], p["let"]) for p in PROBLEMS] + OWN
NOTATIONS = [LatexNotation(), LatexNotation(bold="bm", transpose="mathsf", trace="Tr"),
             LatexNotation(bold="none", transpose="T"), LatexNotation(macros=True),
             LatexNotation(web=True)]


def reread(node, let, notation):
    tex = to_latex(node, notation)
    return shapes.elaborate(parse_latex(tex), tex, shapes.parse_let(let), scalar=False)


@pytest.mark.parametrize("expr, wrt, let", CASES, ids=[c[0] for c in CASES])
def test_function_and_gradient_latex_read_back(expr, wrt, let):
    d = derive(expr, wrt=wrt, let=let)
    for nt in NOTATIONS:
        for node in (d.f, d.gradient):
            assert to_text(reread(node, let, nt)) == to_text(node)


def test_latex_input_gives_the_plain_tree():
    plain = derive("log(det(X'*X))", wrt="X")
    latex = derive(r"\log\det(\mathbf{X}^\top\mathbf{X})", wrt="X", latex=True)
    assert plain.f == latex.f and plain.gradient_text == latex.gradient_text
