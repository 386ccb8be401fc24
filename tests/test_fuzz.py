r"""Hostile input, both notations (issue "Trust"): every string gets a result or a
TexderiveError with a message and a position; never another exception, a hang (a
stage taking more than 5 s) or a wrong gradient (a derivation that succeeds but
whose gradient fails ``check.numeric_check``).

The inputs and the runner are shared with ``tests/fuzz.py`` (``make fuzz``, 100,000
inputs); here hypothesis draws a few hundred per test.  Under ``CI=true`` the
``texderive-fuzz-ci`` profile derandomizes them.  Shrinking is off (a hang would
make it take minutes); a failure shows the input as drawn and, for an exception, a
greedily shrunk reproducer from ``fuzz.minimize``.
"""
from __future__ import annotations

import importlib.util
import os
import random
import sys

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from texderive import TexderiveError, derive
from texderive.latex_input import parse_latex
from texderive.notation import parse


def _load_fuzz():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz.py")
    spec = importlib.util.spec_from_file_location("texderive_tests_fuzz", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


fuzz = _load_fuzz()
Case = fuzz.Case

# On a failure hypothesis writes a patch with libcst, whose import warns (mypy_extensions)
# where libcst is installed; with filterwarnings=error that would be an INTERNALERROR.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")

_COMMON = dict(max_examples=300, deadline=None, print_blob=True,
               phases=(Phase.explicit, Phase.reuse, Phase.generate),
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
settings.register_profile("texderive-fuzz", **_COMMON)
settings.register_profile("texderive-fuzz-ci", derandomize=True, database=None, **_COMMON)
# Derandomized in `make test` and CI (the same examples on every run); fresh seeds
# under `make fuzz` (TEXDERIVE_HYPOTHESIS=fuzz, see tests/conftest.py).
PROFILE = ("texderive-fuzz" if os.environ.get("TEXDERIVE_HYPOTHESIS") == "fuzz"
           else "texderive-fuzz-ci")
FUZZ = settings(settings.get_profile(PROFILE))

PLAIN, LATEX = fuzz.load_corpus()
PLAIN_TEXTS = [p[0] for p in PLAIN]
LATEX_TEXTS = [p[0] for p in LATEX]


def assert_fine(case: Case, strict_render: bool = False) -> fuzz.Outcome:
    """derive, the numeric check and the printers: a result or a TexderiveError, in time,
    and a gradient that passes the check.  ``strict_render``: a derivation that succeeds
    must also print (no TexderiveError from ``to_dict``)."""
    out = fuzz.run_case(case, timeout=fuzz.STAGE_TIMEOUT)
    if out.bad or (strict_render and out.status == "render_error"):
        msg = [out.describe(), "input: " + case.short(600)]
        if out.status == "escape":
            small = fuzz.minimize(case, out, budget=40)
            if small.expr != case.expr:
                msg.append("shrunk: " + small.short(600))
        msg.extend("  " + line for line in out.tb)
        pytest.fail("\n".join(msg), pytrace=False)
    return out


def wrt_for(expr: str, latex: bool, default: str = "X") -> str:
    names = fuzz.latex_names(expr) if latex else fuzz.plain_names(expr)
    return names[0] if names else default


# ---------------------------------------------------------------------------
# strategies

plain_pieces = st.lists(st.sampled_from(fuzz.PLAIN_PIECES), max_size=30).map("".join)
latex_pieces = st.lists(st.sampled_from(fuzz.LATEX_PIECES), max_size=25).map("".join)
payloads = st.one_of(st.sampled_from(fuzz.PLAIN_PIECES), st.sampled_from(fuzz.LATEX_PIECES),
                     st.sampled_from(fuzz.HOSTILE_NUMBERS), st.sampled_from(fuzz.UNICODE),
                     st.text(max_size=3),
                     st.sampled_from(("(@)", "tr(@)", "-(@)", "(@)'", "inv(@)", "(@)^64",
                                      "{@}", r"\left(@\right)", r"\operatorname{tr}(@)",
                                      r"\frac{@}{2}", "((((@))))", "@ + @")))
mutation = st.tuples(st.sampled_from(fuzz.MUTATION_KINDS), st.floats(0, 1), st.floats(0, 1),
                     payloads, st.integers(0, 10_000))


def mutate(text: str, ops, others) -> str:
    for kind, a, b, payload, k in ops:
        text = fuzz.apply_mutation(text, kind, a, b, payload, others[k % len(others)])
    return text


# ---------------------------------------------------------------------------
# random strings

@FUZZ
@given(st.text(max_size=80))
@example("")
@example("\x00")
@example("__import__('os').system('true')")
@example("tr(X)\x00")
@example("X\\input{/etc/hostname}")
def test_random_text_plain(text):
    assert_fine(Case(text, wrt_for(text, False), None, False))


@FUZZ
@given(st.text(max_size=80))
@example(r"\input{/etc/passwd}")
@example(r"\mathbf{X}\input{/etc/hostname}")
@example("\\")
@example("{")
@example("$")
def test_random_text_latex(text):
    assert_fine(Case(text, wrt_for(text, True), None, True))


@FUZZ
@given(plain_pieces)
def test_random_tokens_plain(text):
    assert_fine(Case(text, wrt_for(text, False), None, False))


@FUZZ
@given(latex_pieces)
def test_random_tokens_latex(text):
    assert_fine(Case(text, wrt_for(text, True), None, True))


# ---------------------------------------------------------------------------
# mutated valid expressions

@FUZZ
@given(st.sampled_from(PLAIN), st.lists(mutation, min_size=1, max_size=4), st.booleans())
def test_mutated_plain(item, ops, keep_wrt):
    expr, wrt, let = item
    text = mutate(expr, ops, PLAIN_TEXTS)
    assert_fine(Case(text, wrt if keep_wrt else wrt_for(text, False, wrt), let, False))


@FUZZ
@given(st.sampled_from(LATEX), st.lists(mutation, min_size=1, max_size=4), st.booleans())
def test_mutated_latex(item, ops, keep_wrt):
    expr, wrt, let = item
    text = mutate(expr, ops, LATEX_TEXTS)
    assert_fine(Case(text, wrt if keep_wrt else wrt_for(text, True, wrt), let, True))


# ---------------------------------------------------------------------------
# valid by construction: derivations that succeed must check

@FUZZ
@given(st.randoms(use_true_random=False), st.integers(1, 4), st.booleans(), st.booleans())
def test_generated_expressions(rng, depth, latex, symmetric):
    plain, lx = fuzz.gen_expr(rng, depth)
    text = lx if latex else plain
    names = fuzz.plain_names(plain)
    wrt = rng.choice(names) if names else "X"
    let = {"S": "symmetric"} if symmetric and "S" in names else {}
    assert_fine(Case(text, wrt, let, latex))


@FUZZ
@given(st.randoms(use_true_random=False), st.integers(1, 3))
def test_both_notations_mean_the_same(rng, depth):
    """The generator writes each expression in both notations: they elaborate alike."""
    plain, lx = fuzz.gen_expr(rng, depth)
    wrt = (fuzz.plain_names(plain) or ["X"])[0]
    try:
        a = derive(plain, wrt).f
    except TexderiveError as exc:
        a = type(exc).__name__
    try:
        b = derive(lx, wrt, latex=True).f
    except TexderiveError as exc:
        b = type(exc).__name__
    assert a == b, f"{plain!r} gives {a!r} but {lx!r} gives {b!r}"


# ---------------------------------------------------------------------------
# errors: a message and a position inside the input

def _check_error(exc: TexderiveError, text: str):
    assert isinstance(exc.message, str) and exc.message.strip(), repr(exc)
    assert str(exc).strip()
    assert exc.pos is not None, f"no position: {exc.message!r} for {text!r}"
    assert 0 <= exc.pos <= len(text), f"position {exc.pos} outside {text!r} ({len(text)} chars)"
    assert isinstance(exc.caret(), str)


@FUZZ
@given(st.one_of(st.text(max_size=60), plain_pieces,
                 st.builds(mutate, st.sampled_from(PLAIN_TEXTS),
                           st.lists(mutation, min_size=1, max_size=3), st.just(PLAIN_TEXTS))))
def test_plain_parse_errors_have_a_position(text):
    try:
        parse(text)
    except TexderiveError as exc:
        _check_error(exc, text)


@FUZZ
@given(st.one_of(st.text(max_size=60), latex_pieces,
                 st.builds(mutate, st.sampled_from(LATEX_TEXTS),
                           st.lists(mutation, min_size=1, max_size=3), st.just(LATEX_TEXTS))))
def test_latex_parse_errors_have_a_position(text):
    try:
        parse_latex(text)
    except TexderiveError as exc:
        _check_error(exc, text)


@FUZZ
@given(st.sampled_from(PLAIN + LATEX), st.lists(mutation, min_size=1, max_size=3))
def test_derive_errors_have_a_message_and_a_position(item, ops):
    """Errors about the expression (wrt and let are the corpus' own) point into it."""
    expr, wrt, let = item
    latex = item in LATEX
    text = mutate(expr, ops, LATEX_TEXTS if latex else PLAIN_TEXTS)
    try:
        derive(text, wrt, let, latex=latex)
    except TexderiveError as exc:
        if "does not occur" in exc.message:          # wrt mutated away: about the call
            return
        _check_error(exc, text)
        assert not exc.message.startswith("internal"), f"{exc.message!r} for {text!r}"
    except Exception:                                # noqa: BLE001 - the other tests report it
        pass


# ---------------------------------------------------------------------------
# fixed hostile inputs and arguments (the fuzzer's templates, each once)

@pytest.mark.parametrize("k", range(fuzz.HOSTILE_KINDS))
def test_hostile_templates(k):
    rng = random.Random(k)
    assert_fine(fuzz.hostile(rng, k, small=True))


HOSTILE_ARGUMENTS = [
    (None, "X", None), (5, "X", None), (b"tr(X)", "X", None), (["tr(X)"], "X", None),
    ("tr(X)", None, None), ("tr(X)", 5, None), ("tr(X)", "", None), ("tr(X)", "X\x00", None),
    ("tr(X)", "X" * 10_000, None), ("tr(X)", b"X", None), ("tr(X)", ["X"], None),
    ("tr(X)", "X", 5), ("tr(X)", "X", 3.5), ("tr(X)", "X", object()), ("tr(X)", "X", b"X: matrix"),
    ("tr(X)", "X", [None]), ("tr(X)", "X", {1: "matrix"}), ("tr(X)", "X", {"X": ["matrix"]}),
    ("tr(X)", "X", {"X": "matrix " + "9" * 5_000}), ("tr(X)", "X", {"X": "symmetric\x00"}),
    ("tr(X)", "X", "X"), ("tr(X)", "X", ("X: symmetric",)), ("tr(X)", "X", {"X ": "matrix"}),
]


@pytest.mark.parametrize("expr,wrt,let", HOSTILE_ARGUMENTS,
                         ids=[f"{i}" for i in range(len(HOSTILE_ARGUMENTS))])
@pytest.mark.parametrize("latex", [False, True], ids=["plain", "latex"])
def test_hostile_arguments(expr, wrt, let, latex):
    assert_fine(Case(expr, wrt, let, latex))


INJECTIONS = [
    (r"\input{/etc/passwd}", True), (r"\mathbf{X}\input{/etc/hostname}", True),
    (r"\operatorname{tr}(\mathbf{X})\write18{touch /tmp/texderive-pwned}", True),
    (r"\def\x{X}\operatorname{tr}(\x)", True), (r"\csname input\endcsname{/etc/passwd}", True),
    (r"\mathbf{\input{/etc/passwd}}", True), (r"\operatorname{\input}(\mathbf{X})", True),
    (r"\operatorname{tr}(\mathbf{X})%\input{/etc/passwd}", True),
    (r"\text{\input{/etc/passwd}}\operatorname{tr}(\mathbf{X})", True),
    ("__import__('os').system('touch /tmp/texderive-pwned')", False),
    ("tr(X)\\input{/etc/passwd}", False), ("tr(X); import os", False),
    ("eval('tr(X)')", False), ("tr(X) # \\input{/etc/passwd}", False),
]


@pytest.mark.parametrize("expr,latex", INJECTIONS)
def test_injections_never_reach_the_output(expr, latex):
    out = assert_fine(Case(expr, "X", None, latex))
    assert not os.path.exists("/tmp/texderive-pwned")
    if out.status in ("ok", "refused"):
        d = derive(expr, "X", latex=latex)
        doc = d.to_dict()
        del doc["input"]                                  # the document echoes the input
        text = repr(doc) + d.to_latex()
        for bad in ("\\input", "write18", "csname", "passwd", "import", "\\def"):
            assert bad not in text, f"{bad!r} reached the output: {text[:300]}"


# ---------------------------------------------------------------------------
# reproducers the fuzzer found (minimal forms); each must now be a result or a
# TexderiveError, printable and correct

FOUND = [
    # (expr, wrt, let, latex); the hangs are in test_limits.py (FAST_GROWING)
    ("tr(X)*" + "9" * 5_000, "X", None, False),               # int->str limit in the tokenizer
    (r"\operatorname{tr}(\mathbf{X}) \cdot " + "9" * 5_000, "X", None, True),   # and in LaTeX
    ("tr(X)*1e400", "X", None, False),                         # OverflowError in the check
    ("tr(X)*1e300*1e300", "X", None, False),                   # numbers merge past a float
    ("norm(beta*I)", "beta", None, False),                     # numpy printer: unsized I
    ("x'*a*alpha*tr(I)", "alpha", None, False),                # the same, from the generator
    ("tr(X .^ 2 .^ 2 .^ 2 .^ 2 .^ 2)", "X", None, False),      # 2^65536 printed
    ("norm(x - x)^2", "x", None, False),                        # "internal:" error, no position
    ("tr(0*X)", "X", None, False),
    ("tr(X)", "X", 5, False),                                   # TypeError from parse_let
    ("tr(X)", "X", object(), False),
    ("norm(A*X - B)^1e300*1e300", "X", None, False),           # 1e600: "not finite" gradient
    ("(det(B .* A))*tr((X^0)')", "A", None, False),            # derives, but no NumPy form
]


@pytest.mark.parametrize("expr,wrt,let,latex", FOUND, ids=[f"{i}" for i in range(len(FOUND))])
def test_found_by_the_fuzzer(expr, wrt, let, latex):
    out = assert_fine(Case(expr, wrt, let, latex), strict_render=True)
    if out.status == "error":
        assert not out.message.startswith("internal"), out.message
