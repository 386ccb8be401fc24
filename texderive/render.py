r"""Derivation documents -> LaTeX, Beamer, Markdown, text, JSON and NumPy output.

The renderer reads only the derivation document of SPEC section 4 (what
``Derivation.to_dict()`` returns): never the engine's objects.  From one
document, or a list of them (a deck), :func:`render` builds a *view model* of
plain dicts holding :class:`Tex` (LaTeX that texderive wrote: math from the
document, or markup of this module) and ``str`` (free text: titles, deck text,
plain notes), and fills a Jinja template with it.  Widths, line breaking and
frame fitting are :mod:`texderive.layout`'s job; :class:`Tex` and
:func:`escape_latex` live in :mod:`texderive.tex`.

Public API
----------
``render(docs, fmt, *, style="chain", reveal=False, template_dir=None, meta=None) -> str``
    ``fmt``: ``latex`` (a bare ``align*`` fragment for ``\input``), ``standalone``
    (a complete article), ``article`` (a complete article with every
    derivation), ``beamer`` (frames only, for ``\input`` into a lecturer's own
    deck), ``deck`` (a complete Beamer document), ``markdown`` (``$$`` blocks
    for MathJax 3 and KaTeX), ``text`` (Unicode for a terminal), ``json`` (the
    document itself) or ``numpy`` (the gradient as one NumPy expression).
    ``style``: ``chain`` (one aligned chain of equalities with the rule number
    over each ``=`` and a side note per step) or ``steps`` (a numbered list,
    one step per item: "Product rule (2): ...").  ``reveal`` (Beamer only)
    uncovers the rows one slide at a time with ``\uncover<k->``.  ``meta``:
    ``title``, ``subtitle``, ``author``, ``institute`` (deck and article),
    ``titles``, ``texts`` and ``styles`` (lists aligned with the documents: a
    title, a free text shown before each derivation, and its style where it
    differs from ``style``; None where unset), ``notation`` (a dict, named in
    the header comment only), ``paper`` (``"twocolumn"`` or None: the
    width the LaTeX layout is made for) and ``width`` (``column``, ``text`` or
    a TeX length: the width a paper's output breaks to, SPEC section 7; an
    error for the formats without one).  A title or text with a character
    LaTeX cannot set is an error naming it; a text may be :class:`Tex` (a
    deck's text with its maths printed, :mod:`texderive.prose`).
``header(doc_or_docs, fmt, *, notation=None) -> str``
    The first line naming the generator and the check (SPEC section 3).
``is_generated(text) -> bool``
    Whether a file is texderive output (the command line refuses to overwrite
    anything else).
``sty() -> str``
    ``texderive.sty``: optional macros (``\tr``, ``\dd``, ``\T``, ``\grad``)
    defined with ``\providecommand``, so a user's own (or the physics
    package's) definitions win.  The outputs themselves never need it.

Escaping
--------
Free text (titles, deck text, plain notes, the input expression) is always
escaped, in one pass: in LaTeX ``\ { } & # ^ _ % ~`` become their
text-mode commands and ``$ < > |`` the math glyphs (``\(<\)``: the text ones
need a T1 font), so ``\input{/etc/passwd}`` prints as those characters;
in Markdown, ASCII punctuation that Markdown or HTML would read is escaped.
Math between ``\( \)`` or ``$ $`` in free text is escaped too (it is not
math): only the document's LaTeX strings are typeset as math.  The Jinja
environment's ``finalize`` does this for every plain ``str`` a template
prints; a :class:`Tex` passes through unchanged, and anything a template
computes from a ``Tex`` (``~``, ``|join``, ``+``) is a plain ``str`` again and
is escaped: a visible mistake, never an injection.

Templates
---------
Jinja with ``\VAR{...}``, ``\BLOCK{...}`` and ``((# ... #))`` comments,
``trim_blocks``, ``lstrip_blocks``, ``keep_trailing_newline`` and
``StrictUndefined`` (a missing field is an error, never an empty hole).
Templates are looked up in ``template_dir`` first, then in the packaged
folder.  One template per format: ``latex.tex.jinja``,
``standalone.tex.jinja``, ``article.tex.jinja``, ``beamer.tex.jinja``,
``deck.tex.jinja``, ``markdown.md.jinja`` and ``text.txt.jinja``; they include
the partials ``_chain.tex.jinja`` (an ``align*`` of ``rows``),
``_steps.tex.jinja`` (the numbered form of derivation ``d``),
``_derivation.tex.jinja`` (one of those two, by ``style``),
``_problem.tex.jinja`` (the sentence stating ``d``'s problem),
``_preamble.tex.jinja`` (an article's preamble), ``_rules.tex.jinja`` (the
tagged and labelled rules block), ``_rule_frames.tex.jinja`` and
``fit_frames.tex.jinja`` (Beamer frames of ``rule_frames`` and of derivation
``d``).  Override any of them by a file of
the same name in ``template_dir``.  The header comment (or the ``checked:``
footer of ``text``) is added by :func:`render`, not by the templates, so every
output names its generator.

View model
----------
Every template gets ``docs`` (the derivations, below), ``rules`` (the
numbered rules used across all of them, in number order: what steps cite),
``rule_frames`` (``rules`` in chunks of ``{title, rules}`` that fit a slide),
``meta`` (``title``, ``subtitle``, ``author``, ``institute``: str, "" when
unset), ``packages`` (``["bm"]`` when the math uses ``\bm``...), ``style``
(the default; each derivation has its own ``d.style``),
``reveal``, ``paper``, ``fmt``, ``version``, ``check`` (the header's check
phrase), ``textwidth`` (Tex: the ``\textwidth`` a complete document sets for
a named width, or "") and ``refs``: True where the output is one whole
document with a rules block, so steps cite rules with ``\eqref``; ``"macro"``
for Beamer frames to ``\input`` (``beamer``), whose numbers are
``\tdR{ID}{N}`` and define no label (beamer.tex.jinja and texderive.sty's
``sharedrules`` tell why).

Each derivation ``d``:

- ``index`` (1, 2, ...), ``title`` (str: the meta title, else "Example" or
  "Example k"), ``has_title`` (whether the meta gave one), ``text`` (str, ""
  when unset), ``style`` (``chain`` or ``steps``: templates branch on this)
- ``function`` (Tex), ``function_of`` (Tex: ``f(\mathbf{w})``, the f the
  gradient's left-hand side names; "" where it names none), ``statement``
  (Tex: ``f(\mathbf{w}) = ...``, or the function alone), ``statement_text``,
  ``long_function`` (too wide to state in a sentence), ``function_text``, ``expr``, ``wrt`` (str), ``grad_lhs`` (Tex: the
  gradient's left-hand side, e.g. ``\nabla_{\mathbf{X}} f``)
- ``rules``: ``[{id, number, latex (Tex), text, label (Tex: td:rule:ID),
  tag (Tex: "1", or "" when unnumbered), lhs, rhs (Tex: the statement split
  at its first "=", for alignment)}]``
- ``steps``: ``[{rule, number, lhs, latex, text, note, note_latex, equals,
  ref, ref_text, heading, remark, heading_text, remark_text, lhs_text,
  rows}]``: ``equals`` is ``=``, ``\overset{(2)}{=}`` or, where ``refs`` is
  true, ``\overset{\eqref{td:rule:product}}{=}``; ``ref`` the citation alone
  (``(2)``, ``\eqref{...}`` or ``(\tdR{ID}{N})``, "" for none); ``heading``/``remark`` (Tex) and
  ``heading_text``/``remark_text`` (str) the step's title and the rest of its
  note for the numbered form ("Constant rule", "dA = 0 and dB = 0"; a remark
  that only repeats the heading is ""; made only for the numbered form, or
  with a ``template_dir``); ``lhs_text`` the plain ``dy``/``∇f``;
  ``rows`` (numbered form in a paper) the step as rows of its own ``align*``;
  ``note_md``, ``heading_md``, ``remark_md`` (markdown only) the note, heading
  and remark as markdown with their math in ``$...$``
- ``gradient``: ``{latex (Tex), text, numpy}``; ``check`` (str: "numeric, 3
  points, max rel error 2.1e-10" or "not run")
- ``rows`` (chain style): the chain ``y = f(w) = ...``, then a row per step, laid out
  for the output's width: ``[{lhs, rel, math, note (Tex), kind ("first",
  "step" or "cont"), slide (int), tall, breakable (bool), note_lines}]``.  ``lhs`` is ""
  where it is the row above's.  Math too wide for the page is broken before a
  top-level ``=``, ``+`` or ``-``, else between factors, else inside brackets
  (the layout's order, :func:`texderive.layout.break_math`) into ``cont`` rows.  A
  step's note sits on its last row and is set as ``\tag*{...}``: at the right
  margin, or on a line of its own where the row leaves no room (``tall``
  predicts that; only where a template may read it: in Beamer, and with a
  ``template_dir``, since measuring the notes is a quarter of the work); a
  note wider than the line is a ragged-left ``\parbox`` of ``note_lines``.
  ``breakable``: a long display in a paper may break across pages after this
  row (``\displaybreak[0]``).  ``slide`` is the overlay number for ``reveal``.
- ``frames`` (Beamer): ``[{title, first, rows, steps}]``, the derivation cut
  into frames that fit a 4:3 slide of the default theme, as evenly as the
  fewest frames allow; a continuation is titled "... (cont.)" and restates
  the left-hand side.  The templates start every frame at the top and let
  LaTeX break one again in a taller theme (``allowframebreaks``).
- ``text_rows`` (``text`` format, chain): ``[{lhs, math, note, gap}]``,
  padded for a terminal.

With ``reveal`` the templates wrap each cell as ``\uncover<slide->{...}``
(``\pause`` does not work in ``align*``) and each bullet as ``\item<k->``.
"""
from __future__ import annotations

import functools
import json
import math
import re
from pathlib import Path

from . import __version__
from .errors import TexderiveError
from .layout import (LIST_INDENT, PAPER_LIST_INDENT, RULES_PER_FRAME, TOKEN, WIDTH, Widths, fit_frames,
                     layout_rows, math_width, note_scale, parse_width, text_rows, text_width)  # noqa: F401 (math_width, text_width: re-exported)
from .tex import Tex, cannot_set, escape_latex, unsupported_character

FORMATS = ("latex", "standalone", "beamer", "deck", "article", "markdown", "text", "json", "numpy")
STYLES = ("chain", "steps")
# the meta keys render() reads (the deck builder asks whether "styles" is one)
_META_KEYS = ("title", "subtitle", "author", "institute", "titles", "texts", "styles", "notation", "paper",
              "width")
#: The formats laid out for a width a user may name (``width``); the others
#: have none (Beamer frames take theirs from the deck).
WIDTH_FORMATS = ("latex", "standalone", "article")
_TEMPLATES = {
    "latex": "latex.tex.jinja", "standalone": "standalone.tex.jinja", "article": "article.tex.jinja",
    "beamer": "beamer.tex.jinja", "deck": "deck.tex.jinja", "markdown": "markdown.md.jinja",
    "text": "text.txt.jinja",
}


# ---------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------

_MD_ESCAPES = str.maketrans({
    **{c: "\\" + c for c in "\\`*_[]$|#"}, "<": "&lt;", ">": "&gt;", "&": "&amp;",
})


#: An escaped backslash before a bracket: ``\(``, ``\[`` would still be a maths delimiter
#: after markdown (MathJax reads the HTML; Jupyter reads ``\\(`` in the source).
_MD_DELIMITER = re.compile(r"\\\\(?=\\?[()\[\]])")


def escape_markdown(text: str) -> str:
    r"""Free text as markdown that shows it literally: markdown's specials escaped, and a
    backslash before a bracket in a ``<span>``, which ends a maths delimiter for MathJax
    (its documented way) and for Jupyter, so a title ``\(x\)`` is not typeset."""
    return _MD_DELIMITER.sub(r"<span>\\\\</span>", str(text).translate(_MD_ESCAPES))


_MATH_SPAN = re.compile(r"\\\((.*?)\\\)", re.S)
_RULE_NUMBER = re.compile(r"\(\d+\)")
_TEXT_UNESCAPE = re.compile(r"\\text(?:backslash|less|greater|bar|asciitilde)\{\}|\\[~^]\{\}|\\[{}$&#_%]")
_TEXT_UNESCAPES = {r"\textbackslash{}": "\\", r"\textless{}": "<", r"\textgreater{}": ">",
                   r"\textbar{}": "|", r"\textasciitilde{}": "~", r"\~{}": "~", r"\^{}": "^"}


def markdown_note(note_latex: str) -> Tex:
    """A note's LaTeX (text mode, math in ``\\(...\\)``) as markdown: its math in ``$...$``,
    which pandoc, MathJax and KaTeX read, and no Unicode maths (pdfLaTeX has no ``ᵀ``).
    Only texderive's own notes come here: their text mode has only the escapes of
    ``steps.escape_text``."""
    out, pos = [], 0
    for m in _MATH_SPAN.finditer(note_latex):
        out.append(_markdown_text(note_latex[pos:m.start()]))
        math = " ".join(m.group(1).split())
        out.append(math if _RULE_NUMBER.fullmatch(math) else f"${math}$" if math else "")
        pos = m.end()
    out.append(_markdown_text(note_latex[pos:]))
    return Tex("".join(out))


def _markdown_text(latex_text: str) -> str:
    plain = _TEXT_UNESCAPE.sub(lambda m: _TEXT_UNESCAPES.get(m.group(0), m.group(0)[-1]),
                               latex_text)
    return escape_markdown(plain)


def _finalizer(escape):
    def finalize(value):
        if isinstance(value, Tex):
            return value
        if isinstance(value, str):
            return escape(value)
        if value is None:
            return ""
        if isinstance(value, (bool, int, float)):
            return str(value)
        return escape(str(value))       # StrictUndefined raises here
    return finalize


_FLAVOURS = {"latex": escape_latex, "markdown": escape_markdown, "text": str}


# ---------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------

def templates_dir() -> Path:
    """The packaged templates (a wheel maps ``templates/`` there), else the checkout's."""
    here = Path(__file__).resolve().parent
    packaged = here / "templates"
    return packaged if packaged.is_dir() else here.parent / "templates"


def _environment(flavour: str, template_dir):
    user = None
    if template_dir is not None:
        user = Path(template_dir)
        if not user.is_dir():
            raise TexderiveError(f"template directory {str(user)!r} does not exist")
        user = str(user.resolve())
    return _cached_environment(flavour, user)


_ENV_SETTINGS = dict(
    block_start_string=r"\BLOCK{", block_end_string="}",
    variable_start_string=r"\VAR{", variable_end_string="}",
    comment_start_string="((#", comment_end_string="#))",
    line_statement_prefix=None, line_comment_prefix=None,
    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
)


@functools.lru_cache(maxsize=16)
def _cached_environment(flavour: str, user):
    # Compiled templates live in the environment; Jinja reloads a template
    # whose file changed, so keeping environments across calls is safe and
    # saves compiling every template on every call (and finding the
    # packaged folder: resolving a path costs a system call per component).
    import jinja2

    loaders = [jinja2.FileSystemLoader(user)] if user else []
    loaders.append(jinja2.FileSystemLoader(str(templates_dir())))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), **_ENV_SETTINGS,
        undefined=jinja2.StrictUndefined, finalize=_finalizer(_FLAVOURS[flavour]),
        bytecode_cache=_bytecode_cache(),
    )


@functools.lru_cache(maxsize=1)
def _bytecode_cache():
    """Jinja's cache of compiled templates, so a process does not compile the templates
    again (a third of a snippet's rendering time on the command line).  Jinja keeps it
    in a private per-user folder (mode 0700, checked) under the temporary directory and
    recompiles a template whose source changed; the file names carry texderive's
    version and the environment's settings, which the compiled code depends on.
    None (no cache) where that folder cannot be made or ``TEXDERIVE_NO_CACHE`` is set."""
    import hashlib
    import os

    import jinja2
    if os.environ.get("TEXDERIVE_NO_CACHE"):
        return None
    key = hashlib.sha1(repr((__version__, sorted(_ENV_SETTINGS.items()))).encode()).hexdigest()[:12]
    try:
        return jinja2.FileSystemBytecodeCache(pattern=f"texderive-{key}-%s.cache")
    except (OSError, RuntimeError):
        return None


def _fill(flavour: str, name: str, template_dir, context: dict) -> str:
    import jinja2

    env = _environment(flavour, template_dir)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise TexderiveError(f"template {exc.name!r} not found (looked in "
                             f"{_where(template_dir)})") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TexderiveError(f"template {exc.name or name!r}, line {exc.lineno}: "
                             f"{exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TexderiveError(f"template {name!r}: {exc.message} (the view model is "
                             f"described in texderive/render.py)") from None
    except TexderiveError:
        raise
    except Exception as exc:          # a user template's own error: no Jinja traceback
        raise TexderiveError(f"template {name!r} failed: {type(exc).__name__}: {exc}") from None


def _where(template_dir) -> str:
    dirs = [str(template_dir)] if template_dir is not None else []
    return ", ".join(dirs + [str(templates_dir())])


def sty() -> str:
    """The text of ``texderive.sty``, with a generated-by header line."""
    path = templates_dir() / "texderive.sty"
    try:
        body = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TexderiveError(f"cannot read {path}: {exc.strerror}") from None
    from .ownership import stamp
    return stamp(f"% generated by texderive {__version__}; optional macros, \\providecommand only\n"
                 + body, "sty")


# ---------------------------------------------------------------------------
# Header, check, generated-file detection
# ---------------------------------------------------------------------------

_HEADER_RE = re.compile(r"\A\ufeff?(?:%|#|<!--) generated by texderive\b")


def _check_phrase(check) -> str:
    if not check or not isinstance(check, dict):
        return "not run"
    kind = str(check.get("kind", "check"))
    parts = [kind]
    if check.get("passed") is False:
        parts.append("FAILED")
    outcome = check.get("result") or check.get("status")
    if outcome:
        parts.append(str(outcome))
    if check.get("points") is not None:
        parts.append(f"{check['points']} points")
    err = check.get("max_rel_error")
    if isinstance(err, (int, float)):
        from .limits import decade_bound
        err = decade_bound(err)
        parts.append(f"max rel error < {err:.0e}" if err > 0 else "max rel error 0")
    return ", ".join(parts)


def _checks_phrase(docs: list) -> str:
    if len(docs) == 1:
        return _check_phrase(docs[0].get("check"))
    n = len(docs)
    checks = [d.get("check") if isinstance(d.get("check"), dict) else None for d in docs]
    if not any(checks):
        return "not run"
    parts = []
    for kind in sorted({str(c.get("kind", "check")) for c in checks if c}):
        group = [c for c in checks if c and str(c.get("kind", "check")) == kind]
        part = f"{kind} on {len(group)} of {n} derivations"
        failed = sum(1 for c in group if c.get("passed") is False)
        if failed:
            part += f", FAILED on {failed}"
        errs = [c["max_rel_error"] for c in group if isinstance(c.get("max_rel_error"), (int, float))]
        if errs:
            from .limits import decade_bound
            top = decade_bound(max(errs))
            part += f", max rel error < {top:.0e}" if top > 0 else ", max rel error 0"
        parts.append(part)
    missing = sum(1 for c in checks if not c)
    if missing:
        parts.append(f"not run on {missing}")
    return "; ".join(parts)


def _oneline(text: str) -> str:
    return " ".join(str(text).split())


def header(doc_or_docs, fmt: str, *, notation=None) -> str:
    """First line of an output (no newline): generator, check, packages, notation.

    ``% ...`` for the LaTeX formats (``latex`` and ``beamer`` also name the
    packages they need), ``# ...`` for ``numpy``, ``<!-- ... -->`` for
    ``markdown``.  For ``text`` it is the last line instead, ``checked: ...``;
    ``json`` has none ("": the document carries ``generator`` and ``check``).
    """
    docs = _as_list(doc_or_docs)
    if fmt not in FORMATS:
        raise TexderiveError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return _header(fmt, _checks_phrase(docs), _packages(docs) if fmt in ("latex", "beamer") else [], notation)


def _header(fmt: str, check: str, packages: list, notation) -> str:
    """header() from the documents' check phrase and packages."""
    text = f"generated by texderive {__version__}; check: {check}"
    if fmt in ("latex", "beamer"):
        needs = (["amsmath"] if fmt == "latex" else ["beamer"]) + packages
        text += "; needs " + ", ".join(needs)
    if notation:
        text += "; notation: " + ", ".join(f"{k}={notation[k]}" for k in sorted(notation, key=str))
    text = _oneline(text)
    if fmt == "markdown":
        return "<!-- " + text.replace("--", "- -") + " -->"
    if fmt == "numpy":
        return "# " + text
    if fmt == "text":
        return _footer(check)
    if fmt == "json":
        return ""
    return "% " + text


def _footer(check: str) -> str:
    return f"checked: {check} (generated by texderive {__version__})"


def is_generated(text: str) -> bool:
    """Whether ``text`` is a texderive output that may be replaced without --force:
    its checksum matches, or it is a 0.1.0 output with its header intact
    (:func:`texderive.ownership.verdict`)."""
    from .ownership import verdict
    return bool(verdict(text))


# ---------------------------------------------------------------------------
# Reading the document
# ---------------------------------------------------------------------------

def _as_list(doc_or_docs) -> list:
    docs = doc_or_docs if isinstance(doc_or_docs, (list, tuple)) else [doc_or_docs]
    if not docs:
        raise TexderiveError("nothing to render: the list of derivations is empty")
    for k, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise TexderiveError(f"derivation {k + 1} is not a derivation document (a dict, SPEC section 4)")
    return list(docs)


def _field(obj, key, where, kind=str, required=True, default=""):
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        if required:
            raise TexderiveError(f"derivation document: {where}{key} is missing")
        return default
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise TexderiveError(f"derivation document: {where}{key} should be {kind.__name__}, "
                             f"not {type(value).__name__}")
    return value


def _math(obj, key, where) -> Tex:
    return Tex(_oneline(_field(obj, key, where)))


_PKG_MACROS = (("bm", re.compile(r"\\bm(?![A-Za-z])")), ("amssymb", re.compile(r"\\mathbb(?![A-Za-z])")))


_MACRO_USE = re.compile(r"\\(?:tr|dd|T|grad)(?![A-Za-z])")


def _macro_defs(docs: list) -> str:
    """For a complete document whose math uses texderive.sty's macros (``macros``
    notation): their definitions, from the shipped texderive.sty, so the document
    compiles by itself (``\\providecommand``: a definition in place wins)."""
    math_text = "\n".join(s for d in docs for s in _math_strings(d))
    if not _MACRO_USE.search(math_text):
        return Tex("")
    # the shorthands only: the sharedrules option and its macros are for \usepackage
    body = sty().split("\\RequirePackage{amsmath}", 1)[1].split("\\endinput", 1)[0]
    body = body.split("\\newif\\iftd@shared", 1)[0]
    lines = [ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("%")]
    return Tex("\\makeatletter\n" + "\n".join(lines) + "\n\\makeatother")


def _math_strings(doc: dict):
    yield str((doc.get("function") or {}).get("latex", ""))
    yield str((doc.get("gradient") or doc.get("result") or {}).get("latex", ""))
    for part in ("rules", "steps"):
        for item in doc.get(part) or ():
            if isinstance(item, dict):
                for key in ("latex", "lhs", "note_latex"):
                    yield str(item.get(key) or "")


def _packages(docs: list) -> list:
    """Packages beyond amsmath that the documents' math needs, in a fixed order."""
    # one line per string: no macro name spans two
    math_text = "\n".join(s for d in docs for s in _math_strings(d))
    return [name for name, pattern in _PKG_MACROS if pattern.search(math_text)]


# ---------------------------------------------------------------------------
# Steps: headings for the numbered form
# ---------------------------------------------------------------------------

_HEADINGS = {
    "expand": "Expand", "differential": "Take the differential", "constant": "Constant rule",
    "product": "Product rule", "transpose": "Transpose rule", "trace": "Trace rule",
    "inverse": "Inverse rule", "cyclic": "Trace trick", "det": "Determinant rule",
    "logdet": "Log-determinant rule", "collect": "Collect like terms",
    "read_off": "Read off the gradient",
}
_BY_NUMBER = re.compile(r"by\s+(?:\\\(\s*)?\(\d+\)(?:\s*\\\))?\s*(?:,\s*|\Z)", re.I)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+")


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _heading(rule: str, note: str) -> tuple:
    """(heading, remark) for a step of the numbered form, from its rule and note.

    The heading names the rule ("Product rule"); the remark is what the note
    says beyond that ("dA = 0 and dB = 0"), "" when it only repeats it.  A note
    that starts with the heading and goes on ("take the differential of y")
    becomes the heading itself."""
    heading = _HEADINGS.get(rule) or _capitalize(rule.replace("_", " ").strip()) or "Step"
    rest = note.strip()
    m = _BY_NUMBER.match(rest)
    if m:
        rest = rest[m.end():]
    low, name = rest.lower(), heading.lower()
    if low.startswith(name):
        tail = rest[len(name):].lstrip()
        if not tail:
            return heading, ""
        if tail[0] in ":,;":
            rest = tail[1:].strip()
        elif not m:
            return _capitalize(note.strip()), ""
    core = _ARTICLE.sub("", rest.lower()).rstrip(". ")
    if core in (name, name.replace(" rule", "")):
        return heading, ""
    return heading, rest.rstrip(". ")


_D_TEX = r"(?:\\mathrm\{d\}|\\operatorname\{d\}|\\dd|d)"
_BOLD_TEX = r"(?:\\(?:mathbf|bm|boldsymbol)\{(%s)\}|(%s))"
# the left-hand sides of a Jacobian's and a Hessian's steps (SPEC section 6), before
# the gradient's: "d∇f" must never read as "∇f"
_LHS_TEXT_SECOND = (
    (re.compile(r"^" + _D_TEX + r"\s*\\operatorname\{vec\}\s*\("), "d vec ∇f"),
    (re.compile(r"^" + _D_TEX + r"\s*\\operatorname\{vec\}"), "d vec F"),
    (re.compile(r"^" + _D_TEX + r"\s*\\,\s*(?:\\nabla|\\frac)"), "d∇f"),
    (re.compile(r"^" + _D_TEX + r"\s*\^2\s*f$"), "d²f"),
    (re.compile(r"^\\frac\{" + _D_TEX), "dF/d{wrt}"),
    (re.compile(r"^" + _D_TEX + r"\s*" + _BOLD_TEX % ("F", "F") + "$"), "dF"),
    (re.compile(r"^" + _D_TEX + r"\s*" + _BOLD_TEX % ("f", "f") + "$"), "df"),
    (re.compile(r"^" + _BOLD_TEX % ("J", "J") + "$"), "J"),
    (re.compile(r"^" + _BOLD_TEX % ("H", "H") + "$"), "H"),
)
_LHS_TEXT = ((re.compile(r"^(?:\\mathrm\{d\}|\\operatorname\{d\}|d)\s*y$"), "dy"),
             (re.compile(r"\\nabla"), "∇f"), (re.compile(r"\\partial"), "∂f/∂{wrt}"),
             (re.compile(r"^\\(?:mathbf|bm)\{G\}$"), "G"))


def _value_lhs(steps) -> Tex:
    """y, or for a Jacobian (steps on dF) the F of its first step's dF."""
    m = re.match(r"^" + _D_TEX + r"\s*(" + _BOLD_TEX % ("[Ff]", "[Ff]") + r")$",
                 str(steps[0]["lhs"]).strip()) if steps else None
    return Tex(m.group(1)) if m else Tex("y")


def _value_lhs_text(steps) -> str:
    lhs = str(_value_lhs(steps)).rstrip("}")
    return "y" if lhs == "y" else lhs[-1]


def _lhs_text(lhs: str, wrt: str) -> str:
    lhs = lhs.strip()
    for pattern, text in _LHS_TEXT_SECOND + _LHS_TEXT:
        if pattern.search(lhs):
            return text.format(wrt=wrt)
    return lhs


# ---------------------------------------------------------------------------
# The view model
# ---------------------------------------------------------------------------

_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def _label(rule_id: str) -> Tex:
    return Tex("td:rule:" + (_LABEL_UNSAFE.sub("-", rule_id) or "rule"))


def _split_statement(latex: str) -> tuple:
    """(lhs, rhs) of a rule's statement at its first "=" outside braces.

    Reads the tokens from one "=" to the next only: an "=" always ends a
    token, itself or the accent ``\\=`` (whose backslash, read without its
    "=", is a token of its own)."""
    depth, start, at = 0, 0, latex.find("=")
    while at >= 0:
        toks = TOKEN.findall(latex, start, at)
        depth += toks.count("{") - toks.count("}")
        if depth == 0 and toks[-1:] != ["\\"]:
            return Tex(latex[:at].rstrip()), Tex(latex[at:])
        start, at = at + 1, latex.find("=", at + 1)
    return Tex(""), Tex(latex)


def _read_rules(doc, where):
    rules = []
    for k, rule in enumerate(_field(doc, "rules", where, list, required=False, default=[])):
        w = f"{where}rules[{k}]."
        if not isinstance(rule, dict):
            raise TexderiveError(f"derivation document: {where}rules[{k}] is not an object")
        rid = _field(rule, "id", w)
        number = _field(rule, "number", w, int, required=False, default=None)
        latex = _math(rule, "latex", w)
        lhs, rhs = _split_statement(latex)
        rules.append({"id": rid, "number": number, "latex": latex, "text": _field(rule, "text", w, required=False),
                      "label": _label(rid), "tag": Tex(str(number) if number is not None else ""),
                      "key": _rule_key(rid), "lhs": lhs, "rhs": rhs})
    return rules


_GRADIENT_OF = (re.compile(r"\\nabla_\{(.+)\}\s*f\Z"),
                re.compile(r"\\frac\{\\partial f\}\{\\partial\s*(.+)\}\Z"))


def _gradient_variable(grad_lhs: str) -> str:
    r"""The variable of a gradient's left-hand side (``\nabla_{\mathbf{X}} f``,
    ``\frac{\partial f}{\partial \mathbf{X}}``), or "" for another form."""
    for pattern in _GRADIENT_OF:
        m = pattern.match(grad_lhs.strip())
        if m and _balanced(m.group(1)):
            return m.group(1).strip()
    return ""


def _balanced(latex: str) -> bool:
    depth = 0
    for c in latex:
        depth += (c == "{") - (c == "}")
        if depth < 0:
            return False
    return depth == 0


def _check_characters(meta: dict, n: int) -> None:
    """Every free text LaTeX will set can be set: else an error naming the text,
    the character and its column, before anything is written."""
    fields = [(key, meta.get(key)) for key in ("title", "subtitle", "author", "institute")]
    for key in ("titles", "texts"):
        for k, value in enumerate(meta.get(key) or ()):
            if not isinstance(value, Tex):          # a Tex text was checked where it was made
                fields.append((f"the {key[:-1]} of derivation {k + 1}" if n > 1 else f"the {key[:-1]}", value))
    for name, value in fields:
        bad = unsupported_character(value or "")
        if bad is not None:
            raise TexderiveError(f"{name}: {cannot_set(bad[1], f' at col {bad[0] + 1}')}")


def _rule_key(rule_id: str) -> str:
    return _LABEL_UNSAFE.sub("-", rule_id) or "rule"


def _rule_number(rule_id: str, number: int) -> Tex:
    r"""``\tdR{ID}{N}``: N, this file's number of the rule, unless texderive.sty
    (option ``sharedrules``) numbers the rules once for the whole document."""
    return Tex(r"\tdR{%s}{%d}" % (_rule_key(rule_id), number))


_CITED = re.compile(r"\\\(\((\d+)\)\\\)")


def _cite_numbers(note: Tex, rules: list) -> Tex:
    r"""A note's citations ``\((4)\)`` of this document's rules, as ``\tdR``."""
    by_number = {r["number"]: r["id"] for r in rules if r["number"] is not None}

    def cite(m):
        rid = by_number.get(int(m.group(1)))
        return m.group(0) if rid is None else r"\((%s)\)" % _rule_number(rid, int(m.group(1)))
    return Tex(_CITED.sub(cite, note))


def _union_rules(docs_rules: list) -> list:
    """The rules of all derivations, numbered ones in number order, then the
    others in order of first use.  A deck cites one rule by one number: two
    numbers for a rule, or one number for two rules, is an error."""
    by_id, by_number, numbered, other = {}, {}, [], []
    for rules in docs_rules:
        for rule in rules:
            rid, number = rule["id"], rule["number"]
            if rid in by_id:
                if by_id[rid] != number:
                    raise TexderiveError(f"rule {rid!r} is numbered both ({by_id[rid]}) and ({number}); "
                                         f"the derivations of a deck must share one numbering")
                continue
            if number is not None and by_number.setdefault(number, rid) != rid:
                raise TexderiveError(f"rules {by_number[number]!r} and {rid!r} are both numbered ({number}); "
                                     f"the derivations of a deck must share one numbering")
            by_id[rid] = number
            (numbered if number is not None else other).append(rule)
    numbered.sort(key=lambda r: r["number"])
    return numbered + other


def _derivation(doc, rules, k, n, meta, refs, labels, geometry, fmt, style, widths, user_templates):
    where = f"derivation {k + 1}: " if n > 1 else ""
    # fields that only some templates read, made where one may: the headings
    # of the numbered form, and the rows' ``tall`` (Beamer cuts frames by it)
    headings = user_templates or style == "steps"
    markdown = user_templates or fmt == "markdown"
    tall = user_templates or fmt in ("beamer", "deck")
    function = _field(doc, "function", where, dict)
    # a Jacobian or a Hessian (SPEC section 6) has a ``result`` and no ``gradient``
    gradient = _field(doc, "gradient" if "gradient" in doc or "result" not in doc else "result",
                      where, dict)
    inp = _field(doc, "input", where, dict, required=False, default={})
    wrt = str(inp.get("wrt") or "")
    steps_in = _field(doc, "steps", where, list)
    if not steps_in:
        raise TexderiveError(f"derivation document: {where}steps is empty")

    steps = []
    for j, step in enumerate(steps_in):
        w = f"{where}steps[{j}]."
        if not isinstance(step, dict):
            raise TexderiveError(f"derivation document: {where}steps[{j}] is not an object")
        rule = _field(step, "rule", w, required=False)
        number = _field(step, "number", w, int, required=False, default=None)
        if number is None:
            ref, ref_text = Tex(""), ""
        elif refs == "macro":
            ref, ref_text = Tex("(%s)" % _rule_number(rule, number)), f"({number})"
        elif refs and labels.get(rule) == number:
            ref, ref_text = Tex(r"\eqref{%s}" % _label(rule)), f"({number})"
        else:
            ref, ref_text = Tex(f"({number})"), f"({number})"
        note = _oneline(_field(step, "note", w, required=False))
        note_latex = Tex(_oneline(_field(step, "note_latex", w, required=False)) or escape_latex(note))
        if refs == "macro":
            note_latex = _cite_numbers(note_latex, rules)
        lhs = _math(step, "lhs", w)
        s = {
            "rule": rule, "number": number, "lhs": lhs, "latex": _math(step, "latex", w),
            "text": _field(step, "text", w, required=False), "note": note, "note_latex": note_latex,
            "equals": Tex(r"\overset{%s}{=}" % ref) if ref else Tex("="), "ref": ref, "ref_text": ref_text,
        }
        if headings:
            heading, remark = _heading(rule, note_latex)
            heading_text, remark_text = _heading(rule, note)
            s.update(heading=Tex(heading), remark=Tex(remark), heading_text=heading_text, remark_text=remark_text)
            if markdown:
                s.update(heading_md=markdown_note(heading), remark_md=markdown_note(remark))
        if markdown:
            s["note_md"] = markdown_note(note_latex)
        s["lhs_text"] = _lhs_text(lhs, wrt)
        steps.append(s)

    grad_lhs = steps[-1]["lhs"]        # the last step is the answer (read off, or symmetrised)
    function_tex = _math(function, "latex", where + "function.")
    # y = f(w) = ...: the f that the gradient (or a step of a Hessian) names, of its variable
    var = next((v for v in map(_gradient_variable, [grad_lhs] + [s["lhs"] for s in steps]) if v), "")
    function_of = Tex(f"f({var})") if var else Tex("")
    function_of_text = f"f({wrt})" if var and wrt else ""
    titles, texts = meta.get("titles") or [], meta.get("texts") or []
    has_title = k < len(titles) and bool(titles[k])
    title = titles[k] if has_title else (f"Example {k + 1}" if n > 1 else "Example")
    d = {
        "index": k + 1, "title": _oneline(title), "has_title": has_title, "style": style,
        "text": texts[k] if k < len(texts) and texts[k] else "",
        "function": function_tex, "function_of": function_of, "function_of_text": function_of_text,
        # the statement: "f(w) = ..." (or the function alone where no f is named)
        "statement": Tex(f"{function_of} = {function_tex}") if function_of else function_tex,
        "statement_text": (f"{function_of_text} = " if function_of_text else "")
        + _field(function, "text", where + "function.", required=False),
        # too wide to state inline (a display breaks it into rows; a sentence cannot)
        "long_function": geometry is not None and widths.math(function_of + function_tex) > geometry * 0.65,
        "function_text": _field(function, "text", where + "function.", required=False),
        "expr": str(inp.get("expr") or ""), "wrt": wrt, "grad_lhs": grad_lhs,
        # the function's name in the chain: y, or F (f for a column) for a Jacobian, whose
        # differential steps are dF
        "value_lhs": _value_lhs(steps), "value_lhs_text": _value_lhs_text(steps),
        # what the result is (SPEC section 6): "Gradient", "Jacobian" or "Hessian"
        "result_name": {"jacobian": "Jacobian", "hessian": "Hessian"}.get(
            str((doc.get("result") or {}).get("kind") or ""), "Gradient"),
        "rules": rules, "steps": steps,
        "gradient": {"latex": _math(gradient, "latex", where + "gradient."),
                     "text": _field(gradient, "text", where + "gradient.", required=False),
                     "numpy": _field(gradient, "numpy", where + "gradient.", required=False)},
        "check": _check_phrase(doc.get("check")),
        "rows": [], "frames": [],
    }
    width = geometry if geometry else math.inf
    scale = note_scale(fmt)
    # the chain: "y = f", then each step; a step's lhs is shown where it changes
    groups, prev = [(d["value_lhs"], Tex("="), d["statement"], Tex(""), "first", 1)], d["value_lhs"]
    for j, s in enumerate(steps):
        shown = s["lhs"] if s["lhs"] != prev else Tex("")
        groups.append((shown, s["equals"], s["latex"], s["note_latex"], "step", j + 2))
        prev = s["lhs"]
    if style == "chain" and fmt != "text":
        d["rows"] = layout_rows(groups, width, scale, widths, breaks=fmt in ("latex", "standalone", "article"),
                            tall=tall)
    item_w = width - (LIST_INDENT["beamer"] if fmt in ("beamer", "deck") else PAPER_LIST_INDENT) if geometry else width
    for s in steps:
        s["rows"] = (layout_rows([(s["lhs"], Tex("="), s["latex"], Tex(""), "step", 1)], item_w, 1.0, widths,
                             tall=tall)
                     if style == "steps" and fmt not in ("beamer", "deck") else [])

    if fmt in ("beamer", "deck"):
        d["frames"] = fit_frames(d, width, style, widths)
    if fmt == "text":
        d["text_rows"] = text_rows(d)
    return d



def _view(docs, fmt, style, reveal, meta, user_templates=False):
    paper = meta.get("paper")
    if paper not in (None, "twocolumn", "onecolumn"):
        raise TexderiveError(f"meta: paper should be 'twocolumn', 'onecolumn' or None, not {paper!r}")
    n = len(docs)
    for key in ("titles", "texts", "styles"):
        value = meta.get(key)
        if value is not None and (not isinstance(value, (list, tuple)) or len(value) != n
                                  or not all(isinstance(v, str) or v is None for v in value)):
            raise TexderiveError(f"meta: {key} should be a list of {n} strings, one per derivation")
    styles = [s or style for s in meta.get("styles") or [None] * n]
    for s in styles:
        if s not in STYLES:
            raise TexderiveError(f"meta: unknown style {s!r} in styles; use one of {', '.join(STYLES)}")
    for key in ("title", "subtitle", "author", "institute"):
        if meta.get(key) is not None and not isinstance(meta.get(key), str):
            raise TexderiveError(f"meta: {key} should be a string")
    if fmt not in ("markdown", "text"):
        _check_characters(meta, n)
    # how steps cite rules: \eqref of a label where the output is one whole
    # document with a rules block; \tdR{ID}{N} in frames for \input (several
    # files in one deck must never define one label twice, and texderive.sty
    # may number them for the whole deck); the bare number in a snippet
    refs = "macro" if fmt == "beamer" else fmt in ("standalone", "article", "deck")
    # the page width (pt) the LaTeX is laid out for; None: no page (markdown, text)
    width = meta.get("width")
    if width is not None and fmt not in WIDTH_FORMATS:
        raise TexderiveError(f"a width applies to latex and standalone output, not to {fmt}: "
                             + ("Beamer frames take their width from the deck" if fmt in ("beamer", "deck")
                                else f"{fmt} output has no fixed width"))
    if fmt in ("beamer", "deck"):
        geometry = WIDTH["beamer"]
    elif fmt in WIDTH_FORMATS:
        geometry = parse_width(width) if width is not None else WIDTH["twocolumn" if paper == "twocolumn"
                                                                      else "onecolumn"]
    else:
        geometry = None
    docs_rules = [_read_rules(doc, f"derivation {k + 1}: " if n > 1 else "") for k, doc in enumerate(docs)]
    # the rules blocks list the rules steps cite by number; bookkeeping ones
    # (number null) stay in each derivation's own ``rules``
    rules = [r for r in _union_rules(docs_rules) if r["number"] is not None]
    labels = {r["id"]: r["number"] for r in rules}
    widths = Widths()
    derivations = [_derivation(doc, docs_rules[k], k, n, meta, refs, labels, geometry, fmt, styles[k], widths,
                               user_templates)
                   for k, doc in enumerate(docs)]
    per_frame = math.ceil(len(rules) / math.ceil(len(rules) / RULES_PER_FRAME)) if rules else 1
    rule_frames = [{"title": "Basic rules" if c == 0 else "Basic rules (cont.)",
                    "rules": rules[c:c + per_frame]} for c in range(0, len(rules), per_frame)]
    return {
        "docs": derivations, "rules": rules, "rule_frames": rule_frames,
        "meta": {key: _oneline(meta.get(key) or "") for key in ("title", "subtitle", "author", "institute")},
        "packages": _packages(docs), "macro_defs": _macro_defs(docs), "style": style, "reveal": bool(reveal) and fmt in ("beamer", "deck"),
        "paper": paper or "",
        # a standalone document (or a one-column article) set to the width it was laid out for
        "textwidth": Tex(f"{geometry:.2f}pt") if width is not None and paper != "twocolumn" else "",
        "fmt": fmt, "version": __version__, "refs": refs,
        "check": _checks_phrase(docs),
    }


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def render(docs, fmt, *, style="chain", reveal=False, template_dir=None, meta=None) -> str:
    """Render one derivation document, or a list of them, in ``fmt`` (see the module doc),
    stamped with its checksum beside the generator's name (:mod:`texderive.ownership`)."""
    from .ownership import stamp
    return stamp(_render(docs, fmt, style=style, reveal=reveal, template_dir=template_dir,
                         meta=meta), fmt)


def _render(docs, fmt, *, style, reveal, template_dir, meta) -> str:
    items = _as_list(docs)
    if fmt not in FORMATS:
        raise TexderiveError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if style not in STYLES:
        raise TexderiveError(f"unknown style {style!r}; use one of {', '.join(STYLES)}")
    meta = dict(meta or {})
    notation = meta.get("notation")
    if notation is not None and not isinstance(notation, dict):
        raise TexderiveError("meta: notation should be a dict of notation options")
    if fmt == "json":
        data = items if isinstance(docs, (list, tuple)) else items[0]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "numpy":
        lines = [_oneline(_field(_field(d, "gradient" if "gradient" in d or "result" not in d
                                        else "result", "", dict), "numpy", "gradient."))
                 for d in items]
        return header(items, fmt, notation=notation) + "\n" + "\n".join(lines) + "\n"
    context = _view(items, fmt, style, reveal, meta, user_templates=template_dir is not None)
    check, packages = context["check"], list(context["packages"])    # as they were before the template ran
    flavour = {"markdown": "markdown", "text": "text"}.get(fmt, "latex")
    body = _fill(flavour, _TEMPLATES[fmt], template_dir, context)
    if fmt == "text":
        return body.rstrip("\n") + "\n" + _footer(check) + "\n"
    return _header(fmt, check, packages, notation) + "\n" + body.lstrip("\n")
