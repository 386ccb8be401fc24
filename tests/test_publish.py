"""Publishing the markdown output: pandoc to HTML and to PDF with pdflatex, and a MkDocs
site with pymdown-extensions' arithmatex (the README's recipe), built for real."""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import textwrap

import pytest
import yaml

from texderive import derive
from texderive.render import markdown_note

import texlog

ROOT = pathlib.Path(__file__).resolve().parent.parent


def example_derivations():
    out = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        deck = yaml.safe_load(path.read_text(encoding="utf-8"))
        for e in deck["derivations"]:
            let = {**(deck.get("let") or {}), **(e.get("let") or {})}
            out.append(derive(e["expr"], e["wrt"], let, latex=bool(e.get("latex"))))
    return out


@pytest.fixture(scope="module")
def pages():
    """Every example's markdown, in both styles."""
    ds = example_derivations()
    assert len(ds) >= 10
    return {style: [d.to_markdown(style=style) for d in ds] for style in ("chain", "steps")}


def test_markdown_has_no_unicode_maths(pages):
    for style, texts in pages.items():
        for text in texts:
            bad = sorted({c for c in text if not c.isascii()})
            assert bad == [], (style, bad, text[:400])


@pytest.mark.parametrize("latex, markdown", [
    (r"by \((4)\), \(\mathrm{d}\operatorname{tr}\mathbf{X} = \operatorname{tr}(\mathrm{d}\mathbf{X})\)",
     r"by (4), $\mathrm{d}\operatorname{tr}\mathbf{X} = \operatorname{tr}(\mathrm{d}\mathbf{X})$"),
    (r"take the differential of \(y\)", r"take the differential of $y$"),
    (r"100\% \& a\_b \{x\} \textbackslash{} \textless{} * [1]",
     r"100% &amp; a\_b {x} \\ &lt; \* \[1\]"),
    (r"(H + H\(^\top\))/2", r"(H + H$^\top$)/2"),
])
def test_markdown_note(latex, markdown):
    assert markdown_note(latex) == markdown


def pandoc(args, cwd):
    return subprocess.run(["pandoc", *args], cwd=cwd, capture_output=True, text=True,
                          env=texlog.tex_env(), stdin=subprocess.DEVNULL, timeout=600)


@pytest.mark.parametrize("style", ["chain", "steps"])
def test_pandoc_html(pages, tmp_path, style):
    texlog.need("pandoc")
    (tmp_path / "d.md").write_text("\n\n".join(pages[style]), encoding="utf-8")
    proc = pandoc(["d.md", "-s", "--mathjax", "--metadata", "title=t", "-o", "d.html"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "d.html").read_text(encoding="utf-8")
    display = len(re.findall(r'class="math display"', html))
    inline = len(re.findall(r'class="math inline"', html))
    assert display >= len(pages[style]) and inline >= 3 * len(pages[style])
    body = re.sub(r"<span\s+class=\"math[^\"]*\">.*?</span>", "", html, flags=re.S)
    body = re.sub(r"<script.*?</script>", "", body, flags=re.S)
    assert "$" not in body                      # every dollar became math
    assert "\\mathbf" not in body and "\\operatorname" not in body


@pytest.mark.latex
@pytest.mark.parametrize("style", ["chain", "steps"])
def test_pandoc_pdf_with_pdflatex(pages, tmp_path, style):
    texlog.need("pandoc", "pdflatex")
    (tmp_path / "d.md").write_text("\n\n".join(pages[style]), encoding="utf-8")
    proc = pandoc(["d.md", "-s", "-o", "d.tex"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "-no-shell-escape", "d.tex"], cwd=tmp_path, env=texlog.tex_env(),
                          capture_output=True, timeout=600)
    log = (tmp_path / "d.log").read_text(encoding="latin-1")
    assert proc.returncode == 0, log[-3000:]
    errors = [p for p in texlog.problems(log) if not p.startswith("Overfull")]
    assert errors == [], errors
    # and pandoc's own route to PDF, as a user types it
    proc = pandoc(["d.md", "-o", "d.pdf", "--pdf-engine=pdflatex"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "d.pdf").stat().st_size > 10_000


MKDOCS_YML = """\
site_name: Gradients
markdown_extensions:
  - pymdownx.arithmatex:
      generic: true
extra_javascript:
  - javascripts/mathjax.js
  - https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js
"""
MATHJAX_JS = """\
window.MathJax = {
  tex: {inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
        processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"}
};
"""


def test_mkdocs_site_with_arithmatex(tmp_path):
    try:
        import mkdocs  # noqa: F401
        import pymdownx  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("mkdocs and pymdown-extensions are test dependencies (pip install '.[test]')")
        pytest.skip("mkdocs or pymdown-extensions not installed")
    import sys
    d = derive("log(det(X'*X))", "X")
    (tmp_path / "docs" / "javascripts").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    (tmp_path / "docs" / "javascripts" / "mathjax.js").write_text(MATHJAX_JS, encoding="utf-8")
    (tmp_path / "docs" / "index.md").write_text("# Log-determinant\n\n" + d.to_markdown(),
                                               encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=tmp_path,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<div class="arithmatex">(.*?)</div>', html, re.S)
    spans = re.findall(r'<span class="arithmatex">(.*?)</span>', html, re.S)
    assert len(blocks) == 1 and "\\begin{aligned}" in blocks[0] and blocks[0].startswith("\\[")
    assert len(spans) >= 5 and all(s.startswith("\\(") for s in spans)
    # the math reaches MathJax as written: no markdown emphasis or escapes inside it
    assert "<em>" not in "".join(blocks + spans) and "\\mathrm{d}" in "".join(spans)
    body = re.sub(r'<(div|span) class="arithmatex">.*?</\1>', "", html, flags=re.S)
    assert "\\mathbf" not in body
