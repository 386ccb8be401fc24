r"""LaTeX input (texderive.latex_input): the user's LaTeX reads into the same tree as
the plain notation, bad LaTeX is a ParseError/LimitError at the right column, and
nothing else escapes."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from texderive import notation, shapes
from texderive.errors import LimitError, ParseError, ShapeError, TexderiveError
from texderive.latex_input import parse_latex


def same(latex: str, plain: str, let=None, **kw) -> None:
    let = shapes.parse_let(let or {})
    got = shapes.elaborate(parse_latex(latex, **kw), latex, let)
    want = shapes.elaborate(notation.parse(plain), plain, let)
    assert got == want, f"{latex!r}: {got!r} != {want!r}"


PAIRS = [
    # the issue's own examples
    (r"\operatorname{Tr}(\mathbf{A}\mathbf{X}\mathbf{B})", "tr(A*X*B)"),
    (r"\log\det(\mathbf{X}^\top\mathbf{X})", "log(det(X'*X))"),
    (r"\|\mathbf{A}\mathbf{x}-\mathbf{b}\|_2^2", "norm(A*x - b)^2"),
    (r"\mathbf{x}^T\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\|\mathbf{X}\|_F^2", "norm(X)^2"),
    (r"\frac{1}{2}\mathbf{x}^\top\mathbf{x}", "1/2*x'*x"),
    # names
    (r"\operatorname{tr}(\mathbf{X})", "tr(X)"),
    (r"\bm{x}^\top\bm{x}", "x'*x"),
    (r"\operatorname{tr}(\boldsymbol{\Sigma})", "tr(Sigma)"),
    (r"\operatorname{tr}(\bm{\Sigma}^{-1})", "tr(inv(Sigma))"),
    (r"\operatorname{tr}(X)", "tr(X)"),
    (r"\operatorname{tr}(\Sigma)", "tr(Sigma)"),
    (r"\alpha", "alpha"),
    (r"\operatorname{tr}(\mathbf{X}_1)", "tr(X1)"),
    (r"\operatorname{tr}(\mathbf{X}_{1})", "tr(X1)"),
    (r"\operatorname{tr}(\mathbf{X}_{12})", "tr(X12)"),
    (r"\operatorname{tr}(\mathbf{X_1})", "tr(X1)"),
    (r"x_{i}^\top x_{i}", "x_i'*x_i"),
    (r"x_i^\top x_j", "x_i'*x_j"),
    (r"\operatorname{tr}(\mathbf{W}_{q})", "tr(W_q)"),
    (r"\operatorname{tr}(\mathbf{W}_q \mathbf{W}_{k}^\top)", "tr(W_q*W_k')"),
    (r"\operatorname{tr}(\mathbf{Wq})", "tr(Wq)"),
    (r"\operatorname{tr}(\mathbf{W q})", "tr(Wq)"),
    (r"\operatorname{tr}(AX)", "tr(A*X)"),
    (r"\operatorname{tr}(A X B)", "tr(A*X*B)"),
    (r"\mathbf y^\top \mathbf X \mathbf y", "y'*X*y"),
    (r"\alpha_2 \beta", "alpha2*beta"),
    (r"\lambda_{max}", "lambda_max"),
    (r"\operatorname{tr}(\bm{\Sigma}_k)", "tr(Sigma_k)"),
    (r"\operatorname{tr}(\bm\Sigma)", "tr(Sigma)"),
    (r"\operatorname{tr}(\Lambda\Gamma\Delta\Theta\Xi\Pi\Phi\Psi\Omega\Upsilon\Sigma)",
     "tr(Lambda*Gamma*Delta*Theta*Xi*Pi*Phi*Psi*Omega*Upsilon*Sigma)"),
    (r"\alpha\beta\gamma\delta\epsilon\zeta\eta\theta\iota\kappa\lambda\mu",
     "alpha*beta*gamma*delta*epsilon*zeta*eta*theta*iota*kappa*lambda*mu"),
    (r"\nu\xi\pi\rho\sigma\tau\upsilon\phi\chi\psi\omega",
     "nu*xi*pi*rho*sigma*tau*upsilon*phi*chi*psi*omega"),
    (r"\varepsilon\varphi", "epsilon*phi"),
    (r"\operatorname{tr}(\mathbf{T})", "tr(T)"),
    # products
    (r"\mathbf{a}^\top \mathbf{X} \mathbf{b}", "a'*X*b"),
    (r"\alpha \cdot \beta", "alpha*beta"),
    (r"\alpha \times \beta", "alpha*beta"),
    (r"\alpha * \beta", "alpha*beta"),
    (r"\operatorname{sum}(\mathbf{A} \odot \mathbf{X})", "sum(A .* X)"),
    (r"\operatorname{sum}(\mathbf{A} \circ \mathbf{X})", "sum(A .* X)"),
    (r"\operatorname{sum}(\mathbf{A} \oslash \mathbf{X})", "sum(A ./ X)"),
    (r"\mathbf{1}^\top(\mathbf{1} \oslash \mathbf{x})", "ones'*(1 ./ x)"),
    (r"\mathbf{a}^\top\mathbf{1} \oslash \alpha", "a'*ones ./ alpha"),
    (r"\beta - \mathbf{1}^\top(\mathbf{1} \oslash \mathbf{x})", "beta - ones'*(1 ./ x)"),
    (r"\mathbf{1}^\top(\exp\mathbf{1} \oslash \mathbf{x})", "ones'*(exp(ones) ./ x)"),
    (r"\alpha / 2", "alpha/2"),
    (r"\alpha \div \beta", "alpha/beta"),
    (r"-\alpha + \beta - \gamma", "-alpha + beta - gamma"),
    (r"\alpha \cdot -\beta", "alpha*-beta"),
    # transpose and powers
    (r"\mathbf{x}^\top\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^{\top}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^{T}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^{\mathsf T}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^{\mathsf{T}}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^\mathsf{T}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^{\mathrm{T}}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^\intercal\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^{\T}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^\T\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^{\prime}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}'\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\mathbf{x}^{\!\top}\mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\operatorname{tr}(\mathbf{X}^{-1})", "tr(inv(X))"),
    (r"\operatorname{tr}(\mathbf{A}\mathbf{X}^{-\top})", "tr(A*inv(X)')"),
    (r"\operatorname{tr}(\mathbf{A}\mathbf{X}^{-T})", "tr(A*inv(X)')"),
    (r"\operatorname{tr}(\mathbf{A}\mathbf{X}^{-\mathsf T})", "tr(A*X^-1')"),
    (r"\operatorname{tr}(\mathbf{A}\mathbf{X}^{-\mathsf{T}})", "tr(A*X^-1')"),
    (r"\operatorname{tr}(\mathbf{A}\mathbf{X}^{-\T})", "tr(A*inv(X)')"),
    (r"\operatorname{tr}(\mathbf{X}^2)", "tr(X^2)"),
    (r"\operatorname{tr}(\mathbf{X}^{-2})", "tr(X^-2)"),
    (r"\operatorname{tr}((\mathbf{A}+\mathbf{X})^{-1})", "tr(inv(A + X))"),
    (r"\alpha^2", "alpha^2"),
    (r"\alpha^{2}", "alpha^2"),
    (r"\alpha^{10}", "alpha^10"),
    (r"\alpha^{\beta}", "alpha^beta"),
    (r"\alpha^\beta", "alpha^beta"),
    (r"\alpha^{1/2}", "alpha^(1/2)"),
    (r"\alpha^{\frac{1}{2}}", "alpha^(1/2)"),
    (r"\alpha^{-0.5}", "alpha^(-0.5)"),
    (r"\alpha^{\beta + 1}", "alpha^(beta + 1)"),
    (r"\operatorname{sum}(\mathbf{B}^{\circ 2})", "sum(B .^ 2)"),
    (r"\operatorname{sum}(\mathbf{B}^{\circ -1})", "sum(B .^ -1)"),
    (r"\mathbf{x}^\top\mathbf{x}''", "x'*x''"),
    # functions
    (r"\operatorname{Tr}(\mathbf{X})", "tr(X)"),
    (r"\mathrm{tr}(\mathbf{X})", "tr(X)"),
    (r"\text{tr}(\mathbf{X})", "tr(X)"),
    (r"\tr(\mathbf{X})", "tr(X)"),
    (r"\Tr(\mathbf{X})", "tr(X)"),
    (r"\tr\mathbf{X}", "tr(X)"),
    (r"\operatorname{tr}\mathbf{X}", "tr(X)"),
    (r"\operatorname{tr}\mathbf{X}^2", "tr(X^2)"),
    (r"\operatorname{tr}\left(\mathbf{A}\mathbf{X}\right)", "tr(A*X)"),
    (r"\operatorname{tr}\left[\mathbf{A}\mathbf{X}\right]", "tr(A*X)"),
    (r"\operatorname{tr}\{\mathbf{A}\mathbf{X}\}", "tr(A*X)"),
    (r"\operatorname{tr}{\mathbf{A}\mathbf{X}}", "tr(A*X)"),
    (r"\operatorname*{tr}(\mathbf{X})", "tr(X)"),
    (r"\det(\mathbf{X})", "det(X)"),
    (r"\det\mathbf{X}", "det(X)"),
    (r"\det\left(\mathbf{X}\right)", "det(X)"),
    (r"\log\det\mathbf{Y}", "logdet(Y)"),
    (r"\log\det(\mathbf{Y})", "logdet(Y)"),
    (r"\log\det\left(\mathbf{X}^{\top}\mathbf{X}\right)", "logdet(X'*X)"),
    (r"\log(\det(\mathbf{Y}))", "logdet(Y)"),
    (r"\log\,\det\mathbf{Y}", "logdet(Y)"),
    (r"\operatorname{logdet}(\mathbf{Y})", "logdet(Y)"),
    (r"\log\alpha", "log(alpha)"),
    (r"\ln\alpha", "log(alpha)"),
    (r"\ln(\alpha)", "log(alpha)"),
    (r"\operatorname{ln}(\alpha)", "log(alpha)"),
    (r"\exp(\alpha)", "exp(alpha)"),
    (r"\exp\alpha^2", "exp(alpha^2)"),
    (r"\exp(\alpha)^2", "exp(alpha)^2"),
    (r"\exp(-\alpha)", "exp(-alpha)"),
    (r"\exp{-\alpha}", "exp(-alpha)"),
    (r"\exp\alpha\beta", "exp(alpha)*beta"),
    (r"\sqrt{\mathbf{x}^\top\mathbf{x}}", "sqrt(x'*x)"),
    (r"\sqrt\alpha", "sqrt(alpha)"),
    (r"\sqrt[3]{\alpha}", "alpha^(1/3)"),
    (r"\sin\alpha", "sin(alpha)"),
    (r"\cos\alpha", "cos(alpha)"),
    (r"\tan\alpha", "tan(alpha)"),
    (r"\sinh\alpha", "sinh(alpha)"),
    (r"\cosh\alpha", "cosh(alpha)"),
    (r"\tanh(\alpha)", "tanh(alpha)"),
    (r"\sin^2\alpha", "sin(alpha)^2"),
    (r"\sin^{2}(\alpha)", "sin(alpha)^2"),
    (r"\mathbf{1}^\top\operatorname{diag}(\mathbf{X})", "ones'*diag(X)"),
    (r"\operatorname{tr}(\operatorname{diag}(\mathbf{x}))", "tr(diag(x))"),
    (r"\mathbf{1}^\top\operatorname{sigmoid}(\mathbf{x})", "ones'*sigmoid(x)"),
    (r"\operatorname{sum}(\mathbf{X})", "sum(X)"),
    (r"\operatorname{trace}(\mathbf{X})", "tr(X)"),
    (r"\lvert \alpha \rvert", "abs(alpha)"),
    (r"\left| \alpha \right|", "abs(alpha)"),
    (r"|\alpha|", "abs(alpha)"),
    (r"\vert\alpha\vert", "abs(alpha)"),
    (r"|\alpha||\beta|", "abs(alpha)*abs(beta)"),
    (r"\left|\alpha |\beta| \right|", "abs(alpha*abs(beta))"),
    (r"\operatorname{sum}(\lvert \mathbf{x} \rvert)", "sum(abs(x))"),
    (r"\log|\alpha|", "log(abs(alpha))"),
    # norms and inner products
    (r"\|\mathbf{x}\|", "norm(x)"),
    (r"\|\mathbf{x}\|_2", "norm(x)"),
    (r"\|\mathbf{x}\|_{2}", "norm2(x)"),
    (r"\|\mathbf{X}\|_F", "norm(X)"),
    (r"\|\mathbf{x}\|^2_2", "norm(x)^2"),
    (r"\|\mathbf{x}\|_2^2", "norm(x)^2"),
    (r"\|\mathbf{X}\|_{F}^{2}", "norm(X)^2"),
    (r"\|\mathbf{X}\|_{\mathrm{F}}^2", "norm(X)^2"),
    (r"\|\mathbf{X}\|_\mathrm{F}^2", "norm(X)^2"),
    (r"\|\mathbf{X}\|^{2}_{F}", "norm(X)^2"),
    (r"\left\| \mathbf{x} \right\|", "norm(x)"),
    (r"\left\|\mathbf{A}\mathbf{x} - \mathbf{b}\right\|_2^2", "norm(A*x - b)^2"),
    (r"\lVert \mathbf{x} \rVert", "norm(x)"),
    (r"\left\lVert\mathbf{x}\right\rVert^2", "norm(x)^2"),
    (r"\Vert \mathbf{x} \Vert", "norm(x)"),
    (r"\bigl\|\mathbf{x}\bigr\|", "norm(x)"),
    (r"\|\mathbf{x}\|\,\|\mathbf{y}\|", "norm(x)*norm(y)"),
    (r"\|\mathbf{x}\|\|\mathbf{y}\|", "norm(x)*norm(y)"),
    (r"\| |\mathbf{x}| \|", "norm(abs(x))"),
    (r"\langle \mathbf{A}, \mathbf{X} \rangle", "tr(A'*X)"),
    (r"\langle \mathbf{A}, \mathbf{B}\mathbf{X} \rangle", "tr(A'*(B*X))"),
    (r"\left\langle \mathbf{A}, \mathbf{X} \right\rangle", "tr(A'*X)"),
    (r"\langle \mathbf{A}, \mathbf{X} \rangle_F", "tr(A'*X)"),
    (r"\langle \mathbf{a}, \mathbf{x} \rangle^2", "tr(a'*x)^2"),
    # fractions and grouping
    (r"\frac{\alpha}{\beta}", "alpha/beta"),
    (r"\tfrac{1}{2}\alpha", "1/2*alpha"),
    (r"\dfrac{1}{2}\alpha", "1/2*alpha"),
    (r"\frac12\alpha", "1/2*alpha"),
    (r"\frac{\alpha+1}{\beta}", "(alpha + 1)/beta"),
    (r"\frac{\alpha}{\beta}^2", "(alpha/beta)^2"),
    (r"-\frac{1}{2}\alpha", "-(1/2)*alpha"),
    (r"\mathbf{a}^\top\frac{\mathbf{x} - \mathbf{a}}{\|\mathbf{x} - \mathbf{a}\|}",
     "a'*((x - a)/norm(x - a))"),
    (r"(\alpha + \beta)^2", "(alpha + beta)^2"),
    (r"\left( \alpha + \beta \right)^2", "(alpha + beta)^2"),
    (r"\bigl( \alpha + \beta \bigr)^2", "(alpha + beta)^2"),
    (r"\Bigl( \alpha + \beta \Bigr)^2", "(alpha + beta)^2"),
    (r"\big( \alpha + \beta \big)^2", "(alpha + beta)^2"),
    (r"\Big( \alpha + \beta \Big)^2", "(alpha + beta)^2"),
    (r"\biggl( \alpha + \beta \biggr)^2", "(alpha + beta)^2"),
    (r"[\alpha + \beta]^2", "(alpha + beta)^2"),
    (r"\left[\alpha + \beta\right]^2", "(alpha + beta)^2"),
    (r"\{\alpha + \beta\}^2", "(alpha + beta)^2"),
    (r"\left\{ \alpha + \beta \right\}^2", "(alpha + beta)^2"),
    (r"{\alpha + \beta}^2", "(alpha + beta)^2"),
    (r"\alpha{}\beta", "alpha*beta"),
    # constants
    (r"\mathbf{x}^\top\mathbf{I}\mathbf{x}", "x'*I*x"),
    (r"\mathbf{x}^\top I \mathbf{x}", "x'*I*x"),
    (r"\mathbf{1}^\top\mathbf{x}", "ones'*x"),
    (r"\mathbb{1}^\top\mathbf{x}", "ones'*x"),
    (r"\mathbf{0}^\top\mathbf{x}", "zeros'*x"),
    (r"\mathbf{x}^\top\mathrm{I}\mathbf{x}", "x'*I*x"),
    # spacing and math delimiters
    (r"\mathbf{x}^\top \, \mathbf{A} \; \mathbf{x} \! \: \quad \qquad ~", "x'*A*x"),
    (r"\mathbf{x}^\top\ \mathbf{A}\mathbf{x}", "x'*A*x"),
    (r"\displaystyle\alpha", "alpha"),
    (r"$\mathbf{x}^\top\mathbf{x}$", "x'*x"),
    (r"  $$\mathbf{x}^\top\mathbf{x}$$ ", "x'*x"),
    (r"\[\mathbf{x}^\top\mathbf{x}\]", "x'*x"),
    (r"\(\mathbf{x}^\top\mathbf{x}\)", "x'*x"),
    ("\\alpha % a comment with \\input{x} and {\n + \\beta", "alpha + beta"),
    # numbers
    (r"2\alpha", "2*alpha"),
    (r"0.5\alpha", "0.5*alpha"),
    (r"1e-3\alpha", "1e-3*alpha"),
    (r"\alpha + 12.5", "alpha + 12.5"),
    (r"\alpha + .5", "alpha + .5"),
    (r"2 3 \alpha", "2*3*alpha"),
    (r"\alpha \cdot 2", "alpha*2"),
    (r"1 + \exp(\alpha)", "1 + exp(alpha)"),
    # forms the LaTeX printer emits
    (r"\operatorname{tr}\left(\mathbf{A} \mathbf{X} \mathbf{B}\right)", "tr(A*X*B)"),
    (r"\log\det\left(\mathbf{X}^{\top} \mathbf{X}\right)", "logdet(X'*X)"),
    (r"\operatorname{tr}\left(\mathbf{X}^{-\top} \mathbf{A}\right)", "tr(inv(X)'*A)"),
    (r"\operatorname{tr}\left(\left(\mathbf{A} + \mathbf{X}\right)^{-1}\right)",
     "tr((A + X)^-1)"),
    (r"\frac{1}{2} \mathbf{x}^{\top} \mathbf{x}", "1/2*x'*x"),
    (r"\mathbf{1}^{\top} \left(\mathbf{B}^{\circ 2}\right) \mathbf{1}", "ones'*(B .^ 2)*ones"),
    (r"\mathbf{1}^{\top} \left(\mathbf{1} \oslash \mathbf{x}\right)", "ones'*(1 ./ x)"),
    (r"\lvert x \rvert^\top \mathbf{1}", "abs(x)'*ones"),
    (r"\|\mathbf{V}\|_F^{2}", "norm(V)^2"),
    (r"\|\mathbf{v}\|^{2}", "norm(v)^2"),
    (r"\mathbf{a}^{\top} \frac{\mathbf{x} - \mathbf{a}}{\|\mathbf{x} - \mathbf{a}\|}",
     "a'*(x - a)/norm(x - a)"),
    (r"\alpha_{2} \bm{\Sigma}_{k}^{\top} \mathbf{X}_{1}", "alpha2*Sigma_k'*X1", None),
]


@pytest.mark.parametrize("row", PAIRS, ids=[p[0][:60] for p in PAIRS])
def test_latex_reads_as_plain(row):
    latex, plain = row[0], row[1]
    if len(row) == 3:        # a matrix-valued expression
        got = shapes.elaborate(parse_latex(latex), latex, {}, scalar=False)
        want = shapes.elaborate(notation.parse(plain), plain, {}, scalar=False)
        assert got == want
        return
    same(latex, plain)


def test_a_constant_keeps_its_printed_size():
    """\\mathbf{I}_n is the n×n identity: the size is read, never dropped (SPEC section 6)."""
    same(r"\mathbf{x}^\top\mathbf{I}_n\mathbf{x}", "x'*I*x", {"x": "vector n"})
    same(r"\mathbf{x}^\top\mathbf{1}_{n}", "x'*ones", {"x": "vector n"})
    same(r"\mathbf{1}_n^\top\mathbf{x}", "ones'*x", {"x": "vector n"})
    with pytest.raises(ShapeError):
        shapes.elaborate(parse_latex(r"\mathbf{x}^\top\mathbf{I}_n\mathbf{x}"),
                         "", shapes.parse_let({"x": "vector m"}))


def test_names_map_printed_spellings_back():
    latex = r"\operatorname{tr}(\mathbf{X}_{1}^\top \mathbf{W}_{q})"
    same(latex, "tr(X_1'*W_q)", names={"X1": "X_1"})
    same(latex, "tr(X1'*W_q)")
    with pytest.raises(ParseError):
        parse_latex("x", names={"x": "not a name"})
    with pytest.raises(ParseError):
        parse_latex("x", names={"x": "tr"})


def test_declarations_apply_to_latex_names():
    same(r"\log\det(\mathbf{S})", "logdet(S)", let={"S": "symmetric n"})


def test_positions_are_columns_of_the_latex():
    text = r"\operatorname{tr}(\mathbf{A}\mathbf{X})"
    syn = parse_latex(text)
    assert syn.kind == "call" and syn.value == "tr"
    assert text[syn.pos:syn.end] == text
    arg = syn.kids[0]
    assert text[arg.pos:arg.end] == r"\mathbf{A}\mathbf{X}"
    names = [k for k in arg.kids]
    assert [text[k.pos:k.end] for k in names] == [r"\mathbf{A}", r"\mathbf{X}"]
    syn = parse_latex(r"\mathbf{X}_{1}")
    assert (syn.kind, syn.value, syn.pos, syn.end) == ("name", "X1", 0, 14)


def test_shape_errors_quote_the_latex():
    text = r"\operatorname{tr}(\mathbf{x})"
    with pytest.raises(TexderiveError) as ei:
        shapes.elaborate(parse_latex(text), text, {})
    assert r"\mathbf{x}" in ei.value.message


BAD = [
    # (LaTeX, message fragment, column (0-based), error class)
    (r"\input{/etc/passwd}", r"unknown macro \input", 0, ParseError),
    (r"\mathbf{x}^\top\def\x{1}", r"unknown macro \def", 15, ParseError),
    (r"\catcode`\^=7", r"unknown macro \catcode", 0, ParseError),
    (r"x \write18{rm -rf}", r"unknown macro \write", 2, ParseError),
    (r"\usepackage{physics}", r"unknown macro \usepackage", 0, ParseError),
    (r"\newcommand{\x}{y}", r"unknown macro \newcommand", 0, ParseError),
    (r"\begin{pmatrix}a\end{pmatrix}", r"unknown macro \begin", 0, ParseError),
    (r"\alpha + \foo", r"unknown macro \foo", 9, ParseError),
    (r"\alpha \\ \beta", r"unknown macro \\", 7, ParseError),
    (r"\mathrm{d}\mathbf{X}", r"unknown function \mathrm{d}", 0, ParseError),
    (r"\operatorname{foo}(x)", r"unknown function \operatorname{foo}", 0, ParseError),
    ("x \\", "lone backslash", 2, ParseError),
    (r"{\alpha", "'{' at col 1 is not closed", 0, ParseError),
    (r"\alpha}", "unmatched '}'", 6, ParseError),
    (r"\left( \alpha", r"has no matching \right", 0, ParseError),
    (r"\left( \alpha )", r"must be closed by \right", 14, ParseError),
    (r"( \alpha \right)", r"not a \left", 9, ParseError),
    (r"\alpha \right)", r"unmatched \right)", 7, ParseError),
    (r"\left. \alpha \right|", "invisible delimiter", 0, ParseError),
    (r"\left \alpha", r"\left must be followed by a delimiter", 0, ParseError),
    (r"(\alpha", "is not closed", 0, ParseError),
    (r"\alpha)", "unmatched )", 6, ParseError),
    (r"(\alpha]", "is closed by ]", 7, ParseError),
    (r"\|\mathbf{x}", "is not closed", 0, ParseError),
    (r"\|\mathbf{x}\|_1", "1-norm is not supported", 14, ParseError),
    (r"|\alpha", "is not closed", 0, ParseError),
    (r"\frac{1}", r"\frac needs two arguments", 0, ParseError),
    (r"\frac", r"\frac needs two arguments", 0, ParseError),
    (r"\frac{}{2}", r"empty numerator of \frac", 5, ParseError),
    (r"\frac{1}{}", r"empty denominator of \frac", 8, ParseError),
    ("", "empty", 0, ParseError),
    ("   ", "empty", 0, ParseError),
    ("$$", "empty", 0, ParseError),
    (r"\,\quad", "empty", 0, ParseError),
    (r"{}", "empty", 0, ParseError),
    (r"()", "empty", 0, ParseError),
    (r"\|\|", "empty", 0, ParseError),
    (r"\mathbf{x}^", "'^' needs an exponent", 10, ParseError),
    (r"x^-1", "^{-1}", 2, ParseError),
    (r"\alpha^{}", "empty exponent", 6, ParseError),
    (r"\alpha $ \beta", "math delimiters", 7, ParseError),
    (r"$\alpha", "math delimiters", 0, ParseError),
    (r"\alpha \[ \beta \]", "math delimiters", 7, ParseError),
    (r"\langle A \rangle", "needs two arguments", 0, ParseError),
    (r"\langle A, B, C \rangle", "unexpected ','", 12, ParseError),
    (r"\log", "needs an argument", 0, ParseError),
    (r"\log + \alpha", "needs an argument", 0, ParseError),
    (r"\sqrt", "needs an argument", 0, ParseError),
    (r"tr(X)", r"write \operatorname{tr}", 0, ParseError),
    (r"\log(\det(X)) + log(x)", r"\operatorname{log}", 16, ParseError),
    (r"x1", "a number right after the name x", 1, ParseError),
    (r"\alpha2", "a number right after the name", 6, ParseError),
    (r"\mathbf{tr}", "is a function name", 0, ParseError),
    (r"\mathbf{x + y}", "must hold one name", 10, ParseError),
    (r"\mathbf{X}_1_2", "subscript", 12, ParseError),
    (r"\mathbf{X_1}_2", "already has a subscript", 12, ParseError),
    (r"||x||", "a norm is", 0, ParseError),
    (r"\mathbf{X}^\top_1", "subscript", 15, ParseError),
    (r"x_{i,j}", "letters and digits", 4, ParseError),
    (r"\alpha, \beta", "unexpected ','", 6, ParseError),
    (r"\top", "must follow ^", 0, ParseError),
    (r"\cdot \alpha", "expected", 0, ParseError),
    (r"\alpha + ", "ends where an operand is expected", 9, ParseError),
    (r"\alpha = \beta", "unexpected '='", 7, ParseError),
    (r"\alpha & \beta", "unexpected '&'", 7, ParseError),
    (r"\mathbb{R}", r"only \mathbb{1}", 0, ParseError),
    ("1e999999999", "out of range", 0, LimitError),
    ("{" * (notation.MAX_DEPTH + 1) + "x" + "}" * (notation.MAX_DEPTH + 1),
     "nested more than", notation.MAX_DEPTH, LimitError),
    ("x" * (notation.MAX_CHARS + 1), "characters long", 0, LimitError),
]


@pytest.mark.parametrize("row", BAD, ids=[repr(b[0][:40]) for b in BAD])
def test_bad_latex(row):
    latex, fragment, col, cls = row
    with pytest.raises(TexderiveError) as ei:
        parse_latex(latex)
    err = ei.value
    assert isinstance(err, cls), (type(err), err)
    assert fragment in err.message, err.message
    assert err.pos == col, (err.pos, err.message)
    assert type(err) in (ParseError, LimitError)


def test_unknown_macro_is_named_not_executed_nor_copied():
    with pytest.raises(ParseError) as ei:
        parse_latex(r"\mathbf{X}\input{/etc/hostname}")
    assert ei.value.message == r"unknown macro \input"
    assert "/etc/hostname" not in ei.value.message
    with pytest.raises(ParseError) as ei:
        parse_latex("\\" + "a" * 5000)
    assert len(ei.value.message) < 80


@pytest.mark.parametrize("text", [
    "(" * 3000 + "x" + ")" * 3000,
    r"\left(" * 500 + "x" + r"\right)" * 500,
    r"\log" * 3000 + "x",
    "|" * 3000,
    r"\|" * 3000,
    "-" * 3000 + "x",
    "x" + "'" * 5000,
    r"\sqrt{" * 100 + "x" + "}" * 100,
    "x^{" * 100 + "2" + "}" * 100,
    r"\(" * 500 + "x" + r"\)" * 500,
    "$" * 5000,
    "x" + "^" * 5000,
    "{" * 400 + "}" * 400,
], ids=lambda t: f"{t[:10]!r}..x{len(t)}")
def test_pathological_inputs_are_limit_or_parse_errors(text):
    with pytest.raises((ParseError, LimitError)):
        parse_latex(text)


def test_pylatexenc_is_imported_lazily():
    import subprocess
    import sys
    code = ("import sys, texderive.latex_input, texderive.notation; "
            "print('pylatexenc' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------
# fuzzing: only TexderiveError may escape

_SNIPPETS = [r"\mathbf{X}", r"\bm{\Sigma}", r"\alpha", "x", "A", r"\operatorname{tr}", r"\log",
             r"\det", r"\frac", "{", "}", "(", ")", "[", "]", r"\left(", r"\right)", r"\left|",
             r"\right|", "|", r"\|", r"\langle", r"\rangle", ",", "^", "_", "'", r"^\top",
             "^{-1}", r"^{-\top}", r"^{\circ 2}", "2", "0.5", "1e-3", r"\cdot", r"\odot",
             r"\oslash", "+", "-", "*", "/", r"\sqrt", "[3]", r"\,", "$", r"\[", r"\]", r"\(",
             r"\)", "%", "\n", r"\lvert", r"\rvert", r"\lVert", r"\rVert", r"\mathbf{1}",
             r"\mathbf{I}", r"\mathsf", "T", r"\T", r"\input", r"\def", "\\", r"\{", r"\}",
             r"\bigl", r"\bigr", r"\big", "~", ".", r"\operatorname*", r"\sin^2", "_{ij}", "_1",
             r"\mathbb{1}", r"\text{tr}", r"\mathrm", r"\exp", r"\circ", r"\times", " "]

_VALID = [p[0] for p in PAIRS]


def _check(text: str) -> None:
    try:
        syn = parse_latex(text)
    except TexderiveError:
        return
    try:
        shapes.elaborate(syn, text, {})
    except TexderiveError:
        pass


@settings(deadline=None, derandomize=True, max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("\\{}[]()|^_'$%&,.+-*/ ~0123456789abxyzATe\n")),
               max_size=40))
def test_fuzz_random_strings(text):
    _check(text)


@settings(deadline=None, derandomize=True, max_examples=200)
@given(st.lists(st.sampled_from(_SNIPPETS), max_size=25))
def test_fuzz_snippet_soup(parts):
    _check("".join(parts))


@st.composite
def _mutated(draw):
    text = draw(st.sampled_from(_VALID))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap"]))
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 8)))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(st.sampled_from(_SNIPPETS)) + text[i:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + text[j:] + text[i:j]
    return text


@settings(deadline=None, derandomize=True, max_examples=200)
@given(_mutated())
def test_fuzz_mutations_of_valid_latex(text):
    _check(text)


@pytest.mark.parametrize("latex", [r"{X}^³", r"\|\mathbf{X}\|_F^³", "x^²", "²X"])
def test_unicode_digits_are_not_numbers(latex):
    """A superscript digit is not ASCII: a ParseError with a column, never a ValueError."""
    with pytest.raises(ParseError):
        parse_latex(latex)
