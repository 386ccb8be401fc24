r"""Compile every LaTeX output with pdflatex and read the log (marker ``latex``).

Every format and style of the sample document and the hand-made ones of
tests/test_render.py (least squares with a vector variable, a 14-step
derivation that needs continuation frames, one with bold Greek) is compiled:
snippets ``\input`` into an article, into a two-column article and next to the
physics package; texderive.sty loaded before and after physics; standalone
documents; articles; Beamer frames with overlays ``\input`` into a
lecturer's deck; whole decks.  pdflatex runs in draft mode (the log is what
is checked), without shell escape and with ``openin_any=p``.  A compile
passes when pdflatex exits 0 and the log has no error line, no undefined
control sequence, no overfull box (an hbox by more than 1pt, any vbox:
content cut off a slide), and, after a second run, no undefined or multiply
defined reference.

Without pdflatex the tests are skipped, except in CI (``CI=true``), where a
missing pdflatex is a failure.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from texderive.render import render, sty

pytestmark = pytest.mark.latex

_spec = importlib.util.spec_from_file_location("_texderive_render_tests", Path(__file__).with_name("test_render.py"))
_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_docs)
DOCS, DECK_META, HOSTILE, beamer_notation = _docs.DOCS, _docs.DECK_META, _docs.HOSTILE, _docs.beamer_notation

PDFLATEX = shutil.which("pdflatex")
ENGINES = ("pdflatex", "xelatex", "lualatex")
ARTICLE = "\\documentclass%s{article}\n\\usepackage{amsmath}\n\\usepackage{bm}\n%s\\begin{document}\n%s\\end{document}\n"
PARAGRAPH = "Text of a paper around the derivation, to fill the column and show where the display sits.\n"
STYLES = ("chain", "steps")


def _snippets(prefix: str, meta=None) -> dict:
    """{file name: snippet} for every document and style."""
    return {f"{prefix}-{name}-{style}.tex": render(doc, "latex", style=style, meta=meta)
            for name, doc in DOCS.items() for style in STYLES}


def _inputs(files) -> str:
    return "".join(f"{PARAGRAPH}\\input{{{name}}}\n" for name in files)


COLUMN_HOSTS = {
    "ieeetran": ("\\documentclass[conference]{IEEEtran}", ""),
    "acmart": ("\\documentclass[sigconf]{acmart}",
               "\\settopmatter{printacmref=false}\\setcopyright{none}\\title{T}\\author{A}\\renewcommand\\shorttitle{T}\n"),
    "revtex": ("\\documentclass[twocolumn]{revtex4-2}", ""),
    "article-twocolumn": ("\\documentclass[a4paper,twocolumn]{article}", ""),
}


def _have_class(line: str) -> bool:
    cls = re.search(r"\{([^}]*)\}$", line).group(1) + ".cls"
    found = shutil.which("kpsewhich") and subprocess.run(["kpsewhich", cls], capture_output=True,
                                                          text=True).stdout.strip()
    if not found and os.environ.get("CI") == "true":
        pytest.fail(f"{cls} is missing: .ci/run installs texlive-publishers")
    return bool(found)


_EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example_snippets(width: str) -> dict:
    """{file name: snippet} of every derivation of the example decks, both styles."""
    from texderive.deck import load, render_document
    out = {}
    for path in sorted(_EXAMPLES.glob("*.yaml")):
        deck = load(str(path))
        for k, entry in enumerate(deck.entries):
            for style in STYLES:
                out[f"ex-{path.stem}-{k}-{style}.tex"] = render_document(
                    [entry], "latex", notation=deck.notation, style=style, check="none",
                    meta={"width": width}, let=deck.let)
    return out


THEMES = {
    "default": ("\\documentclass{beamer}", ""),
    "madrid": ("\\documentclass{beamer}", "\\usetheme{Madrid}\n"),
    "wide": ("\\documentclass[aspectratio=169]{beamer}", ""),
    "physics": ("\\documentclass{beamer}", "\\usepackage{physics}\n"),
    "metropolis": ("\\documentclass{beamer}", "\\usetheme{metropolis}\n"),
    "metropolis-wide-physics": ("\\documentclass[aspectratio=169]{beamer}", "\\usetheme{metropolis}\n\\usepackage{physics}\n"),
}


def _example_article(style: str) -> str:
    """``texderive build`` of the example decks' derivations as one two-column article."""
    from texderive.deck import load, render_document
    import dataclasses
    entries = []
    for path in sorted(_EXAMPLES.glob("*.yaml")):
        deck = load(str(path))
        entries += [dataclasses.replace(e, let={**deck.let, **e.let}) for e in deck.entries]
    return render_document(entries, "article", style=style, check="none",
                           meta={"paper": "twocolumn", "title": "Examples"})


def _example_frames() -> dict:
    """{file name: --format beamer frames} of each example deck's derivations."""
    from texderive.deck import load, render_document
    out = {}
    for path in sorted(_EXAMPLES.glob("*.yaml")):
        deck = load(str(path))
        out[f"frames-{path.stem}.tex"] = render_document(deck.entries, "beamer", notation=deck.notation,
                                                         style=deck.style, check="none", let=deck.let)
    return out


@functools.cache
def _jobs() -> dict:
    """name -> (main .tex source, {other file: text}, runs)."""
    jobs = {}
    one = _snippets("one")
    two = _snippets("two", meta={"paper": "twocolumn"})
    chains = {k: v for k, v in one.items() if k.endswith("-chain.tex")}
    jobs["snippets-article"] = (ARTICLE % ("", "", _inputs(one)), one, 1)
    jobs["snippets-twocolumn"] = (ARTICLE % ("[a4paper,twocolumn]", "", _inputs(two)), two, 1)
    jobs["snippets-physics"] = (ARTICLE % ("", "\\usepackage{physics}\n", _inputs(chains)), chains, 1)
    uses = ("Hand-written: \\(\\tr(\\mathbf{A}\\mathbf{X}) + \\dd\\mathbf{X} + \\mathbf{X}\\T"
            " + \\grad{\\mathbf{X}} f\\).\n")
    for order, packages in (("after", "\\usepackage{texderive}\n\\usepackage{physics}\n"),
                            ("before", "\\usepackage{physics}\n\\usepackage{texderive}\n")):
        files = {"texderive.sty": sty(), **chains}
        jobs[f"sty-physics-{order}"] = (ARTICLE % ("", packages, uses + _inputs(chains)), files, 1)
    for name, doc in DOCS.items():
        for style in STYLES:      # one run: "(??)" stands where "(2)" will, and is wider
            jobs[f"standalone-{name}-{style}"] = (render(doc, "standalone", style=style), {}, 1)
    jobs["standalone-long-twocolumn"] = (render(DOCS["long"], "standalone", meta={"paper": "twocolumn"}), {}, 2)
    article_meta = {**DECK_META, "title": HOSTILE, "author": "A. } $ & Lecturer",
                    "titles": [HOSTILE, None, None, None]}
    for style in STYLES:
        jobs[f"article-{style}"] = (render(list(DOCS.values()), "article", style=style, meta=article_meta), {}, 2)
    slides = [beamer_notation(doc) for doc in DOCS.values()]
    deck_meta = {**DECK_META, "titles": [HOSTILE] + DECK_META["titles"][1:]}
    for style in STYLES:
        jobs[f"deck-{style}"] = (render(slides, "deck", style=style, meta=deck_meta), {}, 2)
    lecture = ("\\documentclass{beamer}\n\\usepackage{bm}\n\\setbeamertemplate{navigation symbols}{}\n"
               "\\begin{document}\n\\begin{frame}{My own frame}\nBefore the derivation.\n\\end{frame}\n"
               "\\input{frames}\n\\end{document}\n")
    for style in STYLES:
        frames = render(beamer_notation(DOCS["long"]), "beamer", style=style, reveal=True,
                        meta={"titles": ["Example. (eq. 101 in the Matrix Cookbook)"]})
        jobs[f"beamer-frames-{style}"] = (lecture, {"frames.tex": frames}, 2)
    # --width column snippets (the hand-made documents and every example) in
    # the two-column classes SPEC section 7 names
    narrow = {**_snippets("col", meta={"width": "column"}), **_example_snippets("column")}
    for host, (cls, extra) in COLUMN_HOSTS.items():
        if _have_class(cls):
            jobs[f"width-column-{host}"] = ("%s\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n\\usepackage{bm}\n%s"
                                            "\\begin{document}\n%s\\end{document}\n" % (cls, extra, _inputs(narrow)),
                                            narrow, 1)
    # build with paper: twocolumn (an article deck of every example derivation, both styles)
    for style in STYLES:
        jobs[f"article-twocolumn-examples-{style}"] = (_example_article(style), {}, 2)
    # the examples' frames, one file after another, in the common themes
    # (metropolis' taller title bar makes LaTeX break some frames again: never an overflow)
    frames = _example_frames()
    for theme, (cls, extra) in THEMES.items():
        jobs[f"beamer-theme-{theme}"] = ("%s\n%s\\usepackage{amsmath}\n\\usepackage{amssymb}\n\\usepackage{bm}\n"
                                         "\\begin{document}\n%s\\end{document}\n"
                                         % (cls, extra, "".join(f"\\input{{{f}}}\n" for f in frames)), frames, 1)
    # Unicode in titles and texts, with each engine
    unicode_meta = {**_docs.UNICODE_META, "titles": ["Gaussian in Σ", "Least squares – “ridge”"],
                    "texts": ["Σ ≻ 0, X⁻¹ and Xᵀ", "λ ≥ 0 … ‖x‖²"]}
    pair = [DOCS["sample"], DOCS["greek"]]
    for engine in ENGINES:
        jobs[f"unicode-deck-{engine}"] = (render([beamer_notation(d) for d in pair], "deck", meta=unicode_meta), {}, 1,
                                          engine)
        jobs[f"unicode-article-{engine}"] = (render(pair, "article", meta=unicode_meta), {}, 1, engine)
    # several --format beamer files in one deck (one of them twice): no label is
    # defined twice; with texderive.sty's [sharedrules], one rules frame for all
    files = {f"frames-{name}.tex": render(beamer_notation(doc), "beamer") for name, doc in DOCS.items()}
    inputs = "".join(f"\\input{{{f}}}\n" for f in [*files, next(iter(files))])
    several = ("\\documentclass{beamer}\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n\\usepackage{bm}\n"
               "%s\\begin{document}\n%s%s\\end{document}\n")
    jobs["beamer-several-files"] = (several % ("\\usepackage{hyperref}\n", "", inputs), files, 2)
    jobs["beamer-several-sharedrules"] = (
        several % ("\\usepackage{hyperref}\n\\usepackage[sharedrules]{texderive}\n", "\\texderiverules\n", inputs),
        {**files, "texderive.sty": sty()}, 2)
    return jobs


def _compile(workdir: Path, name: str, job) -> dict:
    source, files, runs, engine = (*job, "pdflatex") if len(job) == 3 else job
    folder = workdir / name
    folder.mkdir()
    (folder / "main.tex").write_text(source, encoding="utf-8")
    for fname, text in files.items():
        (folder / fname).write_text(text, encoding="utf-8")
    env = {**os.environ, "openin_any": "p", "openout_any": "p"}
    result = {"rc": 0, "log": "", "runs": runs, "aux": ""}
    for _ in range(runs):
        program = shutil.which(engine)
        if program is None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{engine} is missing: .ci/run installs texlive-xetex and texlive-luatex")
            return {"rc": 0, "log": "", "runs": 0, "aux": "", "skipped": f"{engine} not installed"}
        draft = ["-draftmode"] if engine == "pdflatex" else ["-no-pdf"] if engine == "xelatex" else []
        proc = subprocess.run([program, *draft, "-interaction=nonstopmode", "-halt-on-error",
                               "-no-shell-escape", "main.tex"],
                              cwd=folder, env=env, capture_output=True, timeout=300)
        result["rc"] = proc.returncode
        log = folder / "main.log"
        result["log"] = log.read_text(encoding="latin-1") if log.exists() else proc.stdout.decode("latin-1")
        if proc.returncode:
            break
    aux = folder / "main.aux"
    result["aux"] = aux.read_text(encoding="latin-1") if aux.exists() else ""
    return result


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    if not PDFLATEX:
        if os.environ.get("CI") == "true":
            pytest.fail("pdflatex is required in CI (texlive-latex-base, texlive-latex-recommended, "
                        "texlive-fonts-recommended, texlive-pictures, texlive-science)")
        pytest.skip("pdflatex not installed: LaTeX outputs not compiled")
    workdir = tmp_path_factory.mktemp("latex")
    jobs = _jobs()
    # one at a time: on a small machine parallel pdflatex runs were slower (25 s serial, 29 s two at once)
    return {name: _compile(workdir, name, job) for name, job in jobs.items()}


JOB_NAMES = sorted(_jobs())
_OVERFULL_H = re.compile(r"^Overfull \\hbox \(([\d.]+)pt too wide\)", re.M)


def _problems(result) -> list:
    log = result["log"]
    problems = []
    if result["rc"]:
        problems.append(f"pdflatex exit status {result['rc']}")
    problems += [line for line in log.splitlines() if line.startswith("!")]
    # a glyph the font does not have (XeLaTeX and LuaLaTeX only warn)
    problems += [line for line in log.splitlines() if line.startswith("Missing character")]
    if "Undefined control sequence" in log:
        problems.append("Undefined control sequence")
    problems += [m.group(0) for m in _OVERFULL_H.finditer(log) if float(m.group(1)) > 1.0]
    problems += [line for line in log.splitlines() if line.startswith("Overfull \\vbox")]
    # a font shape LaTeX has to substitute (\{ or \textbackslash in Beamer's sans serif)
    problems += [line for line in log.splitlines() if line.startswith("LaTeX Font Warning: Font shape")]
    if result["runs"] > 1:
        problems += [line for line in log.splitlines()
                     if re.search(r"undefined references|Reference `.*' on page .* undefined|multiply defined", line)]
    return problems


@pytest.mark.parametrize("name", JOB_NAMES)
def test_output_compiles_cleanly(compiled, name):
    result = compiled[name]
    if result.get("skipped"):
        pytest.skip(result["skipped"])
    problems = _problems(result)
    assert not problems, f"{name}:\n" + "\n".join(problems) + "\n--- log tail ---\n" + result["log"][-3000:]


def test_shared_rules_number_each_rule_once(compiled):
    """[sharedrules]: the basic rules keep (1)-(5), the others get 6, 7, ... in
    the order the deck first cites them, each rule one number."""
    entries = re.findall(r"^\\td@rule\{(\d+)\}\{(.*)\}\{(.*)\}$", compiled["beamer-several-sharedrules"]["aux"], re.M)
    numbers = [int(n) for n, _, _ in entries]
    statements = [lhs + rhs for _, lhs, rhs in entries]
    assert len(entries) >= 7 and len(set(numbers)) == len(numbers) and len(set(statements)) == len(statements)
    later = [n for n in numbers if n > 5]
    assert later == list(range(6, 6 + len(later)))


def test_every_format_was_compiled():
    kinds = {name.split("-")[0] for name in JOB_NAMES}
    assert kinds == {"snippets", "sty", "standalone", "article", "deck", "beamer", "width", "unicode"}
    assert {f"standalone-{name}-{style}" for name in DOCS for style in STYLES} <= set(JOB_NAMES)


def test_log_checks_catch_problems():
    bad = {"rc": 0, "runs": 2, "log": ("Overfull \\hbox (0.5pt too wide) in paragraph\n"
                                       "Overfull \\hbox (23.6pt too wide) detected at line 47\n"
                                       "Overfull \\vbox (62.2pt too high) has occurred while \\output is active\n"
                                       "! Undefined control sequence.\n"
                                       "LaTeX Warning: There were undefined references.\n")}
    problems = _problems(bad)
    assert len(problems) == 5 and not any("0.5pt" in p for p in problems)
