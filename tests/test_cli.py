"""The command line: help, formats, exit codes, error paragraphs, files, decks, init."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

import texderive
from texderive import cli
from texderive.errors import TexderiveError

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "sympy", "jinja2", "pylatexenc", "yaml")


def run(*args, **kwargs):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False, **kwargs)


def run_process(*args, env=None, cwd=None):
    """The real command in a fresh interpreter, as make and a shell run it."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "texderive.cli", *map(str, args)],
                          capture_output=True, text=True, env=full, cwd=cwd or ROOT,
                          stdin=subprocess.DEVNULL, timeout=300)


def need_latex():
    if shutil.which("pdflatex") and shutil.which("latexmk") and shutil.which("make"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("pdflatex, latexmk and make must be installed in CI (see .ci/run)")
    pytest.skip("pdflatex, latexmk or make is not installed")


# --- help and start-up ------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["derive"], ["build"], ["init"], ["sty"]])
def test_every_command_has_help_with_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and "texderive " in result.output


@pytest.mark.parametrize("command", [["--help"], ["derive", "--help"], ["build", "--help"]])
def test_help_loads_nothing_heavy(command):
    code = ("import sys\nfrom texderive.cli import main\n"
            f"try:\n    main({command!r}, prog_name='texderive')\n"
            "except SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_version():
    assert run("--version").output.strip() == f"texderive {texderive.__version__}"


# --- derive -------------------------------------------------------------------

def test_derive_prints_an_align_snippet_headed_by_its_generator():
    result = run("derive", "tr(A*X*B)", "--wrt", "X")
    assert result.exit_code == 0, result.output
    first, rest = result.output.split("\n", 1)
    assert first.startswith("% ") and "texderive" in first and "check" in first
    assert "\\begin{align*}" in rest and "\\end{align*}" in rest
    assert "\\mathbf{A}^\\top\\mathbf{B}^\\top" in rest


@pytest.mark.parametrize("fmt, check", [
    ("latex", lambda out: out.startswith("% ")),
    ("standalone", lambda out: out.startswith("% ") and "\\documentclass" in out),
    ("beamer", lambda out: out.startswith("% ") and "\\begin{frame}" in out
     and "\\documentclass" not in out),
    ("markdown", lambda out: out.startswith("<!--") and "$$" in out and "\\bm" not in out),
    ("text", lambda out: out.rstrip("\n").splitlines()[-1].startswith("checked: ")),
    ("numpy", lambda out: out.startswith("# ") and len(out.strip().splitlines()) == 2),
])
def test_every_format(fmt, check):
    result = run("derive", "logdet(Sigma) + tr(A*Sigma)", "--wrt", "Sigma",
                 "--let", "Sigma: symmetric n", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert check(result.output), result.output


def test_json_is_the_derivation_document():
    result = run("derive", "norm(A*x - b)^2", "--wrt", "x", "--format", "json")
    doc = json.loads(result.output)
    assert doc["generator"] == f"texderive {texderive.__version__}"
    assert doc["input"] == {"expr": "norm(A*x - b)^2", "wrt": "x", "let": {}, "hessian": False}
    assert doc["check"]["kind"] == "numeric" and doc["check"]["passed"] is True
    assert doc["gradient"]["numpy"]


def test_json_in_web_notation_has_no_bm():
    doc = json.loads(run("derive", "tr(Sigma*A)", "--wrt", "Sigma", "--format", "json").output)
    latex = [doc["function"]["latex"], doc["gradient"]["latex"]] + \
        [s[k] for s in doc["steps"] for k in ("lhs", "latex", "note_latex")]
    assert not any("\\bm" in t for t in latex)
    assert "\\boldsymbol{\\Sigma}" in doc["function"]["latex"]


@pytest.mark.parametrize("flags, present, absent", [
    (["--transpose", "T"], "^T", "\\top"),
    (["--transpose", "mathsf"], "^{\\mathsf T}", "\\top"),
    (["--trace", "Tr"], "\\operatorname{Tr}", "\\operatorname{tr}"),
    (["--bold", "bm"], "\\bm{A}", "\\mathbf{A}"),
    (["--bold", "none"], "A^", "\\mathbf{A}"),
])
def test_notation_options(flags, present, absent):
    out = run("derive", "tr(A*X*B)", "--wrt", "X", *flags).output
    assert present in out and absent not in out.split("\n", 1)[1]


def test_beamer_uses_the_operator_font_for_d():
    out = run("derive", "tr(A*X*B)", "--wrt", "X", "--format", "beamer").output
    assert "\\operatorname{d}" in out and "\\mathrm{d}" not in out


def test_latex_input():
    result = run("derive", "\\operatorname{Tr}(\\mathbf{A}\\mathbf{X}\\mathbf{B})", "--latex",
                 "--wrt", "X", "--format", "numpy")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].replace(" ", "") == "A.T@B.T"


def test_declarations():
    out = run("derive", "tr(A*S)", "--wrt", "S", "--let", "S: symmetric", "--format",
              "json").output
    assert json.loads(out)["input"]["let"] == {"S": "symmetric"}


# --- errors ---------------------------------------------------------------------

def test_a_bad_expression_is_one_paragraph_with_a_caret(tmp_path):
    out = tmp_path / "out.tex"
    result = run("derive", "tr(A*X", "--wrt", "X", "-o", out)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.rstrip("\n").split("\n")
    assert lines[0].startswith("Error: ") and "col" in lines[0]
    assert lines[1].strip() == "tr(A*X"
    assert lines[2].strip() == "^" and lines[2].index("^") == lines[1].index("tr(A*X") + 6
    assert len(lines) == 3
    assert not out.exists() and os.listdir(tmp_path) == []


def test_the_real_command_reports_the_error_without_a_traceback(tmp_path):
    result = run_process("derive", "tr(A*X", "--wrt", "X", "-o", tmp_path / "out.tex")
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr and "Usage" not in result.stderr
    assert "^" in result.stderr.splitlines()[-1]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args, message", [
    (["tr(A*X)", "--wrt", "Y"], "Y does not occur"),
    (["tr(A*x)", "--wrt", "x"], "square"),
    (["foo(X)", "--wrt", "X"], "foo"),
])
def test_input_errors_exit_2(args, message):
    result = run("derive", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert "Usage" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--let", "S symmetric"], "not a declaration"),
    (["--let", "S: symmetrical"], "the kind must be one of"),
    (["--let", "S: matrix m n p"], "a matrix takes 2 sizes"),
    (["--let", "S: symmetric", "--let", "S: matrix"], "declared twice"),
    (["--no-check", "--exact"], "contradict"),
    (["--format", "pdf"], "pdf"),
])
def test_malformed_options_are_usage_errors(args, message):
    result = run("derive", "tr(A*S)", "--wrt", "S", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Usage:" in result.stderr


def test_a_failed_check_exits_2(monkeypatch, tmp_path):
    import texderive.check

    def wrong(f, g, wrt, *args, **kwargs):
        return {"kind": "numeric", "passed": False, "max_rel_error": 0.5, "points": 3}

    def unproved(f, g, wrt, *args, **kwargs):
        return {"kind": "exact", "status": "failed", "sizes": {}, "seconds": 0.0}

    monkeypatch.setattr(texderive.check, "numeric_check", wrong)
    # a numeric failure is confirmed by the exact check before it is reported
    monkeypatch.setattr(texderive.check, "exact_check", unproved)
    result = run("derive", "tr(A*X)", "--wrt", "X", "-o", tmp_path / "out.tex")
    assert result.exit_code == 2
    assert "the derived gradient failed its numerical check" in result.stderr
    assert os.listdir(tmp_path) == []
    assert run("derive", "tr(A*X)", "--wrt", "X", "--no-check").exit_code == 0


@pytest.mark.parametrize("error, message", [
    (RecursionError, "nested too deeply"), (MemoryError, "out of memory")])
def test_runaway_recursion_and_memory_exit_2(monkeypatch, error, message):
    def runaway(*args, **kwargs):
        raise error()

    monkeypatch.setattr(texderive, "derive", runaway)
    result = run("derive", "tr(X)", "--wrt", "X")
    assert result.exit_code == 2 and message in result.stderr


# --- output files ------------------------------------------------------------------

def test_output_file_is_written_then_left_alone_when_unchanged(tmp_path):
    out = tmp_path / "g.tex"
    assert run("derive", "tr(A*X*B)", "--wrt", "X", "-o", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text == run("derive", "tr(A*X*B)", "--wrt", "X").output
    os.utime(out, (1_000_000, 1_000_000))
    assert run("derive", "tr(A*X*B)", "--wrt", "X", "-o", out).exit_code == 0
    assert out.stat().st_mtime == 1_000_000
    assert run("derive", "tr(A*X)", "--wrt", "X", "-o", out).exit_code == 0
    assert out.stat().st_mtime != 1_000_000 and out.read_text(encoding="utf-8") != text


@pytest.mark.parametrize("fmt", ["latex", "json", "text", "markdown", "numpy", "beamer"])
def test_every_format_may_replace_its_own_output(tmp_path, fmt):
    out = tmp_path / "g.out"
    assert run("derive", "tr(A*X*B)", "--wrt", "X", "--format", fmt, "-o", out).exit_code == 0
    result = run("derive", "tr(A*X)", "--wrt", "X", "--format", fmt, "-o", out)
    assert result.exit_code == 0, result.stderr


def test_output_refuses_a_hand_written_file(tmp_path):
    paper = tmp_path / "paper.tex"
    paper.write_text("\\documentclass{article}\n% my paper\n", encoding="utf-8")
    result = run("derive", "tr(A*X*B)", "--wrt", "X", "-o", paper)
    assert result.exit_code == 2
    assert "not written by texderive" in result.stderr and "--force" in result.stderr
    assert paper.read_text(encoding="utf-8") == "\\documentclass{article}\n% my paper\n"
    assert run("derive", "tr(A*X*B)", "--wrt", "X", "-o", paper, "--force").exit_code == 0
    assert "\\begin{align*}" in paper.read_text(encoding="utf-8")


def test_a_render_failing_midway_leaves_the_old_file(tmp_path, monkeypatch):
    import texderive.render
    out = tmp_path / "g.tex"
    run("derive", "tr(A*X*B)", "--wrt", "X", "-o", out)
    before = out.read_bytes()

    def half(docs, fmt, **kwargs):
        raise TexderiveError("the template stopped half-way")

    monkeypatch.setattr(texderive.render, "render", half)
    result = run("derive", "tr(A*X)", "--wrt", "X", "-o", out)
    assert result.exit_code == 2 and "half-way" in result.stderr
    assert out.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["g.tex"]

    def crash(docs, fmt, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(texderive.render, "render", crash)
    with pytest.raises(RuntimeError):
        run("derive", "tr(A*X)", "--wrt", "X", "-o", out)
    assert out.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["g.tex"]


def test_an_unwritable_output_is_a_clear_error(tmp_path):
    result = run("derive", "tr(X)", "--wrt", "X", "-o", tmp_path / "missing" / "g.tex")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot write ") and "No such file" in result.stderr


@pytest.mark.parametrize("args", [
    ["derive", "log(det(X'*X))", "--wrt", "X", "--format", "latex"],
    ["derive", "norm(A*x - b)^2 + lambda*norm(x)^2", "--wrt", "x", "--format", "json"],
    ["derive", "--wrt", "Sigma", "--let", "Sigma: symmetric n", "--let", "S: symmetric n",
     "--format", "beamer", "--", "-logdet(Sigma) - tr(inv(Sigma)*S)"],
    ["build", "examples/tutorial.yaml"],
])
def test_identical_bytes_under_two_hash_seeds(args):
    outs = [run_process(*args, env={"PYTHONHASHSEED": seed}) for seed in ("0", "12345")]
    for result in outs:
        assert result.returncode == 0, result.stderr
    assert outs[0].stdout == outs[1].stdout and outs[0].stdout


# --- build ------------------------------------------------------------------------

DECK = """\
    title: A small deck
    author: Someone
    let:
      S: symmetric n
    derivations:
      - title: Trace
        text: A & B are constants; 100% sure.
        expr: tr(A*X*B)
        wrt: X
      - title: Log-determinant
        expr: logdet(S)
        wrt: S
    """


def write_deck(tmp_path, text=DECK, name="deck.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_build_writes_one_beamer_deck(tmp_path):
    deck = write_deck(tmp_path)
    out = tmp_path / "deck.tex"
    result = run("build", deck, "-o", out)
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("% ") and "\\documentclass" in text and "beamer" in text
    assert "A small deck" in text and "Log-determinant" in text
    assert "A \\& B are constants; 100\\% sure." in text


def test_build_an_article(tmp_path):
    deck = write_deck(tmp_path, DECK.replace("title: A small deck", "format: article\n"
                                                                    "    title: A paper"))
    result = run("build", deck)
    assert result.exit_code == 0, result.stderr
    assert "\\documentclass" in result.output and "{article}" in result.output
    assert "\\begin{frame}" not in result.output


def test_rules_are_numbered_across_the_deck():
    from texderive import deck
    entries = [deck.Entry(expr=e, wrt="X", index=i) for i, e in
               enumerate(["logdet(X)", "det(X)", "det(X) + logdet(X)"], 1)]
    docs = json.loads(deck.render_document(entries, "json"))
    numbers = [{r["id"]: r["number"] for r in doc["rules"]} for doc in docs]
    assert numbers[0]["logdet"] == numbers[2]["logdet"] == 6      # first used in entry 1
    assert numbers[1]["det"] == numbers[2]["det"] == 7            # then det, in entry 2
    for doc, nums in zip(docs, numbers):
        for step in doc["steps"]:
            assert step["number"] == (nums.get(step["rule"]) if step["number"] else None)


def test_a_deck_error_names_entry_title_and_line_and_writes_nothing(tmp_path):
    deck = write_deck(tmp_path, DECK.replace("expr: logdet(S)", "expr: logdet(S"))
    out = tmp_path / "deck.tex"
    result = run("build", deck, "-o", out)
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"Error: {deck}:11:") and 'derivation 2 ("Log-determinant")' in first
    assert result.stderr.splitlines()[1].strip() == "logdet(S"
    assert not out.exists()


def test_a_deck_check_failure_names_the_entry(tmp_path, monkeypatch):
    import texderive.check
    monkeypatch.setattr(texderive.check, "numeric_check",
                        lambda *a, **k: {"kind": "numeric", "passed": False, "max_rel_error": 1.0})
    monkeypatch.setattr(texderive.check, "exact_check",
                        lambda *a, **k: {"kind": "exact", "status": "failed", "seconds": 0.0})
    result = run("build", write_deck(tmp_path))
    assert result.exit_code == 2
    assert 'derivation 1 ("Trace")' in result.stderr and "numerical check" in result.stderr


def test_a_deck_yaml_error(tmp_path):
    result = run("build", write_deck(tmp_path, "title: [unclosed\n"))
    assert result.exit_code == 2 and "not valid YAML" in result.stderr
    assert f"{tmp_path / 'deck.yaml'}:2:1" in result.stderr


def test_a_missing_deck_is_a_usage_error(tmp_path):
    result = run("build", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "does not exist" in result.stderr


# --- sty and init -------------------------------------------------------------------

def test_sty_prints_the_package():
    result = run("sty")
    assert result.exit_code == 0
    assert "\\ProvidesPackage{texderive}" in result.output
    assert "\\providecommand" in result.output


def test_init_refuses_to_overwrite(tmp_path):
    target = tmp_path / "lecture"
    assert run("init", target).exit_code == 0
    assert sorted(os.listdir(target)) == ["Makefile", "deck.yaml", "texderive.sty"]
    (target / "deck.yaml").write_text("mine\n", encoding="utf-8")
    result = run("init", target)
    assert result.exit_code == 2 and "already exist" in result.stderr and "--force" in result.stderr
    assert (target / "deck.yaml").read_text(encoding="utf-8") == "mine\n"
    assert run("init", target, "--force").exit_code == 0
    assert (target / "deck.yaml").read_text(encoding="utf-8") == cli.STARTER_DECK


def test_init_deck_is_a_valid_deck(tmp_path):
    from texderive import deck
    run("init", tmp_path / "l")
    d = deck.load(tmp_path / "l" / "deck.yaml")
    assert len(d.entries) >= 3
    assert deck.build(d).startswith("% ")


@pytest.mark.latex
def test_init_makes_a_project_that_builds(tmp_path):
    need_latex()
    target = tmp_path / "lecture"
    assert run_process("init", target).returncode == 0
    texderive_cmd = f"{sys.executable} -m texderive.cli"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "openin_any": "p"}
    first = subprocess.run(["make", "-C", str(target), f"TEXDERIVE={texderive_cmd}"],
                           capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                           timeout=600)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert (target / "build" / "deck.pdf").stat().st_size > 10_000
    log = (target / "build" / "deck.log").read_text(encoding="utf-8", errors="replace")
    assert "Undefined control sequence" not in log and "Overfull \\vbox" not in log
    second = subprocess.run(["make", "-C", str(target), f"TEXDERIVE={texderive_cmd}"],
                            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                            timeout=600)
    assert second.returncode == 0
    assert "latexmk" not in second.stdout, second.stdout


@pytest.mark.slow
def test_the_wheel_ships_the_templates(tmp_path):
    """Build the wheel, unpack it alone, and run its CLI from another folder."""
    wheels, site, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            "--disable-pip-version-check", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    if built.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot build the wheel: {built.stderr[-2000:]}")
        pytest.skip("cannot build the wheel here (no build backend)")
    wheel = next(wheels.glob("texderive-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                    "--disable-pip-version-check", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(site)}

    def cli_run(*args):
        return subprocess.run([sys.executable, "-m", "texderive.cli", *args], cwd=elsewhere,
                              env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)

    where = subprocess.run([sys.executable, "-c", "import texderive.render as r; "
                            "print(r.__file__); print(r.templates_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    module, templates = where.stdout.split()
    assert module.startswith(str(site)) and templates.startswith(str(site))
    assert (pathlib.Path(templates) / "texderive.sty").is_file()
    for fmt in ("standalone", "beamer", "markdown", "text"):
        result = cli_run("derive", "tr(A*X*B)", "--wrt", "X", "--format", fmt)
        assert result.returncode == 0, result.stderr
    assert "\\ProvidesPackage{texderive}" in cli_run("sty").stdout
    result = cli_run("init", "lecture")
    assert result.returncode == 0 and (elsewhere / "lecture" / "deck.yaml").is_file()


@pytest.mark.latex
@pytest.mark.slow
def test_make_examples_builds_everything_once(tmp_path):
    """The top-level Makefile on a copy of the repository: every PDF, then nothing to do."""
    need_latex()
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("texderive", "templates", "examples"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns(
            "__pycache__", "build", "out", "generated"))
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, copy / name)
    env = {**os.environ, "PYTHONPATH": str(copy), "openin_any": "p"}

    def make():
        # the examples only need a Python with texderive's dependencies: this one
        return subprocess.run(["make", "--no-print-directory", "examples", f"PY={sys.executable}"],
                              cwd=copy, env=env, capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL)

    first = make()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for name in ("tutorial", "cookbook_ml", "paper"):
        assert (copy / "examples" / "build" / f"{name}.pdf").stat().st_size > 10_000, name
        log = (copy / "examples" / "build" / f"{name}.log").read_text(errors="replace")
        assert "Undefined control sequence" not in log, name
    second = make()
    assert second.returncode == 0
    assert "Nothing to be done" in second.stdout, second.stdout
    assert "latexmk" not in second.stdout and "texderive.cli" not in second.stdout
