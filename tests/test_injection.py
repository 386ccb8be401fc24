"""Issue 6: names and free text never inject LaTeX.  A deck whose title, author and
derivation texts try to read a file is built and compiled with openin_any=p; the
secret's content must appear neither in the PDF nor in the log.  Expressions that
try it are refused before any output is written."""
import os
import shutil
import subprocess
import sys

import pytest

from texderive import TexderiveError, derive

PDFLATEX = shutil.which("pdflatex")
PDFTOTEXT = shutil.which("pdftotext")
needs_tex = pytest.mark.skipif(
    (PDFLATEX is None or PDFTOTEXT is None) and os.environ.get("CI") != "true",
    reason="pdflatex/pdftotext not installed (CI=true makes this a failure)")

TOKEN = "SECRETTOKEN4729"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def hostile(path) -> list:
    p = str(path)
    return [rf"\input{{{p}}}", rf"\InputIfFileExists{{{p}}}{{}}{{}}", rf"$\input{{{p}}}$",
            rf"\catcode`\{{=1 \input {p}", rf"}}\input{{{p}}}{{", rf"\write18{{cat {p}}}",
            rf"\def\x{{\input{{{p}}}}}\x", "% comment } { & # ^ _ ~ < > |"]


@needs_tex
@pytest.mark.latex
def test_hostile_deck_text_does_not_leak_a_file(tmp_path):
    secret = tmp_path / "secret.tex"
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    texts = hostile(secret)
    import yaml
    deck = {"title": texts[0], "author": texts[1], "subtitle": texts[2], "format": "beamer",
            "derivations": [{"title": t, "text": t, "expr": "tr(A*X*B)", "wrt": "X"}
                            for t in texts[3:]]}
    (tmp_path / "deck.yaml").write_text(yaml.safe_dump(deck), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "texderive.cli", "build", "deck.yaml", "-o",
                          "deck.tex"], cwd=tmp_path, capture_output=True, text=True, env=PYENV)
    assert run.returncode == 0, run.stderr
    tex = (tmp_path / "deck.tex").read_text(encoding="utf-8")
    assert TOKEN not in tex
    env = {**os.environ, "openin_any": "p", "openout_any": "p"}
    proc = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-no-shell-escape", "deck.tex"],
                          cwd=tmp_path, env=env, capture_output=True, timeout=300)
    log = (tmp_path / "deck.log").read_text(encoding="latin-1")
    assert proc.returncode == 0, log[-2000:]
    assert TOKEN not in log
    text = subprocess.run([PDFTOTEXT, "deck.pdf", "-"], cwd=tmp_path, capture_output=True,
                          text=True).stdout
    assert TOKEN not in text
    assert "input" in text                    # the hostile text is shown, as text


@pytest.mark.parametrize("expr, latex", [
    (r"X\input{/etc/hostname}", False),
    (r"tr(X) + \input{/etc/hostname}", False),
    (r"\operatorname{tr}(\mathbf{X}) + \input{/etc/hostname}", True),
    (r"\def\x{1}\operatorname{tr}(\mathbf{X})", True),
    (r"\mathbf{X\input{/etc/hostname}}", True),
    (r"\write18{ls}", True),
])
def test_hostile_expressions_are_refused(expr, latex):
    with pytest.raises(TexderiveError):
        derive(expr, wrt="X", latex=latex)


def test_hostile_expression_leaves_no_output_file(tmp_path):
    out = tmp_path / "snippet.tex"
    run = subprocess.run([sys.executable, "-m", "texderive.cli", "derive", r"X\input{x}",
                          "--wrt", "X", "-o", str(out)], capture_output=True, text=True,
                         env=PYENV)
    assert run.returncode == 2 and "Error" in run.stderr
    assert not out.exists()
