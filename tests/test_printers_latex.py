"""The LaTeX printer: exact strings per node class, nested pairs, notation options, names.

Inputs are real trees: ``shapes.elaborate(notation.parse(s), s, shapes.parse_let(let))``;
only forms the parser never builds (``D``, a bare ``Num``, ...) are built from ``ir``.
"""
from __future__ import annotations

import copy
import os
import pickle
import shutil
import subprocess
import sys
from fractions import Fraction

import pytest

from texderive import ir, notation, shapes
from texderive.errors import TexderiveError
from texderive.printers import latex
from texderive.printers.latex import (LatexNotation, differential, dy, equals, gradient_lhs,
                                      name_latex, to_latex)

# t, s, a, b, c are scalars in every table unless a row says otherwise
LET = {"t": "scalar", "s": "scalar", "a": "scalar", "b": "scalar", "c": "scalar"}


def tree(text: str, let=None) -> ir.Node:
    decl = dict(LET)
    decl.update(let or {})
    return shapes.elaborate(notation.parse(text), text, shapes.parse_let(decl), scalar=False)


X = ir.Sym("X", "matrix", "n", "n")
A = ir.Sym("A", "matrix", "n", "n")
B = ir.Sym("B", "matrix", "n", "n")
x = ir.Sym("x", "vector", "n", 1)
t = ir.Sym("t", "scalar", 1, 1)


# ---------------------------------------------------------------------------
# every node class, from text

FROM_TEXT = [
    # Size, Kron, Vec, Commutation (SPEC section 6)
    ("rows(X)*x", r"m\mathbf{x}"),
    ("rows(X)*cols(X)*x", r"m n\mathbf{x}"),
    ("3*rows(x)*x", r"3m\mathbf{x}"),
    ("kron(A, B)", r"\mathbf{A} \otimes \mathbf{B}"),
    ("kron(A', B*C)", r"\mathbf{A}^\top \otimes (\mathbf{B}\mathbf{C})"),
    ("commutation(X)", r"\mathbf{K}_{m,n}"),
    # Sym
    ("X", r"\mathbf{X}"),
    ("x", r"\mathbf{x}"),
    ("c", "c"),
    ("alpha", r"\alpha"),
    ("Sigma", r"\bm{\Sigma}"),
    # Ident, Ones, Zeros (shapes from the context)
    ("X + I", r"\mathbf{X} + \mathbf{I}"),
    ("X + ones", r"\mathbf{X} + \mathbf{1}"),
    ("X - zeros", r"\mathbf{X} - \mathbf{0}"),
    ("X - 2", r"\mathbf{X} - 2\mathbf{1}"),
    # Add
    ("A + B", r"\mathbf{A} + \mathbf{B}"),
    ("A - B", r"\mathbf{A} - \mathbf{B}"),
    ("-A + B", r"-\mathbf{A} + \mathbf{B}"),
    ("-2*a + b", r"-2a + b"),
    ("a - 2*b", r"a - 2b"),
    ("a - -2*b", r"a + 2b"),
    ("a - 2", r"a - 2"),
    ("a + 2", r"a + 2"),
    ("A - 1/2*B", r"\mathbf{A} - \frac{1}{2}\mathbf{B}"),
    ("x - x/t", r"\mathbf{x} - \frac{\mathbf{x}}{t}"),
    ("x - 2*x/t", r"\mathbf{x} - \frac{2\mathbf{x}}{t}"),
    ("x'*A*x + b*x'*y - c",
     r"\mathbf{x}^\top\mathbf{A}\mathbf{x} + b\mathbf{x}^\top\mathbf{y} - c"),
    # MatMul: juxtaposition, coefficients
    ("A*X*B", r"\mathbf{A}\mathbf{X}\mathbf{B}"),
    ("A X B", r"\mathbf{A}\mathbf{X}\mathbf{B}"),
    ("2*X", r"2\mathbf{X}"),
    ("-X", r"-\mathbf{X}"),
    ("-2*X", r"-2\mathbf{X}"),
    ("1/2*x", r"\frac{1}{2}\mathbf{x}"),
    ("x/2", r"\frac{1}{2}\mathbf{x}"),
    ("-0.5*x", r"-\frac{1}{2}\mathbf{x}"),
    ("1e-3*X", r"\frac{1}{1000}\mathbf{X}"),
    ("a*b", "a b"),
    ("a*x", r"a\mathbf{x}"),
    ("x*a", r"\mathbf{x}a"),
    ("alpha*x", r"\alpha\mathbf{x}"),
    ("alpha*c", r"\alpha c"),
    ("c*alpha", r"c\alpha"),
    ("3*2^a", r"3(2^{a})"),
    ("a*2^b*c", r"a(2^{b})c"),
    ("2^a*x", r"2^{a}\mathbf{x}"),
    # MatMul: reciprocal factors
    ("x/t", r"\frac{\mathbf{x}}{t}"),
    ("2*x/t", r"\frac{2\mathbf{x}}{t}"),
    ("-x/t", r"-\frac{\mathbf{x}}{t}"),
    ("-2*x/t", r"-\frac{2\mathbf{x}}{t}"),
    ("1/2*x/t", r"\frac{1}{2}\frac{\mathbf{x}}{t}"),
    ("-1/2*x/t", r"-\frac{1}{2}\frac{\mathbf{x}}{t}"),
    ("2/t", r"\frac{2}{t}"),
    ("-1/t", r"-\frac{1}{t}"),
    ("1/2/t", r"\frac{1}{2}\frac{1}{t}"),
    ("x/t/s", r"\frac{\mathbf{x}}{t}\frac{1}{s}"),
    ("x/(t*s)", r"\frac{\mathbf{x}}{t s}"),
    ("-1/2*x/t/s", r"-\frac{1}{2}\frac{\mathbf{x}}{t}\frac{1}{s}"),
    ("x/(u'*v)", r"\frac{\mathbf{x}}{\mathbf{u}^\top\mathbf{v}}"),
    ("x'*y/t", r"\frac{\mathbf{x}^\top\mathbf{y}}{t}"),
    ("(a + b)/t", r"\frac{a + b}{t}"),
    ("2*(a + b)/t", r"\frac{2(a + b)}{t}"),
    ("x'*x/(1 + a)", r"\frac{\mathbf{x}^\top\mathbf{x}}{1 + a}"),
    ("t^-1*x", r"t^{-1}\mathbf{x}"),
    ("t^-1*x/s", r"\frac{t^{-1}\mathbf{x}}{s}"),
    ("1/t", r"\frac{1}{t}"),
    # MatMul: what gets parentheses
    ("(A + B)*(C - D)", r"(\mathbf{A} + \mathbf{B})(\mathbf{C} - \mathbf{D})"),
    ("-(A + B)", r"-(\mathbf{A} + \mathbf{B})"),
    ("2*(A - B)*X", r"2(\mathbf{A} - \mathbf{B})\mathbf{X}"),
    ("A*(B.*C)", r"\mathbf{A}(\mathbf{B} \odot \mathbf{C})"),
    ("2*(x.*y)", r"2(\mathbf{x} \odot \mathbf{y})"),
    ("A*(1./B)", r"\mathbf{A}(\mathbf{1} \oslash \mathbf{B})"),
    ("(x + x/t)*a", r"\left(\mathbf{x} + \frac{\mathbf{x}}{t}\right)a"),
    # Transpose, Inverse, MatPow
    ("X'", r"\mathbf{X}^\top"),
    ("X^T", r"\mathbf{X}^\top"),
    ("X_1'*W_q", r"\mathbf{X}_{1}^\top\mathbf{W}_{q}"),
    ("(A*B)'", r"(\mathbf{A}\mathbf{B})^\top"),
    ("(A + B)'", r"(\mathbf{A} + \mathbf{B})^\top"),
    ("(A + 1/2*B)'", r"\left(\mathbf{A} + \frac{1}{2}\mathbf{B}\right)^\top"),
    ("(-X)'", r"(-\mathbf{X})^\top"),
    ("(A.*B)'", r"(\mathbf{A} \odot \mathbf{B})^\top"),
    ("inv(X)", r"\mathbf{X}^{-1}"),
    ("X^-1", r"\mathbf{X}^{-1}"),
    ("inv(X'*X)", r"(\mathbf{X}^\top\mathbf{X})^{-1}"),
    ("X^3", r"\mathbf{X}^{3}"),
    ("X^-2", r"\mathbf{X}^{-2}"),
    ("(A*B)^2", r"(\mathbf{A}\mathbf{B})^{2}"),
    # nested pairs of postfix operators
    ("inv(X)'", r"\mathbf{X}^{-\top}"),
    ("inv(A*B)'", r"(\mathbf{A}\mathbf{B})^{-\top}"),
    ("inv(X')", r"(\mathbf{X}^\top)^{-1}"),
    ("(X^2)'", r"(\mathbf{X}^{2})^\top"),
    ("(X')^2", r"(\mathbf{X}^\top)^{2}"),
    ("X''", r"(\mathbf{X}^\top)^\top"),
    ("inv(inv(X))", r"(\mathbf{X}^{-1})^{-1}"),
    ("inv(X^2)", r"(\mathbf{X}^{2})^{-1}"),
    ("inv(X)^2", r"\mathbf{X}^{-2}"),
    ("(X^-2)'", r"(\mathbf{X}^{-2})^\top"),
    ("inv(X)'*A", r"\mathbf{X}^{-\top}\mathbf{A}"),
    ("(B.^2)'", r"(\mathbf{B}^{\circ 2})^\top"),
    ("exp(X)'", r"\exp(\mathbf{X})^\top"),
    # Pow
    ("a^2", "a^{2}"),
    ("a^0.5", "a^{1/2}"),
    ("a^(1/3)", "a^{1/3}"),
    ("a^(-0.5)", "a^{-1/2}"),
    ("a^b", "a^{b}"),
    ("a^(-b)", "a^{-b}"),
    ("a^(tr(X))", r"a^{\operatorname{tr}(\mathbf{X})}"),
    ("(x'*x)^0.5", r"(\mathbf{x}^\top\mathbf{x})^{1/2}"),
    ("(a + b)^2", "(a + b)^{2}"),
    ("(2*a)^2", "(2a)^{2}"),
    ("(-a)^2", "(-a)^{2}"),
    ("(a^2)^3", "(a^{2})^{3}"),
    ("(a/t)^2", r"\left(\frac{a}{t}\right)^{2}"),
    ("(1/t)^2", r"\left(\frac{1}{t}\right)^{2}"),
    ("(1/2)^a", r"\left(\frac{1}{2}\right)^{a}"),
    ("(-2)^a", "(-2)^{a}"),
    ("2^a", "2^{a}"),
    ("alpha_2^2", r"\alpha_{2}^{2}"),
    ("tr(X)^2", r"\operatorname{tr}(\mathbf{X})^{2}"),
    ("exp(a^0.5)", r"\exp(a^{1/2})"),
    # Norm
    ("norm(x)", r"\|\mathbf{x}\|"),
    ("norm2(x)", r"\|\mathbf{x}\|"),
    ("norm(X)", r"\|\mathbf{X}\|_F"),
    ("norm(x)^2", r"\|\mathbf{x}\|^{2}"),
    ("norm(X)^2", r"\|\mathbf{X}\|_F^{2}"),
    ("norm(A*x - b*y)^2", r"\|\mathbf{A}\mathbf{x} - b\mathbf{y}\|^{2}"),
    # Trace, Det, LogDet, Sum, DiagMat, DiagVec
    ("tr(A*X*B)", r"\operatorname{tr}(\mathbf{A}\mathbf{X}\mathbf{B})"),
    ("Tr(X)", r"\operatorname{tr}(\mathbf{X})"),
    ("tr(inv(X'*X)/t)",
     r"\operatorname{tr}\left(\frac{(\mathbf{X}^\top\mathbf{X})^{-1}}{t}\right)"),
    ("det(X)", r"\det(\mathbf{X})"),
    ("logdet(X'*X)", r"\log\det(\mathbf{X}^\top\mathbf{X})"),
    ("log(det(X))", r"\log\det(\mathbf{X})"),
    ("sum(X)", r"\operatorname{sum}(\mathbf{X})"),
    ("diag(x)", r"\operatorname{diag}(\mathbf{x})"),
    ("diag(X)", r"\operatorname{diag}(\mathbf{X})"),
    ("det(X)^2", r"\det(\mathbf{X})^{2}"),
    # Func
    ("log(a)", r"\log(a)"),
    ("exp(x)", r"\exp(\mathbf{x})"),
    ("sin(a)", r"\sin(a)"),
    ("cos(a)", r"\cos(a)"),
    ("tan(a)", r"\tan(a)"),
    ("sinh(a)", r"\sinh(a)"),
    ("cosh(a)", r"\cosh(a)"),
    ("tanh(X)", r"\tanh(\mathbf{X})"),
    ("sqrt(a)", r"\sqrt{a}"),
    ("sqrt(x'*x)", r"\sqrt{\mathbf{x}^\top\mathbf{x}}"),
    ("sigmoid(x)", r"\operatorname{sigmoid}(\mathbf{x})"),
    ("abs(a)", r"\lvert a\rvert"),
    ("abs(x)", r"\lvert\mathbf{x}\rvert"),
    ("exp(-a)", r"\exp(-a)"),
    ("log(1 + exp(x))", r"\log(\mathbf{1} + \exp(\mathbf{x}))"),
    ("log(a/t)", r"\log\left(\frac{a}{t}\right)"),
    # Hadamard, HadPow
    ("A.*B", r"\mathbf{A} \odot \mathbf{B}"),
    ("A./B", r"\mathbf{A} \oslash \mathbf{B}"),
    ("A.*B./C", r"\mathbf{A} \odot \mathbf{B} \oslash \mathbf{C}"),
    ("1./B", r"\mathbf{1} \oslash \mathbf{B}"),
    ("1./B.*A", r"(\mathbf{1} \oslash \mathbf{B}) \odot \mathbf{A}"),
    ("X.*(A + B)", r"\mathbf{X} \odot (\mathbf{A} + \mathbf{B})"),
    ("(A*B).*C", r"(\mathbf{A}\mathbf{B}) \odot \mathbf{C}"),
    ("A'.*B", r"\mathbf{A}^\top \odot \mathbf{B}"),
    ("A./(B + C)", r"\mathbf{A} \oslash (\mathbf{B} + \mathbf{C})"),
    ("1./(A*B)", r"\mathbf{1} \oslash (\mathbf{A}\mathbf{B})"),
    ("a./x", r"a(\mathbf{1} \oslash \mathbf{x})"),
    ("B.^2", r"\mathbf{B}^{\circ 2}"),
    ("B.^0.5", r"\mathbf{B}^{\circ 1/2}"),
    ("B.^-2", r"\mathbf{B}^{\circ -2}"),
    ("(A + B).^2", r"(\mathbf{A} + \mathbf{B})^{\circ 2}"),
    ("(A*B).^2", r"(\mathbf{A}\mathbf{B})^{\circ 2}"),
    ("B'.^2", r"(\mathbf{B}^\top)^{\circ 2}"),
    ("2 .^ x", r"2^{\circ \mathbf{x}}"),
    ("x .^ y", r"\mathbf{x}^{\circ \mathbf{y}}"),
    ("A + B.*C", r"\mathbf{A} + \mathbf{B} \odot \mathbf{C}"),
]


@pytest.mark.parametrize("text,expected", FROM_TEXT)
def test_from_text(text, expected):
    assert to_latex(tree(text)) == expected


def test_tree_shapes_are_as_the_tables_assume():
    # the rows above rely on these elaborations; if one changes, the row means something else
    assert tree("x/t/s") == ir.MatMul(tree("x"), ir.Pow(t, ir.MINUS_ONE),
                                      ir.Pow(tree("s"), ir.MINUS_ONE))
    assert isinstance(tree("x/(t*s)").args[1].args[0], ir.MatMul)
    assert tree("inv(X)'") == ir.Transpose(ir.Inverse(ir.Sym("X", "matrix", "m", "m")))
    assert tree("X^-2") == ir.MatPow(ir.Inverse(ir.Sym("X", "matrix", "m", "m")), 2)
    assert isinstance(tree("1./B"), ir.HadPow)
    assert tree("3*2^a").args[0] == ir.Num(3)


# ---------------------------------------------------------------------------
# nodes the parser does not build

FROM_IR = [
    (ir.Num(2), "2"),
    (ir.Num(0), "0"),
    (ir.Num(-3), "-3"),
    (ir.Num(Fraction(1, 2)), r"\frac{1}{2}"),
    (ir.Num(Fraction(-3, 4)), r"-\frac{3}{4}"),
    (ir.Ident("n"), r"\mathbf{I}"),
    (ir.Ones("n", 1), r"\mathbf{1}"),
    (ir.Zeros("m", "n"), r"\mathbf{0}"),
    (ir.D(X), r"\mathrm{d}\mathbf{X}"),
    (ir.D(t), r"\mathrm{d}t"),
    (ir.D(ir.Sym("alpha", "scalar", 1, 1)), r"\mathrm{d}\alpha"),
    (ir.D(ir.Ident("n")), r"\mathrm{d}\mathbf{I}"),
    (ir.D(ir.MatMul(A, X)), r"\mathrm{d}(\mathbf{A}\mathbf{X})"),
    (ir.D(ir.Transpose(X)), r"\mathrm{d}(\mathbf{X}^\top)"),
    (ir.D(ir.Trace(X)), r"\mathrm{d}\,\operatorname{tr}(\mathbf{X})"),
    (ir.D(ir.MatMul(x, ir.Pow(t, ir.MINUS_ONE))),
     r"\mathrm{d}\left(\frac{\mathbf{x}}{t}\right)"),
    (ir.Transpose(ir.D(X)), r"(\mathrm{d}\mathbf{X})^\top"),
    (ir.Transpose(ir.D(ir.MatMul(A, X))), r"(\mathrm{d}(\mathbf{A}\mathbf{X}))^\top"),
    (ir.Inverse(ir.D(X)), r"(\mathrm{d}\mathbf{X})^{-1}"),
    (ir.MatMul(A, ir.D(X), B), r"\mathbf{A}(\mathrm{d}\mathbf{X})\mathbf{B}"),
    (ir.MatMul(ir.Num(2), ir.D(X)), r"2\mathrm{d}\mathbf{X}"),
    (ir.MatMul(ir.Transpose(ir.D(X)), X), r"(\mathrm{d}\mathbf{X})^\top\mathbf{X}"),
    (ir.Trace(ir.MatMul(A, ir.D(X))), r"\operatorname{tr}(\mathbf{A}\mathrm{d}\mathbf{X})"),
    (ir.Add(ir.MatMul(ir.D(A), B), ir.MatMul(A, ir.D(B))),
     r"(\mathrm{d}\mathbf{A})\mathbf{B} + \mathbf{A}\mathrm{d}\mathbf{B}"),
    (ir.Hadamard(ir.D(X), A), r"\mathrm{d}\mathbf{X} \odot \mathbf{A}"),
    # a number factor that is not leading
    (ir.MatMul(A, ir.Num(2)), r"\mathbf{A}(2)"),
    (ir.MatMul(A, ir.Num(Fraction(1, 2))), r"\mathbf{A}\left(\frac{1}{2}\right)"),
    (ir.MatMul(ir.Num(2), ir.Num(-3), A), r"2(-3)\mathbf{A}"),
    # nested products and sums
    (ir.MatMul(A, ir.MatMul(X, B)), r"\mathbf{A}(\mathbf{X}\mathbf{B})"),
    (ir.Add(A, ir.Add(X, B)), r"\mathbf{A} + (\mathbf{X} + \mathbf{B})"),
    (ir.Add(ir.Add(A, X), B), r"(\mathbf{A} + \mathbf{X}) + \mathbf{B}"),
    (ir.Add(A, ir.MatMul(ir.Num(-1), ir.Add(X, B))), r"\mathbf{A} - (\mathbf{X} + \mathbf{B})"),
    (ir.Add(t, ir.Num(Fraction(-1, 2))), r"t - \frac{1}{2}"),
    (ir.Add(ir.Num(-1), t), r"-1 + t"),
    # powers the parser normalises away
    (ir.MatPow(ir.Inverse(X), 2), r"\mathbf{X}^{-2}"),
    (ir.MatPow(ir.Transpose(ir.Inverse(X)), 2), r"(\mathbf{X}^{-\top})^{2}"),
    (ir.Pow(ir.Num(2), ir.MINUS_ONE), "2^{-1}"),
    (ir.Pow(t, ir.Pow(t, ir.MINUS_ONE)), r"t^{\frac{1}{t}}"),
    (ir.Inverse(ir.Transpose(ir.Inverse(X))), r"(\mathbf{X}^{-\top})^{-1}"),
    (ir.Transpose(ir.Inverse(ir.Transpose(X))), r"(\mathbf{X}^\top)^{-\top}"),
    (ir.Hadamard(A, ir.HadPow(B, ir.Num(2))),
     r"\mathbf{A} \odot \mathbf{B}^{\circ 2}"),
    (ir.Hadamard(t, ir.Num(Fraction(1, 2))), r"t \odot \left(\frac{1}{2}\right)"),
    # SPEC section 6: Kronecker products, vec, K, and constants sized where nothing else
    # gives their size
    (ir.MatMul(ir.Kron(A, B), ir.Vec(X)),
     r"(\mathbf{A} \otimes \mathbf{B})\operatorname{vec}(\mathbf{X})"),
    (ir.Add(ir.MatMul(ir.MINUS_ONE, ir.Kron(A, B)), ir.Kron(A, B)),
     r"-(\mathbf{A} \otimes \mathbf{B}) + \mathbf{A} \otimes \mathbf{B}"),
    (ir.Kron(ir.Kron(A, B), x), r"(\mathbf{A} \otimes \mathbf{B}) \otimes \mathbf{x}"),
    (ir.Kron(ir.Ident("m"), A), r"\mathbf{I}_{m} \otimes \mathbf{A}"),
    (ir.Kron(ir.Ones(1, "m"), A), r"\mathbf{1}_{m}^\top \otimes \mathbf{A}"),
    (ir.Kron(ir.Ones("m", "p"), A), r"\mathbf{1}_{m,p} \otimes \mathbf{A}"),
    (ir.Vec(ir.Ident("m*n")), r"\operatorname{vec}(\mathbf{I}_{mn})"),
    (ir.Commutation(ir.Sym("Y", "matrix", "m", 3)), r"\mathbf{K}_{m,3}"),
    (ir.MatMul(ir.Size("m*n"), x), r"mn\mathbf{x}"),
    (ir.MatMul(ir.Num(3), ir.Size("2*n"), x), r"3(2n)\mathbf{x}"),
    # a row of ones keeps its transpose (issue 13: 1ᵀX printed as 1X)
    (ir.MatMul(ir.Ones(1, "n"), X), r"\mathbf{1}^\top\mathbf{X}"),
    (ir.MatMul(ir.Zeros(1, "n"), X), r"\mathbf{0}^\top\mathbf{X}"),
    (ir.Transpose(ir.MatMul(ir.Ones(1, "n"), X)), r"(\mathbf{1}^\top\mathbf{X})^\top"),
    # sizes a product of ones or a sum of ones would lose
    (ir.MatMul(ir.Ones("m", "n"), ir.Ones("n", 1)), r"n\mathbf{1}"),
    (ir.MatMul(x, ir.Sum(ir.Ones("n", 1))), r"n\mathbf{x}"),
    (ir.Trace(ir.Ident("n")), "n"),
]


@pytest.mark.parametrize("node,expected", FROM_IR)
def test_from_ir(node, expected):
    assert to_latex(node) == expected


ALL_CLASSES = set(ir.NODE_CLASSES) | set(ir.SECOND_ORDER_CLASSES)


def test_every_node_class_has_a_printer():
    assert set(latex.TABLE) == ALL_CLASSES
    assert all(callable(fn) for fn in latex.TABLE.values())


def test_every_node_class_is_covered_by_a_table_row():
    seen = set()
    for text, _ in FROM_TEXT:
        seen.update(type(n) for n in ir.walk(tree(text)))
    for node, _ in FROM_IR:
        seen.update(type(n) for n in ir.walk(node))
    assert seen == ALL_CLASSES


def test_outputs_are_single_math_expressions():
    for text, _ in FROM_TEXT:
        s = to_latex(tree(text))
        assert "&" not in s and "\\\\" not in s and r"\begin" not in s and r"\label" not in s
        assert s.count("{") == s.count("}")
        assert s.count(r"\left(") == s.count(r"\right)")


def test_to_latex_rejects_non_nodes():
    with pytest.raises(TypeError):
        to_latex("X")
    with pytest.raises(TypeError):
        to_latex(X, notation={"bold": "bm"})


# ---------------------------------------------------------------------------
# names (SPEC "Names in LaTeX")

NAMES = [
    ("X1", None, r"\mathbf{X}_{1}"),
    ("X_1", None, r"\mathbf{X}_{1}"),
    ("W_q", None, r"\mathbf{W}_{q}"),
    ("Wq", None, r"\mathbf{Wq}"),
    ("Sigma", None, r"\bm{\Sigma}"),
    ("Sigma_k", None, r"\bm{\Sigma}_{k}"),
    ("alpha2", None, r"\alpha_{2}"),
    ("lambda_2", None, r"\lambda_{2}"),
    ("alpha", None, r"\alpha"),
    ("Alpha", None, r"\mathbf{Alpha}"),
    ("Beta", None, r"\mathbf{Beta}"),
    ("x1", None, r"\mathbf{x}_{1}"),
    ("x", None, r"\mathbf{x}"),
    ("X", None, r"\mathbf{X}"),
    ("X12", None, r"\mathbf{X}_{12}"),
    ("X1_a", None, r"\mathbf{X1}_{a}"),
    ("x2y", None, r"\mathbf{x2y}"),
    ("X_a_b", None, r"\mathbf{X}_{a\_b}"),
    ("c", "scalar", "c"),
    ("C", "scalar", "C"),
    ("ab", "scalar", r"\mathit{ab}"),
    ("ab_1", "scalar", r"\mathit{ab}_{1}"),
    ("Sigma", "scalar", r"\Sigma"),
    ("alpha", "vector", r"\bm{\alpha}"),
    ("lambda1", "matrix", r"\bm{\lambda}_{1}"),
    ("S", "symmetric", r"\mathbf{S}"),
    ("omicron", None, r"\mathbf{omicron}"),
]
UPPER_GREEK = ["Sigma", "Lambda", "Gamma", "Delta", "Theta", "Xi", "Pi", "Phi", "Psi", "Omega",
               "Upsilon"]
LOWER_GREEK = sorted(shapes.GREEK)


@pytest.mark.parametrize("name,kind,expected", NAMES)
def test_name_latex(name, kind, expected):
    assert name_latex(name, kind) == expected


@pytest.mark.parametrize("name", UPPER_GREEK)
def test_uppercase_greek_is_bold_greek(name):
    assert name_latex(name) == r"\bm{\%s}" % name
    assert name_latex(name, notation=LatexNotation(web=True)) == r"\boldsymbol{\%s}" % name
    assert name_latex(name + "2") == r"\bm{\%s}_{2}" % name


@pytest.mark.parametrize("name", LOWER_GREEK)
def test_lowercase_greek_is_a_plain_letter(name):
    assert name_latex(name) == "\\" + name
    assert name_latex(name, "vector") == r"\bm{\%s}" % name


def test_names_inside_expressions_keep_the_spelling():
    assert to_latex(tree("alpha2*beta_k*Wq*Alpha*Omega1")) == \
        r"\alpha_{2}\beta_{k}\mathbf{Wq}\mathbf{Alpha}\bm{\Omega}_{1}"
    assert to_latex(tree("lambda'*x", {"lambda": "vector"})) == r"\bm{\lambda}^\top\mathbf{x}"
    assert to_latex(tree("ab*x", {"ab": "scalar"})) == r"\mathit{ab}\mathbf{x}"
    assert to_latex(tree("C*X", {"C": "scalar"})) == r"C\mathbf{X}"


@pytest.mark.parametrize("bad", ["", "1X", "X\\input{/etc/passwd}", "X{", "_X", "X-1", "x y",
                                 "X}", None, 3])
def test_bad_names_are_refused(bad):
    with pytest.raises(TexderiveError):
        name_latex(bad, "matrix")


def test_a_bad_name_built_by_hand_is_refused_in_a_tree():
    bad = ir.Sym(r"X\input{/etc/hostname}", "matrix", "n", "n")
    with pytest.raises(TexderiveError, match="bad name"):
        to_latex(ir.Trace(bad))


def test_bad_kind_is_refused():
    with pytest.raises(TexderiveError, match="kind"):
        name_latex("X", "tensor")


# ---------------------------------------------------------------------------
# notation options

OPTIONS = [
    # bold
    ({"bold": "bm"}, "A*X", r"\bm{A}\bm{X}"),
    ({"bold": "bm"}, "Sigma*x", r"\bm{\Sigma}\bm{x}"),
    ({"bold": "bm"}, "X + I", r"\bm{X} + \bm{I}"),
    ({"bold": "bm"}, "1./x", r"\bm{1} \oslash \bm{x}"),
    ({"bold": "bm", "web": True}, "A*X", r"\boldsymbol{A}\boldsymbol{X}"),
    ({"bold": "mathbf", "web": True}, "Sigma*x", r"\boldsymbol{\Sigma}\mathbf{x}"),
    ({"bold": "none"}, "A*X", "A X"),
    ({"bold": "none"}, "x'*y", r"x^\top y"),
    ({"bold": "none"}, "Sigma*x", r"\Sigma x"),
    ({"bold": "none"}, "alpha*x", r"\alpha x"),
    ({"bold": "none"}, "Wq*x", r"\mathit{Wq}x"),
    ({"bold": "none"}, "X_1 + I", r"X_{1} + I"),
    ({"bold": "none"}, "x + ones", r"x + \mathbf{1}"),
    ({"bold": "none"}, "X - zeros", r"X - \mathbf{0}"),
    ({"bold": "none", "transpose": "T"}, "x'*y", "x^T y"),
    # transpose
    ({"transpose": "mathsf"}, "A'*X", r"\mathbf{A}^{\mathsf T}\mathbf{X}"),
    ({"transpose": "mathsf"}, "inv(X)'", r"\mathbf{X}^{-\mathsf T}"),
    ({"transpose": "mathsf"}, "(A*B)'", r"(\mathbf{A}\mathbf{B})^{\mathsf T}"),
    ({"transpose": "T"}, "A'*X", r"\mathbf{A}^T\mathbf{X}"),
    ({"transpose": "T"}, "inv(X)'", r"\mathbf{X}^{-T}"),
    ({"transpose": "T"}, "X_1'", r"\mathbf{X}_{1}^T"),
    ({"transpose": "top"}, "inv(X)'", r"\mathbf{X}^{-\top}"),
    # trace
    ({"trace": "Tr"}, "tr(X)", r"\operatorname{Tr}(\mathbf{X})"),
    ({"trace": "tr"}, "trace(X)", r"\operatorname{tr}(\mathbf{X})"),
    # macros
    ({"macros": True}, "tr(A*X')", r"\tr(\mathbf{A}\mathbf{X}\T)"),
    ({"macros": True}, "inv(X)'", r"\mathbf{X}^{-\top}"),
    ({"macros": True, "trace": "Tr", "transpose": "T"}, "tr(X')", r"\tr(\mathbf{X}\T)"),
    ({"macros": True}, "x'*y", r"\mathbf{x}\T\mathbf{y}"),
    ({"macros": True, "bold": "none"}, "x'*y", r"x\T y"),
]


@pytest.mark.parametrize("options,text,expected", OPTIONS)
def test_notation_options(options, text, expected):
    assert to_latex(tree(text), LatexNotation(**options)) == expected


DIFFERENTIALS = [
    ({}, X, r"\mathrm{d}\mathbf{X}", r"\mathrm{d}y"),
    ({}, t, r"\mathrm{d}t", r"\mathrm{d}y"),
    ({}, ir.MatMul(A, X), r"\mathrm{d}(\mathbf{A}\mathbf{X})", r"\mathrm{d}y"),
    ({}, ir.Trace(ir.MatMul(A, X)),
     r"\mathrm{d}\,\operatorname{tr}(\mathbf{A}\mathbf{X})", r"\mathrm{d}y"),
    ({"differential": "operatorname"}, X, r"\operatorname{d}\mathbf{X}", r"\operatorname{d}y"),
    ({"differential": "operatorname"}, ir.Transpose(X), r"\operatorname{d}(\mathbf{X}^\top)",
     r"\operatorname{d}y"),
    ({"macros": True}, X, r"\dd\mathbf{X}", r"\dd y"),
    ({"macros": True}, t, r"\dd t", r"\dd y"),
    ({"macros": True, "differential": "operatorname"}, ir.MatMul(A, X),
     r"\dd(\mathbf{A}\mathbf{X})", r"\dd y"),
    ({"bold": "none"}, X, r"\mathrm{d}X", r"\mathrm{d}y"),
]


@pytest.mark.parametrize("options,node,expected,expected_dy", DIFFERENTIALS)
def test_differential_and_dy(options, node, expected, expected_dy):
    nt = LatexNotation(**options)
    assert differential(node, nt) == expected
    assert to_latex(ir.D(node), nt) == expected
    assert dy(nt) == expected_dy


def test_differential_transposed_inside_a_product():
    nt = LatexNotation(differential="operatorname")
    node = ir.Trace(ir.MatMul(ir.Transpose(ir.D(X)), A))
    assert to_latex(node, nt) == r"\operatorname{tr}((\operatorname{d}\mathbf{X})^\top\mathbf{A})"
    assert to_latex(node, LatexNotation(macros=True)) == r"\tr((\dd\mathbf{X})\T\mathbf{A})"


GRADIENTS = [
    ({}, X, "f", r"\nabla_{\mathbf{X}} f"),
    ({}, ir.Sym("W_q", "matrix", "m", "n"), "f", r"\nabla_{\mathbf{W}_{q}} f"),
    ({}, ir.Sym("Sigma", "symmetric", "n", "n"), "f", r"\nabla_{\bm{\Sigma}} f"),
    ({"web": True}, ir.Sym("Sigma", "symmetric", "n", "n"), "f",
     r"\nabla_{\boldsymbol{\Sigma}} f"),
    ({}, ir.Sym("alpha", "scalar", 1, 1), "f", r"\nabla_{\alpha} f"),
    ({}, x, "y", r"\nabla_{\mathbf{x}} y"),
    ({}, "X", "f", r"\nabla_{\mathbf{X}} f"),
    ({}, "x1", "f", r"\nabla_{\mathbf{x}_{1}} f"),
    ({"gradient": "partial"}, X, "f", r"\frac{\partial f}{\partial \mathbf{X}}"),
    ({"gradient": "partial", "bold": "bm"}, X, "f", r"\frac{\partial f}{\partial \bm{X}}"),
    ({"gradient": "partial", "bold": "none"}, X, "f", r"\frac{\partial f}{\partial X}"),
    ({"gradient": "partial"}, ir.Sym("alpha", "scalar", 1, 1), "g",
     r"\frac{\partial g}{\partial \alpha}"),
]


@pytest.mark.parametrize("options,wrt,f,expected", GRADIENTS)
def test_gradient_lhs(options, wrt, f, expected):
    assert gradient_lhs(wrt, LatexNotation(**options), f=f) == expected


def test_gradient_lhs_refuses_a_bad_function_name():
    with pytest.raises(TexderiveError):
        gradient_lhs(X, None, f="f}")


EQUALS = [
    ({}, 2, r"\overset{(2)}{=}"),
    ({}, 12, r"\overset{(12)}{=}"),
    ({}, None, "="),
    ({"equals": "stackrel"}, 2, r"\stackrel{(2)}{=}"),
    ({"equals": "stackrel"}, None, "="),
]


@pytest.mark.parametrize("options,number,expected", EQUALS)
def test_equals(options, number, expected):
    assert equals(number, LatexNotation(**options)) == expected


@pytest.mark.parametrize("bad", [-1, "2", 2.0, True, "(2)"])
def test_equals_refuses_what_is_not_a_rule_number(bad):
    with pytest.raises(TexderiveError):
        equals(bad)


def test_defaults_and_none_notation():
    assert to_latex(tree("A'*X"), None) == to_latex(tree("A'*X"), LatexNotation())
    assert equals(3) == r"\overset{(3)}{=}"
    assert dy() == r"\mathrm{d}y"
    assert gradient_lhs(X) == r"\nabla_{\mathbf{X}} f"


# ---------------------------------------------------------------------------
# the settings object

def test_notation_fields_and_defaults():
    nt = LatexNotation()
    assert nt.as_dict() == {"bold": "mathbf", "transpose": "top", "trace": "tr",
                            "gradient": "nabla", "differential": "mathrm", "equals": "overset",
                            "web": False, "macros": False}
    assert latex.DEFAULT == nt
    assert latex.WEB == LatexNotation(web=True)


def test_notation_is_immutable_hashable_and_comparable():
    a, b = LatexNotation(bold="bm"), LatexNotation(bold="bm")
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != LatexNotation()
    assert a != "LatexNotation(bold='bm')"
    assert len({a, b, LatexNotation()}) == 2
    with pytest.raises(AttributeError):
        a.bold = "none"
    with pytest.raises(AttributeError):
        del a.bold
    with pytest.raises(AttributeError):
        a.extra = 1


def test_notation_replace_and_from_options():
    nt = LatexNotation()
    web = nt.replace(web=True)
    assert web.web is True and nt.web is False
    assert web.replace(web=False) == nt
    assert LatexNotation.from_options(bold="bm", transpose=None) == LatexNotation(bold="bm")
    assert LatexNotation.from_options() == nt
    assert nt.replace() == nt
    with pytest.raises(TexderiveError, match="transpose"):
        nt.replace(transpose="dagger")


def test_notation_copy_pickle_repr():
    nt = LatexNotation(bold="none", transpose="T", macros=True)
    assert pickle.loads(pickle.dumps(nt)) == nt
    assert copy.copy(nt) == nt and copy.deepcopy(nt) == nt
    assert repr(nt) == "LatexNotation(bold='none', transpose='T', macros=True)"
    assert repr(LatexNotation()) == "LatexNotation()"


BAD_OPTIONS = [
    ("bold", "boldsymbol", "mathbf, bm, none"),
    ("bold", None, "mathbf, bm, none"),
    ("transpose", "'", "top, mathsf, T"),
    ("transpose", "t", "top, mathsf, T"),
    ("trace", "trace", "tr, Tr"),
    ("gradient", "grad", "nabla, partial"),
    ("differential", "d", "mathrm, operatorname"),
    ("equals", "eqref", "overset, stackrel"),
    ("web", "yes", "false, true"),
    ("web", 1, "false, true"),
    ("macros", None, "false, true"),
    ("macros", "true", "false, true"),
]


@pytest.mark.parametrize("field,value,allowed", BAD_OPTIONS)
def test_bad_option_values(field, value, allowed):
    with pytest.raises(TexderiveError) as info:
        LatexNotation(**{field: value})
    msg = str(info.value)
    assert field in msg and allowed in msg and repr(value) in msg


def test_unknown_option_names():
    with pytest.raises(TexderiveError, match="unknown LaTeX notation option colour"):
        LatexNotation.from_options(colour="red")
    with pytest.raises(TexderiveError, match="bold, transpose"):
        LatexNotation().replace(style="bm")


def test_import_is_light():
    code = ("import sys, texderive.printers.latex\n"
            "heavy = [m for m in ('sympy', 'numpy', 'jinja2', 'pylatexenc', 'dataclasses')"
            " if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------------------
# pdflatex

PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath,bm}
%s\begin{document}
"""

COMPILE = ["tr(inv(X'*X)/t)", "norm(A*x - b*y)^2", "inv(X)'*A", "(X^2)'", "1/2*x/t/s",
           "A.*B./C + 1./B", "B.^0.5", "2 .^ x", "logdet(Sigma)", "abs(alpha2) + sqrt(a)",
           "sigmoid(x)'*exp(x)", "diag(x) + diag(X)*ones'", "(a/t)^2 + a^(-0.5)", "X_1'*W_q*Wq",
           "3*2^a", "x - x/t", "lambda1*c + ab", "sum(X)"]
COMPILE_NOTATIONS = [LatexNotation(), LatexNotation(bold="bm", transpose="mathsf", trace="Tr"),
                     LatexNotation(bold="none", transpose="T", differential="operatorname",
                                   equals="stackrel"),
                     LatexNotation(web=True, gradient="partial"),
                     LatexNotation(macros=True)]


def _pdflatex_or_skip() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdflatex is not installed, and CI=true requires the LaTeX tests")
        pytest.skip("pdflatex is not installed (install texlive-latex-base to run this test)")
    return exe


@pytest.mark.latex
@pytest.mark.parametrize("nt", COMPILE_NOTATIONS, ids=lambda n: repr(n))
def test_outputs_compile(tmp_path, nt):
    exe = _pdflatex_or_skip()
    lines = []
    for text in COMPILE:
        node = tree(text, {"ab": "scalar"})
        lines.append("$" + to_latex(node, nt) + "$\n")
    wrt = ir.Sym("Sigma", "symmetric", "n", "n")
    lines.append("$" + gradient_lhs(wrt, nt) + " " + equals(2, nt) + " "
                 + dy(nt) + " " + equals(None, nt) + " "
                 + to_latex(ir.Trace(ir.MatMul(ir.Transpose(ir.D(X)), A)), nt) + " + "
                 + differential(ir.MatMul(A, X), nt) + "$\n")
    body = "\n".join(lines)
    if nt.macros:       # the shipped texderive.sty, as `texderive sty` writes it (issue 12)
        from texderive.render import sty
        (tmp_path / "texderive.sty").write_text(sty())
    src = PREAMBLE % ("\\usepackage{texderive}\n" if nt.macros else "") + body + "\\end{document}\n"
    (tmp_path / "t.tex").write_text(src)
    env = dict(os.environ, openin_any="p")
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                           "t.tex"], cwd=tmp_path, env=env, capture_output=True, timeout=120)
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert "Undefined control sequence" not in log, src
    assert not [ln for ln in log.splitlines() if ln.startswith("!")], log
    assert proc.returncode == 0, log
