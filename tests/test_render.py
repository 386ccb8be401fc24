"""Tests of texderive.render: headers, escaping, templates, layout, determinism.

The derivation documents here are hand-made in the schema of SPEC section 4
(what the engine's ``to_dict()`` produces): the sample of docs/dev, least
squares with a vector variable (``LS``), a 14-step derivation (``LONG``) and
one with bold Greek (``GREEK``).  tests/test_latex.py compiles them.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from texderive import __version__
from texderive.errors import TexderiveError
from texderive.ownership import unstamp
from texderive.render import (Tex, escape_latex, header, is_generated, math_width, render, sty,
                              templates_dir)
from texderive import render as render_module
from texderive import layout

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = json.loads((ROOT / "docs" / "dev" / "sample_doc.json").read_text(encoding="utf-8"))

# --- hand-made documents ------------------------------------------------------

def _step(rule, number, lhs, latex, text, note, note_latex):
    return {"rule": rule, "number": number, "lhs": lhs, "latex": latex, "text": text,
            "note": note, "note_latex": note_latex}

D = r"\mathrm{d}"
x, A, b = r"\mathbf{x}", r"\mathbf{A}", r"\mathbf{b}"
T = r"^\top"
dy = D + "y"
LS = {
    "generator": "texderive 0.1.0",
    "input": {"expr": "norm2(A*x - b)^2", "wrt": "x", "let": {}},
    "function": {"text": "norm2(A*x - b)^2", "latex": rf"\|{A}{x} - {b}\|_2^2"},
    "rules": [
        {"id": "constant", "number": 1, "latex": rf"{D}\mathbf{{C}} = 0", "text": "dC = 0 for a constant C"},
        {"id": "product", "number": 2, "latex": rf"{D}(\mathbf{{X}}\mathbf{{Y}}) = ({D}\mathbf{{X}})\mathbf{{Y}} + \mathbf{{X}}\,{D}\mathbf{{Y}}", "text": "d(XY) = (dX)Y + X dY"},
        {"id": "transpose", "number": 3, "latex": rf"{D}(\mathbf{{X}}{T}) = ({D}\mathbf{{X}}){T}", "text": "d(Xᵀ) = (dX)ᵀ"},
    ],
    "steps": [
        _step("expand", None, "y", rf"{x}{T}{A}{T}{A}{x} - 2{b}{T}{A}{x} + {b}{T}{b}",
           "xᵀAᵀAx - 2bᵀAx + bᵀb", "expand the square", "expand the square"),
        _step("differential", None, dy, rf"{D}({x}{T}{A}{T}{A}{x}) - 2\,{D}({b}{T}{A}{x}) + {D}({b}{T}{b})",
           "d(xᵀAᵀAx) - 2 d(bᵀAx) + d(bᵀb)", "take the differential of y", r"take the differential of \(y\)"),
        _step("constant", 1, dy, rf"{D}({x}{T}{A}{T}{A}{x}) - 2\,{D}({b}{T}{A}{x})",
           "d(xᵀAᵀAx) - 2 d(bᵀAx)", "by (1), d(bᵀb) = 0", rf"by \((1)\), \({D}({b}{T}{b}) = 0\)"),
        _step("product", 2, dy,
           rf"({D}{x}){T}{A}{T}{A}{x} + {x}{T}({D}{A}){T}{A}{x} + {x}{T}{A}{T}({D}{A}){x} + {x}{T}{A}{T}{A}\,{D}{x} - 2({D}{b}){T}{A}{x} - 2{b}{T}({D}{A}){x} - 2{b}{T}{A}\,{D}{x}",
           "(dx)ᵀAᵀAx + xᵀ(dA)ᵀAx + xᵀAᵀ(dA)x + xᵀAᵀA dx - 2(db)ᵀAx - 2bᵀ(dA)x - 2bᵀA dx",
           "by (2), the product rule", r"by \((2)\), the product rule"),
        _step("constant", 1, dy, rf"({D}{x}){T}{A}{T}{A}{x} + {x}{T}{A}{T}{A}\,{D}{x} - 2{b}{T}{A}\,{D}{x}",
           "(dx)ᵀAᵀAx + xᵀAᵀA dx - 2bᵀA dx", "by (1), dA = 0 and db = 0",
           rf"by \((1)\), \({D}{A} = 0\) and \({D}{b} = 0\)"),
        _step("scalar_transpose", None, dy, rf"{x}{T}{A}{T}{A}\,{D}{x} + {x}{T}{A}{T}{A}\,{D}{x} - 2{b}{T}{A}\,{D}{x}",
           "xᵀAᵀA dx + xᵀAᵀA dx - 2bᵀA dx", "a scalar equals its transpose, pᵀq = qᵀp",
           r"a scalar equals its transpose, \(\mathbf{p}^\top\mathbf{q} = \mathbf{q}^\top\mathbf{p}\)"),
        _step("collect", None, dy, rf"2{x}{T}{A}{T}{A}\,{D}{x} - 2{b}{T}{A}\,{D}{x}",
           "2xᵀAᵀA dx - 2bᵀA dx", "collect like terms", "collect like terms"),
        _step("factor", None, dy, rf"2({x}{T}{A}{T} - {b}{T}){A}\,{D}{x}",
           "2(xᵀAᵀ - bᵀ)A dx", "factor out A dx", rf"factor out \({A}\,{D}{x}\)"),
        _step("read_off", None, r"\nabla_{\mathbf{x}} f", rf"2(({x}{T}{A}{T} - {b}{T}){A}){T}",
           "2((xᵀAᵀ - bᵀ)A)ᵀ", "dy = gᵀ dx gives ∇f = g",
           rf"\({dy} = \mathbf{{g}}{T}{D}{x}\) gives \(\nabla f = \mathbf{{g}}\)"),
        _step("transpose_product", None, r"\nabla_{\mathbf{x}} f", rf"2{A}{T}({A}{x} - {b})",
           "2Aᵀ(Ax - b)", "(PQ)ᵀ = QᵀPᵀ", r"\((\mathbf{P}\mathbf{Q})^\top = \mathbf{Q}^\top\mathbf{P}^\top\)"),
    ],
    "gradient": {"text": "2*A'*(A*x - b)", "latex": rf"2{A}{T}({A}{x} - {b})", "numpy": "2 * A.T @ (A @ x - b)"},
    "check": {"kind": "numeric", "points": 3, "max_rel_error": 3.4e-11, "passed": True, "seed": 0},
}

X, C, B = r"\mathbf{X}", r"\mathbf{C}", r"\mathbf{B}"
M = rf"({X}{T}{C}{X})"
P = rf"{M}^{{-1}}"
tr = r"\operatorname{tr}"
dX = rf"{D}{X}"
LONG = {
    "generator": "texderive 0.1.0",
    "input": {"expr": "tr(inv(X'*C*X)*X'*B*X)", "wrt": "X", "let": {"B": "symmetric", "C": "symmetric"}},
    "function": {"text": "tr(inv(X'*C*X)*X'*B*X)", "latex": rf"{tr}({P}{X}{T}{B}{X})"},
    "rules": [
        {"id": "constant", "number": 1, "latex": rf"{D}\mathbf{{C}} = 0", "text": "dC = 0 for a constant C"},
        {"id": "product", "number": 2, "latex": rf"{D}(\mathbf{{X}}\mathbf{{Y}}) = ({D}\mathbf{{X}})\mathbf{{Y}} + \mathbf{{X}}\,{D}\mathbf{{Y}}", "text": "d(XY) = (dX)Y + X dY"},
        {"id": "transpose", "number": 3, "latex": rf"{D}(\mathbf{{X}}{T}) = ({D}\mathbf{{X}}){T}", "text": "d(Xᵀ) = (dX)ᵀ"},
        {"id": "trace", "number": 4, "latex": rf"{D}{tr}(\mathbf{{X}}) = {tr}({D}\mathbf{{X}})", "text": "d tr(X) = tr(dX)"},
        {"id": "inverse", "number": 5, "latex": rf"{D}(\mathbf{{X}}^{{-1}}) = -\mathbf{{X}}^{{-1}}({D}\mathbf{{X}})\mathbf{{X}}^{{-1}}", "text": "d(X⁻¹) = -X⁻¹ (dX) X⁻¹"},
        {"id": "cyclic", "number": 6, "latex": rf"{tr}(\mathbf{{P}}\mathbf{{Q}}) = {tr}(\mathbf{{Q}}\mathbf{{P}})", "text": "tr(PQ) = tr(QP)"},
        {"id": "trace_transpose", "number": 7, "latex": rf"{tr}(\mathbf{{P}}{T}) = {tr}(\mathbf{{P}})", "text": "tr(Pᵀ) = tr(P)"},
    ],
    "steps": [],
    "gradient": {"text": "2*B*X*inv(X'*C*X) - 2*C*X*inv(X'*C*X)*X'*B*X*inv(X'*C*X)",
                 "latex": rf"2{B}{X}{P} - 2{C}{X}{P}{X}{T}{B}{X}{P}",
                 "numpy": "2 * B @ X @ np.linalg.inv(X.T @ C @ X) - 2 * C @ X @ np.linalg.inv(X.T @ C @ X) @ X.T @ B @ X @ np.linalg.inv(X.T @ C @ X)"},
}


def _add(rule, number, lhs, latex, note, note_latex=None):
    LONG["steps"].append(_step(rule, number, lhs, latex, "…", note, note_latex if note_latex is not None else note))


_add("differential", None, dy, rf"{D}{tr}({P}{X}{T}{B}{X})", "take the differential of y", r"take the differential of \(y\)")
_add("trace", 4, dy, rf"{tr}({D}({P}{X}{T}{B}{X}))", "by (4), d tr(P) = tr(dP)", rf"by \((4)\), \({D}{tr}(\mathbf{{P}}) = {tr}({D}\mathbf{{P}})\)")
_add("product", 2, dy, rf"{tr}(({D}{P}){X}{T}{B}{X} + {P}({D}{X}{T}){B}{X} + {P}{X}{T}({D}{B}){X} + {P}{X}{T}{B}\,{dX})", "by (2), the product rule", r"by \((2)\), the product rule")
_add("constant", 1, dy, rf"{tr}(({D}{P}){X}{T}{B}{X} + {P}({D}{X}{T}){B}{X} + {P}{X}{T}{B}\,{dX})", "by (1), dB = 0", rf"by \((1)\), \({D}{B} = 0\)")
_add("inverse", 5, dy, rf"{tr}(-{P}({D}{M}){P}{X}{T}{B}{X} + {P}({D}{X}{T}){B}{X} + {P}{X}{T}{B}\,{dX})", "by (5), d(P⁻¹) = -P⁻¹ dP P⁻¹", rf"by \((5)\), \({D}(\mathbf{{P}}^{{-1}}) = -\mathbf{{P}}^{{-1}}({D}\mathbf{{P}})\mathbf{{P}}^{{-1}}\)")
_add("product", 2, dy, rf"{tr}(-{P}(({D}{X}{T}){C}{X} + {X}{T}({D}{C}){X} + {X}{T}{C}\,{dX}){P}{X}{T}{B}{X} + {P}({D}{X}{T}){B}{X} + {P}{X}{T}{B}\,{dX})", "by (2), the product rule", r"by \((2)\), the product rule")
_add("constant", 1, dy, rf"{tr}(-{P}(({D}{X}{T}){C}{X} + {X}{T}{C}\,{dX}){P}{X}{T}{B}{X} + {P}({D}{X}{T}){B}{X} + {P}{X}{T}{B}\,{dX})", "by (1), dC = 0", rf"by \((1)\), \({D}{C} = 0\)")
_add("transpose", 3, dy, rf"{tr}(-{P}(({dX}){T}{C}{X} + {X}{T}{C}\,{dX}){P}{X}{T}{B}{X} + {P}({dX}){T}{B}{X} + {P}{X}{T}{B}\,{dX})", "by (3), d(Xᵀ) = (dX)ᵀ", rf"by \((3)\), \({D}({X}{T}) = ({dX}){T}\)")
_add("distribute", None, dy, rf"-{tr}({P}({dX}){T}{C}{X}{P}{X}{T}{B}{X}) - {tr}({P}{X}{T}{C}\,{dX}\,{P}{X}{T}{B}{X}) + {tr}({P}({dX}){T}{B}{X}) + {tr}({P}{X}{T}{B}\,{dX})", "expand the product; the trace is linear", "expand the product; the trace is linear")
_add("trace_transpose", 7, dy, rf"-{tr}({X}{T}{B}{X}{P}{X}{T}{C}\,{dX}\,{P}) - {tr}({P}{X}{T}{C}\,{dX}\,{P}{X}{T}{B}{X}) + {tr}({X}{T}{B}\,{dX}\,{P}) + {tr}({P}{X}{T}{B}\,{dX})", "by (7), tr(Pᵀ) = tr(P); B, C and XᵀCX are symmetric", rf"by \((7)\), \({tr}(\mathbf{{P}}{T}) = {tr}(\mathbf{{P}})\); \({B}\), \({C}\), \({X}{T}{C}{X}\) are symmetric")
_add("cyclic", 6, dy, rf"-{tr}({P}{X}{T}{B}{X}{P}{X}{T}{C}\,{dX}) - {tr}({P}{X}{T}{B}{X}{P}{X}{T}{C}\,{dX}) + {tr}({P}{X}{T}{B}\,{dX}) + {tr}({P}{X}{T}{B}\,{dX})", "by (6), tr(PQ) = tr(QP)", rf"by \((6)\), \({tr}(\mathbf{{P}}\mathbf{{Q}}) = {tr}(\mathbf{{Q}}\mathbf{{P}})\)")
_add("collect", None, dy, rf"{tr}((2{P}{X}{T}{B} - 2{P}{X}{T}{B}{X}{P}{X}{T}{C})\,{dX})", "collect like terms", "collect like terms")
_add("read_off", None, rf"\nabla_{{{X}}} f", rf"(2{P}{X}{T}{B} - 2{P}{X}{T}{B}{X}{P}{X}{T}{C}){T}", "dy = tr(Gᵀ dX) gives ∇f = G", rf"\({dy} = {tr}(\mathbf{{G}}{T}{dX})\) gives \(\nabla f = \mathbf{{G}}\)")
_add("transpose_product", None, rf"\nabla_{{{X}}} f", rf"2{B}{X}{P} - 2{C}{X}{P}{X}{T}{B}{X}{P}", "(PQ)ᵀ = QᵀPᵀ; B, C and XᵀCX are symmetric", r"\((\mathbf{P}\mathbf{Q})^\top = \mathbf{Q}^\top\mathbf{P}^\top\); symmetric factors")

S = r"\bm{\Sigma}"
GREEK = {
    "generator": "texderive 0.1.0",
    "input": {"expr": "logdet(Sigma) + tr(inv(Sigma)*S0)", "wrt": "Sigma", "let": {"Sigma": "symmetric", "S0": "symmetric"}},
    "function": {"text": "logdet(Sigma) + tr(inv(Sigma)*S0)", "latex": rf"\log\det{S} + {tr}({S}^{{-1}}\mathbf{{S}}_{{0}})"},
    "rules": [
        {"id": "trace", "number": 4, "latex": rf"{D}{tr}(\mathbf{{X}}) = {tr}({D}\mathbf{{X}})", "text": "d tr(X) = tr(dX)"},
        {"id": "inverse", "number": 5, "latex": rf"{D}(\mathbf{{X}}^{{-1}}) = -\mathbf{{X}}^{{-1}}({D}\mathbf{{X}})\mathbf{{X}}^{{-1}}", "text": "d(X⁻¹) = -X⁻¹ (dX) X⁻¹"},
        {"id": "cyclic", "number": 6, "latex": rf"{tr}(\mathbf{{P}}\mathbf{{Q}}) = {tr}(\mathbf{{Q}}\mathbf{{P}})", "text": "tr(PQ) = tr(QP)"},
        {"id": "logdet", "number": 8, "latex": rf"{D}\log\det\mathbf{{X}} = {tr}(\mathbf{{X}}^{{-1}}{D}\mathbf{{X}})", "text": "d log det X = tr(X⁻¹ dX)"},
    ],
    "steps": [
        _step("differential", None, dy, rf"{D}\log\det{S} + {D}{tr}({S}^{{-1}}\mathbf{{S}}_{{0}})", "d log det Σ + d tr(Σ⁻¹ S₀)", "take the differential of y", r"take the differential of \(y\)"),
        _step("logdet", 8, dy, rf"{tr}({S}^{{-1}}{D}{S}) + {tr}({D}({S}^{{-1}})\mathbf{{S}}_{{0}})", "tr(Σ⁻¹ dΣ) + tr(d(Σ⁻¹) S₀)", "by (8) and (4)", r"by \((8)\) and \((4)\)"),
        _step("inverse", 5, dy, rf"{tr}({S}^{{-1}}{D}{S}) - {tr}({S}^{{-1}}({D}{S}){S}^{{-1}}\mathbf{{S}}_{{0}})", "tr(Σ⁻¹ dΣ) - tr(Σ⁻¹ dΣ Σ⁻¹ S₀)", "by (5), d(Σ⁻¹) = -Σ⁻¹ dΣ Σ⁻¹", rf"by \((5)\), \({D}({S}^{{-1}}) = -{S}^{{-1}}({D}{S}){S}^{{-1}}\)"),
        _step("cyclic", 6, dy, rf"{tr}(({S}^{{-1}} - {S}^{{-1}}\mathbf{{S}}_{{0}}{S}^{{-1}})\,{D}{S})", "tr((Σ⁻¹ - Σ⁻¹S₀Σ⁻¹) dΣ)", "by (6), then collect", r"by \((6)\), then collect"),
        _step("read_off", None, rf"\nabla_{{{S}}} f", rf"({S}^{{-1}} - {S}^{{-1}}\mathbf{{S}}_{{0}}{S}^{{-1}}){T}", "(Σ⁻¹ - Σ⁻¹S₀Σ⁻¹)ᵀ", "dy = tr(Gᵀ dΣ) gives ∇f = G; symmetric Σ: (H + Hᵀ)/2", rf"\({dy} = {tr}(\mathbf{{G}}{T}{D}{S})\) gives \(\nabla f = \mathbf{{G}}\); for a symmetric \({S}\), \(\tfrac12(\mathbf{{H}} + \mathbf{{H}}{T})\)"),
        _step("symmetric", None, rf"\nabla_{{{S}}} f", rf"{S}^{{-1}} - {S}^{{-1}}\mathbf{{S}}_{{0}}{S}^{{-1}}", "Σ⁻¹ - Σ⁻¹S₀Σ⁻¹", "Σ and S₀ are symmetric", rf"\({S}\) and \(\mathbf{{S}}_{{0}}\) are symmetric"),
    ],
    "gradient": {"text": "inv(Sigma) - inv(Sigma)*S0*inv(Sigma)", "latex": rf"{S}^{{-1}} - {S}^{{-1}}\mathbf{{S}}_{{0}}{S}^{{-1}}", "numpy": "np.linalg.inv(Sigma) - np.linalg.inv(Sigma) @ S0 @ np.linalg.inv(Sigma)"},
    "check": {"kind": "exact", "result": "proved", "sizes": {"n": 2}},
}


def beamer_notation(doc: dict) -> dict:
    """What the caller does for slides: the differential in the operator font."""
    def fix(value):
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value.replace(r"\mathrm{d}", r"\operatorname{d}") if isinstance(value, str) else value
    return fix(copy.deepcopy(doc))


DOCS = {"sample": SAMPLE, "ls": LS, "long": LONG, "greek": GREEK}
DECK_META = {
    "title": "Matrix derivatives by the differential", "subtitle": "Worked examples",
    "author": "A. Lecturer", "institute": "Department of Mathematics",
    "titles": ["Example. (eq. 101 in the Matrix Cookbook)", "Example. Least squares",
               "Example. A ratio of quadratic forms", "Example. Gaussian covariance"],
    "texts": ["Given constant matrices A and B.", "A is a constant matrix and b a constant vector.",
              None, "S0 is a constant symmetric matrix."],
}
HOSTILE = r"Example. \input{/etc/passwd} } { $x$ 100% #1 a_b c^d ~ <b> | & \\"


def first_line(text: str) -> str:
    return text.split("\n", 1)[0]


# --- headers ------------------------------------------------------------------

def test_header_of_each_format():
    check = "check: numeric, 3 points, max rel error < 1e-09"
    assert header(SAMPLE, "latex") == f"% generated by texderive {__version__}; {check}; needs amsmath"
    assert header(SAMPLE, "standalone") == f"% generated by texderive {__version__}; {check}"
    assert header(SAMPLE, "beamer") == f"% generated by texderive {__version__}; {check}; needs beamer"
    assert header(SAMPLE, "numpy") == f"# generated by texderive {__version__}; {check}"
    assert header(SAMPLE, "markdown") == f"<!-- generated by texderive {__version__}; {check} -->"
    assert header(SAMPLE, "text") == f"checked: numeric, 3 points, max rel error < 1e-09 (generated by texderive {__version__})"
    assert header(SAMPLE, "json") == ""
    assert header(GREEK, "latex").endswith("; needs amsmath, bm")


def test_header_is_the_first_line_and_has_no_date():
    for fmt in ("latex", "standalone", "beamer", "deck", "article", "markdown", "numpy"):
        out = unstamp(render(SAMPLE, fmt))
        assert first_line(out) == header(SAMPLE, fmt)
        assert not re.search(r"\b20\d\d\b", first_line(out))
        assert "\\today" not in out


def test_header_without_check_and_with_notation():
    doc = copy.deepcopy(SAMPLE)
    del doc["check"]
    assert "; check: not run; needs amsmath" in header(doc, "latex")
    assert unstamp(render(doc, "text")).endswith(f"checked: not run (generated by texderive {__version__})\n")
    out = unstamp(render(doc, "latex", meta={"notation": {"transpose": "^{\\mathsf T}", "bold": "mathbf"}}))
    assert first_line(out).endswith("; notation: bold=mathbf, transpose=^{\\mathsf T}")


def test_header_of_a_deck_sums_up_the_checks():
    failed = copy.deepcopy(LS)
    failed["check"] = {"kind": "numeric", "points": 3, "max_rel_error": 0.5, "passed": False}
    line = header([SAMPLE, failed, LONG, GREEK], "deck")
    assert "check: exact on 1 of 4 derivations" in line
    assert "numeric on 2 of 4 derivations, FAILED on 1, max rel error < 1e+00" in line
    assert "not run on 1" in line
    assert header(GREEK, "latex").startswith(f"% generated by texderive {__version__}; check: exact, proved")


def test_markdown_header_is_a_valid_html_comment():
    doc = copy.deepcopy(SAMPLE)
    line = first_line(render(doc, "markdown", meta={"notation": {"x": "a -- b"}}))
    assert line.startswith("<!-- ") and line.endswith(" -->")
    assert "--" not in line[4:-3]


def test_numpy_output_is_the_expression_alone_on_one_line():
    out = render(SAMPLE, "numpy")
    lines = out.split("\n")
    assert lines[0].startswith("# generated by texderive") and lines[1] == "A.T @ B.T" and lines[2:] == [""]
    assert render([SAMPLE, LS], "numpy").split("\n")[1:] == ["A.T @ B.T", "2 * A.T @ (A @ x - b)", ""]


def test_json_is_the_document_itself():
    assert unstamp(render(SAMPLE, "json")) == json.dumps(SAMPLE, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(unstamp(render([SAMPLE, LS], "json"))) == [SAMPLE, LS]
    assert "∇f" in render(SAMPLE, "json")               # not \u2207


def test_text_output_ends_with_checked_line():
    for style in ("chain", "steps"):
        out = unstamp(render(LS, "text", style=style))
        assert out.endswith(f"checked: numeric, 3 points, max rel error < 1e-10 (generated by texderive {__version__})\n")
        assert "gradient: 2*A'*(A*x - b)" in out
        assert "\\mathbf" not in out and "\\(" not in out


def test_text_chain_aligns_equals_signs():
    lines = render(SAMPLE, "text").splitlines()
    assert " y = f(X) = tr(A*X*B)" in lines and any(l.startswith("dy = d tr(A X B)") for l in lines)
    assert "Gradient of y = f(X) = tr(A*X*B) with respect to X" in lines
    eq = {l.index(" = ") for l in lines if " = " in l[:5]}
    assert len(eq) == 1


# --- is_generated -------------------------------------------------------------

def test_is_generated_recognises_every_output():
    for fmt in ("latex", "standalone", "beamer", "deck", "article", "markdown", "text", "json", "numpy"):
        for style in ("chain", "steps"):
            assert is_generated(render([SAMPLE, LS], fmt, style=style)), (fmt, style)
        assert is_generated(render(SAMPLE, fmt)), fmt
    assert is_generated(sty())


@pytest.mark.parametrize("text", [
    "", "\\documentclass{article}\n% generated by texderive 0.1.0\n", "% my own notes\n",
    "# generated by hand\n", '{"generator": "someone else"}', "[]", "{not json",
    "checked: numeric\n", "dy = d tr(A X B)\nchecked: by me\n",
])
def test_is_generated_rejects_hand_written_files(text):
    assert not is_generated(text)


# --- escaping -----------------------------------------------------------------

def test_escape_latex_is_one_pass():
    assert escape_latex("\\") == r"\(\backslash\)"
    assert escape_latex(r"\{}$&#^_%~<>|") == (r"\(\backslash\)\(\{\)\(\}\)\(\$\)\&\#\^{}\_\%\textasciitilde{}"
                                                r"\(<\)\(>\)\(|\)")
    assert isinstance(escape_latex("x"), Tex)


@pytest.mark.parametrize("fmt", ["beamer", "deck", "standalone", "article"])
def test_hostile_free_text_is_escaped(fmt):
    meta = {"title": HOSTILE, "author": "}", "titles": [HOSTILE], "texts": ["$\\(x\\)$ \\def\\x{1} %"]}
    out = render(SAMPLE, fmt, meta=meta)
    assert "\\input{" not in out and "/etc/passwd" in out
    assert (r"\(\backslash\)input\(\{\)/etc/passwd\(\}\) \(\}\) \(\{\) \(\$\)x\(\$\) 100\% \#1 a\_b c\^{}d "
            r"\textasciitilde{} \(<\)b\(>\) \(|\) \& \(\backslash\)\(\backslash\)") in out
    assert "\\def\\x" not in out and r"\(\backslash\)def\(\backslash\)x\(\{\)1\(\}\) \%" in out


def test_hostile_text_in_markdown_and_text():
    meta = {"titles": ["<script>alert(1)</script> *x* $y$ [a](b)"]}
    md = render(SAMPLE, "markdown", meta=meta)
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert r"\*x\* \$y\$ \[a\](b)" in md
    assert "<script>alert(1)</script> *x* $y$ [a](b)" in render(SAMPLE, "text", meta=meta)


def test_a_maths_delimiter_in_markdown_text_stays_text():
    # issue 12: a title \(x^2\) came out as \\(x^2\\), which is \(x^2\) in the HTML
    # (MathJax typesets it) and a maths delimiter in Jupyter's markdown source
    md = render(SAMPLE, "markdown", meta={"titles": [r"A \(x^2\) and \[y\] \\ c"]})
    title = next(line for line in md.splitlines() if line.startswith("#"))
    assert "\\\\(" not in title and "\\\\)" not in title and "\\\\\\[" not in title
    assert title.count("<span>\\\\</span>") == 4
    if shutil.which("pandoc"):
        html = subprocess.run(["pandoc", "-f", "markdown", "-t", "html"], input=md,
                              capture_output=True, text=True, check=True).stdout
        assert "\\(" not in html and "\\[" not in html and "<span>\\</span>(x^2" in html


def test_math_is_never_escaped():
    out = render(SAMPLE, "latex")
    assert r"\operatorname{tr}(\mathbf{A}\mathbf{X}\mathbf{B})" in out
    assert r"\textbackslash" not in out


def test_plain_strings_made_in_a_template_are_escaped(tmp_path):
    # joining Tex yields a plain str: it is escaped, visibly, never passed through
    (tmp_path / "latex.tex.jinja").write_text(r"\VAR{docs[0].function ~ '!'}|\VAR{docs[0].function}" + "\n")
    out = render(SAMPLE, "latex", template_dir=tmp_path)
    body = out.split("\n")[1]
    assert body.startswith(r"\(\backslash\)operatorname\(\{\)tr\(\}\)")
    assert body.endswith(r"|\operatorname{tr}(\mathbf{A}\mathbf{X}\mathbf{B})")


# --- templates ----------------------------------------------------------------

def test_packaged_templates_exist():
    names = {p.name for p in templates_dir().iterdir()}
    for name in ("latex.tex.jinja", "standalone.tex.jinja", "article.tex.jinja", "beamer.tex.jinja",
                 "deck.tex.jinja", "markdown.md.jinja", "text.txt.jinja", "texderive.sty"):
        assert name in names


def test_user_template_overrides_packaged_one(tmp_path):
    (tmp_path / "beamer.tex.jinja").write_text(
        "\\BLOCK{for d in docs}\n\\begin{frame}{\\VAR{d.title}}\n\\(\\VAR{d.grad_lhs} = \\VAR{d.gradient.latex}\\)\n"
        "\\end{frame}\n\\BLOCK{endfor}\n")
    out = render(SAMPLE, "beamer", template_dir=tmp_path, meta={"titles": ["A & B"]})
    assert out.split("\n", 1)[1] == ("\\begin{frame}{A \\& B}\n"
                                     "\\(\\nabla_{\\mathbf{X}} f = \\mathbf{A}^\\top\\mathbf{B}^\\top\\)\n\\end{frame}\n")


def test_user_partial_overrides_packaged_one(tmp_path):
    (tmp_path / "_chain.tex.jinja").write_text("CHAIN \\VAR{rows|length}\n")
    out = render(SAMPLE, "standalone", template_dir=tmp_path)
    assert "CHAIN 8\n" in out and "\\documentclass{article}" in out


@pytest.mark.parametrize("source, message", [
    ("\\VAR{docs[0].no_such_field}\n", "no_such_field"),
    ("\\BLOCK{if docs[0].nope}x\\BLOCK{endif}\n", "nope"),
    ("\\BLOCK{for d in docs}\n", "template 'latex.tex.jinja', line"),
    ("\\BLOCK{include 'missing.tex.jinja'}\n", "'missing.tex.jinja' not found"),
    ("\\VAR{docs[0].title.nonexistent()}\n", "template 'latex.tex.jinja'"),
])
def test_broken_user_template_is_a_texderive_error(tmp_path, source, message):
    (tmp_path / "latex.tex.jinja").write_text(source)
    with pytest.raises(TexderiveError) as info:
        render(SAMPLE, "latex", template_dir=tmp_path)
    assert message in str(info.value)
    assert "Traceback" not in str(info.value)


def test_missing_template_dir_is_a_texderive_error(tmp_path):
    with pytest.raises(TexderiveError, match="does not exist"):
        render(SAMPLE, "latex", template_dir=tmp_path / "nope")


def test_importing_render_does_not_import_jinja():
    code = "import sys, texderive.render; print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


# --- bad input ----------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("steps"), "steps is missing"),
    (lambda d: d.update(steps=[]), "steps is empty"),
    (lambda d: d["steps"][2].pop("latex"), "steps[2].latex is missing"),
    (lambda d: d["steps"][0].update(number="4"), "steps[0].number should be int"),
    (lambda d: d.update(function="tr(X)"), "function should be dict"),
    (lambda d: d["gradient"].pop("latex"), "gradient.latex is missing"),
])
def test_malformed_document_is_a_texderive_error(change, message):
    doc = copy.deepcopy(SAMPLE)
    change(doc)
    with pytest.raises(TexderiveError, match=re.escape(message)):
        render(doc, "latex")


@pytest.mark.parametrize("args, message", [
    (([], "latex"), "empty"), ((["x"], "latex"), "not a derivation document"),
    ((SAMPLE, "pdf"), "unknown format"), ((SAMPLE, "latex", "prose"), "unknown style"),
])
def test_bad_arguments(args, message):
    doc, fmt, *style = args
    with pytest.raises(TexderiveError, match=message):
        render(doc, fmt, style=style[0] if style else "chain")


@pytest.mark.parametrize("meta, message", [
    ({"titles": ["one"]}, "titles should be a list of 2"), ({"texts": "x"}, "texts should be a list"),
    ({"paper": "a4"}, "paper"), ({"title": 3}, "title should be a string"), ({"notation": "x"}, "notation"),
])
def test_bad_meta(meta, message):
    with pytest.raises(TexderiveError, match=message):
        render([SAMPLE, LS], "deck", meta=meta)


def test_a_deck_must_share_one_rule_numbering():
    other = copy.deepcopy(GREEK)
    other["rules"][3]["number"] = 7                      # logdet (7), but LONG has trace_transpose (7)
    with pytest.raises(TexderiveError, match=r"'trace_transpose' and 'logdet' are both numbered \(7\)"):
        render([LONG, other], "deck")
    other = copy.deepcopy(SAMPLE)
    other["rules"][1]["number"] = 9
    with pytest.raises(TexderiveError, match=r"'product' is numbered both \(2\) and \(9\)"):
        render([LS, other], "deck")


# --- the chain, rules and references -------------------------------------------

def test_snippet_numbers_rules_over_equals_and_has_no_rules_block():
    out = render(SAMPLE, "latex")
    assert out.count("\\begin{align*}") == 1
    assert "\\overset{(4)}{=}" in out and "\\overset{(6)}{=}" in out
    assert "\\label" not in out and "\\eqref" not in out and "\\tag{" not in out
    assert "\\tag*{\\small by \\((1)\\), \\(\\mathrm{d}\\mathbf{A} = 0\\) and \\(\\mathrm{d}\\mathbf{B} = 0\\)}" in out
    rows = out.split("\\begin{align*}\n")[1].split("\n\\end{align*}")[0].split(" \\\\\n")
    assert rows[0] == "y &= f(\\mathbf{X}) = \\operatorname{tr}(\\mathbf{A}\\mathbf{X}\\mathbf{B})"
    assert rows[1].startswith("\\mathrm{d}y &= \\mathrm{d}\\operatorname{tr}")
    assert rows[2].startswith("  &\\overset{(4)}{=} \\operatorname{tr}(\\mathrm{d}(")
    assert rows[6].startswith("\\nabla_{\\mathbf{X}} f &= (\\mathbf{B}\\mathbf{A})^\\top")
    assert len(rows) == 1 + len(SAMPLE["steps"])


@pytest.mark.parametrize("fmt", ["standalone", "article", "deck"])
def test_documents_with_a_rules_block_cite_it(fmt):
    out = render([SAMPLE, LS], fmt)
    labels = re.findall(r"\\tag\{(\d+)\}\\label\{([^}]*)\}", out)
    assert labels == [("1", "td:rule:constant"), ("2", "td:rule:product"), ("3", "td:rule:transpose"),
                      ("4", "td:rule:trace"), ("6", "td:rule:cyclic")]
    cited = set(re.findall(r"\\eqref\{([^}]*)\}", out))
    assert cited and cited <= {label for _, label in labels}
    assert "\\overset{\\eqref{td:rule:product}}{=}" in out
    assert "\\overset{(" not in out


def test_frames_for_input_number_rules_without_labels():
    """Several --format beamer files share one deck: no \\label at all; every
    number is \\tdR{ID}{N} with N this file's number, over "=", in the notes
    and in the rules frame alike (texderive.sty may renumber them together)."""
    for style in ("chain", "steps"):
        out = render([SAMPLE, LS], "beamer", style=style)
        assert "\\label" not in out and "\\eqref" not in out
        numbers = dict(re.findall(r"\\tdRegister\{([^}]*)\}\{(\d+)\}", out))
        assert numbers == {"constant": "1", "product": "2", "transpose": "3", "trace": "4", "cyclic": "6"}
        cited = re.findall(r"\\tdR\{([^}]*)\}\{(\d+)\}", out)
        assert cited and all(numbers[rid] == n for rid, n in cited)
        assert re.findall(r"\\tag\{\\tdR\{([^}]*)\}\{(\d+)\}\}", out) == sorted(numbers.items(), key=lambda kv: int(kv[1]))
        # no bare number is left in a note or over "="
        assert not re.search(r"\\\(\(\d+\)\\\)|\\overset\{\(\d", out)
        assert out.index("\\providecommand\\tdR[2]{#2}") < out.index("\\tdRegister{") < out.index("\\tdFileRules{")
    chain = render(SAMPLE, "beamer")
    assert "\\overset{(\\tdR{product}{2})}{=}" in chain
    assert "by \\((\\tdR{trace}{4})\\)" in chain


def test_steps_style_in_a_paper():
    out = render(SAMPLE, "latex", style="steps")
    assert out.count("\\item ") == len(SAMPLE["steps"])
    assert "\\item \\emph{Take the differential of \\(y\\)}." in out
    assert "\\item \\emph{Product rule (2)}.\n" in out                # the note only repeated the name
    assert "\\item \\emph{Constant rule (1)}: \\(\\mathrm{d}\\mathbf{A} = 0\\) and \\(\\mathrm{d}\\mathbf{B} = 0\\)." in out
    assert "\\item \\emph{Trace trick (6)}: \\(\\operatorname{tr}(\\mathbf{P}\\mathbf{Q})" in out
    assert "\\item \\emph{Read off the gradient}: \\(\\mathrm{d}y = " in out
    assert out.count("\\begin{align*}") == len(SAMPLE["steps"])
    assert "\\item \\emph{Product rule \\eqref{td:rule:product}}." in render(SAMPLE, "standalone", style="steps")


@pytest.mark.parametrize("rule, note, heading, remark", [
    ("product", r"by \((2)\), the product rule", "Product rule", ""),
    ("constant", "by (1), dA = 0 and dB = 0", "Constant rule", "dA = 0 and dB = 0"),
    ("differential", "take the differential of y", "Take the differential of y", ""),
    ("cyclic", "trace trick: tr(PQ) = tr(QP) with P = A dX, Q = B", "Trace trick", "tr(PQ) = tr(QP) with P = A dX, Q = B"),
    ("collect", "collect like terms", "Collect like terms", ""),
    ("factor", "factor out A dx", "Factor out A dx", ""),
    ("transpose_product", "(PQ)ᵀ = QᵀPᵀ", "Transpose product", "(PQ)ᵀ = QᵀPᵀ"),
    ("logdet", "by (7) and (4).", "Log-determinant rule", "by (7) and (4)"),
    ("", "", "Step", ""),
])
def test_step_headings(rule, note, heading, remark):
    assert render_module._heading(rule, note) == (heading, remark)


def test_markdown_is_for_mathjax_and_katex():
    for style in ("chain", "steps"):
        out = render(beamer_notation(LS), "markdown", style=style)
        assert "$$" in out
        for macro in ("\\label", "\\eqref", "\\tag", "\\begin{align*}", "\\uncover"):
            assert macro not in out
    chain = render(SAMPLE, "markdown")
    assert "\\begin{aligned}" in chain and "\\overset{(2)}{=}" in chain
    # notes carry their math as $...$ (pandoc's pdflatex has no Unicode maths)
    assert "- by (1), $\\mathrm{d}\\mathbf{A} = 0$ and $\\mathrm{d}\\mathbf{B} = 0$" in chain


# --- layout: widths, breaking, frames -----------------------------------------

def test_long_rows_are_broken_before_a_plus_or_minus():
    out = render(LS, "latex", meta={"paper": "twocolumn"})
    assert "\n  &\\quad{}- 2(\\mathrm{d}\\mathbf{b})^\\top" in out or "\n  &\\quad{}+ " in out
    view = render_module._view([LONG], "latex", "chain", False, {"paper": "twocolumn"})
    rows = view["docs"][0]["rows"]
    lhs_w = max(math_width(r["lhs"]) for r in rows)
    for row in rows:
        width = lhs_w + math_width(row["rel"] or "{}") + math_width(row["math"])
        assert width <= layout.WIDTH["twocolumn"] + 16, row["math"]


@pytest.mark.parametrize("latex, points", [
    (r"a + b - c", [2, 6]),
    (r"-a + (b - c)", [3, 8]),
    (r"\left(a + b\right) - {c + d}", [19]),
    (r"a^{-1} + b_{x+y} - \frac{a+b}{2}", [7, 17]),
    (r"a = -b + c", [2, 7]),                  # before a top-level "=" too (y = f(x) = ...)
    (r"a \odot -b + c", [11]),
])
def test_break_points_at_plus_and_minus(latex, points):
    found = [pos for pos, kind, _ in layout.break_points(latex) if kind == 0]
    assert found == points


def test_break_points_between_factors_keep_operators_whole():
    latex = r"\operatorname{tr}(\mathbf{A}\,\mathrm{d}\mathbf{X}\,\mathbf{B})\log\det\mathbf{X}"
    cuts = [latex[pos:] for pos, kind, _ in layout.break_points(latex) if kind == 1]
    assert all(not c.startswith("(") for c in cuts)                  # not between tr and (
    assert not any(c.startswith(r"\mathbf{X}\,\mathbf{B}") for c in cuts)   # d stays with X
    assert not any(c.startswith(r"\det") or c.startswith(r"\mathbf{X}") and c.endswith(r"\det\mathbf{X}") for c in cuts)
    assert any(c.startswith(r"\,\mathrm{d}") for c in cuts)


def test_a_long_derivation_continues_on_further_frames():
    out = render(beamer_notation(LONG), "beamer", meta={"titles": ["Example. Ratio"]})
    titles = re.findall(r"\\begin\{frame\}\[[^]]*\]\{([^}]*)\}", out)
    assert titles[0] == "Basic rules" and titles[1] == "Example. Ratio"
    assert len(titles) >= 4 and all(t == "Example. Ratio (cont.)" for t in titles[2:])
    frames = out.split("\\begin{frame}")[2:]
    for frame in frames[1:]:
        first_row = frame.split("\\begin{align*}\n")[1].split("\n")[0]
        assert first_row.startswith("\\operatorname{d}y &") or first_row.startswith("\\nabla_{\\mathbf{X}} f &")
    steps = sum(f.count("\\overset") + f.count("&= ") for f in frames)
    assert steps >= len(LONG["steps"])
    assert max(f.count(" \\\\\n") + 1 for f in frames) <= 12


def test_reveal_uncovers_rows_in_order():
    out = render(beamer_notation(SAMPLE), "beamer", reveal=True)
    assert "\\pause" not in out
    slides = [int(k) for k in re.findall(r"\\uncover<(\d+)->", out.split("\\begin{align*}", 2)[2])]
    assert slides == sorted(slides) and slides[0] == 1 and max(slides) == 1 + len(SAMPLE["steps"])
    steps = render(beamer_notation(SAMPLE), "beamer", reveal=True, style="steps")
    assert "\\item<1-> " in steps and "\\uncover" not in steps
    assert "\\uncover" not in render(SAMPLE, "beamer") and "\\uncover" not in render(SAMPLE, "latex", reveal=True)


def test_deck_is_a_classic_beamer_document():
    out = render([beamer_notation(d) for d in DOCS.values()], "deck", meta=DECK_META)
    for line in ("\\documentclass{beamer}", "\\usetheme{default}", "\\setbeamertemplate{navigation symbols}{}",
                 "\\setbeamertemplate{itemize items}[triangle]", "\\title{Matrix derivatives by the differential}",
                 "\\date{}", "  \\titlepage", "\\begin{frame}[t,allowframebreaks]{Basic rules}",
                 "    \\item Find \\(\\nabla_{\\mathbf{x}} f\\) for \\(y = f(\\mathbf{x}) = \\|\\mathbf{A}\\mathbf{x} - \\mathbf{b}\\|_2^2\\)",
                 "    \\item Given constant matrices A and B.", "\\end{document}"):
        assert line in out.split("\n"), line
    assert out.count("\\label{td:rule:") == 8


def test_standalone_is_a_complete_article():
    out = render(SAMPLE, "standalone")
    assert "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{bm}\n" in out
    assert out.rstrip().endswith("\\end{document}")
    assert "\\documentclass[twocolumn]{article}" in render(SAMPLE, "standalone", meta={"paper": "twocolumn"})


# --- sty ----------------------------------------------------------------------

def test_sty_provides_commands_and_never_overrides():
    text = sty()
    assert first_line(text) .startswith(f"% generated by texderive {__version__}")
    for name in ("\\tr", "\\dd", "\\T", "\\grad"):
        assert f"\\providecommand{{{name}}}" in text
    # the shorthands never override; only the opt-in [sharedrules] block defines
    # texderive's own rule-number macros outright
    shorthands, _, shared = text.partition("\\iftd@shared\n")
    assert "\\newcommand" not in shorthands and "\\renewcommand" not in text and "\\def\\" not in shorthands
    assert shared and all(name in shared for name in ("\\def\\tdR#1#2", "\\def\\tdRegister#1#2#3#4",
                                                      "\\newcommand\\texderiverules"))
    assert (templates_dir() / "texderive.sty").read_text(encoding="utf-8") in text


# --- determinism ----------------------------------------------------------------

def test_same_input_gives_the_same_bytes():
    docs = [beamer_notation(d) for d in DOCS.values()]
    for fmt in ("latex", "standalone", "beamer", "deck", "article", "markdown", "text", "json", "numpy"):
        for style in ("chain", "steps"):
            a = render(docs, fmt, style=style, meta=DECK_META)
            b = render(copy.deepcopy(docs), fmt, style=style, meta=copy.deepcopy(DECK_META))
            assert a == b


def test_same_bytes_under_another_hash_seed():
    code = ("import json, sys; sys.path.insert(0, 'tests'); from texderive.render import render; "
            "import test_render as t; "
            "sys.stdout.write(render([t.beamer_notation(d) for d in t.DOCS.values()], 'deck', meta=t.DECK_META)"
            " + render(list(t.DOCS.values()), 'article', style='steps'))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1


# --- rendering with real MathJax/KaTeX when they are installed -------------------

def _katex_checker():
    node = subprocess.run(["node", "-e", "require.resolve('katex')"], capture_output=True) \
        if os.environ.get("NODE_PATH") else None
    return node is not None and node.returncode == 0


@pytest.mark.skipif(not _katex_checker(), reason="KaTeX not found (npm install katex; set NODE_PATH)")
def test_markdown_renders_with_katex():
    script = ("const k=require('katex');const md=require('fs').readFileSync(0,'utf8');let n=0;"
              "for(const m of md.matchAll(/\\$\\$([\\s\\S]*?)\\$\\$/g)){k.renderToString(m[1],"
              "{displayMode:true,throwOnError:true,strict:'error'});n++}"
              "for(const m of md.replace(/\\$\\$[\\s\\S]*?\\$\\$/g,'').matchAll(/\\$([^$\\n]+)\\$/g)){"
              "k.renderToString(m[1],{throwOnError:true,strict:'error'});n++}console.log(n)")
    for style in ("chain", "steps"):
        md = render(list(DOCS.values()), "markdown", style=style)
        out = subprocess.run(["node", "-e", script], input=md, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert int(out.stdout) > 10


def test_each_derivation_may_have_its_own_style():
    out = render([SAMPLE, LS], "article", meta={"styles": ["steps", None]})
    first, second = out.split("\\section*{Example 2}")
    assert "\\begin{enumerate}" in first and "\\begin{enumerate}" not in second
    assert "\\overset{\\eqref{td:rule:product}}{=}" in second
    deck = render([SAMPLE, LS], "deck", style="steps", meta={"styles": [None, "chain"]})
    assert deck.count("\\item Step-by-step solution:") == 1
    with pytest.raises(TexderiveError, match="unknown style 'prose'"):
        render([SAMPLE, LS], "deck", meta={"styles": ["prose", None]})
    assert "styles" in render_module._META_KEYS


def test_rules_blocks_list_numbered_rules_only():
    doc = copy.deepcopy(SAMPLE)
    doc["rules"].append({"id": "collect", "number": None, "latex": "\\mathbf{P} = \\mathbf{P}", "text": "P = P"})
    for fmt in ("standalone", "beamer", "markdown"):
        assert "\\mathbf{P} = \\mathbf{P}" not in render(doc, fmt)
    doc["rules"] = []
    for step in doc["steps"]:
        step["number"] = None
    out = render(doc, "standalone")
    assert "\\tag{" not in out and "The rules of the differential" not in out
    assert "Basic rules" not in render(doc, "beamer")


# --- width (SPEC section 7) -----------------------------------------------------

@pytest.mark.parametrize("value, points", [
    ("column", 220.0), ("text", 345.0), ("3.5in", 252.945), ("252pt", 252.0), ("250bp", 250.9375),
    ("8cm", 227.622), ("80mm", 227.622), ("300 pt", 300.0), (".5in", None),
])
def test_width_values(value, points):
    if points is None:
        with pytest.raises(TexderiveError, match="between"):
            layout.parse_width(value)
    else:
        assert layout.parse_width(value) == pytest.approx(points, abs=1e-3)


@pytest.mark.parametrize("value", ["", "wide", "3.5", "3.5 furlong", "-3in", "3in!", "1e2pt", None, 220])
def test_bad_widths_say_what_is_allowed(value):
    with pytest.raises(TexderiveError, match="column .*text .*pt, bp, in, cm or mm"):
        layout.parse_width(value)


@pytest.mark.parametrize("fmt", ["beamer", "deck", "markdown", "text"])
def test_formats_without_a_width_refuse_one(fmt):
    with pytest.raises(TexderiveError, match=f"not to {fmt}"):
        render(SAMPLE, fmt, meta={"width": "column"})


def test_width_breaks_every_row_to_the_width():
    for width in ("column", "2.6in", "text"):
        points = layout.parse_width(width)
        for doc in (LONG, LS):
            rows = render_module._view([doc], "latex", "chain", False, {"width": width})["docs"][0]["rows"]
            lhs_w = max(math_width(r["lhs"]) for r in rows)
            for row in rows:
                used = lhs_w + (math_width(row["rel"]) if row["rel"] else 16.0) + math_width(row["math"])
                assert used <= points, (width, row["math"])
    narrow = render(LONG, "latex", meta={"width": "column"})
    assert narrow.count("\\\\") > render(LONG, "latex").count("\\\\")
    assert render(LONG, "latex", meta={"width": "text"}) == render(LONG, "latex")
    assert render(LONG, "latex", meta={"width": "column"}) == render(LONG, "latex", meta={"paper": "twocolumn"})
    # a standalone document is set to the width it was laid out for
    assert "\\setlength{\\textwidth}{220.00pt}" in render(LONG, "standalone", meta={"width": "column"})
    assert "\\setlength{\\textwidth}" not in render(LONG, "standalone")


def test_rows_break_outside_brackets_first():
    norm = r"\log\det(\mathbf{X}) + \|\mathbf{A}\mathbf{X}\mathbf{b} - \mathbf{c}\|^{2} + \operatorname{tr}(\mathbf{X}^{-1}\mathbf{B})"
    lines = [line for line, _ in layout.break_math(norm, 140, 120)]
    assert len(lines) == 2 and lines[1].startswith("+ \\operatorname{tr}")      # never inside the norm
    assert [(norm[p:p + 2], depth) for p, kind, depth in layout.break_points(norm) if kind == 0] == \
        [("+ ", 0), ("- ", 1), ("+ ", 0)]
    # a product of Hadamard factors breaks before an operator, not inside (X w)
    had = (r"\operatorname{sum}(\exp((-\mathbf{y}) \odot (\mathbf{X}\mathbf{w})) \odot \mathbf{y} "
           r"\oslash (\mathbf{1} + \exp((-\mathbf{y}) \odot (\mathbf{X}\mathbf{w}))))")
    lines = [line for line, _ in layout.break_math(had, 150, 150)]
    assert len(lines) > 1 and all(line.startswith(("\\odot", "\\oslash")) for line in lines[1:])


def test_sized_brackets_become_big_pairs_to_break():
    row = (r"\operatorname{tr}\left(\frac{1}{2}\mathbf{A}\mathbf{X}\mathbf{B}\mathbf{C}\mathbf{D}"
           r" + \mathbf{E}\mathbf{F}\mathbf{G}\mathbf{H}\mathbf{I}\mathbf{J}\right)")
    lines = [line for line, _ in layout.break_math(row, 100, 100)]
    assert len(lines) == 2 and "\\left" not in "".join(lines) and "\\right" not in "".join(lines)
    assert "".join(lines).count("\\biggl(") == "".join(lines).count("\\biggr)") == 1
    assert layout.break_math(row, 400, 400) == [(row, pytest.approx(math_width(row)))]   # fits: untouched


def test_cli_width_option(tmp_path):
    from click.testing import CliRunner
    from texderive import cli
    runner = CliRunner()
    ok = runner.invoke(cli.main, ["derive", "norm(A*x - b)^2 + tr(A*x*x')", "--wrt", "x", "--no-check",
                                  "--width", "column"])
    assert ok.exit_code == 0 and ok.output.count("\\quad{}") >= 1
    for fmt in ("beamer", "markdown", "text", "json", "numpy", "python"):
        target = tmp_path / f"out-{fmt}"
        bad = runner.invoke(cli.main, ["derive", "tr(X)", "--wrt", "X", "--format", fmt, "--width", "column",
                                       "-o", str(target)])
        assert bad.exit_code == 2 and f"not to {fmt}" in bad.output and "Traceback" not in bad.output
        assert not target.exists()
    bad = runner.invoke(cli.main, ["derive", "tr(X)", "--wrt", "X", "--width", "9parsec"])
    assert bad.exit_code == 2 and "bad width '9parsec'" in bad.output


def test_every_derivation_frame_starts_at_the_top():
    for style in ("chain", "steps"):
        out = render(beamer_notation(LONG), "beamer", style=style)
        frames = re.findall(r"\\begin\{frame\}(\[[^]]*\])?\{([^}]*)\}", out)
        # at the top, and broken again by LaTeX (never cut off) where a taller theme needs it
        assert len(frames) >= 3 and all(opt == "[t,allowframebreaks]" for opt, _ in frames)
        assert out.count("\\allowdisplaybreaks") == len(frames) - 1        # the rules frame's align* stays whole
        assert out.count("{\\setbeamertemplate{frametitle continuation}[from second]%") == len(frames)
        # a step's continued rows stay with it
        assert style == "steps" or re.search(r"\\\\\*\n  &\\quad", out) and not re.search(r"\\\\\n  &\\quad", out)
    reveal = render(beamer_notation(LONG), "beamer", reveal=True)
    assert "allowframebreaks]{Example" not in reveal and "\\begin{frame}[t]{Example" in reveal


def test_the_function_is_named_before_its_gradient():
    """y = f(w) = ...: the f of the final nabla_w f is stated first, in every format."""
    assert "y &= f(\\mathbf{x}) = \\|\\mathbf{A}\\mathbf{x} - \\mathbf{b}\\|_2^2" in render(LS, "latex")
    assert "for \\(y = f(\\mathbf{X}) = \\operatorname{tr}" in render(SAMPLE, "standalone")
    assert "for $y = f(\\mathbf{X}) = \\operatorname{tr}" in render(SAMPLE, "markdown")
    partial = copy.deepcopy(SAMPLE)
    for step in partial["steps"]:
        step["lhs"] = step["lhs"].replace("\\nabla_{\\mathbf{X}} f", "\\frac{\\partial f}{\\partial \\mathbf{X}}")
    assert "y &= f(\\mathbf{X}) = " in render(partial, "latex")
    # a left-hand side that names no f (a Jacobian, a Hessian): the function alone
    other = copy.deepcopy(SAMPLE)
    for step in other["steps"]:
        step["lhs"] = step["lhs"].replace("\\nabla_{\\mathbf{X}} f", "\\nabla_{\\mathbf{X}}^{2} f")
    out = render(other, "latex")
    assert "y &= \\operatorname{tr}" in out and "f(" not in out


# --- deck text with maths (SPEC section 7) ----------------------------------------

def _deck_text(text, notation="", expr="tr(X)", fmt="beamer"):
    from texderive.deck import build, loads
    head = f"format: {fmt}\ncheck: none\n{notation}derivations:\n"
    return build(loads(head + f"  - text: {text}\n    expr: {expr}\n    wrt: X\n", "deck.yaml"))


def test_deck_text_maths_is_printed_in_the_deck_notation():
    out = _deck_text('"`Y = X\'X` is symmetric; `dy = g\' dx` and `lambda >= 0`, {-1, +1} & 50%"',
                     notation="notation: {transpose: T, bold: bm}\n")
    line = next(l for l in out.splitlines() if "is symmetric" in l)
    assert line == (r"    \item \(\bm{Y} = \bm{X}^T\bm{X}\) is symmetric; \(\operatorname{d}y = \bm{g}^T"
                    r"\operatorname{d}\bm{x}\) and \(\lambda \ge 0\), \(\{\)-1, +1\(\}\) \& 50\%")
    article = _deck_text('"`Sigma <= 2*I`, `dSigma`"', notation="let: {Sigma: symmetric n}\n", fmt="article")
    assert r"\(\bm{\Sigma} \le 2\mathbf{I}\), \(\mathrm{d}\bm{\Sigma}\)" in article
    # y is the function's value unless the derivation has a variable y
    assert r"\(y\)" in _deck_text('"`y`"')
    assert r"\(\mathbf{y}\)" in _deck_text('"`y`"', expr="sum(y .* (X*w))")
    # a lone backtick is text, as before
    assert "it`s" in _deck_text('"it`s"')


@pytest.mark.parametrize("text, where, message", [
    # the column of the end of `A*(x`, where the parser found the bracket open
    ('"see `A*(x` here"', "deck.yaml:4:21:", "'(' at col 3 is not closed"),
    ("'`x = `'", "deck.yaml:4:15:", "a relation needs an expression on each side"),
    # escapes or folding: the line, and the column within the text
    ('"`\\\\input{/etc/passwd}`"', "deck.yaml:4:", "unexpected character '\\\\' (in the maths `\\input"),
    ('>-\n      folded text\n      with `A*(x` in it', "deck.yaml:4:", "at col 23 of the text"),
])
def test_deck_text_maths_errors_name_line_and_column(text, where, message):
    with pytest.raises(TexderiveError) as info:
        _deck_text(text)
    assert str(info.value.message).startswith(where) and message in info.value.message
    assert "derivation 1" in info.value.message and "text:" in info.value.message


# --- Unicode in free text (issue 12 item 4) ----------------------------------------

UNICODE_META = {"title": "Gradients — α, ∇, ≤ and “quotes”", "subtitle": "x ∈ R, λ ≥ 0, ‘single’ – dash …",
                "author": "José Ñúñez", "titles": ["Gaussian in Σ"], "texts": ["Σ ≻ 0, X⁻¹ and Xᵀ"]}


def test_unicode_free_text_becomes_macros_every_engine_reads():
    for fmt in ("deck", "article", "standalone", "beamer"):
        out = render(SAMPLE, fmt, meta=UNICODE_META)
        body = out.split("\n", 1)[1]
        # no raw Greek, maths symbol, dash or curly quote reaches the LaTeX
        assert not re.search(r"[α∇≤“”‘’—–…Σ≻⁻ᵀ∈λ≥]", body), fmt
    deck = render(SAMPLE, "deck", meta=UNICODE_META)
    assert r"\title{Gradients --- \(\alpha\), \(\nabla\), \(\le\) and ``quotes''}" in deck
    assert r"\author{José Ñúñez}" in deck
    assert r"\item \(\Sigma\) \(\succ\) 0, X\(^{-}\)\(^1\) and X\(^\top\)" in deck


@pytest.mark.parametrize("meta, message", [
    ({"title": "smile 😀"}, "title: the character '😀' (U+1F600 GRINNING FACE) at col 7"),
    ({"author": "山田"}, "author: the character '山' (U+5C71 CJK UNIFIED IDEOGRAPH-5C71) at col 1"),
    ({"titles": ["x ∈ ℝ"]}, "the title: the character 'ℝ' (U+211D DOUBLE-STRUCK CAPITAL R) at col 5"),
])
def test_characters_latex_cannot_set_are_refused_by_name(meta, message):
    for fmt in ("deck", "standalone", "beamer"):
        with pytest.raises(TexderiveError) as info:
            render(SAMPLE, fmt, meta=meta)
        assert info.value.message.startswith(message)
    assert "😀" in render(SAMPLE, "markdown", meta={"titles": ["smile 😀"]})      # the web has the fonts


def test_a_note_wider_than_the_line_wraps_in_a_box():
    doc = copy.deepcopy(SAMPLE)
    doc["steps"][-1]["note_latex"] = "a note that goes on and on, " * 6 + r"with \(\mathbf{X}\) in it"
    for fmt, width in (("latex", "column"), ("latex", None), ("beamer", None)):
        meta = {"width": width} if width else {}
        out = render(beamer_notation(doc) if fmt == "beamer" else doc, fmt, meta=meta)
        assert r"\parbox[t]{0.8\linewidth}{\raggedleft a note that goes on" in out
    assert r"\parbox" not in render(SAMPLE, "latex", meta={"width": "column"})
    # the rows of a note of several lines count in a frame's height
    rows = render_module._view([beamer_notation(doc)], "beamer", "chain", False, {})["docs"][0]["rows"]
    assert rows[-1]["tall"] and rows[-1]["note_lines"] >= 2


def test_a_long_display_never_breaks_after_its_statement():
    """No orphan "y = ..." at a page foot: the first two rows stay together."""
    rows = render_module._view([LONG], "latex", "chain", False, {"width": "column"})["docs"][0]["rows"]
    assert len(rows) > 8 and any(r["breakable"] for r in rows)
    assert not rows[0]["breakable"] and not rows[1]["breakable"]
    out = render(LONG, "latex", meta={"width": "column"})
    first_break = out.index("\\displaybreak[0]")
    assert out[:first_break].count("\\\\") >= 2


def test_a_hessian_states_the_f_its_steps_differentiate():
    import texderive
    d = texderive.derive("x'*A*x", "x", hessian=True)
    out = d.to_latex()
    assert "y &= f(\\mathbf{x}) = \\mathbf{x}^\\top\\mathbf{A}\\mathbf{x}" in out and "\\nabla_{\\mathbf{x}} f" in out
    jac = texderive.derive("A*x", "x").to_latex()          # a Jacobian names no f: F = ... as it is
    assert "f(" not in jac
