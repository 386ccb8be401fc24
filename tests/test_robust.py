"""Issue 12: no wrong answer even unchecked, no traceback, bounded options.

Each test is a reproduction from the issue that failed before its fix.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from texderive import TexderiveError, derive
from texderive.limits import MAX_EXACT_TIMEOUT, exact_timeout, plain_text, visible

ENV = {**os.environ, "PYTHONPATH": os.getcwd(), "LC_ALL": "C.UTF-8"}


def cli(*args, input_bytes=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "texderive.cli", *args], capture_output=True,
                          env=ENV, cwd=cwd, input=input_bytes)


def assert_refusal(r, *words):
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2, err
    assert "Traceback" not in err and "Usage:" not in err, err
    assert "\x1b" not in err, err
    for w in words:
        assert w in err, err
    return err


# --- item 3: open-size constants inside functions ---------------------------------

def fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("expr,f", [
    ("sum(b .* diag(I))", lambda b: np.sum(b)),
    ("norm(b - diag(I))^2", lambda b: np.sum((b - 1) ** 2)),
    ("sum(exp(diag(I)) .* b)", lambda b: np.e * np.sum(b)),
    ("b'*diag(I)", lambda b: np.sum(b)),
    ("sum(log(1 + (ones*X') .^ 2)) + b'*b", lambda b: b @ b),
])
def test_issue_12_diag_of_open_size_constants(expr, f):
    let = {"b": "vector n", "X": "matrix n n"}
    d = derive(expr, "b", let=let)
    b = np.array([0.3, -1.2, 2.0])
    g = eval(d.gradient_numpy, {"np": np, "b": b, "X": np.eye(3)})  # noqa: S307
    assert np.allclose(np.broadcast_to(g, b.shape), fd_grad(f, b), rtol=1e-6, atol=1e-8)


def test_issue_12_a_scalar_plus_an_array_of_open_rows_is_a_broadcast():
    # 1 + (ones*X).^2 is n columns wide whatever its rows: 1 is broadcast, no shape clash
    d = derive("sum(X .* log(1 + (ones*X) .^ 2))", "X", let={"X": "matrix n n"}, check=True)
    assert d.check["passed"]


@pytest.mark.parametrize("expr,wrt,name", [
    ("tr(X)*(I*alpha)", "alpha", "I"),
    ("tr(X)*(2 + I)", "X", "I"),
    ("sum(X)*(ones - 1)", "X", "ones"),
    ("ones*alpha", "alpha", "ones"),
    ("tr(X)*sum(ones)", "X", "ones"),
    ("alpha + zeros", "alpha", "zeros"),
])
def test_issue_12_a_constant_that_nothing_sizes_is_refused_not_read_as_a_number(expr, wrt,
                                                                              name):
    # found after the issue's list: a lone I/ones/zeros in a scalar context came out 1×1
    # and was silently the number 1 or 0 (sum(X ./ (1 + I.^2)) read I as 1 and gave
    # sum(X)/2; now the scalar is broadcast over I, whose size X gives; see below)
    r = cli("derive", expr, "--wrt", wrt, "--let", "X: matrix n n", "--let", "alpha: scalar")
    err = assert_refusal(r, f"{name} is 1×1 here", "col ")
    assert "^" in err                              # the caret under the constant
    with pytest.raises(TexderiveError, match=f"{name} is 1×1"):
        derive(expr, wrt, let={"X": "matrix n n", "alpha": "scalar"})


@pytest.mark.parametrize("expr,wrt,let,f", [
    # the documented conventions that stay: a size fixed by the rest of the expression
    ("tr(ones'*X*ones)", "X", {"X": "matrix n n"}, lambda X: np.sum(X)),
    ("sum(ones*x)", "x", {"x": "vector n"}, lambda x: np.sum(x)),
    ("x'*ones", "x", {"x": "vector n"}, lambda x: np.sum(x)),
    ("sum(X .* (2 + I))", "X", {"X": "matrix n n"}, lambda X: np.sum(2 * X) + np.trace(X)),
    ("sum(X ./ (1 + I.^2))", "X", {"X": "matrix n n"},
     lambda X: np.sum(X) - np.trace(X) / 2),
    ("tr(X*(1 + I))", "X", {"X": "matrix n n"}, lambda X: np.sum(X) + np.trace(X)),
    ("sum(X .* (2 + zeros))", "X", {"X": "matrix n n"}, lambda X: 2 * np.sum(X)),
    ("ones'*x + 1", "x", {"x": "vector n"}, lambda x: np.sum(x) + 1),
    # an open size no matrix product fits is a number's: (ones'*c) scales x, as sum(c)
    # (it was a shape clash, "(ones'*c) is n×1, x is q×1")
    ("sum((ones'*x)*x)", "x", {"x": "vector n"}, lambda x: np.sum(x) ** 2),
])
def test_constants_sized_by_their_context_are_still_read(expr, wrt, let, f):
    d = derive(expr, wrt, let=let, check=True)
    assert d.check["passed"]
    rng = np.random.default_rng(3)
    v = rng.standard_normal((3, 3) if wrt == "X" else 3)
    g = eval(d.gradient_numpy, {"np": np, wrt: v})  # noqa: S307
    assert np.allclose(np.broadcast_to(g, v.shape), fd_grad(f, v), rtol=1e-6, atol=1e-8)


def test_a_scalar_broadcast_over_a_shape_that_comes_out_1x1_is_no_broadcast():
    # found by the widened property test: 2 + ones'*(X*ones) broadcasts 2 over a shape
    # both of whose sizes are open; f being a scalar then makes it 1×1, and f was
    # restated as (2 + ones'*c)*ones + ... (a broadcast to 1×1 printed as *ones)
    from texderive.printers.text import to_text
    d = derive("2 + ones'*c + ones'*(X*ones)", "X", let={"X": "matrix n n", "c": "vector p"})
    assert to_text(d.f) == "2 + ones'*c + ones'*X*ones"


def test_the_trace_of_ones_is_its_size_in_the_text():
    # found by make fuzz: the gradient text was tr(ones), which parsed alone is tr of a
    # 1×1 ones (1, not p); and tr(I) took a "tidy up" step that only renamed it
    d = derive("ones'*diag(alpha + E)", "alpha", let={"E": "matrix p p"}, check=True)
    assert d.gradient_text == "rows(E)" and d.check["passed"]
    d = derive("tr(alpha*I + X)", "alpha")
    assert [s.rule for s in d.steps].count("simplify") == 0
    assert d.gradient_text == "rows(X)"


def test_the_trace_of_a_scaled_product_of_ones_is_a_count():
    # found by make fuzz: the gradient 2*tr(rows(X)*alpha*ones) had a ones that only the
    # trace sized (read back as 1×1, refused); scalars come out of a trace, and the trace
    # of a product of ones is the product of its sizes
    d = derive("norm(alpha + (X - X))^2", "alpha", check=True)
    assert "ones" not in d.gradient_text and d.check["passed"]
    g = eval(d.gradient_numpy, {"np": np, "alpha": 0.5, "X": np.zeros((2, 3))})  # noqa: S307
    assert g == pytest.approx(2 * 0.5 * 6)


def test_powers_of_ones_and_zeros_are_folded():
    # found by make fuzz: the gradient sum(1 ./ (ones' + (zeros') .^ 2)) had constants
    # that only f sized; ones .^ e = ones and zeros .^ k = zeros fold it to rows(a)
    d = derive("ones'*((alpha + ones) ./ (1 + (zeros .* a) .^ 2))", "alpha", check=True)
    assert d.gradient_text == "rows(a)" and d.check["passed"]


@pytest.mark.parametrize("expr,wrt,want", [
    # found by make fuzz: tr(exp(ones)*ones) kept a ones only f sized; f(ones) = f(1)*ones
    ("tr(exp(ones)*(alpha + C'))", "alpha", "exp(1)*(rows(C)*cols(C))"),
    ("sum(exp(zeros) .* X)", "X", "ones"),
    ("sum(sigmoid(zeros) .* X)", "X", "1/2*ones"),
])
def test_a_function_of_a_block_of_ones_is_a_number_times_ones(expr, wrt, want):
    d = derive(expr, wrt, check=True)
    assert d.gradient_text == want and d.check["passed"]


def test_the_sum_of_a_number_is_the_number():
    # found by make fuzz: the Hessian of sum(alpha)^2 was 2*sum(1), in NumPy the int 2 * 1
    d = derive("sum(alpha)^2", "alpha", hessian=True)
    assert d.result_text == "2" and isinstance(eval(d.result_numpy), float)  # noqa: S307


def test_the_sum_of_a_block_of_ones_times_m_names_the_count():
    # found by make fuzz: the gradient sum(ones*(ones + x)) had an n×n ones, which read
    # back as a row (1/n of the value); sum(ones_{r×k}*M) is r*sum(M)
    d = derive("ones'*((alpha + X)*(ones + x))", "alpha", check=True)
    assert d.gradient_text == "rows(X)*sum(ones + x)" and d.check["passed"]
    x = np.array([0.5, -1.0, 2.0])
    g = eval(d.gradient_numpy, {"np": np, "alpha": 0.3, "X": np.eye(3), "x": x})  # noqa: S307
    assert g == pytest.approx(3 * np.sum(1 + x))


@pytest.mark.parametrize("expr,hessian,values,want", [
    ("sum(alpha*ones + x)", False, {"x": np.zeros(3)}, 3.0),
    ("sum(alpha + C)/(1 + 2^2)", False, {"C": np.zeros((3, 4))}, 12 / 5),
    ("ones'*(alpha*(alpha + c))", True, {"c": np.zeros(3)}, 6.0),
    ("(alpha + c)'*ones*(alpha + c)", True, {"c": np.zeros(3)}, 18.0),   # 2*rows(c)^2
])
def test_a_scalar_result_that_is_a_count_is_a_float_in_numpy(expr, hessian, values, want):
    # found by make fuzz: the Hessian code was 2 * c.shape[0], a Python int (SPEC: a float)
    d = derive(expr, "alpha", hessian=hessian)
    got = eval(d.result_numpy, {"np": np, "alpha": 0.7, **values})  # noqa: S307
    assert isinstance(got, float) and got == pytest.approx(want)


def test_issue_12_a_hadamard_power_of_a_scalar_prints_as_it_parses():
    d = derive("ones'*((Y*c) ./ (1 + (ones*c) .^ 2))", "Y",
               let={"Y": "matrix n p", "c": "vector p"})
    assert ".^" not in d.to_dict()["gradient"]["text"]


# --- item 6: option values, deck text, surrogates ----------------------------------

@pytest.mark.parametrize("value", ["inf", "1e10", "nan", "0", "-1", "abc", "1e300", "-inf"])
def test_issue_12_exact_timeout_must_be_finite_and_bounded(value):
    with pytest.raises(TexderiveError, match="at most 3600"):
        exact_timeout(value)
    r = cli("derive", "tr(X)", "--wrt", "X", "--exact", "--exact-timeout", value)
    assert r.returncode == 2 and b"Traceback" not in r.stderr and b"at most 3600" in r.stderr
    with pytest.raises(TexderiveError, match="at most 3600"):
        derive("tr(X)", "X", exact=True, exact_timeout=float(value) if value != "abc" else value)


def test_exact_timeout_accepts_the_documented_range():
    assert exact_timeout("5") == 5.0 and exact_timeout(MAX_EXACT_TIMEOUT) == MAX_EXACT_TIMEOUT


@pytest.mark.parametrize("deck,words", [
    (b"title: a\x0cb\nderivations:\n  - expr: tr(X)\n    wrt: X\n", ["1:9", "U+000C"]),
    (b'title: "a\\ud83d"\nderivations:\n  - expr: tr(X)\n    wrt: X\n', ["1:8", "U+D83D"]),
    (b'title: "a\\e[31mred"\nderivations:\n  - expr: tr(X)\n    wrt: X\n', ["U+001B"]),
    (b'title: a\nderivations:\n  - expr: tr(X)\n    wrt: X\n    text: "\\x9b"\n', ["5:", "U+009B"]),
    (b"title: a\nexact_timeout: 1e300\ncheck: exact\nderivations:\n  - expr: tr(X)\n    wrt: X\n",
     ["2:16", "at most 3600"]),
    (b"title: a\nexact_timeout: .nan\nderivations:\n  - expr: tr(X)\n    wrt: X\n", ["at most"]),
])
def test_issue_12_deck_text_is_refused_in_one_paragraph(tmp_path, deck, words):
    path = tmp_path / "d.yaml"
    path.write_bytes(deck)
    assert_refusal(cli("build", str(path), "-o", str(tmp_path / "d.tex")), *words)
    assert not (tmp_path / "d.tex").exists()


def test_issue_12_non_utf8_arguments_are_refused_without_traceback(tmp_path):
    for args in (["derive", b"tr(X\xff)", "--wrt", "X"],
                 ["derive", "tr(X)", "--wrt", b"X\xff"],
                 ["derive", "tr(X)", "--wrt", "X", "--format", "standalone", "--title", b"a\xffb"],
                 ["derive", "tr(X)", "--wrt", "X", "--title", b"a\x1b[31mb"]):
        r = subprocess.run([sys.executable, "-m", "texderive.cli", *args], capture_output=True,
                           env=ENV)
        assert_refusal(r)


def test_issue_12_error_messages_show_escapes_not_raw_control_characters():
    r = cli("derive", "tr(X\x1b[2J)", "--wrt", "X")
    err = assert_refusal(r)
    assert "\\x1b" in err
    assert visible("a\x1b[31mb\udcff\n") == "a\\x1b[31mb\\udcff\n"
    with pytest.raises(TexderiveError, match="U\\+001B at position 2"):
        plain_text("a\x1b", "title")


@pytest.mark.parametrize("expr", ["-x", "-logdet(X)", "-tr(X)+1", "-2*tr(X)"])
def test_issue_12_an_expression_starting_with_minus_is_no_usage_banner(expr):
    err = assert_refusal(cli("derive", expr, "--wrt", "X", "--let", "x: vector n"), "after '--'")
    assert "No such option" not in err


def test_a_misspelt_option_still_gets_clicks_message():
    r = cli("derive", "--bogus", "tr(X)", "--wrt", "X")
    assert r.returncode == 2 and b"No such option" in r.stderr


# --- item 9: the numeric check where f underflows ----------------------------------

@pytest.mark.parametrize("expr", ["tr(X)^999", "exp(-100*tr(X'*X))", "exp(-tr(X'*X))"])
def test_issue_12_the_check_fails_a_5x_wrong_gradient_where_f_underflows(expr):
    from texderive.check import numeric_check
    from texderive.ir import MatMul, Num
    d = derive(expr, "X")
    assert numeric_check(d.f, d.gradient, d.wrt_sym)["passed"]
    wrong = numeric_check(d.f, MatMul(Num(5), d.gradient), d.wrt_sym)
    assert not wrong["passed"] and wrong["max_rel_error"] > 0.5


def test_a_zero_gradient_still_passes():
    from texderive.check import numeric_check
    d = derive("tr(X) - tr(X')", "X")
    assert numeric_check(d.f, d.gradient, d.wrt_sym)["passed"]


def test_issue_12_json_has_no_timings_and_error_bounds_by_decade():
    import json
    r = cli("derive", "tr(A*X)", "--wrt", "X", "--format", "json")
    doc = json.loads(r.stdout)
    err = doc["check"]["max_rel_error"]
    assert "seconds" not in json.dumps(doc)
    assert err == 0 or (np.log10(err) == round(np.log10(err)))
    head = cli("derive", "tr(A*X)", "--wrt", "X").stdout.decode().split("\n", 1)[0]
    assert "max rel error < 1e-" in head


# --- item 7: the numeric check's time and memory at declared sizes are bounded ------

def test_issue_12_a_check_past_its_budget_is_refused_clearly():
    expr = "tr(" + "*".join(f"inv(X+A{i})" for i in range(30)) + ")"
    r = cli("derive", expr, "--wrt", "X", "--let", "X: matrix 500 500")
    assert_refusal(r, "budget", "--no-check")
    r = cli("derive", expr, "--wrt", "X", "--let", "X: matrix 500 500", "--no-check")
    assert r.returncode == 0


def test_the_budget_lets_moderate_declared_sizes_through():
    from texderive.check import check_budget
    d = derive("tr(inv(X+A)*B)", "X", let={"X": "matrix 100 100"})
    check_budget(d.f, d.gradient, {})            # no error
    big = derive("tr(inv(X+A)*B)", "X", let={"X": "matrix 500 500"})
    with pytest.raises(TexderiveError, match="budget"):
        check_budget(big.f, big.gradient, {})


def test_the_jacobian_check_has_the_gradient_checks_budget():
    # a Jacobian wrt a scalar has few entries (250,000 here), but f costs 30 inversions
    # of 500x500 per evaluation: refused by the same budget, not minutes of work
    expr = "*".join(f"inv(X+alpha*A{i})" for i in range(30))
    r = cli("derive", expr, "--wrt", "alpha", "--let", "X: matrix 500 500")
    assert_refusal(r, "budget", "--no-check")


@pytest.mark.parametrize("expr", ["tr(inv(x*x' + 1e-12*I))", "inv(x*x' + 1e-12*I)"])
def test_issue_12_an_ill_conditioned_f_is_not_called_undefined(expr):
    # f has a value at every point, but inv's argument has a condition number near 1e8:
    # the refusal says so instead of "no point found where f is defined"
    r = cli("derive", expr, "--wrt", "x")
    assert_refusal(r, "well conditioned", "condition number")
    r = cli("derive", "log(-x'*x)", "--wrt", "x")
    assert "well conditioned" not in assert_refusal(r, "no point found where f is defined")


@pytest.mark.parametrize("expr,wrt,want", [
    # found by make fuzz: x'*(ones*c') printed as x'*ones*c', which reads back as
    # (x'*ones)*c', another tree; (ones'*X'*X*ones)*x read its first ones as n×n
    ("norm(x'*(ones*c'))^2", "x", None),
    ("norm(X*(ones*x'))^2", "x", "2*sum(X'*X)*x"),
    ("x'*(a*c')*c", "x", None),
])
def test_text_of_a_product_reads_back_as_the_same_function(expr, wrt, want):
    from texderive import notation, shapes
    from texderive.printers.text import to_text
    d = derive(expr, wrt, check=True)
    assert d.check["passed"]
    printed = to_text(d.f)
    let = {"x": "vector n", "a": "vector n", "c": "vector p", "X": "matrix n n"}
    assert shapes.elaborate(notation.parse(printed), printed, shapes.parse_let(let)) == \
        shapes.elaborate(notation.parse(expr), expr, shapes.parse_let(let))
    if want:
        assert d.gradient_text == want
        rng = np.random.default_rng(5)
        X, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
        g = eval(d.gradient_numpy, {"np": np, "X": X, "x": x})  # noqa: S307
        assert np.allclose(g, 2 * np.sum(X.T @ X) * x)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("args", [("derive", "tr(X)", "--wrt", "X"), ("sty",), ("--help",)])
def test_a_full_standard_output_is_an_error_not_a_traceback(args):
    # a fresh reader: texderive derive ... > /dev/full ended in OSError's traceback
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "texderive.cli", *args], stdout=full,
                           stderr=subprocess.PIPE, env=ENV)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "Traceback" not in err and "cannot write the output" in err


def test_a_deck_past_its_size_limit_is_refused_before_it_is_read_whole(tmp_path):
    # a fresh reader: build /dev/zero read until it was killed; a 50 MB deck of comments
    # took 35 s to be found empty
    big = tmp_path / "big.yaml"
    big.write_text("#" * (2 << 20))
    for deck in ([str(big)] + (["/dev/zero"] if os.path.exists("/dev/zero") else [])):
        r = cli("build", deck, "-o", str(tmp_path / "out.tex"))
        assert_refusal(r, "larger than 1 MB")
        assert not (tmp_path / "out.tex").exists()


@pytest.mark.parametrize("args", [
    ("init", "{tmp}/d/x\x1b[31m"),
    ("derive", "tr(X)", "--wrt", "X", "-o", "{tmp}/a\nb.tex"),
    ("sty", "-o", "{tmp}/s\x07.sty"),
])
def test_a_control_character_in_a_path_is_refused_before_anything_is_made(tmp_path, args):
    # a fresh reader: init made a directory whose name held ESC and printed a path to it
    # that was not there
    r = cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_refusal(r, "control character")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("deck,where,words", [
    ("title: Matrix 漢 calculus\nderivations:\n  - {expr: tr(X), wrt: X}\n", "d.yaml:1:15:",
     "title: the character '漢'"),
    ("derivations:\n  - expr: tr(X)\n    wrt: X\n    title: \"A 😀 b\"\n", "d.yaml:4:15:",
     "derivation 1"),
    ("exact_timeout: [1]\nderivations:\n  - {expr: tr(X), wrt: X}\n", "d.yaml:1:16:",
     "exact_timeout must be a number of seconds, not a list"),
])
def test_a_deck_field_error_names_its_place_once(tmp_path, deck, where, words):
    # a fresh reader: a title LaTeX cannot set said only "the title: ..." with no place,
    # and exact_timeout: [1] printed its place twice and asked for text
    (tmp_path / "d.yaml").write_text(deck, encoding="utf-8")
    r = cli("build", "d.yaml", "-o", "d.tex", cwd=tmp_path)
    err = assert_refusal(r, where, words)
    assert err.count("d.yaml:") == 1
    assert not (tmp_path / "d.tex").exists()


@pytest.mark.parametrize("expr,words", [
    ("tr(X)^10^300", "exponent beyond ±1000"),        # 10^300 stays a power: not a Num
    ("tr(X)^(-10^4)", "exponent beyond ±1000"),
    ("tr(X)^2^10", "exponent beyond ±1000"),
    ("tr(X)*10^400", "beyond ±1e300"),
    ("tr(X)*10^(-400)", "nearer 0 than 1e-300"),
    ("tr(X)*alpha^(1e30*1e300)", "exponent beyond ±1000"),   # make fuzz: OverflowError
])
def test_issue_12_a_power_of_numbers_meets_the_number_limits(expr, words):
    # a fresh reader: tr(X)^10^300 passed the exponent limit and was then refused as a
    # "failed numerical check", which says the gradient is wrong; it is the input's size
    assert_refusal(cli("derive", expr, "--wrt", "X"), words)
    assert derive("tr(X)^2^9", "X", check=True).check["passed"]      # 512 is within


# --- a fresh reader's review of the change above --------------------------------------

def test_the_jacobian_check_budget_counts_a_scaled_identity_as_cheap():
    # 2*I of 1600×1600 was costed as a dense product (1600³ per evaluation): the Jacobian
    # of 2*X at 40×40 was refused as past the budget; its check takes 0.1 s
    r = cli("derive", "2*X", "--wrt", "X", "--let", "X: matrix 40 40", "--format", "text")
    assert r.returncode == 0, r.stderr.decode()
    assert b"checked: numeric" in r.stdout


@pytest.mark.parametrize("expr,let", [
    ("tr((a*c'*(alpha + ones))*(a*c'*(alpha + ones))')", {"a": "vector n", "c": "vector p"}),
    ("norm(a*x'*(alpha + ones))^2", {}),
    ("norm(X*(1 + ones))^2", {}),
])
def test_a_number_added_to_a_constant_that_nothing_sizes_is_refused(expr, let):
    # a*c'*(alpha + ones): ones is p×k with k fixed by nothing; once read as the number
    # alpha + 1, then as a column, and its gradient text read back as a third function
    with pytest.raises(TexderiveError, match="is not fixed by the expression"):
        derive(expr, "a" if "a*" in expr else ("x" if "x'" in expr else "X"), let=let)


@pytest.mark.parametrize("expr,wrt,want", [
    ("norm(alpha + (X - X))^2", "alpha", "2*alpha*rows(X)^2"),   # tr(ones^2) = n^2
    ("sum(alpha*I + X - X)^2", "alpha", "2*alpha*rows(X)^2"),     # sum(I) = n
])
def test_powers_of_ones_and_sums_of_I_are_counts(expr, wrt, want):
    d = derive(expr, wrt, let={"X": "matrix n n"}, check=True)
    assert d.gradient_text == want and d.check["passed"]


def test_a_count_is_a_float_also_where_an_input_is_named_float():
    d = derive("sum(alpha*ones + float)", "alpha")
    got = eval(d.gradient_numpy, {"np": np, "float": np.zeros(3), "alpha": 1.0})  # noqa: S307
    assert isinstance(got, float) and got == 3.0
