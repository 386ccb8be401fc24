"""The plain notation (SPEC section 1): input -> canonical text, and bad input -> message + column."""
import pytest

from texderive import notation, shapes
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
