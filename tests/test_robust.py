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
