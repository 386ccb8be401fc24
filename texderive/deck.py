"""Deck files: many derivations, one document.

A deck is a YAML file (read with PyYAML's safe loader only)::

    title: Matrix derivatives by the differential method
    author: A. Lecturer
    format: beamer            # beamer (a whole Beamer deck) or article
    style: chain              # chain or steps, for every derivation unless it says otherwise
    notation:                 # the command line's notation options, same names and values
      bold: mathbf
      transpose: top
    let:                      # declarations shared by every derivation
      S: symmetric n
    derivations:
      - title: Least squares
        text: A is a constant matrix and b a constant vector.
        expr: norm(A*x - b)^2
        wrt: x
      - title: Log-determinant
        expr: '\\log\\det(\\mathbf{X}^\\top\\mathbf{X})'
        latex: true
        wrt: X

:func:`load` reads and validates a deck, keeping the line (and, for an
expression, the column) of every value, so an error names the derivation, its
title and where it is: ``lecture.yaml:14:11: derivation 3 ("Ridge"): ...``.
:func:`render_document` derives every entry, numbers the rules across the
whole deck (``steps.number_rules``) and renders one document; the command
line's ``derive`` uses it too, with a deck of one.  Nothing is written here:
an error in any entry leaves every output untouched.

This module imports only the standard library at its top; PyYAML, the engine
and the renderer load inside the functions that use them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .errors import TexderiveError
# the notation options and the printer settings per format (re-exported for callers)
from .outputs import BEAMER_FORMATS, NOTATION_KEYS, WEB_FORMATS, make_notation  # noqa: F401

DECK_KEYS = ("title", "subtitle", "author", "institute", "format", "paper", "width", "style", "reveal",
             "check", "exact_timeout", "notation", "let", "derivations")
ENTRY_KEYS = ("title", "name", "text", "expr", "wrt", "let", "latex", "style", "hessian")
#: deck setting -> renderer format; ``snippets`` renders each derivation alone
#: (``derive``'s align* snippet), one file per derivation
FORMATS = {"beamer": "deck", "article": "article", "snippets": "latex"}
#: a snippet's file name (without ``.tex``): a derivation's ``name:`` or its title's slug
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
STYLES = ("chain", "steps")
CHECKS = ("numeric", "exact", "none")
PAPERS = ("onecolumn", "twocolumn")        # the width an article's layout is made for


class DeckError(TexderiveError):
    """An error in a deck file, located by file, line and entry."""

    def __init__(self, message: str, caret: str = ""):
        super().__init__(message)
        self._caret = caret

    def caret(self) -> str:
        return self._caret


@dataclass
class Entry:
    """One derivation of a deck (or of ``texderive derive``)."""
    expr: str
    wrt: str
    title: str = ""
    name: str = ""               # the snippet's file name, as written (``name:``)
    text: str = ""
    let: dict = field(default_factory=dict)
    latex: bool = False
    style: str | None = None
    hessian: bool = False        # SPEC section 6: the Hessian instead of the gradient
    index: int = 0               # 1-based position in the deck, 0 outside a deck
    line: int | None = None      # YAML line of the entry
    expr_at: tuple | None = None  # (line, column, exact) of the expression's first character
    text_at: tuple | None = None  # the same for the text (its maths between backticks)

    def label(self) -> str:
        name = f"derivation {self.index}"
        if self.title:
            return f'{name} ("{self.title}")'
        return f"{name} (expr '{self.expr}')" if self.expr else name


@dataclass
class Deck:
    entries: list
    path: str = ""
    title: str = ""
    subtitle: str = ""
    author: str = ""
    institute: str = ""
    format: str = "beamer"
    paper: str = ""
    width: str = ""           # column | text | a TeX length; "" the paper's (twocolumn: column)
    style: str = "chain"
    reveal: bool = False
    check: str = "numeric"
    exact_timeout: float = 60.0
    notation: dict = field(default_factory=dict)
    let: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# reading a deck

class _Reader:
    """Walks the composed YAML nodes, so every value keeps its line."""

    def __init__(self, name: str, loader):
        self.name = name
        self.loader = loader

    def where(self, node, column: bool = True) -> str:
        m = node.start_mark
        return f"{self.name}:{m.line + 1}:{m.column + 1}" if column else f"{self.name}:{m.line + 1}"

    def fail(self, node, message: str, entry: Entry | None = None):
        what = f"{entry.label()}: " if entry is not None else ""
        raise DeckError(f"{self.where(node)}: {what}{message}")

    def mapping(self, node, what: str, allowed, entry=None) -> dict:
        import yaml
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping of keys to values", entry)
        own = set()
        for knode, _ in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                self.fail(knode, f"a key of {what} must be a word", entry)
            if knode.value in own:
                self.fail(knode, f"{knode.value!r} appears twice"
                                 f"{'' if entry else ' in ' + what}", entry)
            if knode.tag != "tag:yaml.org,2002:merge":
                own.add(knode.value)
        self.loader.flatten_mapping(node)         # YAML merge keys (<<: *defaults) go first
        out = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                self.fail(knode, f"a key of {what} must be a word", entry)
            key = knode.value
            if key not in allowed:
                import difflib
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]!r}?)" if close else \
                    f"; the keys are {', '.join(allowed)}"
                self.fail(knode, f"unknown key {key!r}{'' if entry else ' in ' + what}{hint}",
                          entry)
            out[key] = vnode
        return out

    def string(self, node, key: str, entry=None, empty_ok: bool = True) -> str:
        """A scalar as the text written, never YAML's guess (``on`` stays ``on``)."""
        import yaml
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, f"{key} must be text, not a {_kind(node)}", entry)
        text = "" if node.tag == "tag:yaml.org,2002:null" and node.style is None else node.value
        from .limits import plain_text
        try:
            plain_text(text, key, newlines=True)
        except TexderiveError as e:
            self.fail(node, e.message, entry)
        if not empty_ok and not text.strip():
            self.fail(node, f"{key} is empty", entry)
        return text

    def typeset(self, node, key: str, entry=None) -> str:
        """A free text LaTeX will set (a title, the author): every character settable, or
        an error at its line and column, before anything is derived or written."""
        from .tex import cannot_set, unsupported_character
        text = self.string(node, key, entry)
        bad = unsupported_character(text)
        if bad is not None:
            line, col, exact = _expr_at(node)
            where = f"{self.name}:{line}:{col + bad[0]}" if exact else self.where(node)
            what = f"{entry.label()}: " if entry is not None else ""
            raise DeckError(f"{where}: {what}{key}: {cannot_set(bad[1])}")
        return text

    def boolean(self, node, key: str, entry=None) -> bool:
        import yaml
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return bool(self.loader.construct_object(node))
        self.fail(node, f"{key} must be true or false", entry)

    def choice(self, node, key: str, choices, entry=None) -> str:
        value = self.string(node, key, entry)
        if value not in choices:
            self.fail(node, f"{key} must be one of {', '.join(map(str, choices))}, "
                            f"not {value!r}", entry)
        return value

    def let(self, node, entry=None) -> dict:
        """``{name: declaration}`` or a list of ``'name: declaration'`` strings."""
        import yaml
        from .shapes import parse_let
        out = {}
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return out
        if isinstance(node, yaml.SequenceNode):
            pairs = []
            for item in node.value:
                text = self.string(item, "a declaration", entry)
                name, sep, decl = text.partition(":")
                if not sep:
                    self.fail(item, f"bad declaration {text!r}: write 'name: kind [sizes]'", entry)
                pairs.append((item, name.strip(), decl.strip()))
        elif isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            pairs = [(v, self.string(k, "a name", entry), self.string(v, "a declaration", entry))
                     for k, v in node.value]
        else:
            self.fail(node, "let must map names to declarations, e.g. {S: symmetric n}", entry)
        for where, name, decl in pairs:
            if name in out:
                self.fail(where, f"{name} is declared twice", entry)
            try:
                parse_let({name: decl})
            except TexderiveError as e:
                self.fail(where, e.message, entry)
            out[name] = decl
        return out

    def notation(self, node) -> dict:
        from .printers.latex import LatexNotation
        out = {}
        for key, vnode in self.mapping(node, "notation", NOTATION_KEYS).items():
            choices = LatexNotation.CHOICES[key]
            if isinstance(choices[0], bool):
                out[key] = self.boolean(vnode, f"notation.{key}")
            else:
                out[key] = self.choice(vnode, f"notation.{key}", choices)
        return out

    def entry(self, node, index: int) -> Entry:
        import yaml
        entry = Entry(expr="", wrt="", index=index, line=node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for knode, vnode in node.value:     # the title first, so later errors can name it
                if isinstance(knode, yaml.ScalarNode) and knode.value == "title" \
                        and isinstance(vnode, yaml.ScalarNode):
                    entry.title = vnode.value
        keys = self.mapping(node, "an entry", ENTRY_KEYS, entry)
        for key in ("expr", "wrt"):
            if key not in keys:
                self.fail(node, f"{key} is missing", entry)
        entry.expr = self.string(keys["expr"], "expr", entry, empty_ok=False)
        entry.expr_at = _expr_at(keys["expr"])
        entry.wrt = self.string(keys["wrt"], "wrt", entry, empty_ok=False).strip()
        entry.title = self.typeset(keys["title"], "title", entry) if "title" in keys else ""
        if "name" in keys:
            entry.name = self.string(keys["name"], "name", entry).strip()
            if not NAME_RE.match(entry.name):
                self.fail(keys["name"], f"name {entry.name!r} is not a file name: use letters, "
                                        "digits, '-' and '_', starting with a letter or digit",
                          entry)
        entry.text = self.string(keys["text"], "text", entry).strip() if "text" in keys else ""
        if "text" in keys:
            entry.text_at = _expr_at(keys["text"])
        if "let" in keys:
            entry.let = self.let(keys["let"], entry)
        if "latex" in keys:
            entry.latex = self.boolean(keys["latex"], "latex", entry)
        if "style" in keys:
            entry.style = self.choice(keys["style"], "style", STYLES, entry)
        if "hessian" in keys:
            entry.hessian = self.boolean(keys["hessian"], "hessian", entry)
        return entry

    def deck(self, node) -> Deck:
        import yaml
        keys = self.mapping(node, "the deck", DECK_KEYS)
        deck = Deck(entries=[], path=self.name)
        for key in ("title", "subtitle", "author", "institute"):
            if key in keys:
                setattr(deck, key, self.typeset(keys[key], key).strip())
        if "format" in keys:
            deck.format = self.choice(keys["format"], "format", tuple(FORMATS))
        if "paper" in keys:
            deck.paper = self.choice(keys["paper"], "paper", PAPERS)
        if "style" in keys:
            deck.style = self.choice(keys["style"], "style", STYLES)
        if "reveal" in keys:
            deck.reveal = self.boolean(keys["reveal"], "reveal")
        if "check" in keys:
            vnode = keys["check"]
            if isinstance(vnode, yaml.ScalarNode) and vnode.tag == "tag:yaml.org,2002:bool":
                deck.check = "numeric" if self.boolean(vnode, "check") else "none"
            else:
                deck.check = self.choice(vnode, "check", CHECKS)
        if "exact_timeout" in keys:
            vnode = keys["exact_timeout"]
            from .limits import exact_timeout
            if not isinstance(vnode, yaml.ScalarNode):
                self.fail(vnode, f"exact_timeout must be a number of seconds, not a "
                                 f"{_kind(vnode)}")
            try:
                deck.exact_timeout = exact_timeout(self.string(vnode, "exact_timeout"))
            except DeckError:
                raise
            except TexderiveError as e:
                self.fail(vnode, e.message)
        if "width" in keys:
            vnode = keys["width"]
            if deck.format == "beamer":
                self.fail(vnode, "width: is for an article or snippets; Beamer frames take "
                                 "their width from the deck")
            deck.width = self.string(vnode, "width").strip()
            from .layout import parse_width
            try:
                parse_width(deck.width)
            except TexderiveError as e:
                self.fail(vnode, e.message)
        if "notation" in keys:
            deck.notation = self.notation(keys["notation"])
        if "let" in keys:
            deck.let = self.let(keys["let"])
        if "derivations" not in keys:
            self.fail(node, "the deck has no derivations: add a list 'derivations:'")
        seq = keys["derivations"]
        if not isinstance(seq, yaml.SequenceNode) or not seq.value:
            self.fail(seq, "derivations must be a list of entries, each with expr and wrt")
        deck.entries = [self.entry(item, i) for i, item in enumerate(seq.value, 1)]
        if deck.format == "snippets":
            names = {}
            for entry, item in zip(deck.entries, seq.value):
                name = snippet_name(entry)
                if not name:
                    self.fail(item, "a snippet needs a file name: give the derivation a "
                                    "'name:' or a title with letters or digits", entry)
                other = names.setdefault(name.lower(), entry)
                if other is not entry:
                    self.fail(item, f"the snippet name {name!r} is taken by {other.label()} "
                                    f"(line {other.line}): give one of them another 'name:'",
                              entry)
        return deck


def slug(title: str) -> str:
    """A file name from a title: Greek letters spelled out, accents dropped, lowercase
    ASCII, every run of other characters one ``-``, trimmed (``""`` when nothing is left).

    >>> slug("The gradient of log det Σ (SPD)")
    'the-gradient-of-log-det-sigma-spd'
    """
    import unicodedata
    words = []
    for ch in unicodedata.normalize("NFKD", title):     # 𝐗 -> X, é -> e + accent, ² -> 2
        if ch.isascii():
            words.append(ch)
        elif not unicodedata.combining(ch):
            m = _GREEK.match(unicodedata.name(ch, ""))
            words.append(f" {_GREEK_SPELLING.get(m.group(1), m.group(1)).lower()} " if m else " ")
    return re.sub(r"[^a-z0-9]+", "-", "".join(words).lower()).strip("-")


_GREEK = re.compile(r"GREEK (?:SMALL |CAPITAL )?(?:LETTER )?(?:FINAL |LUNATE |ARCHAIC )?([A-Z]+)"
                    r"(?: SYMBOL)?\Z")
_GREEK_SPELLING = {"LAMDA": "LAMBDA"}     # Unicode's spelling of the letter's name


def snippet_name(entry: Entry) -> str:
    """The snippet's file name without ``.tex``: ``name:`` or the title's slug."""
    return entry.name or slug(entry.title)


def _kind(node) -> str:
    import yaml
    return {yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}.get(type(node), "value")


def _expr_at(node) -> tuple:
    """Where the expression's first character is, and whether columns map one to one
    (a scalar on one line whose source is as long as its text: no escapes, no folding)."""
    m, end = node.start_mark, node.end_mark
    quotes = 2 if node.style in ("'", '"') else 0
    exact = m.line == end.line and end.column - m.column - quotes == len(node.value) \
        and node.style in (None, "'", '"')
    return (m.line + 1, m.column + 1 + quotes // 2, exact)


def load(path) -> Deck:
    """Read and validate a deck file; raise :class:`DeckError` naming the line."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read(MAX_DECK_BYTES + 1)       # /dev/zero or a huge file: not all of it
    except OSError as e:
        raise DeckError(f"cannot read {name}: {e.strerror}") from None
    _refuse_large(len(data), name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DeckError(f"{name} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    return loads(text.replace("\r\n", "\n").replace("\r", "\n"), name)   # as text mode reads


#: A deck is a YAML file of derivations (50 of them are about 10 kB); past this size it
#: is refused before it is parsed (a 50 MB file took 35 s to be found empty).
MAX_DECK_BYTES = 1 << 20


def _refuse_large(size: int, name: str) -> None:
    if size > MAX_DECK_BYTES:
        raise DeckError(f"{name} is larger than {MAX_DECK_BYTES >> 20} MB, more than a deck "
                        f"of derivations needs; split it into several decks")


def loads(text: str, name: str = "<deck>") -> Deck:
    import yaml
    from .limits import plain_text
    _refuse_large(len(text.encode("utf-8", "surrogatepass")), name)
    try:
        plain_text(text, name, newlines=True)
    except TexderiveError:
        _refuse_raw_text(text, name)
    loader = None
    try:
        try:
            loader = yaml.SafeLoader(text)
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
            raise DeckError(f"{where}: not valid YAML: {e.problem or e.context}") from None
        except yaml.YAMLError as e:
            raise DeckError(f"{name}: not valid YAML: {e}") from None
        if node is None:
            raise DeckError(f"{name}: the deck is empty: it needs at least 'derivations:'")
        return _Reader(name, loader).deck(node)
    finally:
        if loader is not None:
            loader.dispose()


def _refuse_raw_text(text: str, name: str):
    """A control character or lone surrogate in the deck's text: name its line and column."""
    from .limits import plain_text
    for number, line in enumerate(text.split("\n"), 1):
        try:
            plain_text(line.rstrip("\r"), f"{name}:{number}")
        except TexderiveError as e:
            col = e.message.split(" at position ", 1)[1].split(" ", 1)[0]
            raise DeckError(e.message.replace(f"{name}:{number}:", f"{name}:{number}:{col}:", 1)
                            .replace(f" at position {col}", "")) from None


# ---------------------------------------------------------------------------
# deriving and rendering

def _located(err: TexderiveError, entry: Entry, deck_name: str) -> TexderiveError:
    """The engine's error, placed in the deck: file:line:col, entry, title."""
    if entry.line is None:
        return err
    line, col, exact = entry.expr_at or (entry.line, 1, False)
    on_expr = err.pos is not None and err.source == entry.expr
    if on_expr and exact:
        col += err.pos
    where = f"{deck_name}:{line}:{col}" if on_expr else f"{deck_name}:{entry.line}"
    message = err.message
    if on_expr and not exact:
        message = f"{message} at col {err.pos + 1} of the expression"
    return DeckError(f"{where}: {entry.label()}: {message}", err.caret())


#: formats whose free text is LaTeX: there a text's maths between backticks is printed
_TEXT_MATH_FORMATS = ("latex", "standalone", "beamer", "deck", "article")


def _text(entry: Entry, declared: dict, fmt: str, notation, deck_name: str):
    """An entry's text: LaTeX with its `maths` printed (prose.py), for a LaTeX format."""
    if not entry.text or fmt not in _TEXT_MATH_FORMATS or "`" not in entry.text:
        return entry.text
    from .prose import text_latex
    try:
        value_y = not re.search(r"(?<![A-Za-z0-9_\\])y(?![A-Za-z0-9_])", entry.expr)
        return text_latex(entry.text, make_notation(notation or {}, fmt), declared, value_y=value_y)
    except TexderiveError as e:
        line, col, exact = entry.text_at or (entry.line, 1, False)
        if exact and e.pos is not None:
            where, message = f"{deck_name}:{line}:{col + e.pos}", e.message
        else:
            where = f"{deck_name}:{line}"
            message = e.message + (f" at col {e.pos + 1} of the text" if e.pos is not None else "")
        raise DeckError(f"{where}: {entry.label()}: text: {message}") from None


def render_document(entries, fmt: str, *, deck_name: str = "", notation=None, style="chain",
                    reveal=False, check="numeric", exact_timeout=60.0, template_dir=None,
                    meta=None, let=None, warn=None) -> str:
    """Derive every entry, number the rules across all of them, render one document.
    ``warn(message)`` receives each derivation's warnings (SPEC section 7)."""
    from . import derive
    from . import render as renderer
    styles = [e.style or style for e in entries]
    if len(set(styles)) > 1 and "styles" not in getattr(renderer, "_META_KEYS", ()):
        odd = next(e for e in entries if e.style and e.style != style)
        raise DeckError(f"{deck_name}:{odd.line}: {odd.label()}: the renderer takes one style "
                        f"for the whole deck: set 'style: {odd.style}' at the top instead")
    texts = [_text(entry, {**(let or {}), **entry.let}, fmt, notation, deck_name) for entry in entries]
    derivations = []
    for entry in entries:
        declared = dict(let or {})
        declared.update(entry.let)
        try:
            d = derive(entry.expr, entry.wrt, declared, latex=entry.latex,
                       check=check != "none", exact=check == "exact",
                       exact_timeout=exact_timeout,     # a failed check raises CheckError
                       hessian=entry.hessian)
        except TexderiveError as e:
            raise _located(e, entry, deck_name) from None
        if warn is not None:
            where = f"{deck_name}:{entry.line}: {entry.label()}: " if deck_name else ""
            for w in d.warnings:
                warn(where + w)
        derivations.append(d)
    from .outputs import render
    return render(derivations, fmt, notation=notation, style=style, reveal=reveal,
                  template_dir=template_dir, meta=meta, titles=[e.title for e in entries],
                  texts=texts, styles=styles)


def build(deck: Deck, *, template_dir=None, check: str | None = None, warn=None) -> str:
    """The whole document of a deck, as a string."""
    meta = {k: getattr(deck, k) for k in ("title", "subtitle", "author", "institute")}
    if deck.paper:
        meta["paper"] = deck.paper
    if deck.width:
        meta["width"] = deck.width
    return render_document(deck.entries, FORMATS[deck.format], deck_name=deck.path,
                           notation=deck.notation, style=deck.style, reveal=deck.reveal,
                           check=check or deck.check, exact_timeout=deck.exact_timeout,
                           template_dir=template_dir, meta=meta, let=deck.let, warn=warn)


def build_snippets(deck: Deck, *, template_dir=None, check: str | None = None,
                   warn=None) -> list:
    """``[(name, text), ...]`` for a ``format: snippets`` deck: one bare align* snippet
    per derivation, in deck order, each exactly what ``texderive derive`` prints for it
    (its own rule numbering, so each stands alone).  Every derivation is made before
    anything is returned, so an error in any of them writes nothing."""
    if deck.format != "snippets":
        raise DeckError(f"{deck.path}: the deck's format is {deck.format}, not snippets")
    meta = {"paper": deck.paper} if deck.paper else {}
    if deck.width:
        meta["width"] = deck.width
    return [(snippet_name(entry),
             render_document([entry], FORMATS["snippets"], deck_name=deck.path,
                             notation=deck.notation, style=entry.style or deck.style,
                             check=check or deck.check, exact_timeout=deck.exact_timeout,
                             template_dir=template_dir, meta=meta, let=deck.let, warn=warn))
            for entry in deck.entries]
