"""Deck files: the format, validation, and errors that name the entry and its line."""
from __future__ import annotations

import pathlib
import textwrap

import pytest

from texderive import deck
from texderive.errors import TexderiveError

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load(text: str) -> deck.Deck:
    return deck.loads(textwrap.dedent(text), "lecture.yaml")


def error(text: str) -> str:
    with pytest.raises(deck.DeckError) as info:
        load(text)
    return str(info.value)


GOOD = """\
    title: Matrix derivatives
    subtitle: by differentials
    author: A. Lecturer
    institute: Somewhere
    format: article
    paper: twocolumn
    style: steps
    reveal: true
    check: exact
    exact_timeout: 5
    notation:
      bold: bm
      transpose: mathsf
      trace: Tr
      gradient: partial
      equals: stackrel
      macros: true
    let:
      S: symmetric n
      A: matrix m n
    derivations:
      - title: Least squares
        text: >-
          A is constant,
          b too.
        expr: norm(A*x - b)^2
        wrt: x
      - expr: '\\operatorname{tr}(\\mathbf{A}\\mathbf{X})'
        latex: true
        wrt: X
        style: chain
        let: ['A: matrix p q', 'X: matrix q p']
    """


def test_a_full_deck_reads_every_setting():
    d = load(GOOD)
    assert (d.title, d.subtitle, d.author, d.institute) == (
        "Matrix derivatives", "by differentials", "A. Lecturer", "Somewhere")
    assert (d.format, d.paper, d.style, d.reveal, d.check, d.exact_timeout) == (
        "article", "twocolumn", "steps", True, "exact", 5.0)
    assert d.notation == {"bold": "bm", "transpose": "mathsf", "trace": "Tr",
                          "gradient": "partial", "equals": "stackrel", "macros": True}
    assert d.let == {"S": "symmetric n", "A": "matrix m n"}
    first, second = d.entries
    assert (first.index, first.title, first.text, first.expr, first.wrt) == (
        1, "Least squares", "A is constant, b too.", "norm(A*x - b)^2", "x")
    assert first.line == 22 and first.style is None and first.latex is False
    assert second.expr == "\\operatorname{tr}(\\mathbf{A}\\mathbf{X})"
    assert second.latex is True and second.style == "chain"
    assert second.let == {"A": "matrix p q", "X": "matrix q p"}
    assert second.label() == "derivation 2 (expr '\\operatorname{tr}(\\mathbf{A}\\mathbf{X})')"


def test_defaults():
    d = load("derivations: [{expr: tr(X), wrt: X}]")
    assert (d.format, d.style, d.reveal, d.check, d.notation, d.let) == (
        "beamer", "chain", False, "numeric", {}, {})


def test_scalars_keep_the_text_written():
    # YAML 1.1 would read `on` as true and 1e3 as a number; a deck means the name and the text.
    d = load("""\
        derivations:
          - expr: on + 1e3 + no
            wrt: on
            title: 2024
        """)
    e = d.entries[0]
    assert (e.expr, e.wrt, e.title) == ("on + 1e3 + no", "on", "2024")


def test_merge_keys_and_anchors():
    d = load("""\
        derivations:
          - &ls {expr: norm(A*x - b)^2, wrt: x, title: LS}
          - {<<: *ls, title: again}
        """)
    assert [e.title for e in d.entries] == ["LS", "again"]
    assert d.entries[1].expr == "norm(A*x - b)^2"


def test_check_may_be_a_boolean():
    assert load("check: false\nderivations: [{expr: tr(X), wrt: X}]").check == "none"
    assert load("check: true\nderivations: [{expr: tr(X), wrt: X}]").check == "numeric"


@pytest.mark.parametrize("text, message", [
    ("derivations: [{expr: tr(X), wrt: X}]\ntitel: x\n",
     "lecture.yaml:2:1: unknown key 'titel' in the deck (did you mean 'title'?)"),
    ("format: slides\nderivations: [{expr: tr(X), wrt: X}]\n",
     "lecture.yaml:1:9: format must be one of beamer, article, snippets, not 'slides'"),
    ("title: a\ntitle: b\nderivations: [{expr: tr(X), wrt: X}]\n",
     "lecture.yaml:2:1: 'title' appears twice in the deck"),
    ("title: [a, b]\nderivations: [{expr: tr(X), wrt: X}]\n",
     "lecture.yaml:1:8: title must be text, not a list"),
    ("title: x\n", "lecture.yaml:1:1: the deck has no derivations"),
    ("derivations: []\n", "lecture.yaml:1:14: derivations must be a list of entries"),
    ("derivations: [{expr: tr(X), wrt: X}]\nnotation: {bold: heavy}\n",
     "lecture.yaml:2:18: notation.bold must be one of mathbf, bm, none, not 'heavy'"),
    ("derivations: [{expr: tr(X), wrt: X}]\nnotation: {macros: maybe}\n",
     "lecture.yaml:2:20: notation.macros must be true or false"),
    ("derivations: [{expr: tr(X), wrt: X}]\nnotation: {colour: red}\n",
     "lecture.yaml:2:12: unknown key 'colour' in notation"),
    ("derivations: [{expr: tr(X), wrt: X}]\nlet: {S: symmetrical}\n",
     "lecture.yaml:2:10: bad declaration S: 'symmetrical': the kind must be one of"),
    ("derivations: [{expr: tr(X), wrt: X}]\nlet: [S symmetric]\n",
     "lecture.yaml:2:7: bad declaration 'S symmetric'"),
    ("derivations: [{expr: tr(X), wrt: X}]\nexact_timeout: soon\n",
     "lecture.yaml:2:16: exact_timeout must be a number of seconds greater than 0"),
    ("- a\n- b\n", "lecture.yaml:1:1: the deck must be a mapping"),
    ("", "lecture.yaml: the deck is empty"),
    ("title: x\n  derivations: [\n", "lecture.yaml:2:14: not valid YAML"),
    ("a: 1\n---\nb: 2\n", "lecture.yaml:2:1: not valid YAML"),
])
def test_deck_errors_give_file_line_and_column(text, message):
    assert error(text).startswith(message)


ENTRIES = """\
    title: T
    derivations:
      - title: First
        expr: tr(X)
        wrt: X
      - title: Second one
        expr: tr(A*X)
        with: X
      - expr: logdet(X)
        wrt: X
        style: fancy
      - title: Fourth
        wrt: X
      - {title: Fifth, expr: tr(X), wrt: X, let: {X: matrix m}}
      - title: Sixth
        expr: tr(X)
        wrt: X
        latex: yes please
      - 42
    """


@pytest.mark.parametrize("replace, message", [
    ("", 'lecture.yaml:8:5: derivation 2 ("Second one"): unknown key \'with\' '
         "(did you mean 'wrt'?)"),
    ("        with: X\n", "lecture.yaml:11:12: derivation 3 (expr 'logdet(X)'): style must be one of "
                          "chain, steps, not 'fancy'"),
])
def test_entry_errors_name_the_entry_its_title_and_line(replace, message):
    text = ENTRIES
    if replace:
        text = text.replace(replace, "        wrt: X\n")
    assert error(text) == message


def test_each_entry_error():
    text = ENTRIES.replace("        with: X\n", "        wrt: X\n").replace("style: fancy", "style: steps")
    assert error(text) == 'lecture.yaml:12:5: derivation 4 ("Fourth"): expr is missing'
    text = text.replace("      - title: Fourth\n        wrt: X\n", "")
    assert error(text).startswith(
        'lecture.yaml:12:50: derivation 4 ("Fifth"): bad declaration X: \'matrix m\': '
        "a matrix takes 2 sizes")
    text = text.replace("let: {X: matrix m}", "let: {X: matrix m n}")
    assert error(text) == 'lecture.yaml:16:12: derivation 5 ("Sixth"): latex must be true or false'
    text = text.replace("latex: yes please", "latex: yes")
    assert error(text) == "lecture.yaml:17:5: derivation 6: an entry must be a mapping " \
                          "of keys to values"


def test_the_expression_position_maps_to_the_file():
    d = load("""\
        derivations:
          - expr: tr(A*X
            wrt: X
          - expr: 'tr(A*X'
            wrt: X
          - expr: "a\\tb"
            wrt: X
          - expr: >-
              tr(A*X)
            wrt: X
        """)
    assert [e.expr_at for e in d.entries] == [
        (2, 11, True), (4, 12, True), (6, 12, False), (8, 11, False)]


def test_load_reports_a_missing_file(tmp_path):
    with pytest.raises(TexderiveError, match="cannot read .*nope.yaml: No such file"):
        deck.load(tmp_path / "nope.yaml")


def test_load_reports_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"title: caf\xe9\n")
    with pytest.raises(TexderiveError, match="is not UTF-8"):
        deck.load(path)


@pytest.mark.parametrize("name", ["tutorial.yaml", "cookbook_ml.yaml"])
def test_the_example_decks_are_valid(name):
    d = deck.load(ROOT / "examples" / name)
    assert d.entries and all(e.expr and e.wrt for e in d.entries)


def test_the_notation_vocabulary_is_the_printers():
    from texderive import cli
    from texderive.printers.latex import LatexNotation
    assert tuple(cli.NOTATION_CHOICES) == deck.NOTATION_KEYS
    for key, values in cli.NOTATION_CHOICES.items():
        assert values == LatexNotation.CHOICES[key], key
        assert values[0] == getattr(LatexNotation(), key), f"the default of {key}"


def test_a_style_per_derivation():
    from texderive import render
    d = load("""\
        style: chain
        derivations:
          - {expr: tr(X), wrt: X}
          - {expr: logdet(X), wrt: X, style: steps, title: Second}
        """)
    if "styles" in getattr(render, "_META_KEYS", ()):
        assert deck.build(d, check="none")
    else:       # until the renderer takes meta["styles"], the deck says so, at the entry
        with pytest.raises(deck.DeckError, match=r'lecture.yaml:4: derivation 2 \("Second"\): '
                                                 "the renderer takes one style"):
            deck.build(d, check="none")
    d.entries[1].style = "chain"
    assert deck.build(d, check="none").startswith("% ")


def test_the_readme_deck_example_builds():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Decks"):]
    example = section[section.index("```yaml\n") + 8:section.index("\n```", section.index("```yaml"))]
    d = deck.loads(example, "README.md")
    assert [e.title for e in d.entries] == ["Least squares", "A trace"]
    assert deck.build(d, check="none").startswith("% ")
