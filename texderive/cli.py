"""texderive's command line: ``derive``, ``build``, ``init`` and ``sty``.

A thin layer of click commands over :mod:`texderive.deck` (deriving and
rendering), :mod:`texderive.render` and :mod:`texderive.io` (atomic writes).
Only click and the tiny ``texderive/__init__`` load at start-up: the engine,
NumPy, SymPy, Jinja2, pylatexenc and PyYAML load inside the commands that use
them, so ``texderive --help`` stays fast and ``make`` can run the command many
times.

Every :class:`~texderive.errors.TexderiveError` becomes :class:`InputError`:
exit status 2 and one paragraph on stderr (``Error: <what> at col N`` and a
caret line under the expression), no traceback and no usage banner.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shlex
import sys

import click

from . import __version__
from .starter import STARTER_DECK, STARTER_MAKEFILE  # noqa: F401 (plain text, no imports)

FORMATS = ("latex", "standalone", "beamer", "markdown", "text", "json", "numpy", "python")
#: The notation flags and their values, the default first: the LaTeX printer's
#: ``LatexNotation.CHOICES`` (a test keeps them equal), spelled out here so that
#: ``--help`` needs nothing but click.
NOTATION_CHOICES = {
    "bold": ("mathbf", "bm", "none"),
    "transpose": ("top", "mathsf", "T"),
    "trace": ("tr", "Tr"),
    "gradient": ("nabla", "partial"),
    "equals": ("overset", "stackrel"),
    "macros": (False, True),
}


class InputError(click.ClickException):
    """Bad input or an output that may not be written: exit 2, no usage banner."""

    exit_code = 2

    def __init__(self, message: str, caret: str = ""):
        super().__init__(message)
        self.caret = caret

    def show(self, file=None) -> None:
        from .limits import visible       # no raw escape sequence from the input on a terminal
        click.echo(f"Error: {visible(self.format_message())}", err=True)
        if self.caret:
            click.echo(visible(self.caret), err=True)


class _Path(click.Path):
    """A path argument: a control character in it (an escape sequence from a script, a
    newline) is refused as in any other argument, before anything is created."""

    def convert(self, value, param, ctx):
        from .errors import TexderiveError
        from .limits import plain_text
        name = f"--{param.name}" if param is not None and param.param_type_name == "option" \
            else (param.human_readable_name if param is not None else "the path")
        try:
            plain_text(os.fsdecode(value), name)
        except TexderiveError as e:
            raise InputError(str(e)) from None
        return super().convert(value, param, ctx)


@contextlib.contextmanager
def _errors():
    """Turn texderive's errors (and runaway recursion or memory) into InputError."""
    from .errors import TexderiveError
    try:
        yield
    except TexderiveError as e:
        raise InputError(str(e), e.caret()) from None
    except RecursionError:
        raise InputError("the expression is nested too deeply to handle") from None
    except MemoryError:
        raise InputError("out of memory: the expression or its derivation is too large") from None


class Declaration(click.ParamType):
    """``--let 'name: kind [sizes]'``, e.g. ``'S: symmetric n'`` or ``'X: matrix m n'``."""

    name = "DECL"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        from .errors import TexderiveError
        from .shapes import parse_let
        name, sep, decl = str(value).partition(":")
        if not sep:
            self.fail(f"{value!r} is not a declaration: write 'name: kind [sizes]', "
                      "e.g. 'S: symmetric n'", param, ctx)
        name, decl = name.strip(), " ".join(decl.split())
        try:
            parse_let({name: decl})
        except TexderiveError as e:
            self.fail(e.message, param, ctx)
        return name, decl


def _timeout_option(ctx, param, value):
    from .errors import TexderiveError
    from .limits import exact_timeout
    try:
        return exact_timeout(value, "the time budget")
    except TexderiveError as e:
        raise click.BadParameter(e.message, ctx, param) from None


def _let_dict(pairs) -> dict:
    out = {}
    for name, decl in pairs:
        if name in out and out[name] != decl:
            raise click.BadParameter(f"{name} is declared twice ({out[name]!r} and {decl!r})",
                                     param_hint="'--let'")
        out[name] = decl
    return out


def _emit(text: str, output, force: bool) -> None:
    """``text`` to stdout, or to the file ``output`` (``-`` is stdout) atomically."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    from .io import write_atomic
    with _errors():
        write_atomic(output, text, force=force)


def _notation_options(f):
    """The notation flags shared by ``derive`` (a deck has the same under ``notation:``)."""
    helps = {
        "bold": "bold vectors and matrices: \\mathbf (Greek in \\bm), \\bm, or plain letters",
        "transpose": "transpose: ^\\top, ^{\\mathsf T} or ^T",
        "trace": "trace operator: \\operatorname{tr} or \\operatorname{Tr}",
        "gradient": "gradient: \\nabla_{\\mathbf X} f or \\frac{\\partial f}{\\partial \\mathbf X}",
        "equals": "annotated equals: \\overset{(2)}{=} or \\stackrel{(2)}{=}",
    }
    for key in reversed(tuple(NOTATION_CHOICES)):
        choices = NOTATION_CHOICES[key]
        if key == "macros":
            f = click.option("--macros/--no-macros", default=None,
                             help="write texderive.sty's macros (\\tr, \\dd, ...) instead of "
                                  "plain amsmath (see 'texderive sty')")(f)
        else:
            f = click.option(f"--{key}", type=click.Choice(choices), default=None,
                             help=f"{helps[key]} (default {choices[0]})")(f)
    return f


class _Main(click.Group):
    """The command group; a full or failing standard output (``> /dev/full``) is a one-line
    error with exit status 2, not a traceback (click itself handles a closed pipe)."""

    def main(self, *args, **kwargs):
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)    # the caller handles errors and exit
        code = 0
        try:
            super().main(*args, **kwargs)
        except SystemExit as e:
            code = e.code
        except OSError as e:
            _output_failed(e)
        try:
            sys.stdout.flush()
        except OSError as e:
            _output_failed(e)
        sys.exit(code)


def _output_failed(e: OSError):
    if e.errno == errno.EPIPE:
        raise e
    try:
        sys.stderr.write(f"Error: cannot write the output: {e.strerror or e}\n")
        sys.stderr.flush()
    except OSError:
        pass
    with contextlib.suppress(OSError, ValueError):   # nothing more to flush at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(2)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="texderive", message="%(prog)s %(version)s")
def main():
    """Matrix gradients by the differential method, as LaTeX.

    \b
    Examples:
      texderive derive 'tr(A*X*B)' --wrt X
      texderive derive "log(det(X'*X))" --wrt X --format beamer -o logdet.tex
      texderive build lecture.yaml -o lecture.tex
      texderive init my-lecture && make -C my-lecture
      texderive build paper.yaml -o generated      (format: snippets)
      texderive bundle lecture.yaml -o lecture.zip (for Overleaf)
    """


class _DeriveCommand(click.Command):
    """``derive``: an expression that starts with ``-`` (``-logdet(X)``) is an
    expression error (one paragraph, no usage banner), not an unknown option."""

    def parse_args(self, ctx, args):
        given = list(args)                  # click's parser consumes its list
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption:
            known = {o for p in self.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
            for arg in given:
                if arg == "--":
                    break
                if arg.startswith("-") and arg.split("=", 1)[0] not in known and \
                        not re.fullmatch(r"--[A-Za-z][A-Za-z0-9-]*(=.*)?", arg):
                    raise InputError(f"{arg!r} reads as an option: an expression that starts "
                                     f"with '-' goes last, after '--' (texderive derive --wrt X "
                                     f"-- {shlex.quote(arg)})") from None
            raise


@main.command(cls=_DeriveCommand)
@click.argument("expr")
@click.option("--wrt", required=True, metavar="NAME",
              help="the variable to differentiate with respect to")
@click.option("--let", "lets", type=Declaration(), multiple=True,
              help="declare a name: 'S: symmetric n', 'X: matrix m n', 'x: vector n', "
                   "'lambda: scalar' (repeatable)")
@click.option("--latex", is_flag=True, help="read EXPR as LaTeX (\\operatorname{tr}(...))")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="latex", show_default=True,
              help="latex: an align* snippet; standalone: a whole article; beamer: frames to "
                   "\\input into a deck; markdown: $$ blocks; text: Unicode steps; json: the "
                   "derivation as data; numpy: the gradient as a NumPy expression; python: a module with "
                   "value_and_grad(...) and check_gradient(...)")
@click.option("--style", type=click.Choice(("chain", "steps")), default="chain",
              show_default=True,
              help="chain: one chain of equalities with numbered rules over the = signs; "
                   "steps: one line per step with its justification")
@click.option("--reveal", is_flag=True, help="beamer: uncover the derivation line by line")
@click.option("--width", default=None, metavar="column|text|LENGTH",
              help="latex, standalone: the width to break the display to: column (220pt, a "
                   "two-column paper), text (345pt, the default) or a length such as 3.5in")
@click.option("--title", default="", help="title of the frame or document")
@click.option("--template-dir", type=_Path(exists=True, file_okay=False),
              help="a folder of *.tex.jinja templates that override the packaged ones")
@click.option("--no-check", is_flag=True,
              help="skip the numeric check of the gradient at random points")
@click.option("--exact", is_flag=True,
              help="also prove the gradient with SymPy for small concrete sizes")
@click.option("--hessian", is_flag=True,
              help="the Hessian of the scalar EXPR (symmetric, in vec order) instead of its "
                   "gradient")
@click.option("--exact-timeout", callback=_timeout_option, default="60",
              show_default=True, metavar="SECONDS",
              help="time budget of --exact, at most 3600")
@click.option("-o", "--output", type=_Path(dir_okay=False),
              help="write to this file (only if its content changes) instead of stdout; "
                   "- is stdout")
@click.option("--force", is_flag=True,
              help="with -o: replace the file even if texderive did not write it")
@_notation_options
def derive(expr, wrt, lets, latex, fmt, style, reveal, width, title, template_dir, no_check, exact,
           hessian, exact_timeout, output, force, **notation):
    """Derive the gradient of the scalar EXPR with respect to --wrt.

    The gradient has the shape of the variable (denominator layout), and it
    is checked numerically at random points unless --no-check is given.  A
    vector or matrix EXPR gives its Jacobian (numerator layout, column-major
    vec); --hessian gives the Hessian of a scalar EXPR.
    An expression that starts with '-' goes last, after '--'.

    \b
    Examples:
      texderive derive 'norm(A*x - b)^2' --wrt x
      texderive derive 'logdet(S)' --wrt S --let 'S: symmetric' --format text
      texderive derive '\\operatorname{tr}(\\mathbf{A}\\mathbf{X})' --latex --wrt X
      texderive derive 'tr(A*X*B)' --wrt X --format beamer --reveal -o trace.tex
      texderive derive --wrt X -- '-logdet(X)'
      texderive derive 'A*X*B' --wrt X --format text
      texderive derive 'sum(log(1 + exp(X*w))) - y'"'"'*X*w' --wrt w --hessian
    """
    if no_check and exact:
        raise click.UsageError("--no-check and --exact contradict each other")
    from .deck import Entry, render_document
    notation = {k: v for k, v in notation.items() if v is not None}
    entry = Entry(expr=expr, wrt=wrt, title=title, let=_let_dict(lets), latex=latex,
                  hessian=hessian)
    meta = {"title": title} if title else {}
    if width is not None:
        meta["width"] = width
    with _errors():
        from .limits import plain_text
        plain_text(wrt, "--wrt")
        plain_text(title, "--title")
        if width is not None:       # before deriving: a wrong option is no reason to wait
            from .outputs import check_width
            check_width(fmt, width)
        text = render_document([entry], fmt, notation=notation, style=style, reveal=reveal,
                               check="none" if no_check else "exact" if exact else "numeric",
                               exact_timeout=exact_timeout, template_dir=template_dir, meta=meta,
                               warn=_warn)
    _emit(text, output, force)


def _warn(message: str) -> None:
    """A non-fatal remark (SPEC section 7): stderr, one line, the output is still written."""
    click.echo(f"Warning: {message}", err=True)


@main.command()
@click.argument("deck_file", metavar="DECK.yaml", type=_Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=_Path(),
              help="write to this file (only if its content changes) instead of stdout; "
                   "- is stdout; for a 'format: snippets' deck, the folder of the snippets "
                   "(default: the deck's folder)")
@click.option("--force", is_flag=True,
              help="with -o: replace the file even if texderive did not write it")
@click.option("--template-dir", type=_Path(exists=True, file_okay=False),
              help="a folder of *.tex.jinja templates that override the packaged ones")
@click.option("--no-check", is_flag=True, help="skip the numeric checks")
def build(deck_file, output, force, template_dir, no_check):
    """Build one document (a Beamer deck or an article) from a deck file.

    The deck lists derivations with their titles and texts, shared
    declarations and notation; rules are numbered across the whole deck.
    A deck with 'format: snippets' writes one NAME.tex per derivation
    instead (NAME: its 'name:', else its title's slug), beside the deck or
    into the folder -o DIR, each rewritten only when it changes.
    An error names the derivation, its title and its line, and writes nothing.

    \b
    Examples:
      texderive build lecture.yaml -o lecture.tex
      latexmk -pdf -outdir=build lecture.tex
      texderive build paper.yaml -o generated
    """
    from . import deck
    with _errors():
        d = deck.load(deck_file)
        if d.format == "snippets":
            snippets = deck.build_snippets(d, template_dir=template_dir,
                                           check="none" if no_check else None, warn=_warn)
        else:
            text = deck.build(d, template_dir=template_dir, check="none" if no_check else None,
                              warn=_warn)
    if d.format != "snippets":
        _emit(text, output, force)
        return
    import os
    if output == "-":
        raise InputError(f"{deck_file} is a snippets deck: it writes one file per derivation, "
                         "so -o takes a folder, not '-'")
    directory = output if output is not None else (os.path.dirname(deck_file) or ".")
    with _errors():
        written = write_snippets(directory, snippets, force=force)
    click.echo(f"{directory}: {written} of {len(snippets)} snippets written, "
               f"{len(snippets) - written} unchanged", err=True)


def write_snippets(directory: str, snippets, *, force: bool = False) -> int:
    """Write ``[(name, text)]`` as ``directory/NAME.tex``, each atomically and only when it
    changed; return how many were written.  Every target is checked first (a folder in
    the way, a hand-written file without ``force``), so a refusal writes nothing."""
    import os
    from .io import WriteError, write_atomic
    from .ownership import owned
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise WriteError(f"{directory} is not a folder: a snippets deck writes one file per "
                         "derivation into -o DIR")
    paths = [(os.path.join(directory, name + ".tex"), text) for name, text in snippets]
    for path, text in paths:
        if os.path.isdir(path):
            raise WriteError(f"cannot write {path}: it is a folder")
        if os.path.exists(path) and not force:
            verdict = owned(path)
            if not verdict:
                with open(path, "rb") as f:
                    if f.read(len(text.encode("utf-8")) + 1) == text.encode("utf-8"):
                        continue                # already this very snippet
                raise WriteError(f"{path} exists and {verdict.reason}; use --force to replace "
                                 "it (nothing was written)")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise WriteError(f"cannot create {directory}: {e.strerror}") from None
    return sum(write_atomic(path, text, force=force) for path, text in paths)


@main.command()
@click.argument("deck_file", metavar="DECK.yaml", type=_Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=_Path(dir_okay=False),
              metavar="NAME.zip", help="the zip to write (only if its content changes)")
@click.option("--force", is_flag=True,
              help="replace the file even if texderive did not write it")
@click.option("--template-dir", type=_Path(exists=True, file_okay=False),
              help="a folder of *.tex.jinja templates that override the packaged ones")
@click.option("--no-check", is_flag=True, help="skip the numeric checks")
def bundle(deck_file, output, force, template_dir, no_check):
    """Pack a deck as a zip that Overleaf takes as a new project.

    The zip holds main.tex (the deck's document; for a 'format: snippets'
    deck an article that \\input's each snippet, under its title, from
    generated/), the generated files, and texderive.sty when the notation
    uses its macros.  main.tex compiles with pdfLaTeX, XeLaTeX and LuaLaTeX.
    The same deck always gives the same bytes.

    \b
    Example:
      texderive bundle paper.yaml -o paper.zip
      (Overleaf: New Project > Upload Project > paper.zip)
    """
    from . import bundle as bundles
    from . import deck
    if output == "-":
        raise InputError("a bundle is a zip file: give -o NAME.zip, not '-'")
    with _errors():
        d = deck.load(deck_file)
        data = bundles.zip_bytes(bundles.files(d, template_dir=template_dir,
                                               check="none" if no_check else None))
        from .io import write_atomic
        write_atomic(output, data, force=force)


@main.command()
@click.argument("directory", metavar="DIR", type=_Path(file_okay=False))
@click.option("--paper", is_flag=True,
              help="a paper instead of a lecture: paper.yaml (format: snippets), paper.tex "
                   "that \\input's the snippets, and a Makefile")
@click.option("--force", is_flag=True, help="overwrite the files if they exist")
def init(directory, paper, force):
    """Start a lecture: a starter deck, a Makefile and texderive.sty in DIR.

    Then 'make -C DIR' builds DIR/build/deck.pdf with latexmk.  With --paper,
    a paper instead: paper.yaml, whose derivations 'make' writes as snippets
    into DIR/generated/, and paper.tex, which \\input's them into
    DIR/build/paper.pdf.  The Makefiles rebuild only what changed (also when
    texderive's version changes), and 'make -q' tells whether all is up to
    date.  Existing files are never overwritten unless --force is given.

    \b
    Examples:
      texderive init my-lecture
      cd my-lecture && make
      texderive init --paper my-paper && make -C my-paper
    """
    import os
    from . import starter
    from .render import sty
    if paper:
        files = {"paper.yaml": starter.PAPER_DECK, "paper.tex": starter.PAPER_TEX,
                 "Makefile": starter.PAPER_MAKEFILE, "texderive.sty": sty()}
    else:
        files = {"deck.yaml": starter.STARTER_DECK, "Makefile": starter.STARTER_MAKEFILE,
                 "texderive.sty": sty()}
    paths = {name: os.path.join(directory, name) for name in files}
    taken = [p for p in paths.values() if os.path.lexists(p)]
    if taken and not force:
        raise InputError(f"{', '.join(taken)} already exist{'s' if len(taken) == 1 else ''}; "
                         "use --force to overwrite")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create {directory}: {e.strerror}") from None
    from .io import write_atomic
    with _errors():
        for name, text in files.items():
            write_atomic(paths[name], text, force=True)
    click.echo(f"Created {', '.join(paths.values())}.\n"
               f"Build the PDF with: make -C {directory}", err=True)


@main.command()
@click.option("-o", "--output", type=_Path(dir_okay=False),
              help="write to this file (only if its content changes) instead of stdout; "
                   "- is stdout")
@click.option("--force", is_flag=True,
              help="with -o: replace the file even if texderive did not write it")
def sty(output, force):
    """Print texderive.sty, the optional macro package (\\tr, \\dd, ...).

    Its macros are defined with \\providecommand, so a document's own
    definitions (or the physics package's) win.

    \b
    Example:
      texderive sty > texderive.sty
    """
    from .render import sty as package
    _emit(package(), output, force)


if __name__ == "__main__":
    main(prog_name="texderive")
