r"""Jupyter, JupyterLab, VS Code and Colab: how a Derivation shows itself, and the magics.

``%load_ext texderive`` registers

``%derive EXPR --wrt X [options]``
    a line magic taking the command line's ``derive`` arguments
    (``%derive 'tr(A*X*B)' --wrt X --style steps``);
``%%derive --wrt X [options]``
    a cell magic: the options on the magic line, the expression in the cell.

Both return the :class:`~texderive.steps.Derivation` (which displays itself in
the style and notation given); the numeric check runs unless ``--no-check``;
``-o FILE`` also writes the ``--format`` output (LaTeX by default) to FILE,
and ``--format`` without ``-o`` prints that output as well.  An error prints one
paragraph (``Error: ...`` and a caret line under the expression), never a
traceback, and returns nothing.  The magic line is not expanded by IPython
(no ``{...}`` or ``$name`` substitution), so LaTeX input arrives as typed.

A Derivation's ``_repr_markdown_`` is the ``--format markdown`` output;
``_repr_latex_`` is that output's chain of equalities, one ``$$ \begin{aligned}
... $$`` block.  Both are MathJax 3 and KaTeX-safe: ``\boldsymbol`` rather than
``\bm``, no ``\displaybreak``, ``\label``, ``\eqref`` or ``\tag``.

IPython is imported only here, and only when the extension is loaded:
``import texderive`` never imports it.
"""
from __future__ import annotations

import re
import shlex
import sys

from .errors import TexderiveError

#: Parameters of the command line's ``derive`` that go to :func:`texderive.derive`.
DERIVE_PARAMS = ("expr", "wrt", "lets", "latex", "no_check", "exact", "exact_timeout", "hessian")
#: Parameters that say where the output goes.
FILE_PARAMS = ("output", "force", "fmt")
#: Output options that a displayed Derivation keeps (its ``_repr_*`` use them).
DISPLAY_OPTIONS = ("style", "title", "bold", "transpose", "trace", "gradient", "equals",
                   "macros")


# ---------------------------------------------------------------------------
# rich display

def display_options(derivation) -> dict:
    return dict(getattr(derivation, "_display_options", None) or {})


def markdown(derivation) -> str:
    """``_repr_markdown_``: the ``--format markdown`` output."""
    return derivation.to_markdown(**display_options(derivation))


#: The chain of the markdown output: one ``$$ \begin{aligned} ... \end{aligned} $$`` block.
_CHAIN = re.compile(r"^\$\$\n(\\begin\{aligned\}\n.*?\n\\end\{aligned\})\n\$\$$", re.S | re.M)


def latex(derivation) -> str:
    r"""``_repr_latex_``: the chain of equalities of the markdown output (chain style),
    ``$$ \begin{aligned} y &= f \\ ... \end{aligned} $$``, the rule number over each
    ``=``, in the web notation (``\boldsymbol``); the notes and rules are left out."""
    options = {k: v for k, v in display_options(derivation).items() if k != "style"}
    chain = _CHAIN.search(derivation.to_markdown(style="chain", **options))
    if chain is None:
        raise TexderiveError("the markdown output has no chain of equalities to show")
    return "$$\n" + chain.group(1) + "\n$$"


# ---------------------------------------------------------------------------
# the magics

def _fail(message: str, caret: str = "") -> None:
    print(f"Error: {message}" + (f"\n{caret}" if caret else ""), file=sys.stderr)


def run_magic(line: str, cell: str | None = None):
    """``%derive LINE`` (``cell`` None) or ``%%derive LINE`` with ``cell``: the
    Derivation, or None after printing an error paragraph."""
    import click
    from . import cli
    try:
        args = shlex.split(line, posix=True)
    except ValueError as e:
        _fail(f"cannot read the magic line: {e} (quote the expression as in a shell)")
        return None
    if cell is not None:
        expr = cell.strip()
        if not expr:
            _fail("the cell is empty: write the expression in the cell, the options on "
                  "the %%derive line")
            return None
        args += ["--", expr]
    try:
        ctx = cli.derive.make_context("%derive" if cell is None else "%%derive", args)
    except click.exceptions.Exit:          # --help was shown
        return None
    except click.ClickException as e:
        _fail(e.format_message())
        return None
    params = dict(ctx.params)
    if ctx.get_parameter_source("fmt") is click.core.ParameterSource.DEFAULT:
        params["fmt"] = None             # the display shows it; print only what is asked for
    try:
        return _derive(params)
    except TexderiveError as e:
        _fail(str(e), e.caret())
    except RecursionError:
        _fail("the expression is nested too deeply to handle")
    except MemoryError:
        _fail("out of memory: the expression or its derivation is too large")
    return None


def _derive(params: dict):
    from . import derive
    from .outputs import check_options, output
    params = dict(params)
    if params.get("no_check") and params.get("exact"):
        raise TexderiveError("--no-check and --exact contradict each other")
    let = {}
    for name, decl in params.pop("lets", ()) or ():
        if name in let and let[name] != decl:
            raise TexderiveError(f"{name} is declared twice ({let[name]!r} and {decl!r})")
        let[name] = decl
    kwargs = {"latex": params.pop("latex", False), "check": not params.pop("no_check", False),
              "exact": params.pop("exact", False),
              "exact_timeout": params.pop("exact_timeout", 60.0)}
    if params.get("hessian") is not None:
        kwargs["hessian"] = params.pop("hessian")
    params.pop("hessian", None)
    expr, wrt = params.pop("expr"), params.pop("wrt")
    target, force, fmt = params.pop("output", None), params.pop("force", False), \
        params.pop("fmt", None)
    options = {k: v for k, v in params.items() if v is not None}
    check_options(fmt or "latex", options)        # before the derivation: fail fast
    d = derive(expr, wrt, let, **kwargs)
    if target is not None and target != "-":
        from .io import write_atomic
        write_atomic(target, output(d, fmt or "latex", **options), force=force)
    elif fmt is not None or target == "-":
        print(output(d, fmt or "latex", **options), end="")
    d._display_options = {k: v for k, v in options.items() if k in DISPLAY_OPTIONS}
    return d


def load_ipython_extension(ipython) -> None:
    """Register ``%derive`` and ``%%derive`` (``%load_ext texderive``)."""
    from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

    @magics_class
    class DeriveMagics(Magics):
        @no_var_expand
        @line_cell_magic
        def derive(self, line, cell=None):
            """%derive EXPR --wrt X [options] | %%derive --wrt X [options] with EXPR below.

            The command line's `texderive derive` arguments (see `texderive derive --help`);
            returns the Derivation."""
            return run_magic(line, cell)

    ipython.register_magics(DeriveMagics)
