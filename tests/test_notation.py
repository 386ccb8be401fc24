"""The plain notation (SPEC section 1): input -> canonical text, and bad input -> message + column."""
import re

import numpy as np

import pytest

from texderive import ir, notation, shapes
from texderive.errors import LimitError, ParseError, ShapeError, TexderiveError
from texderive.printers.text import to_text


def tree(s, let=None, scalar=False):
    return shapes.elaborate(notation.parse(s), s, shapes.parse_let(let), scalar=scalar)


def canon(s, let=None):
    return to_text(tree(s, let))


@pytest.mark.parametrize("src, text", [
    ("A*X", "A*X"), ("A X", "A*X"), ("x'x", "x'*x"), ("x' x", "x'*x"), ("X^T", "X'"),
    ("X.T", "X'"), ("X'", "X'"), ("X^-1", "inv(X)"), ("X^(-1)", "inv(X)"), ("inv(X)", "inv(X)"),
    ("X^0", "I"), ("X^1", "X"), ("X^3", "X^3"), ("X^-2", "inv(X)^2"),
    ("a - b", "a - b"), ("a -b", "a - b"), ("alpha*-beta", "-alpha*beta"), ("A X'", "A*X'"),
    ("-A", "-A"), ("-(A + B)", "-(A + B)"), ("2*3*X", "6*X"), ("a/2", "1/2*a"),
    ("1/2 * x'*A*x", "1/2*x'*A*x"), ("x'*x/2", "1/2*x'*x"),
    ("alpha^2", "alpha^2"), ("alpha^0.5", "alpha^(1/2)"), ("alpha^(1/3)", "alpha^(1/3)"),
    ("alpha^(-0.5)", "alpha^(-1/2)"), ("alpha^(tr(X))", "alpha^(tr(X))"),
    ("A .* B", "A .* B"), ("A ./ B", "A ./ B"), ("A .^ 2", "A .^ 2"), ("1./x", "1 ./ x"),
    ("2.^x", "2 .^ x"), ("1 + exp(x)", "ones + exp(x)"), ("X - 2", "X - 2*ones"),
    ("tr(X)", "tr(X)"), ("Tr(X)", "tr(X)"), ("trace(X)", "tr(X)"), ("det(X)", "det(X)"),
    ("logdet(X)", "logdet(X)"), ("log(det(X))", "logdet(X)"), ("norm(x)", "norm(x)"),
    ("norm2(x)", "norm(x)"), ("norm(X)", "norm(X)"), ("sum(X)", "sum(X)"), ("diag(x)", "diag(x)"),
    ("diag(X)", "diag(X)"), ("sigmoid(x)", "sigmoid(x)"), ("1e-3*x", "1/1000*x"),
    ("-alpha^2", "-alpha^2"), ("(A*B)'", "(A*B)'"), ("X^2'", "(X^2)'"),
    ("A*(x'*y)*B", "A*(x'*y)*B"), ("x'*A*x*y", "(x'*A*x)*y"),
])
def test_canonical_text(src, text):
    assert canon(src) == text


@pytest.mark.parametrize("src", [
    "tr(A*X*B)", "log(det(X'*X))", "norm(A*x - b)^2", "x'*A*x", "1/2*x'*x", "a'*(X .* X)*b",
    "sum(log(ones + exp(-y .* (X*w))))", "tr(A*X)/tr(B*X)", "(x - a)/norm(x - a)",
    "d'*x*(a'*X*b)^(1/2)*y'*c", "-2*C*X*inv(X'*C*X)*X'*B*X", "2*(a*b') .* X", "1 ./ (2*sqrt(x))",
    "A'*inv(A*X*A')'*A", "inv(X)^2", "-(inv(X + A)^2)'", "X .^ (Y - ones)", "alpha^beta",
])
def test_round_trip(src):
    e = tree(src)
    assert tree(to_text(e)) == e


def test_T_is_always_transpose_even_for_a_matrix_named_T():
    assert canon("T^T") == "T'"
    assert canon("T*X") == "T*X"


@pytest.mark.parametrize("src, fragment, col", [
    ("tr(A*X", "is not closed", 7),
    ("A*", "ends where an operand is expected", 3),
    ("A * * B", "where an operand is expected", 5),
    ("A)", "unmatched ')'", 2),
    ("tr X", "tr is a function", 1),
    ("X[1]", "unexpected character '['", 2),
    ("a $ b", "unexpected character '$'", 3),
    ("", "empty", 1),
    ("a^", "expected an exponent", 3),
    ("a^tr(X)", "put a function in an exponent in parentheses", 3),
    ("()", "empty parentheses", 2),
    ("A . B", "a dot starts", 3),
])
def test_parse_errors(src, fragment, col):
    with pytest.raises(ParseError) as ei:
        notation.parse(src)
    assert fragment in ei.value.message
    assert ei.value.pos + 1 == col
    assert f"col {col}" in str(ei.value)


@pytest.mark.parametrize("src, fragment", [
    ("A*x*y", "shape clash in A*x*y"),
    ("tr(x)", "trace needs a square matrix"),
    ("A + x", "shape clash in A + x"),
    ("X^0.5", "integer exponent"),
    ("A/B", "not a scalar"),
    ("norm2(X)", "norm2 is for vectors"),
    ("X1 + X_1", "print alike"),
])
def test_shape_errors(src, fragment):
    with pytest.raises(TexderiveError) as ei:
        tree(src)
    assert fragment in ei.value.message


def test_shape_clash_names_both_shapes_and_the_column():
    with pytest.raises(ShapeError) as ei:
        tree("A*x + y'")
    msg = str(ei.value)
    assert "shape clash" in msg and "×" in msg and "col" in msg


def test_f_must_be_scalar():
    with pytest.raises(ShapeError, match="f must be a scalar"):
        tree("A*X", scalar=True)


def test_declarations():
    e = tree("x'*S*x", {"S": "symmetric n", "x": "vector n"}, scalar=True)
    s = [n for n in __import__("texderive.ir", fromlist=["walk"]).walk(e) if getattr(n, "name", None) == "S"][0]
    assert s.kind == "symmetric" and s.shape == ("n", "n")
    assert tree("X", {"X": "matrix 3 2"}).shape == (3, 2)
    with pytest.raises(ParseError, match="kind must be one of"):
        shapes.parse_let({"X": "tensor"})
    with pytest.raises(ParseError, match="takes 2 sizes"):
        shapes.parse_let({"X": "matrix m"})
    assert shapes.parse_let(["S: symmetric", "x: vector n"]) == {"S": ("symmetric", ()),
                                                                  "x": ("vector", ("n",))}


@pytest.mark.parametrize("name, kind", [
    ("A", "matrix"), ("X1", "matrix"), ("Sigma_k", "matrix"), ("x1", "vector"), ("b", "vector"),
    ("alpha", "scalar"), ("alpha1", "scalar"), ("lambda_2", "scalar"), ("Wq", "matrix"),
])
def test_default_kinds(name, kind):
    assert shapes.default_kind(name) == kind


def test_limits_are_errors_with_a_position():
    with pytest.raises(LimitError):
        notation.parse("(" * 150 + "x" + ")" * 150)
    with pytest.raises(LimitError):
        notation.parse("x+" * 3000 + "x")
    with pytest.raises(LimitError):
        notation.parse("x" * 30000)


def test_declared_size_names_are_distinct_undeclared_ones_are_free():
    with pytest.raises(ShapeError, match="trace needs a square matrix"):
        tree("tr(A*X*B)", {"A": "matrix p m", "B": "matrix n q"}, scalar=True)
    assert tree("tr(A*X*B)", {"A": "matrix p m", "B": "matrix n p"}, scalar=True).shape == (1, 1)
    assert tree("tr(A*X*B)", scalar=True).shape == (1, 1)          # free sizes unify


# ---------------------------------------------------------------------------
# SPEC sections 1, 6, 7: kron, vec, commutation, rows, cols; unknown functions

KL = {"X": "matrix m n", "A": "matrix m m", "B": "matrix n n"}


@pytest.mark.parametrize("src", [
    "kron(A, B)", "kron(B', A)*vec(X)", "vec(X)'*kron(B, A)*vec(X)", "commutation(X)*vec(X)",
    "rows(X)*cols(X)*A", "vec(X)", "kron(I, A)*vec(X)", "kron(kron(A, B), A)",
])
def test_section6_notation_round_trips(src):
    e = tree(src, KL)
    inputs = [ir.Sym("X", "matrix", "m", "n")]        # the input's variables name the sizes
    assert tree(to_text(e, inputs), KL) == e


def test_section6_shapes():
    assert tree("vec(X)", KL).shape == ("m*n", 1)
    assert tree("kron(A, B)", KL).shape == ("m*n", "m*n")
    assert tree("commutation(X)", KL).shape == ("m*n", "m*n")
    assert tree("rows(X)", KL) == ir.Size("m") and tree("cols(X)", KL) == ir.Size("n")
    assert tree("rows(x)", {"x": "vector p"}) == ir.Size("p")
    assert tree("cols(x)") == ir.Num(1)              # a vector's width is the number 1
    # a vector whose length nothing else fixes takes the product size of vec
    e = tree("x'*vec(X)", KL, scalar=True)
    assert e.args[0].shape == (1, "m*n")
    # the identity's size is solved factor by factor
    assert tree("kron(I, A)*vec(X)", KL).args[0].args[0] == ir.Ident("n")


def test_a_product_size_that_cannot_be_matched_is_a_clear_error():
    with pytest.raises(ShapeError, match="declare the sizes"):
        tree("vec(X)'*kron(A, B)*vec(X)", scalar=True)


@pytest.mark.parametrize("name, rewrite", [
    ("softmax", "exp(z) ./ sum(exp(z))"), ("logsumexp", "log(sum(exp(z)))"),
    ("softplus", "log(1 + exp(z))"), ("log1p", "log(1 + z)"), ("norm1", "sum(abs(z))"),
    ("relu", "(z + abs(z))/2"), ("expm", None), ("logm", None), ("sqrtm", None),
])
def test_unknown_functions_are_named_with_their_rewrite(name, rewrite):
    with pytest.raises(ParseError) as info:
        tree(f"sum({name}(W*x))")
    msg = str(info.value)
    assert f"unknown function '{name}'" in msg and "sigmoid" in msg and "kron" in msg
    if rewrite:
        assert rewrite in msg
    # the rewrite itself is notation texderive reads, and means the function
    if rewrite:
        tree(rewrite.replace("z", "W*x"))


def test_other_names_before_a_bracket_keep_the_implicit_product():
    assert tree("A(X+B)") == tree("A*(X+B)")
    assert tree("softmax'*(x)") == tree("softmax'*x")      # a plain name without a call
    assert tree("tr(A(X+B))", scalar=True) is not None


@pytest.mark.parametrize("src, what", [
    ("norm(x, 1)", "norm takes one argument, got 2"),
    ("max(0, z)", "unknown function 'max'"),
    ("min(a, b)", "unknown function 'min'"),
    ("kron(A)", "kron takes 2 arguments, got 1"),
    ("kron(A, B, A)", "kron takes 2 arguments, got 3"),
    ("sum(x, y)", "kron(A, B) is the only two-argument function"),
])
def test_calls_with_the_wrong_number_of_arguments(src, what):
    with pytest.raises(ParseError, match=re.escape(what)):
        tree(src)


def test_max_and_min_have_a_rewrite_that_is_right():
    import numpy as np
    from texderive.evaluate import Evaluator
    a, b = np.array([[1.0], [-2.0], [3.0]]), np.array([[0.5], [0.0], [4.0]])
    for name, fn in (("max", np.maximum), ("min", np.minimum)):
        msg = notation.unknown_function_message(name)
        rewrite = msg.split(" as ", 1)[1].split(";")[0]
        e = tree(rewrite, {"a": "vector n", "b": "vector n"})
        got = Evaluator({"a": a, "b": b}, dims={"n": 3}).value(e)
        assert np.allclose(got, fn(a, b))


# ---------------------------------------------------------------------------
# issue 12 item 9: the text of a result keeps its sizes; numpy with an input named np

def _values(rng, syms, dims):
    import numpy as np
    return {s.name: rng.standard_normal((dims.get(s.shape[0], s.shape[0]),
                                         dims.get(s.shape[1], s.shape[1]))) for s in syms}


@pytest.mark.parametrize("f, wrt, by_hand", [
    # sum(X + 1 v') = sum(X) + m*sum(v): the gradient is m*ones, never ones*ones
    ("sum(X + ones*v')", "v", lambda X, v: X.shape[0] * np.ones_like(v)),
    ("sum(X*w)", "w", lambda X, w: X.sum(axis=0).reshape(-1, 1)),
    ("sum(X + ones*v')*sum(v)", "v",
     lambda X, v: (X.sum() + 2 * X.shape[0] * v.sum()) * np.ones_like(v)),
])
def test_gradient_text_keeps_sizes_and_reads_back_to_the_same_numbers(f, wrt, by_hand):
    from texderive import derive
    from texderive.evaluate import Evaluator
    d = derive(f, wrt, let={"X": "matrix m n", "v": "vector n", "w": "vector n"})
    text = d.gradient_text
    assert "ones*ones" not in text
    let = {"X": "matrix m n", "v": "vector n", "w": "vector n"}
    back = shapes.elaborate(notation.parse(text), text, shapes.parse_let(let), scalar=False,
                            shape=d.wrt_sym.shape)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 3))
    v = rng.standard_normal((3, 1))
    got = Evaluator({"X": X, wrt: v}, dims={"m": 4, "n": 3}).value(back)
    assert np.allclose(got, by_hand(X, v))


def test_sum_of_ones_prints_the_size_in_every_form():
    from texderive.printers.latex import to_latex
    from texderive.printers.text import to_pretty
    x = ir.Sym("x", "vector", "n", 1)
    X = ir.Sym("X", "matrix", "m", "n")
    g = ir.MatMul(ir.Ones("m", "n"), ir.Ones("n", 1))
    assert to_text(g, [X]) == "cols(X)*ones"
    assert to_pretty(g, [X]) == "cols(X) 1"
    assert to_latex(g) == r"n\mathbf{1}"
    assert to_text(ir.Sum(ir.Ones("m", "n")), [X]) == "rows(X)*cols(X)"
    assert to_text(ir.MatMul(ir.Sum(ir.Ones("n", 1)), x), [x]) == "rows(x)*x"


def test_numpy_names_the_module_numpy_when_an_input_is_np():
    from texderive import derive
    d = derive("tr(np*X) + sum(exp(np))", "np", let={"np": "matrix"})
    code = d.gradient_numpy
    assert "numpy.exp(np)" in code and "np.exp" not in code
    rng = np.random.default_rng(0)
    P, X = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    got = eval(code, {"numpy": np, "np": P, "X": X})  # noqa: S307 - the tool's own output
    assert np.allclose(got, X.T + np.exp(P))


def test_diag_of_an_open_size_identity_is_its_diagonal():
    """Issue 12 item 3: diag(I) made I 1×1 (read as the diagonal matrix of a column), so
    sum(b .* diag(I)) had the gradient I; the diagonal of I is a column of ones."""
    from texderive import derive
    e = tree("b .* diag(I)")
    assert e == ir.Hadamard(ir.Sym("b", "vector", "m", 1), ir.DiagVec(ir.Ident("m")))
    d = derive("sum(b .* diag(I))", "b")
    b = np.arange(1.0, 4.0).reshape(-1, 1)
    from texderive.evaluate import Evaluator
    got = Evaluator({"b": b}, dims={"m": 3}).value(d.gradient)
    assert np.allclose(got, np.ones((3, 1)))          # d/db sum(b) = ones, by hand
    assert tree("diag(ones)").shape == ("m", "m")       # ones is still a column
