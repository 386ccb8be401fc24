"""Issue 12: every documented notation option and output format compiles, in combination.

Each row of the matrix is one choice of every notation option (bold, transpose, trace,
gradient symbol, equals sign, macros), of the style, and of the host the output goes
into: a LaTeX snippet ``\\input`` into an article and into IEEEtran (conference), Beamer
frames ``\\input`` into a deck, a standalone document, and of the width (column or
text; Beamer frames take the deck's).  The output of a few derivations for that
row is compiled with pdflatex; the log must show no error, no undefined control
sequence, no overfull box and no multiply-defined label.

``make test`` compiles an all-pairs covering array (every pair of values of any two
options occurs in some row), generated deterministically below; ``make test-matrix``
(``TEXDERIVE_MATRIX=1 pytest -m matrix``) compiles the full product.
"""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess

import pytest

from texderive import derive
from texderive.cli import NOTATION_CHOICES

DERIVATIONS = [          # statements with \det, Greek, Hadamard products and rule notes
    ("tr(A*X*B)", "X", {}),
    ("log(det(X'*X))", "X", {}),
    ("norm(A*x - b)^2 + lambda*norm(x)^2", "x", {"lambda": "scalar"}),
    ("sum(log(1 + exp(-y .* (X*w))))", "w", {}),
    ("alpha*tr(Q'*P) + sum(X .* Y)", "X", {}),
]

# Every notation choice the command line offers (so a new option joins the matrix by
# itself), then the output's own dimensions.
PARAMS = {
    **NOTATION_CHOICES,
    "style": ("chain", "steps"),
    "host": ("article", "ieeetran", "beamer", "standalone"),
    "width": ("column", "text"),            # --width (SPEC section 7)
}

HOSTS = {
    "article": ("latex", "\\documentclass{article}\n"),
    "ieeetran": ("latex", "\\documentclass[conference]{IEEEtran}\n"),
    "beamer": ("beamer", "\\documentclass{beamer}\n"),
    "standalone": ("standalone", ""),
}


def pairwise(params: dict) -> list:
    """A small all-pairs covering array, the same on every run: greedily, the row of the
    full product (in its fixed order) that covers the most pairs not yet covered."""
    names = list(params)
    todo = {((a, va), (b, vb)) for a, b in itertools.combinations(names, 2)
            for va in params[a] for vb in params[b]}
    rows = []
    product = [dict(zip(names, values)) for values in itertools.product(*params.values())]
    while todo:
        best, gain = None, -1
        for row in product:
            g = sum(((a, row[a]), (b, row[b])) in todo for a, b in itertools.combinations(names, 2))
            if g > gain:
                best, gain = row, g
        rows.append(best)
        todo -= {((a, best[a]), (b, best[b])) for a, b in itertools.combinations(names, 2)}
    return rows


def full_product(params: dict) -> list:
    return [dict(zip(params, values)) for values in itertools.product(*params.values())]


def row_id(row: dict) -> str:
    return "-".join(str(v) for v in row.values())


def _compile_or_skip() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdflatex is not installed, and CI=true requires the LaTeX tests")
        pytest.skip("pdflatex is not installed")
    return exe


_DERIVED = {}


def _derivations():
    if not _DERIVED:
        for expr, wrt, let in DERIVATIONS:
            _DERIVED[expr] = derive(expr, wrt=wrt, let=let, check=True)
    return [_DERIVED[e] for e, _, _ in DERIVATIONS]


def document(row: dict) -> str:
    """The host document with this row's outputs in it."""
    fmt, docclass = HOSTS[row["host"]]
    options = {k: v for k, v in row.items() if k != "host"}
    if fmt == "beamer":
        options.pop("width", None)                    # frames take the deck's width
    parts = [d._output(fmt, dict(options)) for d in _derivations()]
    if fmt == "standalone":
        return parts[0]
    head = docclass + "\\usepackage{amsmath,amssymb,bm}\n"
    if row["macros"]:
        head += "\\usepackage{texderive}\n"
    body = "\n".join(parts)
    if row["host"] == "ieeetran":      # a two-column page: the snippets sit in a column
        body = "\\section{Derivations}\n" + body
    return head + "\\begin{document}\n" + body + "\n\\end{document}\n"


def compile_row(tmp_path, row: dict) -> None:
    exe = _compile_or_skip()
    from texderive.render import sty
    (tmp_path / "texderive.sty").write_text(sty())
    src = document(row)
    (tmp_path / "t.tex").write_text(src)
    env = dict(os.environ, openin_any="p")
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                           "t.tex"], cwd=tmp_path, env=env, capture_output=True, timeout=300)
    log = (tmp_path / "t.log").read_text(errors="replace")
    errors = [ln for ln in log.splitlines() if ln.startswith("!")]
    assert proc.returncode == 0 and not errors, f"{row}:\n" + "\n".join(errors[:5])
    assert "Undefined control sequence" not in log, row
    assert "multiply defined" not in log, row
    if not (row["width"] == "text" and row["host"] == "ieeetran"):   # text width overflows a column by design
        overfull = [ln for ln in log.splitlines() if ln.startswith("Overfull")]
        assert not overfull, f"{row}: {overfull[:3]}"


PAIRS = pairwise(PARAMS)


def test_the_covering_array_covers_every_pair():
    for a, b in itertools.combinations(PARAMS, 2):
        seen = {(r[a], r[b]) for r in PAIRS}
        assert seen == set(itertools.product(PARAMS[a], PARAMS[b])), (a, b)
    assert PAIRS == pairwise(PARAMS)                     # deterministic
    assert len(PAIRS) < len(full_product(PARAMS)) // 20


@pytest.mark.latex
@pytest.mark.parametrize("row", PAIRS, ids=[row_id(r) for r in PAIRS])
def test_every_pair_of_options_compiles(tmp_path, row):
    compile_row(tmp_path, row)


FULL = full_product(PARAMS) if os.environ.get("TEXDERIVE_MATRIX") == "1" else []


@pytest.mark.matrix
@pytest.mark.latex
@pytest.mark.skipif(not FULL, reason="the full product runs under `make test-matrix`")
@pytest.mark.parametrize("row", FULL or [None], ids=[row_id(r) for r in FULL] or ["off"])
def test_every_combination_compiles(tmp_path, row):
    compile_row(tmp_path, row)
