#!/usr/bin/env python3
r"""Fuzz ``texderive.derive`` with hostile input (``make fuzz``).

    .venv/bin/python tests/fuzz.py [--inputs N] [--seed S] [--seconds T] [--only I]

Every input is a call ``derive(expr, wrt, let, latex=...)``.  Its outcome is

* ``ok``       derive returned, and the numeric check of its gradient passed;
* ``error``    derive raised a ``TexderiveError`` (a refusal: fine);
* ``refused``  derive returned, but the numeric check found no point where f is
               defined (``CheckError``, a refusal: fine);
* ``escape``   any other exception, from ``derive``, from the numeric check that
               ``derive(..., check=True)`` runs, or from printing the result
               (``gradient_text``, ``to_latex()``); or a stage taking more than
               5 s (a SIGALRM interrupts it);
* ``wrong``    derive returned a gradient that ``check.numeric_check`` rejects.

Inputs (each drawn from ``random.Random(f"{seed}:{index}")``, so ``--only I``
replays input I): random strings in both notations; mutations (character
insertions, deletions, swaps, token splices, operator runs, renamed variables,
hostile numbers, unicode) of a corpus of valid expressions (the benchmark's
``expr`` fields and the lists below, plain and LaTeX); typed random
expressions that are valid by construction (they find wrong gradients); and
hostile templates (deep nesting, huge exponents, long chains, NUL bytes,
``\input{/etc/passwd}``, ``__import__('os')``, huge declared sizes ...).

The inputs run in a forked worker process: a SIGALRM stops a slow stage
after 5 s, and the parent kills the worker when a stage is stuck in C code
(a big-integer power, say) that the alarm cannot interrupt, records that input
as a hang, and starts a new worker at the next input.

Progress goes to stdout every 10,000 inputs; the last line is exactly
``fuzz: N inputs, E escaped exceptions, W wrong gradients`` and the exit
status is 1 when E + W > 0 (the first reproducers are listed above it).
"""
from __future__ import annotations

import argparse
import json
import math
import mmap
import os
import random
import re
import signal
import struct
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

STAGE_TIMEOUT = 5.0          # seconds a single stage of one input may take (SIGALRM)
HARD_GRACE = 4.0             # beyond STAGE_TIMEOUT: the worker is stuck in C code; kill it
PROGRESS_EVERY = 10_000
BENCH_CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "bench", "corpus.json")

# ---------------------------------------------------------------------------
# corpus: valid expressions (expr, wrt, let)

PLAIN_CORPUS = [
    # the benchmark's expressions (also read from BENCH_CORPUS when it is there)
    ("a'*X*b", "X", {}), ("(B*x + b)'*C*(D*x + d)", "x", {}),
    ("(x - s)'*W*(x - s)", "x", {"W": "symmetric"}), ("tr(X)", "X", {}),
    ("tr(A*X*B)", "X", {}), ("tr(A*X')", "X", {}), ("tr(X'*B*X)", "X", {}),
    ("tr(X'*X*B)", "X", {}), ("log(det(X))", "X", {}), ("tr(inv(X + A))", "X", {}),
    ("1/2 * x'x", "x", {}), ("tr(A*X*B*X'*C)", "X", {}), ("tr(A*X^3)", "X", {}),
    ("tr(inv(X'*C*X)*(X'*B*X))", "X", {"B": "symmetric", "C": "symmetric"}),
    ("det(X'*A*X)", "X", {"A": "symmetric"}), ("log(det(X'*X))", "X", {}),
    ("logdet(A*X*A')", "X", {}), ("a'*X^3*b", "X", {}), ("tr(A*S)", "S", {"S": "symmetric"}),
    ("x'*S*x", "S", {"S": "symmetric"}), ("norm(A - S)^2", "S", {"S": "symmetric"}),
    ("sum(log(x))", "x", {}), ("a'*(X .* X)*b", "X", {}), ("sum(sqrt(x))", "x", {}),
    ("exp(-x'*x/2)", "x", {}), ("a'*sin(X)*b", "X", {}), ("a'*log(A*sin(X)*B)*b", "X", {}),
    ("norm(x - a)", "x", {}), ("norm2(x - a)^2", "x", {}), ("norm(X - Y)^2", "Y", {}),
    ("d'*x*(a'*X*b)^0.5*y'*c", "X", {}), ("3*tr(A)", "A", {}), ("tr(A*X)/tr(B*X)", "X", {}),
    ("norm(A*x - b)^2", "x", {}), ("norm(A*X - B)^2", "X", {}),
    ("norm(A*x - b)^2 + norm(L*x)^2", "x", {}),
    ("sum(log(one + exp(-y .* (X*w))))", "w", {}),
    ("logdet(Sigma) + (x - m)'*inv(Sigma)*(x - m)", "Sigma", {}),
    ("4*logdet(Sigma) + tr(Y'*inv(Sigma)*Y)", "Sigma", {}),
    ("(tr(inv(P)*S) - logdet(S) + (m - r)'*inv(P)*(m - r))/2", "m",
     {"P": "symmetric", "S": "symmetric"}),
    ("logdet(W*W' + D) + tr(inv(W*W' + D)*S)", "W", {"D": "symmetric", "S": "symmetric"}),
    ("norm(X - D*A)^2", "D", {}), ("norm(W'*W - C)^2", "W", {"C": "symmetric"}),
    ("tr(C'*X*Wq*Wk'*X'*X*Wv)", "Wq", {}), ("(x - y)'*M*(x - y)", "M", {}),
    ("v'*tanh(W*x)", "W", {}), ("1/2*x'*Q*x + c'*x", "x", {"Q": "symmetric"}),
    # more of section 1
    ("tr(X^-1)", "X", {}), ("tr(X^(-1)*A)", "X", {}), ("tr(X.T*A)", "X", {}),
    ("tr(X^T*A)", "X", {}), ("alpha^2*tr(X)", "alpha", {}), ("alpha^0.5 + beta^(1/3)", "alpha", {}),
    ("alpha^(-0.5)*tr(X'*X)", "X", {}), ("a^(tr(X))", "X", {"a": "scalar"}),
    ("sum(X .^ 2)", "X", {}), ("sum(1./x)", "x", {}), ("sum(2.^x)", "x", {}),
    ("a'*(X ./ B)*b", "X", {}), ("sum(1 + exp(x))", "x", {}), ("sum(X - 2)", "X", {}),
    ("tr(I*X)", "X", {}), ("ones'*x", "x", {}), ("sum(zeros + X)", "X", {}),
    ("Tr(X) + trace(X)", "X", {}), ("det(X)", "X", {}), ("logdet(X)", "X", {}),
    ("norm(X)", "X", {}), ("norm2(x)", "x", {}), ("sum(diag(X))", "X", {}),
    ("tr(diag(x)*A)", "x", {}), ("sum(sigmoid(X*w))", "w", {}), ("sum(abs(x))", "x", {}),
    ("sum(cos(x)) + sum(tan(x)) + sum(sinh(x)) + sum(cosh(x))", "x", {}),
    ("sin(alpha)*tr(X)", "alpha", {}), ("x'*A*x", "x", {}), ("a'*X b", "X", {}),
    ("A X'", "X", {}), ("tr(A X B)", "X", {}), ("a - b", "a", {}),
    ("sqrt(x'*x)", "x", {}), ("log(x'*A*x)", "x", {}), ("exp(tr(X))", "X", {}),
    ("tr(X1*X_2)", "X1", {}), ("lambda_2*tr(Sigma_k)", "Sigma_k", {}),
    ("tr(X*X*X*X)", "X", {}), ("tr(X^4) + tr(X^-2)", "X", {}), ("x'*x*alpha", "x", {}),
    ("tr(X)", "X", {"X": "matrix n n"}), ("a'*X*b", "X", {"X": "matrix 3 4"}),
    ("logdet(S) - tr(inv(S)*C)", "S", {"S": "symmetric n", "C": "symmetric n"}),
]

LATEX_CORPUS = [
    (r"\operatorname{tr}(\mathbf{A}\mathbf{X}\mathbf{B})", "X", {}),
    (r"\operatorname{Tr}(\mathbf{A}\mathbf{X}\mathbf{B})", "X", {}),
    (r"\log\det(\mathbf{X}^\top\mathbf{X})", "X", {}),
    (r"\|\mathbf{A}\mathbf{x}-\mathbf{b}\|_2^2", "x", {}),
    (r"\mathbf{x}^T\mathbf{A}\mathbf{x}", "x", {}),
    (r"\|\mathbf{X}\|_F^2", "X", {}),
    (r"\frac{1}{2}\mathbf{x}^\top\mathbf{x}", "x", {}),
    (r"\tr\left(\mathbf{X}^{-1}\mathbf{A}\right)", "X", {}),
    (r"$\det(\mathbf{X})$", "X", {}),
    (r"\[ \log\det\mathbf{X} \]", "X", {}),
    (r"\langle \mathbf{A}, \mathbf{X} \rangle", "X", {}),
    (r"\left(\mathbf{x}-\mathbf{b}\right)^\top \mathbf{W} \left(\mathbf{x}-\mathbf{b}\right)",
     "x", {}),
    (r"\sin^2 \alpha + \cos^2 \beta", "alpha", {}),
    (r"\mathbf{a}^\top \mathbf{X}^{\circ 2} \mathbf{b}", "X", {}),
    (r"\sqrt{\mathbf{x}^\top\mathbf{x}}", "x", {}),
    (r"\lvert\alpha\rvert + |\beta|", "alpha", {}),
    (r"\log\det\bm{\Sigma} + \operatorname{tr}(\bm{\Sigma}^{-1}\mathbf{S})", "Sigma", {}),
    (r"\operatorname{tr}(\mathbf{X}_{1}\mathbf{X}_2^\top)", "X1", {}),
    (r"\mathbf{a}^\top(\mathbf{X}\odot\mathbf{X})\mathbf{b}", "X", {}),
    (r"\mathbf{1}^\top(\mathbf{x}\oslash\mathbf{y})", "x", {}),
    (r"\exp\left(-\frac12\mathbf{x}^\top\mathbf{x}\right)", "x", {}),
    (r"\operatorname{sum}(\log(\mathbf{x}))", "x", {}),
    (r"\frac{\operatorname{tr}(\mathbf{A}\mathbf{X})}{\operatorname{tr}(\mathbf{B}\mathbf{X})}",
     "X", {}),
    (r"\mathbf{x}^{\mathsf T}\mathbf{S}\mathbf{x}", "S", {"S": "symmetric"}),
    (r"\operatorname{tr}(\mathbf{X}^{-\top}\mathbf{A})", "X", {}),
    (r"\bigl\|\mathbf{A}\mathbf{X}-\mathbf{B}\bigr\|_F^{2}", "X", {}),
    (r"\tanh(\alpha)\cdot\operatorname{tr}(\mathbf{X})", "alpha", {}),
    (r"\mathbf{v}^\top\tanh(\mathbf{W}\mathbf{x})", "W", {}),
    (r"2\,\alpha^{3} - \alpha \times \beta", "alpha", {}),
    (r"\det\left[\mathbf{X}^\intercal\mathbf{A}\mathbf{X}\right]", "X", {}),
    (r"\operatorname{diag}(\mathbf{x})", "x", {}),
    (r"\mathbf{x}^\prime\mathbf{x} \div 2", "x", {}),
]

FUNCS = ("tr", "Tr", "trace", "det", "logdet", "inv", "norm", "norm2", "sum", "diag", "log",
         "exp", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sigmoid", "abs")
NAMES = ("X", "A", "B", "S", "Y", "x", "a", "b", "y", "alpha", "beta", "lambda", "Sigma", "X1",
         "X_1", "W_q", "I", "ones", "zeros", "T", "e", "E", "tr", "inv", "one", "d", "D")
PLAIN_PIECES = (FUNCS + NAMES + tuple("+-*/^'(),.") + (".*", "./", ".^", ".T", "^T", "^-1",
                "^(-1)", "^2", " ", "  ", "0", "1", "2", "0.5", "1e-3", "3", "1/2", "-"))
LATEX_PIECES = (
    r"\mathbf{X}", r"\mathbf{A}", r"\mathbf{x}", r"\mathbf{b}", r"\bm{\Sigma}", r"\alpha",
    r"\beta", r"\mathbf{I}", r"\mathbf{1}", r"\mathbf{0}", "X", "x", r"\operatorname{tr}",
    r"\operatorname{sum}", r"\tr", r"\log", r"\det", r"\exp", r"\sin", r"\tanh", r"\sqrt",
    r"\frac", r"\frac12", "^", "_", "^\\top", "^T", "^{-1}", "^{-\\top}", "^{\\circ 2}", "^2",
    "_F", "_2", "_{1}", "{", "}", "(", ")", "[", "]", r"\left(", r"\right)", r"\left[",
    r"\right]", r"\left.", r"\|", "|", r"\lvert", r"\rvert", r"\langle", r"\rangle", ",",
    "+", "-", "*", "/", r"\cdot", r"\times", r"\odot", r"\circ", r"\oslash", r"\div", "'",
    r"\,", r"\;", r"\quad", r"\!", " ", "1", "2", "0.5", "$", "$$", r"\[", r"\]", r"\(",
    r"\)", "%", "\n", r"\\", r"\{", r"\}", r"\bigl(", r"\bigr)", r"\Bigg|", r"\mathrm{d}",
    r"\text{tr}", r"\mathsf{T}", r"\mathbb{R}", r"\foo", r"\input", r"\top", r"\prime",
)
HOSTILE_NUMBERS = ("0", "00", "0.0", "1e400", "1e-400", "1e308", "1e309", "1e-320", "999999",
                   "1e999", "123456789012345678901234567890", "0.000000001", "1e+5", "65",
                   "64", "-64", "-65", "1.5", "1e5000", "9" * 400, "9" * 4400, "1" + "0" * 5000,
                   "0." + "0" * 600 + "1", "1e99999", ".5", "5.", "1e", "1e-", "٣", "１",
                   "1e300*1e300", "1e-300*1e-300", "1e300^2", "2^2^2^2^2", "(1e300)")
UNICODE = ("\x00", "\u2212", "\u00a0", "\u200b", "\ufeff", "\ud800", "\U0001d44b", "\uff38",
           "\u03b1", "\u2211", "\u221a", "\u22a4", "\u2218", "\u202e", "\u00e9", "e\u0301",
           "\n", "\r", "\t", "\x0b", "\x1b[31m", "\u0663", "\u2028", "\U0001f600", "\\", "\x7f")


@dataclass
class Case:
    expr: object
    wrt: object
    let: object = None
    latex: bool = False
    kind: str = ""
    full_render: bool = False         # also run to_latex() (Jinja; slower than to_dict)

    def key(self):
        return (repr(self.expr), repr(self.wrt), repr(self.let), self.latex)

    def call(self) -> str:
        """A Python line that replays this input."""
        let = "" if self.let in (None, {}) else f", {self.let!r}"
        lx = ", latex=True" if self.latex else ""
        return f"derive({self.expr!r}, {self.wrt!r}{let}{lx})"

    def short(self, limit: int = 300) -> str:
        s = self.call()
        if len(s) > limit:
            expr = self.expr if isinstance(self.expr, str) else repr(self.expr)
            s = (f"derive(<{len(expr)} chars: {expr[:120]!r}...{expr[-40:]!r}>, {self.wrt!r}"
                 f"{'' if self.let in (None, {}) else ', ' + repr(self.let)[:80]}"
                 f"{', latex=True' if self.latex else ''})")
        return s

    def to_json(self) -> dict:
        return {"expr": self.expr, "wrt": self.wrt, "let": self.let, "latex": self.latex,
                "kind": self.kind, "full_render": self.full_render}


def load_corpus():
    """(plain, latex) lists of (expr, wrt, let); the benchmark's expressions included."""
    plain = list(PLAIN_CORPUS)
    seen = {p[0] for p in plain}
    try:
        with open(BENCH_CORPUS, encoding="utf-8") as fh:
            for p in json.load(fh):
                if isinstance(p, dict) and isinstance(p.get("expr"), str) and p["expr"] not in seen:
                    seen.add(p["expr"])
                    plain.append((p["expr"], p.get("wrt", "X"), dict(p.get("let") or {})))
    except (OSError, ValueError):
        pass
    return plain, list(LATEX_CORPUS)


# ---------------------------------------------------------------------------
# mutations: data, so that hypothesis can draw and shrink them too

_TOKEN_SPLIT = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z][A-Za-z0-9_]*|\d+(?:\.\d+)?|\.[*/^T]|\s+|.",
                          re.S)

MUTATION_KINDS = ("insert", "delete", "swap", "replace", "duplicate", "delete_span", "splice",
                  "operators", "wrap", "number", "rename", "unicode", "reverse_span")


def tokens_of(s: str) -> list:
    return _TOKEN_SPLIT.findall(s)


def apply_mutation(s: str, kind: str, a: float, b: float, payload: str, other: str = "") -> str:
    """One mutation of s; a, b in [0, 1] pick positions, payload is the text it inserts."""
    n = len(s)
    i = min(n, int(a * (n + 1)))
    j = min(n, int(b * (n + 1)))
    lo, hi = min(i, j), max(i, j)
    if kind == "insert":
        return s[:i] + payload + s[i:]
    if kind == "delete":
        return s[:i] + s[i + 1:]
    if kind == "delete_span":
        return s[:lo] + s[hi:]
    if kind == "swap":
        if n < 2:
            return s
        i = min(i, n - 2)
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if kind == "replace":
        return s[:i] + payload + s[i + 1:]
    if kind == "duplicate":
        return s[:hi] + s[lo:hi] + s[hi:]
    if kind == "reverse_span":
        return s[:lo] + s[lo:hi][::-1] + s[hi:]
    toks = tokens_of(s)
    t = len(toks)
    ti = min(t, int(a * (t + 1)))
    tj = min(t, int(b * (t + 1)))
    tlo, thi = min(ti, tj), max(ti, tj)
    if kind == "splice":
        o = tokens_of(other or payload)
        k = min(len(o), int(b * (len(o) + 1)))
        return "".join(toks[:ti] + o[k:])
    if kind == "operators":
        return "".join(toks[:ti]) + payload + "".join(toks[ti:])
    if kind == "wrap":
        inner = "".join(toks[tlo:thi])
        pre, _, post = payload.partition("@")
        return "".join(toks[:tlo]) + pre + inner + post + "".join(toks[thi:])
    if kind == "number":
        nums = [k for k, x in enumerate(toks) if x[:1].isdigit()]
        if not nums:
            return "".join(toks[:ti]) + payload + "".join(toks[ti:])
        k = nums[min(len(nums) - 1, int(a * len(nums)))]
        return "".join(toks[:k] + [payload] + toks[k + 1:])
    if kind == "rename":
        names = [k for k, x in enumerate(toks) if x[:1].isalpha() or x.startswith("\\")]
        if not names:
            return s
        k = names[min(len(names) - 1, int(a * len(names)))]
        return "".join(toks[:k] + [payload] + toks[k + 1:])
    if kind == "unicode":
        return s[:i] + payload + s[i:]
    raise ValueError(kind)


def random_payload(rng: random.Random, kind: str, latex: bool) -> str:
    pieces = LATEX_PIECES if latex else PLAIN_PIECES
    if kind in ("insert", "replace"):
        r = rng.random()
        if r < 0.6:
            return rng.choice(pieces)[:1] if rng.random() < 0.5 else rng.choice(pieces)
        if r < 0.9:
            return chr(rng.randrange(32, 127))
        return rng.choice(UNICODE)
    if kind == "operators":
        ops = ("+", "-", "*", "/", "^", "'", ".*", "./", ".^", ".T", "^T", "(", ")", ",", " ") \
            if not latex else ("+", "-", "^", "_", "{", "}", r"\cdot", r"\odot", "'", "^\\top",
                               r"\left(", r"\right)", r"\|", "|", r"\frac", ",")
        return "".join(rng.choice(ops) for _ in range(rng.randint(1, 6)))
    if kind == "wrap":
        if latex:
            return rng.choice(("(@)", "{@}", r"\left(@\right)", r"\operatorname{tr}(@)",
                               r"\log\det(@)", r"\|@\|_F^2", r"\frac{@}{2}", r"\sqrt{@}",
                               "-@", "(@)^\\top", "(@)^{-1}", "{{{@}}}", r"\exp(@)", "@^{64}"))
        return rng.choice(("(@)", "tr(@)", "-(@)", "inv(@)", "(@)'", "(@)^-1", "logdet(@)",
                           "norm(@)^2", "sum(@)", "exp(@)", "(@)^2", "((((@))))", "(@)^64",
                           "diag(@)", "det(@)", "sqrt(@)", "(@)*(@)", "@ + @", "(@)/0"))
    if kind == "number":
        return rng.choice(HOSTILE_NUMBERS) if rng.random() < 0.7 else str(rng.randint(0, 100))
    if kind == "rename":
        if latex:
            return rng.choice((r"\mathbf{Y}", r"\mathbf{x}", r"\alpha", r"\mathbf{I}", "X",
                               r"\bm{\Sigma}", r"\mathbf{X}_{1}", r"\mathbf{tr}", r"\mathbf{}",
                               r"\mathbf{\input{x}}", r"\operatorname{logdet}", r"\Gamma"))
        return rng.choice(NAMES + FUNCS + ("__import__", "os", "eval", "lambda_"))
    if kind == "unicode":
        return rng.choice(UNICODE)
    return rng.choice(pieces)


def random_mutations(rng: random.Random, s: str, latex: bool, others: list, count: int) -> str:
    for _ in range(count):
        kind = rng.choice(MUTATION_KINDS)
        payload = random_payload(rng, kind, latex)
        other = rng.choice(others) if kind == "splice" else ""
        s = apply_mutation(s, kind, rng.random(), rng.random(), payload, other)
        if len(s) > 25_000:
            s = s[:25_000]
    return s


# ---------------------------------------------------------------------------
# typed random expressions, valid by construction, in both notations at once

def gen_expr(rng: random.Random, depth: int, typ: str = "S") -> tuple:
    """(plain, latex) of a random expression of type S (scalar), M (n x n) or V (n-vector)."""
    leaf = depth <= 0 or rng.random() < 0.25

    def sub(t, d=depth - 1):
        return gen_expr(rng, d, t)

    def par(pair):
        return f"({pair[0]})", rf"\left({pair[1]}\right)"

    if typ == "S":
        if leaf:
            return rng.choice((("alpha", r"\alpha"), ("beta", r"\beta"), ("2", "2"),
                               ("0.5", "0.5"), ("tr(X)", r"\operatorname{tr}(\mathbf{X})"),
                               ("x'*a", r"\mathbf{x}^\top\mathbf{a}")))
        k = rng.randrange(18)
        if k == 0:
            m = sub("M")
            return f"tr({m[0]})", rf"\operatorname{{tr}}({m[1]})"
        if k == 1:
            u, m, v = par(sub("V")), par(sub("M")), par(sub("V"))
            return f"{u[0]}'*{m[0]}*{v[0]}", rf"{u[1]}^\top{m[1]}{v[1]}"
        if k == 2:
            v = sub("V")
            return f"norm({v[0]})^2", rf"\|{v[1]}\|^{{2}}"
        if k == 3:
            m = sub("M")
            return f"norm({m[0]})", rf"\|{m[1]}\|_F"
        if k == 4:
            m = sub(rng.choice("MV"))
            return f"sum({m[0]})", rf"\operatorname{{sum}}({m[1]})"
        if k == 5:
            m = par(sub("M"))
            return f"logdet({m[0]}'*{m[0]} + I)", rf"\log\det({m[1]}^\top{m[1]} + \mathbf{{I}})"
        if k == 6:
            m = sub("M")
            return f"det({m[0]})", rf"\det({m[1]})"
        if k in (7, 8):
            a, b = par(sub("S")), par(sub("S"))
            op = rng.choice("+-*")
            lop = {"*": r"\cdot"}.get(op, op)
            return f"{a[0]} {op} {b[0]}", f"{a[1]} {lop} {b[1]}"
        if k == 9:
            a, b = sub("S"), sub("S")
            return (f"({a[0]})/(2 + ({b[0]})^2)",
                    rf"\frac{{{a[1]}}}{{2 + \left({b[1]}\right)^{{2}}}}")
        if k == 10:
            a = par(sub("S"))
            p = rng.choice(("2", "3", "-1", "0.5", "(1/3)", "-2"))
            lp = {"(1/3)": "{1/3}", "-1": "{-1}", "-2": "{-2}"}.get(p, "{" + p + "}")
            return f"{a[0]}^{p}", f"{a[1]}^{lp}"
        if k in (11, 12):
            fn = rng.choice(("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs",
                             "sinh", "cosh", "tan"))
            a = sub("S")
            lat = {"sqrt": rf"\sqrt{{{a[1]}}}", "abs": rf"\left|{a[1]}\right|",
                   "sigmoid": rf"\operatorname{{sigmoid}}({a[1]})"}.get(fn, rf"\{fn}({a[1]})")
            return f"{fn}({a[0]})", lat
        if k == 13:
            a = par(sub("S"))
            return f"-{a[0]}", f"-{a[1]}"
        if k == 14:
            v = par(sub("V"))
            return f"{v[0]}'*{v[0]}", rf"{v[1]}^\top{v[1]}"
        if k == 15:
            v = sub("V")
            return f"norm2({v[0]})", rf"\|{v[1]}\|_2"
        if k == 16:
            a, m = par(sub("S")), sub("M")
            return f"{a[0]}*tr({m[0]})", rf"{a[1]}\operatorname{{tr}}({m[1]})"
        m = par(sub("M"))
        return f"sum({m[0]} .* {m[0]})", rf"\operatorname{{sum}}({m[1]} \odot {m[1]})"
    if typ == "M":
        if leaf:
            return rng.choice((("X", r"\mathbf{X}"), ("A", r"\mathbf{A}"), ("B", r"\mathbf{B}"),
                               ("S", r"\mathbf{S}"), ("I", r"\mathbf{I}"),
                               ("X'", r"\mathbf{X}^\top")))
        k = rng.randrange(15)
        if k in (0, 1):
            a, b = par(sub("M")), par(sub("M"))
            return f"{a[0]}*{b[0]}", f"{a[1]}{b[1]}"
        if k == 2:
            a = par(sub("M"))
            return f"{a[0]}'", rf"{a[1]}^\top"
        if k == 3:
            a = sub("M")
            return f"inv({a[0]} + 3*I)", rf"\left({a[1]} + 3\mathbf{{I}}\right)^{{-1}}"
        if k == 4:
            a = par(sub("M"))
            p = rng.choice(("2", "3", "-1", "-2", "0", "1"))
            return f"{a[0]}^{p}", f"{a[1]}^{{{p}}}"
        if k in (5, 6):
            a, b = par(sub("M")), par(sub("M"))
            op = rng.choice("+-")
            return f"{a[0]} {op} {b[0]}", f"{a[1]} {op} {b[1]}"
        if k == 7:
            s, a = par(sub("S")), par(sub("M"))
            return f"{s[0]}*{a[0]}", rf"{s[1]}\cdot{a[1]}"
        if k == 8:
            a, b = par(sub("M")), par(sub("M"))
            return f"{a[0]} .* {b[0]}", rf"{a[1]} \odot {b[1]}"
        if k == 9:
            a, b = par(sub("M")), par(sub("M"))
            return f"{a[0]} ./ (2 + {b[0]} .* {b[0]})", \
                rf"{a[1]} \oslash (2 + {b[1]} \odot {b[1]})"
        if k == 10:
            a = par(sub("M"))
            return f"{a[0]} .^ 2", rf"{a[1]}^{{\circ 2}}"
        if k == 11:
            fn = rng.choice(("exp", "sin", "tanh", "cos"))
            a = sub("M")
            return f"{fn}({a[0]})", rf"\{fn}({a[1]})"
        if k == 12:
            v = sub("V")
            return f"diag({v[0]})", rf"\operatorname{{diag}}({v[1]})"
        if k == 13:
            u, v = par(sub("V")), par(sub("V"))
            return f"{u[0]}*{v[0]}'", rf"{u[1]}{v[1]}^\top"
        a = par(sub("M"))
        return f"-{a[0]}", f"-{a[1]}"
    # vectors
    if leaf:
        return rng.choice((("x", r"\mathbf{x}"), ("a", r"\mathbf{a}"), ("b", r"\mathbf{b}")))
    k = rng.randrange(8)
    if k in (0, 1):
        m, v = par(sub("M")), par(sub("V"))
        return f"{m[0]}*{v[0]}", f"{m[1]}{v[1]}"
    if k == 2:
        u, v = par(sub("V")), par(sub("V"))
        op = rng.choice("+-")
        return f"{u[0]} {op} {v[0]}", f"{u[1]} {op} {v[1]}"
    if k == 3:
        s, v = par(sub("S")), par(sub("V"))
        return f"{s[0]}*{v[0]}", rf"{s[1]}\cdot{v[1]}"
    if k == 4:
        u, v = par(sub("V")), par(sub("V"))
        return f"{u[0]} .* {v[0]}", rf"{u[1]} \odot {v[1]}"
    if k == 5:
        fn = rng.choice(("exp", "sin", "tanh", "sigmoid"))
        v = sub("V")
        lat = rf"\operatorname{{sigmoid}}({v[1]})" if fn == "sigmoid" else rf"\{fn}({v[1]})"
        return f"{fn}({v[0]})", lat
    if k == 6:
        m = sub("M")
        return f"diag({m[0]})", rf"\operatorname{{diag}}({m[1]})"
    v = par(sub("V"))
    return f"-{v[0]}", f"-{v[1]}"


_VAR_OF_LATEX = re.compile(r"\\(?:mathbf|bm)\{\\?([A-Za-z]+)\}|\\(alpha|beta)\b")


def plain_names(s: str) -> list:
    out = []
    for m in re.finditer(r"[A-Za-z][A-Za-z0-9_]*", s):
        w = m.group()
        if w not in FUNCS and w not in ("I", "ones", "zeros", "T") and w not in out:
            out.append(w)
    return out


def latex_names(s: str) -> list:
    out = []
    for m in _VAR_OF_LATEX.finditer(s):
        w = m.group(1) or m.group(2)
        if w not in ("I", "1", "0") and w not in out:
            out.append(w)
    return out


# ---------------------------------------------------------------------------
# hostile templates

HOSTILE_KINDS = 40


def hostile(rng: random.Random, k: int | None = None, small: bool = False) -> Case:
    """Hostile template k (random when None); ``small`` keeps sizes cheap (for pytest)."""
    k = rng.randrange(HOSTILE_KINDS) if k is None else k
    d = int(2 ** rng.uniform(0, 7 if small else 8.7))   # 1 .. ~400, mostly small
    c = int(2 ** rng.uniform(0, 3.6 if small else 5.7))  # 1 .. ~50: chains costly to derive
    lx = False
    wrt = "X"
    let = None
    if k == 0:
        e = "tr(" + "(" * d + "X" + ")" * d + ")"
    elif k == 1:
        e = "-" * d + "tr(X)"
    elif k == 2:
        e = "tr(" + "-(" * d + "X" + ")" * d + ")"
    elif k == 3:
        e = "tr(" + "*".join(["X"] * c) + ")"
    elif k == 4:
        e = "tr(X^" + str(rng.choice((64, 65, 999999, 10 ** rng.randint(1, 30), -64, -65))) + ")"
    elif k == 5:
        e = "alpha^" + rng.choice(("1e", "9" * rng.randint(1, 30) + "e", "")) + \
            str(10 ** rng.randint(0, 6)) + "*tr(X)"
    elif k == 6:
        e = "tr(X)*" + rng.choice(HOSTILE_NUMBERS)
    elif k == 7:
        e = "tr(X)+" * (d if rng.random() < 0.2 else c) + "tr(X)"
    elif k == 8:
        e = "x" * rng.choice((1, 100, 5000, 19_999, 20_000, 20_001, 30_000))
        wrt = "x" * min(len(e), 50)
    elif k == 9:
        e = " " * rng.randint(0, 30_000) + "tr(X)"
    elif k == 10:
        e = "tr(X)" + "".join(rng.choice(UNICODE) for _ in range(rng.randint(1, 5)))
    elif k == 11:
        e = rng.choice(("__import__('os').system('true')", "eval('1')", "tr(X); import os",
                        "X.__class__", "os.system('ls')", "lambda: 0", "exec", "tr(X) # x",
                        "tr(X)\x00; rm -rf /", "${X}", "`tr(X)`", "tr(X)\n\\input{/etc/passwd}",
                        "{X}", "[X]", "X\\input{/etc/hostname}", "tr(X)%", "tr(X) -- x"))
    elif k == 12:
        lx = True
        e = rng.choice((r"\input{/etc/passwd}", r"\mathbf{X}\input{/etc/hostname}",
                        r"\include{x}", r"\write18{rm -rf /}", r"\immediate\write18{ls}",
                        r"\def\x{X}\x", r"\catcode`\$=11", r"\csname input\endcsname{x}",
                        r"\begin{document}X\end{document}", r"\verb|X|", r"\newcommand{\x}{X}",
                        r"\mathbf{\input{x}}", r"\operatorname{\input}", r"\operatorname{tr}(\X)",
                        "\\mathbf{X}^{\\top}\\\\\\mathbf{X}", r"\expandafter\input", r"\openin",
                        r"\mathbf{X}%\input{x}", "\\mathbf{X}\x00", r"\left(\mathbf{X}", r"\right)",
                        r"\operatorname{tr}{\mathbf{X}", r"\frac{1}{2", r"\mathbf{X}}", "$$$$",
                        r"$\mathbf{X}$$", r"\(\mathbf{X}\]", r"\operatorname{tr}(\mathbf{X})\)"))
    elif k == 13:
        lx = True
        e = r"\operatorname{tr}(" + "{" * d + r"\mathbf{X}" + "}" * d + ")"
    elif k == 14:
        lx = True
        e = r"\operatorname{tr}(" + r"\left(" * d + r"\mathbf{X}" + r"\right)" * d + ")"
    elif k == 15:
        lx = True
        e = r"\frac{" * c + r"\operatorname{tr}(\mathbf{X})" + "}{2}" * c
    elif k == 16:
        lx = True
        e = r"\sqrt{" * d + r"\operatorname{tr}(\mathbf{X})" + "}" * d
    elif k == 17:
        lx = True
        e = r"\|" * d + r"\mathbf{X}" + r"\|" * d
    elif k == 18:
        lx = True
        e = r"\operatorname{tr}(\mathbf{X}^{" + rng.choice(("64", "65", "999999", "1e5",
                                                           "1e1000", "1e1001", "-64", "9" * 500,
                                                           "1." + "0" * 300)) + "})"
    elif k == 19:
        lx = True
        e = r"\operatorname{tr}(" + r"\mathbf{X}" * c + ")"
    elif k == 20:
        e = "tr(X" + "'" * d + ")"
    elif k == 21:
        e = "tr(X" + "^T" * d + ")"
    elif k == 22:
        e = "tr(X" + ".T" * d + ")"
    elif k == 23:
        e = "alpha" + "^alpha" * c
        wrt = "alpha"
    elif k == 24:
        e = "tr(" + "inv(" * c + "X" + ")" * c + ")"
    elif k == 25:
        e = "exp(" * c + "tr(X)" + ")" * c
    elif k == 26:
        e = "tr(" + "(X + " * c + "X" + ")" * c + ")"
    elif k == 27:
        e = f"tr((X^{rng.choice((2, 8, 16, 32, 64))})^{rng.choice((2, 8, 64))})"
    elif k == 28:
        e = "tr(X" + " .^ 2" * c + ")"
    elif k == 29:
        e = "tr(X)"
        let = rng.choice(({"X": "matrix 999999 999999"}, {"X": "matrix 4000 4000"},
                          {"X": "symmetric 100000"}, {"X": "matrix 1 1"}, {"X": "scalar"},
                          5, 3.5, "X", [5], ["X: symmetric", "X: matrix"], {"X": ["matrix"]},
                          {"X": "matrix 0 0"}, {"X": "tensor"}, {"X ": "matrix"},
                          {"X": "symmetric\x00"}, object(), {1: "matrix"}, [None], b"X: matrix",
                          {"X": "matrix n m"}, {"X": "vector n"}, {"tr": "matrix"},
                          {"I": "matrix"}, ("X: symmetric",), {"X": "matrix " + "9" * 5000}))
    elif k == 30:
        e = "tr(X)"
        wrt = rng.choice((None, 5, "", "X ", " X", "x", "tr", "I", "X\x00", "1X", b"X",
                          "X" * 10_000, ["X"], "ones", "T", "Xx", "__class__"))
    elif k == 31:
        e = rng.choice((None, 5, 3.0, b"tr(X)", ["tr(X)"], object(), bytearray(b"X")))
        lx = rng.random() < 0.5
    elif k == 32:
        e = "tr(" + "X*" * (c // 2) + "inv(X)" + "*X" * (c // 2) + ")"
    elif k == 33:
        e = "(" * d + ")" * rng.randint(0, d)
    elif k == 34:
        e = "tr(X" + "*(X" * c + ")" * c + ")"
    elif k == 35:
        e = "norm(" * c + "X" + ")" * c
    elif k == 36:
        e = "tr(X)^" + rng.choice(("1e5", "99999999", "1e-9", "0", "-0", "(1e400)", "(-1e400)",
                                   "(1/0)", "(0/0)", "0.5^0.5^0.5", "2^2^2^2^2", "9^9^9"))
    elif k == 37:
        e = "a" + "'" * d + "*a"
        wrt = "a"
    elif k == 38:
        e = "sum(" + "exp(" * c + "x" + ")" * c + ")"
        wrt = "x"
    else:
        e = "tr(X" + "+X" * d + ")" + "*tr(X)" * c
    return Case(e, wrt, let, lx, f"hostile{k}")


# ---------------------------------------------------------------------------
# the input stream

class Generator:
    def __init__(self, seed):
        self.seed = seed
        self.plain, latex = load_corpus()
        self.latex = list(latex)
        self.latex.extend(self._printed_latex())
        self.plain_texts = [p[0] for p in self.plain]
        self.latex_texts = [p[0] for p in self.latex]

    def _printed_latex(self) -> list:
        """The LaTeX that texderive prints for the plain corpus: real input for --latex."""
        out = []
        try:
            from texderive import TexderiveError, derive
        except Exception:        # noqa: BLE001 - the fuzzer itself must start anyway
            return out
        for expr, wrt, let in self.plain:
            try:
                doc = derive(expr, wrt, let).to_dict()
                out.append((doc["function"]["latex"], wrt, let))
            except (TexderiveError, Exception):   # noqa: BLE001 - reported by the run itself
                continue
        return out

    def case(self, index: int, disabled=()) -> Case:
        """Input ``index`` of the stream; a hostile template in ``disabled`` is skipped."""
        rng = random.Random(f"{self.seed}:{index}")
        case = self.draw(rng)
        while case.kind in disabled:
            case = self.draw(rng)
        return case

    def draw(self, rng: random.Random) -> Case:
        r = rng.random()
        if r < 0.15:
            case = self.random_plain(rng)
        elif r < 0.25:
            case = self.random_latex(rng)
        elif r < 0.58:
            case = self.mutated(rng, latex=False)
        elif r < 0.80:
            case = self.mutated(rng, latex=True)
        elif r < 0.96:
            case = self.generated(rng)
        else:
            case = hostile(rng)
        case.full_render = rng.random() < 1 / 16
        return case

    def random_plain(self, rng) -> Case:
        n = rng.randint(0, 40)
        if rng.random() < 0.3:
            e = "".join(chr(rng.randrange(0, 0x250)) for _ in range(n))
        else:
            e = "".join(rng.choice(PLAIN_PIECES) for _ in range(n))
        names = plain_names(e)
        return Case(e, rng.choice(names) if names else "X", None, False, "random_plain")

    def random_latex(self, rng) -> Case:
        n = rng.randint(0, 30)
        e = "".join(rng.choice(LATEX_PIECES) for _ in range(n))
        names = latex_names(e)
        return Case(e, rng.choice(names) if names else "X", None, True, "random_latex")

    def mutated(self, rng, latex: bool) -> Case:
        corpus = self.latex if latex else self.plain
        texts = self.latex_texts if latex else self.plain_texts
        expr, wrt, let = rng.choice(corpus)
        count = rng.choice((1, 1, 1, 2, 2, 3, 4, 6))
        e = random_mutations(rng, expr, latex, texts, count)
        r = rng.random()
        if r < 0.15:
            names = latex_names(e) if latex else plain_names(e)
            if names:
                wrt = rng.choice(names)
        elif r < 0.2:
            let = rng.choice(({}, {"X": "symmetric"}, {"X": "matrix n n"}, {"x": "vector 3"},
                              {"X": "matrix 2 3"}, {"X": "scalar"}, {"A": "symmetric n"}))
        return Case(e, wrt, let, latex, "mutate_latex" if latex else "mutate_plain")

    def generated(self, rng) -> Case:
        plain, latex = gen_expr(rng, rng.randint(1, 4))
        lx = rng.random() < 0.35
        e = latex if lx else plain
        names = plain_names(plain)
        wrt = rng.choice(names) if names else "X"
        let = {"S": "symmetric"} if "S" in names and rng.random() < 0.5 else {}
        if rng.random() < 0.15:      # a light mutation of a valid expression
            e = random_mutations(rng, e, lx, self.latex_texts if lx else self.plain_texts, 1)
        return Case(e, wrt, let, lx, "generated_latex" if lx else "generated")


# ---------------------------------------------------------------------------
# running one input

class StageTimeout(BaseException):
    """Raised by the SIGALRM handler; BaseException so no `except Exception` swallows it."""


def _alarm(signum, frame):
    raise StageTimeout()


@dataclass
class Outcome:
    status: str       # ok | error | refused | render_error | check_flaky | escape | hang | wrong
    stage: str = ""                   # derive | check | render
    exc: str = ""
    message: str = ""
    tb: list = field(default_factory=list)
    seconds: float = 0.0
    error: object = None              # the TexderiveError, for callers that inspect it

    @property
    def bad(self) -> bool:
        return self.status in ("escape", "hang", "wrong")

    def signature(self) -> tuple:
        where = self.tb[-1] if self.tb else ""
        return (self.status, self.stage, self.exc, where)

    def describe(self) -> str:
        if self.status in ("wrong", "check_flaky"):
            return f"{self.status.replace('_', ' ')}: {self.message}"
        if self.status == "hang":
            return f"hang in {self.stage}: no result after {self.seconds:.1f} s"
        return f"{self.exc} in {self.stage}: {self.message}"


def _tb_tail(exc: BaseException, n: int = 4) -> list:
    frames = traceback.extract_tb(exc.__traceback__)
    return [f"{os.path.relpath(f.filename, ROOT) if f.filename.startswith(ROOT) else f.filename}"
            f":{f.lineno} in {f.name}: {(f.line or '').strip()}" for f in frames[-n:]]


_CHECK_CACHE: dict = {}


def run_case(case: Case, timeout: float = STAGE_TIMEOUT, check: bool = True,
             render: bool = True, confirm: bool = True, heartbeat=None) -> Outcome:
    """Run one input through derive, the numeric check and the printers; classify it.

    A gradient that fails the numeric check is confirmed with the exact check (SymPy,
    ``timeout`` seconds): where that proves the gradient, finite differences were the
    problem (``tan(1e29*x)``), and the outcome is ``check_flaky``, not ``wrong``.  A
    TexderiveError from a printer after a successful derive is ``render_error``: not an
    escape, but listed in the report.
    """
    from texderive import TexderiveError, derive
    from texderive.check import exact_check, numeric_check

    use_alarm = bool(timeout) and hasattr(signal, "setitimer")
    old = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
    stage = "derive"
    t0 = time.perf_counter()

    def timed(fn):
        if heartbeat:
            heartbeat()
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return fn()
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)

    try:
        try:
            d = timed(lambda: derive(case.expr, case.wrt, case.let, latex=case.latex))
        except TexderiveError as exc:
            return Outcome("error", stage, type(exc).__name__, exc.message,
                           seconds=time.perf_counter() - t0, error=exc)
        result = None
        if check:
            stage = "check"
            key = (d.f, d.result, d.wrt_sym)
            kind_kw = {} if d.result_kind == "gradient" else {
                "kind": d.result_kind, "numpy": d.result_numpy}
            from texderive.check import UNDERFLOW
            result = _CHECK_CACHE.get(key)
            if result is None:
                t1 = time.perf_counter()
                try:
                    result = timed(lambda: numeric_check(d.f, d.result, d.wrt_sym, **kind_kw))
                except TexderiveError as exc:
                    result = {"refused": exc.message, "cls": type(exc).__name__}
                if result.get("reason") == UNDERFLOW:    # the check cannot tell: a refusal
                    result = {"refused": UNDERFLOW, "cls": "CheckError"}
                if confirm and "refused" not in result and not result.get("passed"):
                    if heartbeat:
                        heartbeat()
                    try:
                        ex = exact_check(d.f, d.result, d.wrt_sym, timeout=timeout,
                                         **({"kind": d.result_kind} if kind_kw else {}))
                        result = dict(result, exact=ex.get("status"))
                    except TexderiveError as exc:
                        result = dict(result, exact=f"refused: {exc.message}")
                if len(_CHECK_CACHE) > 20_000:
                    _CHECK_CACHE.clear()
                if time.perf_counter() - t1 < timeout:
                    _CHECK_CACHE[key] = result
        render_error = None
        if render:
            stage = "render"
            try:
                timed(lambda: (d.result_text, d.to_dict(), case.full_render and d.to_latex()))
            except TexderiveError as exc:
                render_error = exc
        secs = time.perf_counter() - t0
        if result is not None and "refused" not in result and not result.get("passed"):
            status = "check_flaky" if result.get("exact") == "proved" else "wrong"
            return Outcome(status, "check", "", f"{result.get('reason', '')}; exact check: "
                           f"{result.get('exact', 'not run')}; gradient {_safe_text(d)}; "
                           f"sizes {result.get('sizes')}", seconds=secs)
        if render_error is not None:
            return Outcome("render_error", "render", type(render_error).__name__,
                           render_error.message[:300], _tb_tail(render_error), secs)
        if result is not None and "refused" in result:
            return Outcome("refused", "check", result["cls"], result["refused"], seconds=secs)
        return Outcome("ok", stage, seconds=secs)
    except StageTimeout:
        return Outcome("hang", stage, "StageTimeout", f"more than {timeout:g} s",
                       seconds=time.perf_counter() - t0)
    except BaseException as exc:        # noqa: BLE001 - this is what the fuzzer looks for
        if isinstance(exc, KeyboardInterrupt):
            raise
        msg = str(exc).splitlines()[0] if str(exc) else ""
        return Outcome("escape", stage, type(exc).__name__, msg[:300], _tb_tail(exc),
                       time.perf_counter() - t0)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def _safe_text(d) -> str:
    try:
        return d.gradient_text[:200]
    except BaseException:               # noqa: BLE001
        return "<unprintable>"


# ---------------------------------------------------------------------------
# minimising a reproducer (greedy, by tokens then characters)

def minimize(case: Case, outcome: Outcome, budget: int = 300) -> Case:
    if not isinstance(case.expr, str) or outcome.status == "hang":
        return case
    sig = outcome.signature()
    runs = 0

    def same(expr):
        nonlocal runs
        runs += 1
        o = run_case(Case(expr, case.wrt, case.let, case.latex, case.kind), timeout=2.0)
        return o.signature() == sig

    best = case.expr
    for unit in ("tokens", "chars"):
        changed = True
        while changed and runs < budget:
            changed = False
            parts = tokens_of(best) if unit == "tokens" else list(best)
            size = max(1, len(parts) // 2)
            while size >= 1 and runs < budget:
                i = 0
                while i < len(parts) and runs < budget:
                    cand = "".join(parts[:i] + parts[i + size:])
                    if cand != best and cand.strip() and same(cand):
                        best, parts, changed = cand, parts[:i] + parts[i + size:], True
                    else:
                        i += size
                size //= 2
    return Case(best, case.wrt, case.let, case.latex, case.kind)


# ---------------------------------------------------------------------------
# workers and the supervisor

# Each worker has a block of shared memory: int64 counters, then the input it is running
# (JSON), so that the supervisor can name an input whose worker it had to kill.
HEARTBEAT, NEXT, TRIED, ESCAPED, WRONG, OK, ERROR, REFUSED, PHASE, RENDER_ERR, FLAKY = range(11)
_SLOTS = 11
NOTABLE = ("render_error", "check_flaky")   # listed in the report, but not failures
MAX_NOTABLE = 200                           # records of them per worker
_HDR = 8 * _SLOTS
_CUR = 1 << 18
_BLOCK = _HDR + 8 + _CUR
HANG_BREAKER = 2              # a hostile template that hung this often is not drawn again


class Shared:
    def __init__(self, jobs: int):
        self.jobs = jobs
        self.mm = mmap.mmap(-1, _BLOCK * jobs)

    def get(self, w: int, k: int) -> int:
        return struct.unpack_from("q", self.mm, w * _BLOCK + 8 * k)[0]

    def set(self, w: int, k: int, v: int) -> None:
        struct.pack_into("q", self.mm, w * _BLOCK + 8 * k, v)

    def add(self, w: int, k: int, v: int = 1) -> None:
        self.set(w, k, self.get(w, k) + v)

    def total(self, k: int) -> int:
        return sum(self.get(w, k) for w in range(self.jobs))

    def set_current(self, w: int, case: Case) -> None:
        b = json.dumps(_jsonable(case), ensure_ascii=True).encode()[:_CUR]
        base = w * _BLOCK + _HDR
        struct.pack_into("q", self.mm, base, len(b))
        self.mm[base + 8:base + 8 + len(b)] = b

    def current(self, w: int) -> dict:
        base = w * _BLOCK + _HDR
        n = struct.unpack_from("q", self.mm, base)[0]
        try:
            return json.loads(self.mm[base + 8:base + 8 + n].decode())
        except ValueError:
            return {"expr": "<unreadable>"}


def _record(fd: int, rec: dict) -> None:
    data = (json.dumps(rec, ensure_ascii=True) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


def _jsonable(case: Case) -> dict:
    d = case.to_json()
    for k in ("expr", "wrt", "let"):
        try:
            json.dumps(d[k])
        except (TypeError, ValueError):
            d[k] = {"repr": repr(d[k])}
    return d


def _case_from(d: dict) -> Case:
    def val(v):
        return f"<{v['repr']}>" if isinstance(v, dict) and set(v) == {"repr"} else v
    return Case(val(d.get("expr")), val(d.get("wrt")), val(d.get("let")), d.get("latex", False),
                d.get("kind", ""), d.get("full_render", False))


def _read_records(path: str) -> list:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue                    # a line cut short by a killed worker
    return out


def worker(w: int, args, sh: Shared, rec_fd: int, deadline: float, disabled: set) -> None:
    gen = Generator(args.seed)
    seen: set = set()
    hangs: dict = {}
    i = sh.get(w, NEXT)
    while i < args.inputs and time.time() < deadline:
        case = gen.case(i, disabled)
        for j in range(5):                  # an input this worker already ran: draw another
            if case.key() not in seen:
                break
            case = gen.draw(random.Random(f"{args.seed}:{i}:{j}"))
        seen.add(case.key())
        sh.set_current(w, case)
        out = run_case(case, heartbeat=lambda: sh.add(w, HEARTBEAT))
        slot = {"escape": ESCAPED, "hang": ESCAPED, "wrong": WRONG, "ok": OK, "error": ERROR,
                "render_error": RENDER_ERR, "check_flaky": FLAKY}.get(out.status, REFUSED)
        sh.add(w, slot)
        notable = out.status in NOTABLE and sh.get(w, RENDER_ERR) + sh.get(w, FLAKY) <= MAX_NOTABLE
        if out.bad or notable:
            _record(rec_fd, {"index": i, "case": _jsonable(case), "status": out.status,
                             "stage": out.stage, "exc": out.exc, "message": out.message,
                             "tb": out.tb, "seconds": round(out.seconds, 3),
                             "signature": list(out.signature())})
            if out.status == "hang" and case.kind.startswith("hostile"):
                hangs[case.kind] = hangs.get(case.kind, 0) + 1
                if hangs[case.kind] >= HANG_BREAKER:
                    disabled.add(case.kind)
        i += args.jobs
        sh.set(w, NEXT, i)
        sh.add(w, TRIED)           # last: the supervisor's count never runs ahead of NEXT
    sh.set(w, PHASE, 2)


def _disabled_kinds(records: list) -> set:
    count: dict = {}
    for r in records:
        kind = r.get("case", {}).get("kind", "")
        if r.get("status") == "hang" and kind.startswith("hostile"):
            count[kind] = count.get(kind, 0) + 1
    return {k for k, n in count.items() if n >= HANG_BREAKER}


def _fork(fn) -> int:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            fn()
        except BaseException:                      # noqa: BLE001 - a bug of the fuzzer itself
            traceback.print_exc()
            code = 3
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def supervise(args) -> int:
    jobs = args.jobs
    sh = Shared(jobs)
    fd, rec_path = tempfile.mkstemp(prefix="texderive-fuzz-", suffix=".jsonl")
    os.close(fd)
    hard = STAGE_TIMEOUT + HARD_GRACE
    deadline = args.t0 + (args.seconds if args.seconds else 1e12)
    killed: list = []
    try:
        running: dict = {}                           # worker -> [pid, last heartbeat, since]

        def start(w):
            rec_fd = os.open(rec_path, os.O_WRONLY | os.O_APPEND)
            disabled = _disabled_kinds(_read_records(rec_path) + killed)
            pid = _fork(lambda: worker(w, args, sh, rec_fd, deadline, disabled))
            os.close(rec_fd)
            running[w] = [pid, sh.get(w, HEARTBEAT), time.time()]

        for w in range(jobs):
            sh.set(w, NEXT, w)
            start(w)
        shown = 0
        while running:
            time.sleep(0.1)
            for w in list(running):
                pid, beat, since = running[w]
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    del running[w]
                    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3:
                        print("fuzz: a worker failed (a bug in tests/fuzz.py)", flush=True)
                        for p, *_ in running.values():
                            os.kill(p, signal.SIGKILL)
                        return 2
                    if sh.get(w, PHASE) != 2 and sh.get(w, NEXT) < args.inputs \
                            and time.time() < deadline:
                        start(w)                     # died on its own (killed by the OS?)
                    continue
                now = sh.get(w, HEARTBEAT)
                if now != beat:
                    running[w] = [pid, now, time.time()]
                elif time.time() - since > hard:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    del running[w]
                    idx, cur = sh.get(w, NEXT), sh.current(w)
                    killed.append({"index": idx, "case": cur, "status": "hang", "stage": "?",
                                   "exc": "killed", "message": f"stuck for more than {hard:.0f} s "
                                   "in code that SIGALRM cannot interrupt", "tb": [],
                                   "seconds": round(time.time() - since, 1),
                                   "signature": ["hang", "killed", "", ""]})
                    print(f"fuzz: input {idx} was stuck for {hard:.0f} s; killed its worker: "
                          f"{_case_from(cur).short()}", flush=True)
                    sh.add(w, ESCAPED)
                    sh.set(w, NEXT, idx + jobs)
                    sh.add(w, TRIED)
                    if idx + jobs < args.inputs and time.time() < deadline:
                        start(w)
            tried = sh.total(TRIED)
            while tried >= shown + PROGRESS_EVERY:
                shown += PROGRESS_EVERY
                print(f"fuzz: {tried} inputs, {sh.total(ESCAPED)} escaped, {sh.total(WRONG)} "
                      f"wrong ({sh.total(OK)} ok, {sh.total(ERROR)} errors, "
                      f"{sh.total(REFUSED)} refused), {time.time() - args.t0:.0f} s", flush=True)
        records = _read_records(rec_path) + killed
        records.sort(key=lambda r: r["index"])
        minimized = _minimize_all(args, sh, records, rec_path) if args.minimize else {}
    finally:
        os.unlink(rec_path)
    return report(args, sh, records, minimized)


def _minimize_all(args, sh: Shared, records: list, rec_path: str) -> dict:
    """Shrink the first reproducer of each kind of escape, in a child the supervisor can kill."""
    firsts: dict = {}
    for r in records:
        sig = tuple(r["signature"])
        if r["status"] == "escape" and (sig not in firsts or len(str(r["case"].get("expr")))
                                        < len(str(firsts[sig]["case"].get("expr")))):
            firsts[sig] = r
    if not firsts:
        return {}
    out_path = rec_path + ".min"
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def work():
        for sig, r in list(firsts.items())[:args.show]:
            case = _case_from(r["case"])
            small = minimize(case, Outcome(r["status"], r["stage"], r["exc"], tb=r["tb"][-1:]))
            sh.add(0, HEARTBEAT)
            if small.expr != case.expr:
                _record(fd, {"minimized": list(sig), "case": _jsonable(small)})

    pid = _fork(work)
    os.close(fd)
    end = time.time() + 120
    while time.time() < end:
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    try:
        return {tuple(r["minimized"]): r["case"] for r in _read_records(out_path)
                if "minimized" in r}
    finally:
        os.unlink(out_path)


def report(args, sh: Shared, records: list, minimized: dict) -> int:
    tried, escaped, wrong = sh.total(TRIED), sh.total(ESCAPED), sh.total(WRONG)
    elapsed = time.time() - args.t0
    t = os.times()
    cpu = t.children_user + t.children_system
    print(f"fuzz: {tried} inputs in {elapsed:.0f} s, {cpu:.0f} s of CPU ({args.jobs} workers, "
          f"seed {args.seed}): {sh.total(OK)} derived and checked, {sh.total(ERROR)} "
          f"TexderiveErrors, {sh.total(REFUSED)} refused by the check")
    if sh.total(RENDER_ERR) or sh.total(FLAKY):
        print(f"fuzz: not counted as failures: {sh.total(RENDER_ERR)} derivations whose printing "
              f"raised a TexderiveError, {sh.total(FLAKY)} numeric-check failures that the "
              f"exact check proved wrong (the gradient is right)")
    disabled = sorted(_disabled_kinds(records))
    if disabled:
        print(f"fuzz: hostile templates not drawn after {HANG_BREAKER} hangs: "
              f"{', '.join(disabled)}")
    if records:
        groups: dict = {}
        for r in sorted(records, key=lambda r: r["status"] in NOTABLE):    # failures first
            groups.setdefault(tuple(r["signature"]), []).append(r)
        bad = [r for r in records if r["status"] not in NOTABLE]
        kinds = len({tuple(r["signature"]) for r in bad})
        print(f"fuzz: {len(bad)} failing inputs of {kinds} kinds; the first reproducers:" if bad
              else "fuzz: no failing inputs; outcomes worth a look (not failures):")
        for sig, rs in list(groups.items())[:args.show]:
            first = rs[0]
            shortest = min(rs, key=lambda r: len(str(r["case"].get("expr"))))
            what = (f"{first['status'].replace('_', ' ')}: {first['message']}"
                    if first["status"] in ("wrong", "check_flaky") else
                    f"{first['status']} in {first['stage']}: {first['exc']}: {first['message']}")
            if first["status"] in NOTABLE:
                what = "(not a failure) " + what
            print(f"\n  [{len(rs)}x] {what}")
            print(f"    first (input {first['index']}): {_case_from(first['case']).short()}")
            if shortest is not first:
                print(f"    shortest: {_case_from(shortest['case']).short()}")
            if sig in minimized:
                print(f"    minimised: {_case_from(minimized[sig]).short()}")
            for line in first.get("tb", [])[-3:]:
                print(f"      {line}")
        print()
    print(f"fuzz: {tried} inputs, {escaped} escaped exceptions, {wrong} wrong gradients",
          flush=True)
    return 1 if escaped or wrong else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=100_000, help="how many inputs (100000)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the input stream (0)")
    ap.add_argument("--seconds", type=float, default=None,
                    help="stop after this many seconds, whatever --inputs says")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes (min(2, CPUs))")
    ap.add_argument("--only", type=int, default=None, metavar="I",
                    help="run input I of the stream alone, in this process, and show it")
    ap.add_argument("--show", type=int, default=20, help="kinds of failure to list (20)")
    ap.add_argument("--no-minimize", dest="minimize", action="store_false",
                    help="do not shrink the reproducers")
    args = ap.parse_args(argv)
    args.jobs = max(1, args.jobs)
    args.t0 = time.time()
    if args.only is not None:
        case = Generator(args.seed).case(args.only)
        out = run_case(case)
        print(case.call())
        print(out.status, out.stage, out.exc, out.message)
        for line in out.tb:
            print("  " + line)
        return 1 if out.bad else 0
    if not hasattr(os, "fork"):
        ap.error("tests/fuzz.py needs os.fork (POSIX)")
    return supervise(args)


if __name__ == "__main__":
    sys.exit(main())
