"""A paper's snippets in one build: a ``format: snippets`` deck writes one NAME.tex per
derivation, each what ``texderive derive`` prints for it, atomically and only when it
changes; bad names, collisions and bad derivations write nothing."""
from __future__ import annotations

import os
import pathlib
import subprocess
import textwrap

import pytest
from click.testing import CliRunner

from texderive import cli, deck
from texderive.deck import slug

import texlog

DECK = """\
    title: Gradients for a paper
    format: snippets
    notation:
      transpose: mathsf
      bold: bm
    let:
      S: symmetric n
    derivations:
      - title: Least squares
        text: A is constant.
        expr: norm(A*x - b)^2
        wrt: x
      - title: A trace, step by step
        style: steps
        expr: tr(A*X*B)
        wrt: X
      - title: log det Σ
        expr: logdet(S) - tr(B*S)
        wrt: S
      - name: ridge_2
        let:
          lambda: scalar
        expr: norm(A*x - b)^2 + lambda*norm(x)^2
        wrt: x
      - title: Log-determinant
        name: logdet
        expr: '\\log\\det(\\mathbf{X}^\\top\\mathbf{X})'
        latex: true
        wrt: X
"""
NAMES = ["least-squares", "a-trace-step-by-step", "log-det-sigma", "ridge_2", "logdet"]
# what `texderive derive` is given for each derivation of DECK
DERIVE_ARGS = [
    ["norm(A*x - b)^2", "--wrt", "x"],
    ["tr(A*X*B)", "--wrt", "X", "--style", "steps"],
    ["logdet(S) - tr(B*S)", "--wrt", "S", "--let", "S: symmetric n"],
    ["norm(A*x - b)^2 + lambda*norm(x)^2", "--wrt", "x", "--let", "lambda: scalar"],
    [r"\log\det(\mathbf{X}^\top\mathbf{X})", "--latex", "--wrt", "X"],
]


def run(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


def write_deck(folder: pathlib.Path, text: str = DECK) -> pathlib.Path:
    path = folder / "paper.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def tex_files(folder: pathlib.Path) -> list:
    return sorted(p.name for p in folder.glob("*.tex"))


# --- names ------------------------------------------------------------------

@pytest.mark.parametrize("title, expected", [
    ("Least squares", "least-squares"),
    ("The gradient of log det Σ (SPD)", "the-gradient-of-log-det-sigma-spd"),
    ("αβ", "alpha-beta"),
    ("  Ridge:  ‖Ax − b‖² + λ‖x‖²  ", "ridge-ax-b-2-lambda-x-2"),
    ("Café_au-lait", "cafe-au-lait"),
    ("ς", "sigma"),
    ("∑ ∏", ""),
    ("", ""),
])
def test_slug(title, expected):
    assert slug(title) == expected


def test_name_wins_over_the_title():
    d = deck.loads(textwrap.dedent(DECK), "paper.yaml")
    assert [deck.snippet_name(e) for e in d.entries] == NAMES


@pytest.mark.parametrize("entries, message", [
    ("- {title: A trace, expr: tr(X), wrt: X}\n- {name: a-trace, expr: tr(X*X), wrt: X}",
     "paper.yaml:5:5: derivation 2 (expr 'tr(X*X)'): the snippet name 'a-trace' is taken by "
     "derivation 1 (\"A trace\") (line 4)"),
    ("- {title: Trace, expr: tr(X), wrt: X}\n- {title: trace, expr: tr(X*X), wrt: X}",
     "the snippet name 'trace' is taken by derivation 1"),
    ("- {expr: tr(X), wrt: X}", "paper.yaml:4:5: derivation 1 (expr 'tr(X)'): a snippet needs "
                                "a file name: give the derivation a 'name:' or a title"),
    ("- {title: '∑', expr: tr(X), wrt: X}", "a snippet needs a file name"),
    ("- {name: ../etc/x, expr: tr(X), wrt: X}", "paper.yaml:4:12: derivation 1 (expr 'tr(X)'): name "
                                                "'../etc/x' is not a file name"),
    ("- {name: -x, expr: tr(X), wrt: X}", "name '-x' is not a file name"),
    ("- {name: x.tex, expr: tr(X), wrt: X}", "name 'x.tex' is not a file name"),
])
def test_bad_names_are_errors_before_anything_is_written(tmp_path, entries, message):
    text = "title: T\nformat: snippets\nderivations:\n" + textwrap.indent(entries, "  ") + "\n"
    path = tmp_path / "paper.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("build", path)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert tex_files(tmp_path) == []


def test_names_are_free_in_other_formats():
    d = deck.loads("format: article\nderivations:\n  - {expr: tr(X), wrt: X}\n"
                   "  - {expr: tr(X*X), wrt: X}\n", "a.yaml")
    assert len(d.entries) == 2


# --- building -----------------------------------------------------------------

def test_each_snippet_is_what_derive_prints(tmp_path):
    path = write_deck(tmp_path)
    result = run("build", path)
    assert result.exit_code == 0, result.output
    assert tex_files(tmp_path) == sorted(n + ".tex" for n in NAMES)
    for name, args in zip(NAMES, DERIVE_ARGS):
        alone = run("derive", *args, "--transpose", "mathsf", "--bold", "bm")
        assert alone.exit_code == 0, alone.output
        assert (tmp_path / f"{name}.tex").read_text(encoding="utf-8") == alone.output, name


def test_each_snippet_numbers_its_own_rules(tmp_path):
    run("build", write_deck(tmp_path))
    # logdet is rule (6) in each snippet that uses it, never (7) after another's rule
    text = (tmp_path / "log-det-sigma.tex").read_text()
    assert r"\overset{(6)}{=}" in text and "(7)" not in text
    assert r"\overset{(6)}{=}" in (tmp_path / "logdet.tex").read_text()
    for name in NAMES:
        assert r"\label" not in (tmp_path / f"{name}.tex").read_text()


def test_output_folder_and_rewrites_only_what_changed(tmp_path):
    path = write_deck(tmp_path)
    out = tmp_path / "generated" / "snippets"
    result = run("build", path, "-o", out)
    assert result.exit_code == 0
    assert "5 of 5 snippets written" in result.output
    assert tex_files(out) == sorted(n + ".tex" for n in NAMES) and tex_files(tmp_path) == []
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    result = run("build", path, "-o", out)
    assert "0 of 5 snippets written, 5 unchanged" in result.output
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()} == before
    path.write_text(path.read_text().replace("tr(A*X*B)", "tr(A*X*X*B)"))
    result = run("build", path, "-o", out)
    assert "1 of 5 snippets written" in result.output
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == ["a-trace-step-by-step.tex"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []    # no temp files left


def test_an_error_in_any_derivation_writes_nothing(tmp_path):
    path = write_deck(tmp_path, DECK.replace("expr: tr(A*X*B)", "expr: tr(A*X*B"))
    result = run("build", path)
    assert result.exit_code == 2
    assert 'paper.yaml:' in result.output and 'derivation 2 ("A trace, step by step")' in result.output
    assert tex_files(tmp_path) == []


def test_a_hand_written_file_in_the_way_writes_nothing(tmp_path):
    path = write_deck(tmp_path)
    (tmp_path / "logdet.tex").write_text("my own notes\n")
    result = run("build", path)
    assert result.exit_code == 2
    assert "logdet.tex exists and it was not written by texderive" in result.output
    assert tex_files(tmp_path) == ["logdet.tex"]
    assert (tmp_path / "logdet.tex").read_text() == "my own notes\n"
    assert run("build", path, "--force").exit_code == 0
    assert len(tex_files(tmp_path)) == 5
    # a snippet edited by hand since is not replaced either (its checksum says so)
    edited = tmp_path / "ridge_2.tex"
    edited.write_text(edited.read_text() + "% my fix\n")
    path.write_text(path.read_text().replace("tr(A*X*B)", "tr(A*X*B*X)"))
    result = run("build", path)
    assert result.exit_code == 2 and "ridge_2.tex exists" in result.output
    assert "0 of" not in result.output and edited.read_text().endswith("% my fix\n")


def test_output_must_be_a_folder(tmp_path):
    path = write_deck(tmp_path)
    (tmp_path / "file").write_text("x")
    result = run("build", path, "-o", tmp_path / "file")
    assert result.exit_code == 2 and "is not a folder" in result.output
    result = run("build", path, "-o", "-")
    assert result.exit_code == 2 and "-o takes a folder" in result.output


def test_snippets_are_byte_identical_under_two_hash_seeds(tmp_path):
    root = pathlib.Path(__file__).resolve().parent.parent
    texts = []
    for seed in ("0", "12345"):
        out = tmp_path / seed
        path = write_deck(tmp_path)
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": seed}
        import sys
        subprocess.run([sys.executable, "-m", "texderive.cli", "build", str(path), "-o", str(out)],
                       check=True, env=env, capture_output=True, timeout=300)
        texts.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert texts[0] == texts[1] and len(texts[0]) == 5


@pytest.mark.latex
def test_all_snippets_input_into_one_paper_compile(tmp_path):
    texlog.need("pdflatex")
    path = write_deck(tmp_path)
    assert run("build", path, "-o", tmp_path / "generated").exit_code == 0
    body = "\n".join(f"\\section*{{\\detokenize{{{n}}}}}\n\\input{{generated/{n}}}" for n in NAMES)
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{bm}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "-no-shell-escape", "paper.tex"], cwd=tmp_path, env=texlog.tex_env(),
                          capture_output=True, timeout=300)
    log = (tmp_path / "paper.log").read_text(encoding="latin-1")
    assert proc.returncode == 0 and texlog.problems(log) == [], log[-2000:]


# --- init --paper: the Makefile pattern -------------------------------------------------

def make(folder, *args):
    import sys
    root = pathlib.Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "openin_any": "p"}
    return subprocess.run(["make", "-C", str(folder), f"TEXDERIVE={sys.executable} -m texderive.cli",
                           *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=600)


def stamps(folder: pathlib.Path) -> dict:
    """Each snippet's inode: an atomic rewrite (os.replace) gives the file a new one."""
    return {p.name: p.stat().st_ino for p in sorted(folder.glob("*.tex"))}


def bump(path: pathlib.Path) -> None:
    """Make ``path`` clearly newer than everything made so far, without a time in the
    future: every file of the project moves 10 s into the past, then ``path`` is touched."""
    for p in path.parent.rglob("*"):
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns - 10**10, st.st_mtime_ns - 10**10))
    os.utime(path)


def test_init_paper_writes_a_snippets_project(tmp_path):
    result = run("init", "--paper", tmp_path / "p")
    assert result.exit_code == 0
    assert sorted(os.listdir(tmp_path / "p")) == ["Makefile", "paper.tex", "paper.yaml",
                                                   "texderive.sty"]
    d = deck.load(tmp_path / "p" / "paper.yaml")
    names = [deck.snippet_name(e) for e in d.entries]
    tex = (tmp_path / "p" / "paper.tex").read_text()
    assert d.format == "snippets" and len(names) == 4
    assert [f"\\input{{generated/{n}}}" in tex for n in names] == [True] * 4
    assert run("init", "--paper", tmp_path / "p").exit_code == 2       # never overwrites


@pytest.mark.latex
def test_init_paper_makefile_rebuilds_only_what_changed(tmp_path):
    texlog.need("pdflatex", "latexmk", "make")
    folder = tmp_path / "p"
    assert run("init", "--paper", folder).exit_code == 0
    first = make(folder)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    pdf, gen = folder / "build" / "paper.pdf", folder / "generated"
    assert pdf.stat().st_size > 10_000
    log = (folder / "build" / "paper.log").read_text(encoding="latin-1")
    assert texlog.problems(log) == []
    assert (folder / ".texderive-version").read_text().startswith("texderive ")
    assert make(folder, "-q").returncode == 0                   # up to date
    second = make(folder)
    assert "Nothing to be done" in second.stdout and "texderive" not in second.stdout
    # a touched deck with the same content: texderive rewrites no snippet, LaTeX does not run
    before = stamps(gen)
    bump(folder / "paper.yaml")
    assert make(folder, "-q").returncode == 1
    third = make(folder)
    assert third.returncode == 0 and "0 of 4 snippets written" in third.stderr
    assert stamps(gen) == before and "Run number" not in third.stdout + third.stderr
    assert make(folder, "-q").returncode == 0
    # one derivation changed: only its snippet is rewritten, and the PDF rebuilt
    deck_path = folder / "paper.yaml"
    deck_path.write_text(deck_path.read_text().replace("tr(A*X*B)", "tr(A*X*B*X)"))
    bump(deck_path)
    fourth = make(folder)
    assert fourth.returncode == 0 and "1 of 4 snippets written" in fourth.stderr
    after = stamps(gen)
    assert [n for n in after if after[n] != before[n]] == ["a-trace.tex"]
    assert "Run number 1 of rule 'pdflatex'" in fourth.stdout + fourth.stderr
    assert make(folder, "-q").returncode == 0
    # another texderive version: the sty and the PDF's recipe run again
    (folder / ".texderive-version").write_text("texderive 0.0.1\n")
    assert make(folder, "-q").returncode == 1
    fifth = make(folder)
    assert fifth.returncode == 0 and "sty -o texderive.sty" in fifth.stdout
    assert make(folder, "-q").returncode == 0
    # a deleted snippet comes back
    (gen / "logdet.tex").unlink()
    bump(folder / "paper.tex")
    assert make(folder).returncode == 0 and (gen / "logdet.tex").exists()


@pytest.mark.latex
def test_init_lecture_makefile_make_q_and_version(tmp_path):
    texlog.need("pdflatex", "latexmk", "make")
    folder = tmp_path / "l"
    assert run("init", folder).exit_code == 0
    assert make(folder).returncode == 0
    assert make(folder, "-q").returncode == 0
    bump(folder / "deck.yaml")
    assert make(folder, "-q").returncode == 1
    again = make(folder)
    assert again.returncode == 0 and "Nothing to do for 'deck.tex'" in again.stdout
    assert make(folder, "-q").returncode == 0
    (folder / ".texderive-version").write_text("texderive 0.0.1\n")
    assert make(folder, "-q").returncode == 1
    assert make(folder).returncode == 0 and make(folder, "-q").returncode == 0
