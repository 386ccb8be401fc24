"""Issue 13 item 4: every LaTeX string a derivation prints is a claim to the reader.

Every step's ``latex``, the function's and the result's, read back through the LaTeX
reader (extended here, and only here, to read ``\\mathrm{d}``/``\\operatorname{d}``)
gives the same expression tree as the step itself, over the whole benchmark sample and
the example decks, in several notations.  A size printed as a name (``n``, ``mn``) is
read with its meaning.  A lost transpose (``\\mathbf{1}\\mathbf{X}`` for 1ᵀX), a lost size
or a dropped bracket makes the trees differ.
"""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from texderive import derive, ir, shapes
from texderive.errors import ParseError, ShapeError
from texderive.latex_input import parse_latex
from texderive.printers.latex import LatexNotation, to_latex
from texderive.printers.text import sized_form

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "bench" / "corpus.json"
PROBLEMS = json.loads(CORPUS.read_text()) if CORPUS.exists() else []


def _deck_cases():
    out = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        deck = yaml.safe_load(path.read_text())
        shared = deck.get("let") or {}
        for item in deck.get("derivations") or []:
            let = {**shared, **(item.get("let") or {})}
            out.append((item["expr"], item["wrt"], let, f"{path.stem}: {item.get('title', '')}"))
    return out


CASES = ([(p["expr"], p["wrt"], p["let"], p["id"]) for p in PROBLEMS] + _deck_cases() + [
    ("sum(X*w)", "w", {}, "issue 13: sum(Xw)"),
    ("sum(A*X*B)", "X", {}, "issue 13: sum(AXB)"),
    ("sum(X + ones*v')", "v", {}, "issue 12: a size in the gradient"),
    ("sum(log(x))", "x", {}, "log barrier"),
    ("log(sum(exp(W*x)))", "x", {}, "log-sum-exp"),
    ("sum(ones'*X)", "X", {}, "row of ones"),
])
NOTATIONS = [LatexNotation(), LatexNotation(bold="bm", transpose="mathsf", trace="Tr"),
             LatexNotation(bold="none", transpose="T", differential="operatorname"),
             LatexNotation(web=True), LatexNotation(macros=True)]


def declarations(f: ir.Node) -> tuple:
    """The input's variables with their sizes, and the size names read as scalars."""
    let, sizes = {}, []
    for s in ir.free_syms(f):
        dims = [d for d in (s.shape if s.kind == "matrix" else s.shape[:1]) if s.kind != "scalar"]
        let[s.name] = " ".join([s.kind] + [str(d) for d in dims])
        for d in s.shape:
            for fac in ir.dim_factors(d):
                if isinstance(fac, str) and fac not in sizes:
                    sizes.append(fac)
    names = {s for s in let}
    scalars = [z for z in sizes if z not in names]
    for z in scalars:
        let[z] = "scalar"
    return let, scalars


def meaning(node: ir.Node, sizes) -> ir.Node:
    """A tree read back, with each scalar named as a size standing for that size."""
    if isinstance(node, ir.Sym):
        return ir.Size(node.name) if node.kind == "scalar" and node.name in sizes else node
    if not node.children:
        return node
    args = tuple(meaning(a, sizes) if isinstance(a, ir.Node) else a for a in node.args)
    return node.rebuild(*args)


def normal(node: ir.Node) -> ir.Node:
    """The printer's exact size rewrites (sum(1) = n ...), numbers and sizes of a product
    merged into one leading number and one size, K by its shape only."""
    if isinstance(node, ir.Commutation):
        return ir.Commutation(ir.Zeros(*node.args[0].shape))
    if isinstance(node, ir.Transpose) and isinstance(node.args[0], (ir.Ones, ir.Zeros)):
        return type(node.args[0])(*reversed(node.args[0].args))     # as elaboration does
    if node.children:
        args = tuple(normal(a) if isinstance(a, ir.Node) else a for a in node.args)
        node = node.rebuild(*args)
    if type(node) in (ir.Sum, ir.Trace, ir.MatMul):
        alt = sized_form(node)
        if alt is not None:
            node = normal(alt) if alt != node else alt
    if isinstance(node, ir.MatMul):
        coef, dims, rest = Fraction(1), [], []
        todo = list(node.args)
        while todo:
            f = todo.pop(0)
            if isinstance(f, ir.Num):
                coef *= f.value
            elif isinstance(f, ir.Size):
                dims.append(f.args[0])
            else:
                rest.append(f)
            if not todo and len(rest) == 1 and isinstance(rest[0], ir.MatMul):
                todo = list(rest.pop().args)    # m*(1'*dv) is m*1'*dv: scalars pulled out
        if dims or len(rest) + (coef != 1) != len(node.args):
            d = ir.dim_mul(*dims)
            if isinstance(d, int):
                coef *= d
            else:
                rest.insert(0, ir.Size(d))
            lead = [ir.Num(coef)] if coef != 1 else []
            factors = lead + rest
            node = factors[0] if len(factors) == 1 else ir.MatMul(*factors)
    return node


def read_back(tex: str, shape, let: dict, sizes) -> ir.Node:
    syn = parse_latex(tex, differentials=True)
    got = shapes.elaborate(syn, tex, shapes.parse_let(let), scalar=False, shape=shape)
    return meaning(got, sizes)


def printed(d):
    yield "f", d.f
    for i, step in enumerate(d.steps):
        yield f"step {i + 1} ({step.rule})", step.expr
    yield "result", d.gradient


@pytest.mark.parametrize("expr, wrt, let, label", CASES, ids=[c[3] for c in CASES])
def test_every_printed_formula_reads_back_to_its_own_tree(expr, wrt, let, label):
    d = derive(expr, wrt=wrt, let=let)
    decl, sizes = declarations(d.f)
    for nt in NOTATIONS:
        for where, node in printed(d):
            tex = to_latex(node, nt)
            got = read_back(tex, node.shape, decl, sizes)
            assert normal(got) == normal(node), (
                f"{label}, {where}, {nt!r}: {tex!r} reads back as\n{got!r}\nnot\n{node!r}")


def test_a_lost_transpose_is_caught():
    """The mechanism of issue 13 item 4: 1ᵀX printed as 1X would read back as another tree."""
    X = ir.Sym("X", "matrix", "m", "n")
    node = ir.MatMul(ir.Ones(1, "m"), X)
    decl, sizes = {"X": "matrix m n"}, []
    assert normal(read_back(to_latex(node), node.shape, decl, sizes)) == node
    with pytest.raises(ShapeError, match="without a transpose"):
        read_back(r"\mathbf{1}\mathbf{X}", node.shape, decl, sizes)
    with pytest.raises(ShapeError, match="without a transpose"):       # inside a scalar too
        read_back(r"\mathbf{1}\mathbf{X}\mathrm{d}\mathbf{w}", (1, 1),
                  {"X": "matrix m n", "w": "vector n"}, sizes)


def test_the_user_facing_reader_still_refuses_differentials():
    with pytest.raises(ParseError):
        parse_latex(r"\mathrm{d}\mathbf{X}")


_X = ir.Sym("X", "matrix", "m", "n")
_A = ir.Sym("A", "matrix", "m", "m")
_B = ir.Sym("B", "matrix", "n", "n")
SECTION6 = [
    ir.MatMul(ir.Kron(ir.Transpose(_B), _A), ir.Vec(_X)),
    ir.MatMul(ir.Kron(ir.Ident("n"), _A), ir.Vec(_X)),
    ir.MatMul(ir.Commutation(_X), ir.Kron(_A, _B)),
    ir.Add(ir.MatMul(ir.MINUS_ONE, ir.Kron(_B, _A)), ir.Kron(ir.Kron(ir.Ident("n"), _A), ir.Ones(1, 1))),
    ir.MatMul(ir.Transpose(ir.Vec(_X)), ir.Kron(_B, _A), ir.Vec(_X)),
    ir.Kron(ir.Ones("n", 1), _A),
    ir.Kron(ir.Ones(1, "n"), _A),
    ir.MatMul(ir.Num(3), ir.Size("m*n"), ir.Transpose(ir.Vec(_X)), ir.Vec(_X)),
    ir.D(ir.Vec(_X)),
    ir.MatMul(ir.Kron(_B, _A), ir.D(ir.Vec(_X))),
]


@pytest.mark.parametrize("node", SECTION6, ids=[repr(n)[:60] for n in SECTION6])
def test_kronecker_notation_reads_back(node):
    decl, sizes = {"X": "matrix m n", "A": "matrix m m", "B": "matrix n n", "m": "scalar",
                   "n": "scalar"}, ["m", "n"]
    for nt in NOTATIONS:
        tex = to_latex(node, nt)
        assert normal(read_back(tex, node.shape, decl, sizes)) == normal(node), tex
