"""Issue 13 item 7 / SPEC section 4: the JSON document's and the markdown output's LaTeX
render in MathJax 3 and KaTeX, for every kind of name (Greek and Latin scalars, vectors,
matrices, symmetric matrices, subscripted names) and every notation option, with real
renderers under node (tests/js/render_math.js).  Skipped without node, except under
CI=true."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from texderive import derive

ROOT = Path(__file__).resolve().parents[1]
RENDER_MATH = ROOT / "tests" / "js" / "render_math.js"

CASES = [   # every name kind: Greek vector, Greek matrix, Greek scalar, symmetric, subscripts
    ("theta'*Sigma*theta + alpha*norm(Lambda*x)^2", "theta",
     {"theta": "vector", "Lambda": "matrix"}),
    ("tr(Omega*X_1*B) + beta2*sum(W_q .* X_1)", "X_1", {}),
    ("logdet(S) + tr(inv(S)*C)", "S", {"S": "symmetric n", "C": "symmetric n"}),
    ("sum(log(1 + exp(-y .* (X*w))))", "w", {}),
    ("lambda*x'*x + mu^2*sum(exp(x))/sigma", "x", {}),
    ("sum(X + ones*v')", "v", {}),
]
OPTIONS = [{}, {"bold": "bm", "transpose": "mathsf", "trace": "Tr", "gradient": "partial"},
           {"bold": "none", "transpose": "T", "equals": "stackrel"}, {"macros": True}]


def node_modules():
    candidates = [*filter(None, os.environ.get("NODE_PATH", "").split(os.pathsep)),
                  str(ROOT / ".venv" / "node" / "node_modules"),
                  str(Path(sys.executable).resolve().parents[1] / "node" / "node_modules"),
                  str(Path(sys.executable).parents[1] / "node" / "node_modules")]
    for base in candidates:
        if all((Path(base) / m / "package.json").is_file() for m in ("katex", "mathjax-full")):
            return base
    return None


def renderers():
    base = node_modules()
    if shutil.which("node") and base:
        return base
    if os.environ.get("CI") == "true":
        pytest.fail("node with katex and mathjax-full must be installed in CI (make test)")
    pytest.skip("node, katex or mathjax-full is not installed (make test installs them)")


def math_of_document(doc: dict) -> list:
    """Every math string of a JSON document: display math and the inline math of notes."""
    out = [doc["function"]["latex"], doc["gradient"]["latex"]]
    for r in doc["rules"]:
        out.append(r["latex"])
    for s in doc["steps"]:
        out += [s["lhs"], s["latex"]]
        out += re.findall(r"\\\((.*?)\\\)", s["note_latex"])
    return [m for m in out if m]


def math_of_markdown(md: str) -> list:
    out = re.findall(r"\$\$(.*?)\$\$", md, flags=re.S)
    rest = re.sub(r"\$\$(.*?)\$\$", "", md, flags=re.S)
    out += re.findall(r"(?<!\$)\$([^$\n]+)\$(?!\$)", rest)
    return [m.strip() for m in out if m.strip()]


def test_web_math_renders_in_katex_and_mathjax():
    base = renderers()
    items = []
    for expr, wrt, let in CASES:
        d = derive(expr, wrt=wrt, let=let)
        for opts in OPTIONS:
            doc = d.to_dict(notation=opts) if opts else d.to_dict()
            for tex in math_of_document(doc):
                items.append({"tex": tex, "display": True})
            for tex in math_of_markdown(d.to_markdown(**opts)):
                items.append({"tex": tex, "display": True})
    texs = [i["tex"] for i in items]
    assert not [t for t in texs if re.search(r"\\bm(?![A-Za-z])", t)], "\\bm in web math"
    assert any(r"\boldsymbol{\theta}" in t for t in texs)      # a Greek vector is bold there
    assert any(r"\boldsymbol{\Sigma}" in t for t in texs)
    unique = list({i["tex"]: i for i in items}.values())
    done = subprocess.run(["node", str(RENDER_MATH)], input=json.dumps(unique),
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, NODE_PATH=base))
    assert done.returncode == 0, done.stderr
    errors = json.loads(done.stdout)
    assert errors == {"katex": [], "mathjax": []}, json.dumps(errors, indent=1)[:3000]
