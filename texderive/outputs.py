"""A derivation's outputs: what ``texderive derive --format X`` prints (SPEC sections 3 and 7).

One path from derivations to text serves the command line (``derive`` and
``build``, through :func:`texderive.deck.render_document`) and the Python API
(``Derivation.to_latex()``, ``to_beamer()``, ... ``to_dict()``), so a method
returns exactly what the command prints with the same options.

``output(derivation, fmt, **options)``
    One derivation in ``fmt`` with the command line's output options, checked
    here: ``style``, ``reveal``, ``title``, ``template_dir``, the notation
    flags (``bold``, ``transpose``, ``trace``, ``gradient``, ``equals``,
    ``macros``) as keywords and/or ``notation={...}``.  A bad name or value
    raises :class:`TexderiveError`.
``render(derivations, fmt, ...)``
    Derivations (already derived, and checked where asked) -> one document.
    Rules are numbered across all of them.  Only the parts of the document the
    format reads are computed (:data:`PARTS`): a LaTeX snippet prints no step
    as text and no NumPy.
``document(derivations, fmt, ...)``
    The derivation documents (SPEC section 4) that ``render`` renders.

Code formats (``python``) are rendered by their printer module, found through
:data:`CODE_FORMATS`: ``module.render_module(derivation, header) -> str``.

Only the standard library loads here; the printers and the renderer load
inside the functions.
"""
from __future__ import annotations

from .errors import TexderiveError

#: What ``derive --format`` takes, and the API methods that return each.
FORMATS = ("latex", "standalone", "beamer", "markdown", "text", "json", "numpy", "python")
#: Formats ``render`` takes beyond those: whole documents of a deck.
DECK_FORMATS = ("deck", "article")
STYLES = ("chain", "steps")
#: The notation options a user sets (the command line's flags, a deck's ``notation:``);
#: their values are the LaTeX printer's (``LatexNotation.CHOICES``), the default first.
NOTATION_KEYS = ("bold", "transpose", "trace", "gradient", "equals", "macros")
WEB_FORMATS = ("markdown", "json")
BEAMER_FORMATS = ("beamer", "deck")
#: The output options of ``derive`` (besides the notation flags), with their defaults.
OPTIONS = {"style": "chain", "reveal": False, "title": "", "template_dir": None, "width": None}
#: The formats with a page width a user may name (``width=``, ``--width``; SPEC section 7).
WIDTH_FORMATS = ("latex", "standalone")

#: The parts of a derivation document a format reads.  ``latex``: every math
#: string; ``text``: f's and the gradient's text; ``steps_text``: each step
#: as Unicode text; ``numpy``: the gradient's NumPy.  A user's templates may
#: read anything, so ``template_dir`` means every part.
ALL_PARTS = frozenset({"latex", "text", "steps_text", "numpy"})
PARTS = {
    "latex": frozenset({"latex"}), "standalone": frozenset({"latex"}),
    "beamer": frozenset({"latex"}), "deck": frozenset({"latex"}), "article": frozenset({"latex"}),
    "markdown": frozenset({"latex", "text", "numpy"}),
    "numpy": frozenset({"numpy"}),
    "text": ALL_PARTS, "json": ALL_PARTS,
}

#: Code formats: module and function that print a derivation as a program.
CODE_FORMATS = {"python": ("texderive.printers.python", "render_module")}


def make_notation(options: dict, fmt: str):
    """The printer's settings for ``fmt`` from the user's notation options.  The web
    formats (markdown, json) ignore ``macros``: MathJax and KaTeX cannot load
    texderive.sty, so ``\\tr`` and ``\\dd`` would be undefined there."""
    from .printers.latex import LatexNotation
    if fmt in WEB_FORMATS:
        options = {**options, "macros": False}
    return LatexNotation.from_options(
        **options, web=fmt in WEB_FORMATS,
        differential="operatorname" if fmt in BEAMER_FORMATS else "mathrm")


def notation_options(notation=None, **flags) -> dict:
    """The notation options from a dict and/or keywords, validated as the command
    line validates its flags: known names, allowed values (``macros`` a bool)."""
    from .printers.latex import LatexNotation
    if notation is None:
        notation = {}
    if not isinstance(notation, dict):
        raise TexderiveError(f"notation must be a dict of notation options "
                             f"({', '.join(NOTATION_KEYS)}), not {type(notation).__name__}")
    merged = {}
    for source in (notation, flags):
        for key, value in source.items():
            if key not in NOTATION_KEYS:
                raise TexderiveError(f"unknown notation option {key!r}: the options are "
                                     f"{', '.join(NOTATION_KEYS)}")
            if value is None:
                continue
            choices = LatexNotation.CHOICES[key]
            ok = type(value) is bool if isinstance(choices[0], bool) else \
                isinstance(value, str) and value in choices
            if not ok:
                shown = "True or False" if isinstance(choices[0], bool) else ", ".join(choices)
                raise TexderiveError(f"bad value {value!r} for the notation option {key}: "
                                     f"allowed values are {shown}")
            if key in merged and merged[key] != value:
                raise TexderiveError(f"the notation option {key} is given twice, as "
                                     f"{merged[key]!r} and {value!r}")
            merged[key] = value
    return merged


def check_options(fmt: str, options: dict) -> dict:
    """``options`` (keywords of a ``to_*`` method) validated and completed with the
    defaults: ``{style, reveal, title, template_dir, notation}``."""
    if fmt not in FORMATS:
        raise TexderiveError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    flags = {k: options[k] for k in NOTATION_KEYS if k in options}
    unknown = sorted(k for k in options if k not in OPTIONS and k not in NOTATION_KEYS
                     and k != "notation")
    if unknown:
        raise TexderiveError(f"unknown option {unknown[0]!r}: the options are "
                             f"{', '.join(list(OPTIONS) + ['notation'] + list(NOTATION_KEYS))}")
    out = {k: options.get(k, default) for k, default in OPTIONS.items()}
    if out["style"] not in STYLES:
        raise TexderiveError(f"bad style {out['style']!r}: use one of {', '.join(STYLES)}")
    if type(out["reveal"]) is not bool:
        raise TexderiveError(f"reveal must be True or False, not {out['reveal']!r}")
    if not isinstance(out["title"], str):
        raise TexderiveError(f"title must be a string, not {type(out['title']).__name__}")
    if out["template_dir"] is not None:
        import os
        try:
            path = os.fspath(out["template_dir"])
        except TypeError:
            raise TexderiveError("template_dir must be a path to a folder") from None
        if not os.path.isdir(path):
            raise TexderiveError(f"template directory {path!r} does not exist")
        out["template_dir"] = path
    if out["width"] is not None:
        check_width(fmt, out["width"])
    out["notation"] = notation_options(options.get("notation"), **flags)
    return out


def check_width(fmt: str, width) -> float:
    """The width in points, or an error: a bad value, or a format without a width."""
    if fmt not in WIDTH_FORMATS:
        raise TexderiveError(f"a width applies to latex and standalone output, not to {fmt}: "
                             + ("Beamer frames take their width from the deck" if fmt == "beamer"
                                else f"{fmt} output has no fixed width"))
    from .layout import parse_width
    return parse_width(width)


def output(derivation, fmt: str, **options) -> str:
    """One derivation as ``derive --format fmt`` prints it with these options."""
    opts = check_options(fmt, options)
    title = opts["title"]
    meta = {"title": title} if title else {}
    if opts["width"] is not None:
        meta["width"] = opts["width"]
    return render([derivation], fmt, notation=opts["notation"], style=opts["style"],
                  reveal=opts["reveal"], template_dir=opts["template_dir"],
                  meta=meta, titles=[title], texts=[""])


def document(derivations, fmt: str, *, notation=None, template_dir=None) -> list:
    """The derivation documents of ``derivations`` for ``fmt``: rules numbered across
    all of them, in the notation of ``fmt``, holding the parts ``fmt`` reads."""
    from .steps import number_rules
    numbers = number_rules(derivations)
    printer = make_notation(notation or {}, fmt)
    parts = ALL_PARTS if template_dir is not None else PARTS.get(fmt, ALL_PARTS)
    return [d.document(printer, numbers, parts) for d in derivations]


def render(derivations, fmt: str, *, notation=None, style="chain", reveal=False,
           template_dir=None, meta=None, titles=None, texts=None, styles=None) -> str:
    """Render derivations as one document in ``fmt`` (SPEC section 3's formats,
    ``deck`` and ``article``).  ``titles``, ``texts``, ``styles``: one per derivation."""
    derivations = list(derivations)
    if fmt in CODE_FORMATS:
        return _code(derivations, fmt, notation)
    from . import render as renderer
    docs = document(derivations, fmt, notation=notation, template_dir=template_dir)
    meta = dict(meta or {})
    meta.setdefault("titles", list(titles) if titles is not None else [""] * len(docs))
    meta.setdefault("texts", list(texts) if texts is not None else [""] * len(docs))
    if fmt not in ("text", "numpy", "json"):
        printer = make_notation(notation or {}, fmt)
        meta.setdefault("notation", {k: getattr(printer, k) for k in NOTATION_KEYS})
    if styles is not None and len(set(s or style for s in styles)) > 1:
        meta["styles"] = [s or style for s in styles]
    return renderer.render(docs[0] if len(docs) == 1 else docs, fmt, style=style, reveal=reveal,
                           template_dir=template_dir, meta=meta)


def _code(derivations, fmt: str, notation) -> str:
    import importlib
    if len(derivations) != 1:
        raise TexderiveError(f"format {fmt} prints one derivation, not {len(derivations)}")
    module_name, function = CODE_FORMATS[fmt]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        raise TexderiveError(f"format {fmt} is not available in this version of texderive") \
            from None
    from .render import header
    d = derivations[0]
    head = header(document([d], "numpy")[0], "numpy", notation=notation or None)
    from .ownership import stamp
    return stamp(getattr(module, function)(d, head), "python")
