"""The JSON Schemas in the package (SPEC section 7): every example deck and every
``--format json`` output validates; the schemas name exactly the keys and values the
deck reader takes; invalid documents and decks are rejected by both."""
from __future__ import annotations

import importlib.resources
import json
import pathlib

import pytest
from click.testing import CliRunner

jsonschema = pytest.importorskip("jsonschema")
yaml = pytest.importorskip("yaml")

from texderive import cli, deck, derive  # noqa: E402
from texderive.errors import TexderiveError  # noqa: E402
from texderive.printers.latex import LatexNotation  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE_DECKS = sorted(ROOT.glob("examples/**/*.yaml"))


def schema(name: str) -> dict:
    text = (importlib.resources.files("texderive") / "schemas" / f"{name}.schema.json").read_text()
    return json.loads(text)


def validator(name: str):
    s = schema(name)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s, format_checker=jsonschema.FormatChecker())


def errors(name: str, data) -> list:
    return [e.message for e in validator(name).iter_errors(data)]


# --- the schemas say what the reader takes -------------------------------------

def test_the_deck_schema_has_the_readers_keys_and_values():
    s = schema("deck")
    assert tuple(s["properties"]) == deck.DECK_KEYS
    entry = s["properties"]["derivations"]["items"]
    assert tuple(entry["properties"]) == deck.ENTRY_KEYS
    assert s["properties"]["format"]["enum"] == list(deck.FORMATS)
    assert s["properties"]["paper"]["enum"] == list(deck.PAPERS)
    assert s["properties"]["check"]["oneOf"][0]["enum"] == list(deck.CHECKS)
    assert s["$defs"]["style"]["enum"] == list(deck.STYLES)
    notation = s["properties"]["notation"]["properties"]
    assert tuple(notation) == deck.NOTATION_KEYS
    for key, prop in notation.items():
        choices = LatexNotation.CHOICES[key]
        if isinstance(choices[0], bool):
            assert prop == {"type": "boolean"}
        else:
            assert prop["enum"] == list(choices)


def test_the_document_schema_has_the_documents_keys():
    doc = derive("tr(A*X*B)", "X", check=True).to_dict()
    props = schema("document")["properties"]
    assert set(doc) <= set(props)
    assert set(doc["steps"][0]) == set(props["steps"]["items"]["properties"])
    assert set(doc["rules"][0]) == set(props["rules"]["items"]["properties"])


# --- every example deck, every JSON output ---------------------------------------

def starter_decks() -> dict:
    decks = {"init": cli.STARTER_DECK}
    for name in dir(cli):
        if name.startswith("STARTER_") and name.endswith("DECK") and name != "STARTER_DECK":
            decks[name.lower()] = getattr(cli, name)
    return decks


@pytest.mark.parametrize("path", EXAMPLE_DECKS, ids=[p.name for p in EXAMPLE_DECKS])
def test_every_example_deck_validates(path):
    assert errors("deck", yaml.safe_load(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("name", list(starter_decks()))
def test_the_starter_decks_validate(name):
    assert errors("deck", yaml.safe_load(starter_decks()[name])) == []


def example_entries():
    for path in EXAMPLE_DECKS:
        d = deck.load(path)
        for e in d.entries:
            yield pytest.param(e.expr, e.wrt, {**d.let, **e.let}, e.latex,
                               id=f"{path.stem}-{e.index}")


MORE = [
    pytest.param("logdet(S) - tr(B*S)", "S", {"S": "symmetric n"}, False, id="symmetric"),
    pytest.param(r"\operatorname{tr}(\mathbf{A}\mathbf{X}^\top)", "X", {}, True, id="latex-input"),
    pytest.param("x'*A*x + lambda*norm(x)^2", "x", {"lambda": "scalar"}, False, id="greek"),
    pytest.param("sum(exp(A*x))", "x", {}, False, id="elementwise"),
    pytest.param("A*x", "x", {}, False, id="jacobian"),
    pytest.param("X*B", "X", {}, False, id="matrix-jacobian"),
]
HESSIANS = [("log(det(X))", "X", {}), ("x'*A*x + norm(x)^2", "x", {}), ("alpha^3", "alpha", {})]


@pytest.mark.parametrize("expr,wrt,let", HESSIANS)
def test_every_hessian_json_output_validates(expr, wrt, let):
    result = CliRunner().invoke(cli.main, ["derive", expr, "--wrt", wrt, "--hessian", "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert errors("document", doc) == [] and doc["result"]["kind"] == "hessian"
    assert "gradient" not in doc and doc["input"]["hessian"] is True


@pytest.mark.parametrize("expr,wrt,let,latex", list(example_entries()) + MORE)
def test_every_json_output_validates(expr, wrt, let, latex):
    args = ["derive", "--wrt", wrt, "--format", "json", *(["--latex"] if latex else [])]
    for name, decl in let.items():
        args += ["--let", f"{name}: {decl}"]
    args += ["--", expr]
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert errors("document", doc) == []
    assert doc["schema_version"] == 1
    plain = derive(expr, wrt, let, latex=latex).to_dict(bold="bm", transpose="T")
    assert errors("document", plain) == []           # no check: still valid


# --- what is not valid ---------------------------------------------------------------

def test_the_document_schema_rejects_what_is_not_a_document():
    good = derive("tr(A*X*B)", "X").to_dict()
    assert errors("document", good) == []
    for change in (lambda d: d.pop("schema_version"),
                   lambda d: d.update(schema_version=2),
                   lambda d: d.pop("gradient"),
                   lambda d: d.update(extra=1),
                   lambda d: d["steps"][0].update(latex=r"a &= b"),
                   lambda d: d["steps"][0].update(lhs=r"\begin{align}y\end{align}"),
                   lambda d: d["steps"][0].update(number=0),
                   lambda d: d["gradient"].pop("numpy"),
                   lambda d: d.update(steps=[])):
        bad = json.loads(json.dumps(good))
        change(bad)
        assert errors("document", bad), bad


BAD_DECKS = [
    "derivations: []",
    "title: T",
    "colour: red\nderivations: [{expr: 'tr(X)', wrt: X}]",
    "derivations: [{expr: 'tr(X)'}]",
    "derivations: [{expr: 'tr(X)', wrt: X, color: red}]",
    "notation: {bold: bold}\nderivations: [{expr: 'tr(X)', wrt: X}]",
    "format: poster\nderivations: [{expr: 'tr(X)', wrt: X}]",
    "style: chains\nderivations: [{expr: 'tr(X)', wrt: X}]",
    "reveal: maybe\nderivations: [{expr: 'tr(X)', wrt: X}]",
    "derivations: [{expr: 'tr(X)', wrt: X, name: '-x'}]",
]


@pytest.mark.parametrize("text", BAD_DECKS)
def test_the_deck_schema_and_the_reader_reject_the_same_bad_decks(text):
    assert errors("deck", yaml.safe_load(text))
    with pytest.raises(TexderiveError):
        d = deck.loads(text, "bad.yaml")
        if d.format == "snippets" or any(getattr(e, "name", "") for e in d.entries):
            deck.build(d, check="none")
