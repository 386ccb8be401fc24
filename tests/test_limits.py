r"""The explicit limits (LATEX.md "Safety", STYLE.md section 4): each is checked before
any recursion, raises LimitError with its own message and a position, and no input
makes RecursionError, MemoryError (or anything but TexderiveError) escape, or hangs.

"Hang" here means no answer within HANG = 10 seconds for one call (derive, a printer or
the check; the fuzzer's limit is 5 s, doubled for loaded machines): a SIGALRM turns it
into a test failure instead of a stuck test run (there are no other timing asserts).
Where a case must merely be "a result or a LimitError", a result must also print
(gradient_text, to_dict) and pass the numeric check (or be refused by it: no point).
"""
from __future__ import annotations

import signal
import sys
import time

import pytest

import texderive
from texderive import LimitError, TexderiveError, derive
from texderive import engine, notation
from texderive.check import NO_POINT

HANG = 10.0          # seconds before one call counts as a hang (tests/fuzz.py: 5 s; twice that
                     # here, so that a loaded machine does not fail the 2-4 s cases)

MAX_CHARS, MAX_TOKENS, MAX_DEPTH = notation.MAX_CHARS, notation.MAX_TOKENS, notation.MAX_DEPTH
RECURSION_FALLBACK = "the expression is too deeply nested to process"   # api.py's safety net


class Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise Hang()


def call(fn, *args, seconds: float = HANG, **kwargs):
    """fn(*args, **kwargs) under a SIGALRM; returns (value or the TexderiveError, seconds).

    Anything that is not a TexderiveError fails the test, naming the exception."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    t0 = time.perf_counter()
    try:
        return fn(*args, **kwargs), time.perf_counter() - t0
    except TexderiveError as exc:
        return exc, time.perf_counter() - t0
    except Hang:
        pytest.fail(f"no result within {seconds:g} s: {fn.__name__}{_show(args, kwargs)}")
    except BaseException as exc:          # noqa: BLE001 - the escape is the finding
        if isinstance(exc, KeyboardInterrupt):
            raise
        pytest.fail(f"{type(exc).__name__} escaped: {exc!s:.300} from {fn.__name__}"
                    f"{_show(args, kwargs)}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _short(s: str, n: int = 200) -> str:
    return s if len(s) <= n else f"{s[:n]}... ({len(s)} chars)"


def _show(args, kwargs) -> str:
    s = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    return f"({s[:160]}{'...' if len(s) > 160 else ''})"


def limit_error(expr, wrt="X", let=None, *, latex=False, **kw) -> LimitError:
    out, _ = call(derive, expr, wrt, let, latex=latex, **kw)
    assert isinstance(out, LimitError), f"expected a LimitError, got {_short(repr(out))}"
    assert out.message.strip()
    if out.pos is not None:
        assert 0 <= out.pos <= len(expr), (out.pos, len(expr))
    return out


def result_or_limit(expr, wrt="X", let=None, *, latex=False, check=True):
    """A Derivation that prints and checks, or a LimitError; never anything else."""
    out, secs = call(derive, expr, wrt, let, latex=latex)
    if isinstance(out, TexderiveError):
        assert isinstance(out, LimitError), \
            f"expected a result or a LimitError, got {_short(repr(out))}"
        return out, secs
    text, more = call(lambda: out.gradient_text)
    assert isinstance(text, str) and text, text
    doc, more2 = call(out.to_dict)
    assert isinstance(doc, dict), doc
    secs += more + more2
    if check:
        res, more3 = call(out.run_check)
        secs += more3
        if isinstance(res, TexderiveError) and NO_POINT in res.message:
            return out, secs                       # a refusal (exp(exp(...)) overflows), fine
        assert isinstance(res, dict) and res.get("passed"), \
            f"the gradient {_short(text)} failed its check: {_short(repr(res))}"
    return out, secs


# ---------------------------------------------------------------------------
# the parser's limits: length, nesting depth, tokens; in both notations

LENGTH = "x" * 30_000
DEEP_PARENS = "tr(" + "(" * 200 + "X" + ")" * 200 + ")"
TOKENS = "tr(" + "+".join(["X"] * 2_500) + ")"                 # 5,003 tokens, 10,003 chars
MINUS_CHAIN = "-" * 500 + "tr(X)"
LATEX_BRACES = r"\operatorname{tr}(" + "{" * 400 + r"\mathbf{X}" + "}" * 400 + ")"


def test_the_inputs_are_past_one_limit_each():
    assert len(LENGTH) > MAX_CHARS
    assert 200 > MAX_DEPTH and 500 > MAX_DEPTH and 400 > MAX_DEPTH
    assert 2 * 2_500 > MAX_TOKENS and len(TOKENS) < MAX_CHARS
    assert len(MINUS_CHAIN) < MAX_CHARS and len(LATEX_BRACES) < MAX_CHARS


@pytest.mark.parametrize("latex", [False, True], ids=["plain", "latex"])
def test_length_limit(latex):
    err = limit_error(LENGTH, "x", latex=latex)
    assert "characters" in err.message and str(MAX_CHARS) in err.message
    assert err.pos == 0


def test_length_limit_counts_characters_not_bytes():
    # right at the limit is allowed; one more character is not
    at = " " * (MAX_CHARS - len("tr(X)")) + "tr(X)"
    out, _ = call(derive, at, "X")
    assert not isinstance(out, TexderiveError), out
    limit_error(" " + at)
    # multi-byte characters count once: MAX_CHARS characters of 'α' are over in bytes only
    out, _ = call(derive, "\u03b1" * MAX_CHARS, "X")
    assert isinstance(out, TexderiveError) and "characters" not in out.message


@pytest.mark.parametrize("expr,latex", [
    (DEEP_PARENS, False),
    ("(" * 200 + "tr(X)" + ")" * 200, False),
    ("tr(" + "(" * 200 + "X", False),                                 # unclosed as well
    (r"\operatorname{tr}(" + "(" * 200 + r"\mathbf{X}" + ")" * 200 + ")", True),
    (r"\operatorname{tr}(" + r"\left(" * 200 + r"\mathbf{X}" + r"\right)" * 200 + ")", True),
], ids=["plain", "plain-outside", "plain-unclosed", "latex-parens", "latex-left-right"])
def test_depth_limit_parentheses(expr, latex):
    err = limit_error(expr, latex=latex)
    assert "nested" in err.message and str(MAX_DEPTH) in err.message
    assert err.pos is not None and 0 < err.pos < len(expr)


@pytest.mark.parametrize("expr,latex", [
    (TOKENS, False),
    ("+".join(["tr(X)"] * 1_000), False),
    (r"\operatorname{tr}(" + "+".join(["X"] * 2_500) + ")", True),
], ids=["plain", "plain-calls", "latex"])
def test_token_limit(expr, latex):
    err = limit_error(expr, latex=latex)
    assert "tokens" in err.message and str(MAX_TOKENS) in err.message
    assert err.pos is not None and 0 < err.pos <= len(expr)


@pytest.mark.parametrize("expr,latex", [
    (MINUS_CHAIN, False),
    ("-" * 500 + r"\operatorname{tr}(\mathbf{X})", True),
    ("tr(" + "-" * 500 + "X)", False),
    ("+" * 500 + "tr(X)", False),
], ids=["plain", "latex", "inside", "unary-plus"])
def test_depth_limit_unary_minus(expr, latex):
    err = limit_error(expr, latex=latex)
    assert "nested" in err.message
    assert err.pos is not None


@pytest.mark.parametrize("expr", [
    LATEX_BRACES,
    "{" * 400 + r"\operatorname{tr}(\mathbf{X})" + "}" * 400,
    "{" * 400,                                                        # unbalanced too
    r"\sqrt{" * 400 + r"\operatorname{tr}(\mathbf{X})" + "}" * 400,
    r"\frac{" * 400 + r"\operatorname{tr}(\mathbf{X})" + "}{2}" * 400,
    r"\lVert" * 400 + r"\mathbf{X}" + r"\rVert" * 400,
    r"\operatorname{tr}(\mathbf{X}" + "^{" * 400 + "2" + "}" * 400 + ")",
], ids=["braces", "outside", "unbalanced", "sqrt", "frac", "norm-bars", "exponents"])
def test_depth_limit_latex(expr):
    err = limit_error(expr, latex=True)
    assert "nested" in err.message


def test_each_limit_has_its_own_message():
    messages = {
        "length": limit_error(LENGTH, "x").message,
        "depth": limit_error(DEEP_PARENS).message,
        "tokens": limit_error(TOKENS).message,
        "nodes": limit_error("tr(" + "*".join(["X"] * 1_000) + ")").message,
    }
    assert len(set(messages.values())) == len(messages), messages
    assert "characters" in messages["length"]
    assert "nested" in messages["depth"]
    assert "tokens" in messages["tokens"]
    assert "nodes" in messages["nodes"] and str(engine.MAX_NODES) in messages["nodes"]


@pytest.mark.parametrize("expr,latex", [
    (LENGTH, False), (LENGTH, True), (DEEP_PARENS, False), (TOKENS, False),
    (MINUS_CHAIN, False), (LATEX_BRACES, True),
], ids=["length", "length-latex", "depth", "tokens", "minus", "braces"])
def test_limits_hold_with_little_stack_left(expr, latex):
    """Called with only 60 frames of stack to spare, every limit is still a LimitError."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + 60)
    try:
        out, _ = call(derive, expr, "X", latex=latex)
    finally:
        sys.setrecursionlimit(old)
    assert isinstance(out, LimitError), out


def _stack_depth() -> int:
    f, n = sys._getframe(), 0
    while f is not None:
        f, n = f.f_back, n + 1
    return n


# ---------------------------------------------------------------------------
# the engine's limits: steps and nodes

def test_product_chain_past_the_node_limit_is_a_limit_error():
    expr = "tr(" + "*".join(["X"] * 1_000) + ")"
    err = limit_error(expr)
    assert "nodes" in err.message


def test_step_limit_has_its_own_message(monkeypatch):
    # no input within the parser's limits needs 200 steps (101 for 98 nested exp);
    # lowering the limit shows the message
    monkeypatch.setattr(engine, "MAX_STEPS", 3)
    err = limit_error("tr(A*X*B)")
    assert "steps" in err.message and "3" in err.message


def test_node_limit_has_its_own_message(monkeypatch):
    monkeypatch.setattr(engine, "MAX_NODES", 20)
    err = limit_error("tr(A*X*B*X'*C)")
    assert "nodes" in err.message and "20" in err.message


def test_engine_limit_errors_have_a_position():
    """SPEC: the message says what is wrong *and where* (a product-rule overrun can point
    at the product)."""
    err = limit_error("tr(" + "*".join(["X"] * 1_000) + ")")
    assert err.pos is not None, f"no position: {err.message}"


@pytest.mark.parametrize("k", [64, 200])
def test_trace_of_a_long_product_chain(k, record_property):
    """tr(X*X*...*X): a result (k*(X^(k-1))') or a LimitError, in a few seconds."""
    out, secs = result_or_limit("tr(" + "*".join(["X"] * k) + ")")
    record_property("seconds", round(secs, 2))
    if not isinstance(out, TexderiveError):
        assert out.gradient_text in (f"{k}*(X^{k - 1})'", f"{k}*(X')^{k - 1}"), \
            _short(out.gradient_text)


@pytest.mark.parametrize("expr", [
    "tr(X^64)", "tr(X^-64)", "tr(X^64*X^64)", "tr(A*X^64*B)", "tr((X^8)^8)",
    r"\operatorname{tr}(\mathbf{X}^{64})", "tr(X^32)^32", "tr(X .^ 64)",
    "tr((X^64)^64)",
])
def test_big_matrix_powers(expr):
    """X^64 is the largest power: a result (that checks) or a LimitError, never a hang."""
    result_or_limit(expr, latex=expr.startswith("\\"))


@pytest.mark.parametrize("expr", ["tr(X^65)", "tr(X^999999)", "tr(X^-65)", "tr(X^99999999999)",
                                  r"\operatorname{tr}(\mathbf{X}^{999999})"])
def test_matrix_power_past_the_limit(expr):
    out, _ = call(derive, expr, "X", latex=expr.startswith("\\"))
    assert isinstance(out, TexderiveError), out
    assert "64" in out.message and out.pos is not None


# ---------------------------------------------------------------------------
# inputs within the parser's limits that recurse deeply in later passes
# (elaboration, engine, printers, check): a result or a LimitError, never RecursionError

DEEP_LATER = {
    "neg-99": ("tr(" + "-(" * 99 + "X" + ")" * 99 + ")", "X"),
    "neg-49": ("tr(" + "-(" * 49 + "X" + ")" * 49 + ")", "X"),
    "neg-scalar": ("-(" * 49 + "alpha" + ")" * 49, "alpha"),
    "minus-98": ("-" * 98 + "tr(X)", "X"),
    "parens-99": ("(" * 99 + "tr(X)" + ")" * 99, "X"),
    "parens-98-inside": ("tr(" + "(" * 98 + "X" + ")" * 98 + ")", "X"),
    "parens-vector": ("(" * 99 + "x'*x" + ")" * 99, "x"),
    "exp-98": ("exp(" * 98 + "tr(X)" + ")" * 98, "X"),
    "sum-exp-60": ("sum(" + "exp(" * 60 + "X" + ")" * 60 + ")", "X"),
    "inv-60": ("tr(" + "inv(" * 60 + "X" + ")" * 60 + ")", "X"),
    "norm-60": ("norm(" * 60 + "X" + ")" * 60, "X"),
    "log-sqrt-30": ("log(sqrt(" * 30 + "tr(X'*X)" + "))" * 30, "X"),
    "transposes-500": ("tr(X" + "'" * 500 + ")", "X"),
    "transposes-T": ("tr(X" + "^T" * 500 + ")", "X"),
    "transposes-dotT": ("tr(X" + ".T" * 500 + ")", "X"),
    "tower-alpha-20": ("alpha" + "^alpha" * 20, "alpha"),
    "scalar-products-64": ("*".join(["tr(X)"] * 64), "X"),
    "hadamard-chain-100": ("sum(" + " .* ".join(["X"] * 100) + ")", "X"),
    "long-sum-1000": ("tr(" + "+".join(["X"] * 1_000) + ")", "X"),
    "latex-neg-99": (r"\operatorname{tr}(" + "-(" * 99 + r"\mathbf{X}" + ")" * 99 + ")", "X"),
    "latex-braces-99": (r"\operatorname{tr}(" + "{" * 99 + r"\mathbf{X}" + "}" * 99 + ")", "X"),
    "latex-frac-49": (r"\frac{" * 49 + r"\operatorname{tr}(\mathbf{X})" + "}{2}" * 49, "X"),
    "latex-transposes": (r"\operatorname{tr}(\mathbf{X}" + r"^\top" * 300 + ")", "X"),
}
CHEAP_TO_CHECK = {"neg-99", "neg-49", "neg-scalar", "minus-98", "parens-99", "parens-98-inside",
                  "parens-vector", "transposes-500", "transposes-T", "transposes-dotT",
                  "latex-neg-99", "latex-braces-99", "latex-frac-49", "latex-transposes"}


@pytest.mark.parametrize("name", list(DEEP_LATER))
def test_deep_input_is_a_result_or_a_limit_error(name):
    """Prints (text, LaTeX, NumPy) and, where cheap, checks; the check of 98 nested exp
    is a matter of numerics, not of recursion."""
    expr, wrt = DEEP_LATER[name]
    assert len(expr) <= MAX_CHARS
    result_or_limit(expr, wrt, latex=expr.startswith("\\"), check=name in CHEAP_TO_CHECK)


@pytest.mark.parametrize("name", ["transposes-500", "transposes-T", "transposes-dotT",
                                  "latex-transposes"])
def test_deep_postfix_chains_hit_a_checked_limit(name):
    """A LimitError for a chain of postfix operators should come from a limit checked up
    front (with a position), not from a RecursionError caught at the API boundary (whose
    message is RECURSION_FALLBACK): the parser's depth does not count postfix operators,
    so 500 transposes reach elaboration's recursion."""
    expr, wrt = DEEP_LATER[name]
    out, _ = call(derive, expr, wrt, latex=expr.startswith("\\"))
    if isinstance(out, LimitError):
        assert out.pos is not None, f"no position: {out.message}"
        assert out.message != RECURSION_FALLBACK, f"{out.message!r}: a caught RecursionError"


# Inputs whose cost grows much faster than their size: each must be a result or a
# LimitError within HANG seconds.
FAST_GROWING = {
    # the normal form multiplies nested sums out: ~1.8x the time per level (11 s at 16)
    "nested-sum-products-20": ("tr(X" + "*(X + A" * 20 + ")" * 20 + ")", "X"),
    # right-associative towers of exponents: 2^2^2^2^2 = 2^16 is 65536, one more is 2^65536
    "tower-2": ("tr(X .^ 2 .^ 2 .^ 2 .^ 2 .^ 2)", "X"),
    "tower-9": ("tr(X)^9^9^9", "X"),
    "tower-alpha-40": ("alpha" + "^alpha" * 40, "alpha"),
    "product-of-powers": ("tr(X^64*X^64*X^64*X^64)", "X"),
}


@pytest.mark.parametrize("name", list(FAST_GROWING))
def test_fast_growing_input_is_a_result_or_a_limit_error(name):
    expr, wrt = FAST_GROWING[name]
    result_or_limit(expr, wrt, check=False)


# ---------------------------------------------------------------------------
# RecursionError and MemoryError at the API boundary

@pytest.mark.parametrize("exc", [RecursionError, MemoryError])
@pytest.mark.parametrize("where", ["texderive.shapes.elaborate", "texderive.engine.derive_ir",
                                   "texderive.check.numeric_check"])
def test_recursion_and_memory_errors_become_limit_errors(exc, where, monkeypatch):
    def boom(*a, **k):
        raise exc()
    monkeypatch.setattr(where, boom)
    out, _ = call(derive, "tr(A*X*B)", "X", check=True)
    assert isinstance(out, LimitError), out
    assert out.message.strip()


@pytest.mark.parametrize("exc", [RecursionError, MemoryError])
def test_recursion_and_memory_errors_in_the_latex_reader(exc, monkeypatch):
    import texderive.latex_input as li

    def boom(*a, **k):
        raise exc()
    monkeypatch.setattr(li, "_items", boom)
    out, _ = call(derive, r"\operatorname{tr}(\mathbf{X})", "X", latex=True)
    assert isinstance(out, LimitError), out


# ---------------------------------------------------------------------------
# sizes and numbers: limits on what the check and the printers must compute

@pytest.mark.parametrize("let", [{"X": "matrix 999999 999999"}, {"X": "symmetric 100000"},
                                 {"X": "matrix 5000 5000"}],
                         ids=["1e6", "1e5-sym", "5000"])
def test_huge_declared_sizes_with_the_check(let):
    """The numeric check samples matrices of the declared size: a result or a
    TexderiveError (a limit on sizes), never MemoryError or minutes of work."""
    out, _ = call(derive, "tr(X)", "X", let, check=True)
    if isinstance(out, TexderiveError):
        assert out.message.strip()


HUGE_NUMBERS = [
    "tr(X)*1e300", "tr(X)*1e-300", "tr(X)*1e400", "tr(X)*1e300*1e300", "1e300*tr(X)*1e300",
    "tr(X)^(1e300)", "x'*x*1e308", "tr(X)*" + "9" * 60, "tr(X)*" + "9" * 5_000,
    "tr(X)*1e999999999", "alpha^1e999999999*tr(X)", "tr(X)*0." + "0" * 5_000 + "1",
    r"\operatorname{tr}(\mathbf{X})\cdot 10^{400}", r"\operatorname{tr}(\mathbf{X}) 1e1000",
    r"\operatorname{tr}(\mathbf{X}) \cdot " + "9" * 5_000,
    "tr(X)*1e" + "1" * 5_000, "tr(X)^2^2^2^2^2",
]


@pytest.mark.parametrize("expr", HUGE_NUMBERS, ids=[f"{i}" for i in range(len(HUGE_NUMBERS))])
def test_huge_numbers(expr):
    """A number too large for the check's floats or for printing: a result that prints
    and checks, or a TexderiveError (LimitError), never OverflowError or ValueError."""
    wrt = "x" if expr.startswith("x'") else "X"
    out, _ = call(derive, expr, wrt, latex=expr.startswith("\\"))
    if isinstance(out, TexderiveError):
        return
    text, _ = call(lambda: out.gradient_text)
    assert isinstance(text, str), text
    doc, _ = call(out.to_dict)
    assert isinstance(doc, dict), doc
    res, _ = call(out.run_check)
    assert isinstance(res, (dict, TexderiveError)), res


def test_the_api_survives_each_limit():
    """After every limit above, a plain call still works (no state left behind)."""
    for expr in (LENGTH, DEEP_PARENS, TOKENS, MINUS_CHAIN):
        call(derive, expr, "X")
    call(derive, LATEX_BRACES, "X", latex=True)
    d, _ = call(derive, "tr(A*X*B)", "X")
    assert d.gradient_text == "A'*B'"
    assert texderive.derive("tr(X)", "X").gradient_text == "I"


def test_a_power_tower_is_refused_by_the_node_limit():
    # each level of a^a^...^a adds a log factor to every term: 40 levels took 5 s and a
    # megabyte of LaTeX under a limit of 200,000 nodes; 45 levels are refused now
    err = limit_error("^".join(["alpha"] * 45), "alpha")
    assert "nodes" in err.message and str(engine.MAX_NODES) in err.message
