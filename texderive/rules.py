"""The rule catalogue: one named, immutable value per rewrite the engine records.

``RULES`` is ordered by priority within each phase (see :mod:`texderive.engine`).
``id`` is the stable identifier cited by steps and the JSON document; the
README documents every id with its statement.  ``number`` is the fixed number
of the five basic rules of the lecture deck; every other *stated* rule gets
6, 7, ... in order of first use (``steps.number_rules``); bookkeeping rules
(``stated=False``) never get a number.

``statement``/``text`` are the rule in LaTeX and plain text; ``example`` is a
one-line instance in the input notation (mathsteps' ``// e.g.``).
"""
from __future__ import annotations


class Rule:
    __slots__ = ("id", "number", "stated", "statement", "text", "note", "example")

    def __init__(self, id, number, stated, statement, text, note, example):
        self.id, self.number, self.stated = id, number, stated
        self.statement, self.text, self.note, self.example = statement, text, note, example

    def __setattr__(self, name, value):
        if hasattr(self, "example"):
            raise AttributeError("Rule is immutable")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"Rule({self.id!r})"


_D = r"\mathrm{d}"

RULES = (
    # -- bookkeeping -------------------------------------------------------
    Rule("expand", None, False, r"\|\mathbf{v}\|^2 = \mathbf{v}^\top\mathbf{v}",
         "expand: ‖v‖² = vᵀv, multiply out, collect", "expand", "norm(A*x - b)^2 -> x'*A'*A*x - 2*b'*A*x + b'*b"),
    Rule("differential", None, False, _D + r"y = " + _D + r"f",
         "take the differential of both sides", "take the differential", "y = f -> dy = d(f)"),
    # -- the five basic rules of the lecture deck ----------------------------
    Rule("constant", 1, True, _D + r"\mathbf{C} = 0",
         "dC = 0 for a constant C", "a constant has zero differential", "d(A) -> 0"),
    Rule("product", 2, True,
         _D + r"(\mathbf{X}\mathbf{Y}) = (" + _D + r"\mathbf{X})\mathbf{Y} + \mathbf{X}\," + _D + r"\mathbf{Y}",
         "d(XY) = (dX)Y + X dY", "product rule", "d(A*X) -> d(A)*X + A*d(X)"),
    Rule("transpose", 3, True, _D + r"(\mathbf{X}^\top) = (" + _D + r"\mathbf{X})^\top",
         "d(Xᵀ) = (dX)ᵀ", "the differential of a transpose", "d(X') -> d(X)'"),
    Rule("trace", 4, True, _D + r"\operatorname{tr}\mathbf{X} = \operatorname{tr}(" + _D + r"\mathbf{X})",
         "d tr X = tr dX", "the differential of a trace", "d(tr(X)) -> tr(d(X))"),
    Rule("inverse", 5, True,
         _D + r"\mathbf{X}^{-1} = -\mathbf{X}^{-1}(" + _D + r"\mathbf{X})\mathbf{X}^{-1}",
         "d X⁻¹ = −X⁻¹ (dX) X⁻¹", "the differential of an inverse", "d(inv(X)) -> -inv(X)*d(X)*inv(X)"),
    # -- more differentials --------------------------------------------------
    Rule("linearity", None, False,
         _D + r"(\alpha\mathbf{X} + \beta\mathbf{Y}) = \alpha\," + _D + r"\mathbf{X} + \beta\," + _D + r"\mathbf{Y}",
         "d is linear: d(aX + bY) = a dX + b dY (also for sum and diag)", "d is linear",
         "d(2*X + Y) -> 2*d(X) + d(Y)"),
    Rule("logdet", None, True,
         _D + r"\log\det\mathbf{Y} = \operatorname{tr}(\mathbf{Y}^{-1}" + _D + r"\mathbf{Y})",
         "d log det Y = tr(Y⁻¹ dY)", "the differential of a log-determinant",
         "d(logdet(Y)) -> tr(inv(Y)*d(Y))"),
    Rule("det", None, True,
         _D + r"\det\mathbf{Y} = \det(\mathbf{Y})\operatorname{tr}(\mathbf{Y}^{-1}" + _D + r"\mathbf{Y})",
         "d det Y = det(Y) tr(Y⁻¹ dY)", "the differential of a determinant",
         "d(det(Y)) -> det(Y)*tr(inv(Y)*d(Y))"),
    Rule("power", None, True,
         _D + r"(\mathbf{X}^{k}) = \sum_{i=0}^{k-1}\mathbf{X}^{i}(" + _D + r"\mathbf{X})\mathbf{X}^{k-1-i}",
         "d(Xᵏ) = Σᵢ Xⁱ (dX) Xᵏ⁻¹⁻ⁱ", "the differential of a matrix power",
         "d(X^2) -> d(X)*X + X*d(X)"),
    Rule("scalar_power", None, True, _D + r"(s^{p}) = p\,s^{p-1}\," + _D + r"s",
         "d(sᵖ) = p sᵖ⁻¹ ds", "the differential of a power", "d(a^3) -> 3*a^2*d(a)"),
    Rule("norm", None, True,
         _D + r"\|\mathbf{V}\| = \operatorname{tr}(\mathbf{V}^\top" + _D + r"\mathbf{V})/\|\mathbf{V}\|",
         "d‖V‖ = tr(Vᵀ dV)/‖V‖", "the differential of a norm",
         "d(norm(v)) -> v'*d(v)/norm(v)"),
    Rule("hadamard_product", None, True,
         _D + r"(\mathbf{X}\odot\mathbf{Y}) = " + _D + r"\mathbf{X}\odot\mathbf{Y} + \mathbf{X}\odot" + _D + r"\mathbf{Y}",
         "d(X ⊙ Y) = dX ⊙ Y + X ⊙ dY", "product rule for the elementwise product",
         "d(X .* Y) -> d(X) .* Y + X .* d(Y)"),
    Rule("chain", None, True, _D + r"g(\mathbf{X}) = g'(\mathbf{X})\odot" + _D + r"\mathbf{X}",
         "d g(X) = g′(X) ⊙ dX (elementwise; g′(s) ds for a scalar)", "the chain rule",
         "d(exp(x)) -> exp(x) .* d(x)"),
    # -- from dy to tr(G' dX) ------------------------------------------------
    Rule("distribute", None, False, r"\operatorname{tr}(\mathbf{P}(\mathbf{Q} + \mathbf{R})) = "
         r"\operatorname{tr}(\mathbf{P}\mathbf{Q}) + \operatorname{tr}(\mathbf{P}\mathbf{R})",
         "multiply out: products and traces distribute over sums", "multiply out",
         "tr(A*(d(X) + d(X)')) -> tr(A*d(X)) + tr(A*d(X)')"),
    Rule("scalar_factor", None, False, r"\operatorname{tr}(\mathbf{P}\,s\,\mathbf{Q}) = s\operatorname{tr}(\mathbf{P}\mathbf{Q})",
         "a scalar factor commutes with everything", "move scalar factors to the front",
         "tr(A*(x'*y)*d(X)) -> x'*y*tr(A*d(X))"),
    Rule("sum_ones", None, False, r"\operatorname{sum}(\mathbf{P}) = \mathbf{1}^\top\mathbf{P}\mathbf{1}",
         "sum(P) = 1ᵀ P 1", "write the sum of entries with ones", "sum(d(X)) -> ones'*d(X)*ones"),
    Rule("scalar_transpose", None, True, r"\mathbf{p}^\top\mathbf{q} = \mathbf{q}^\top\mathbf{p}",
         "a scalar equals its transpose: pᵀq = qᵀp", "a scalar equals its transpose",
         "d(x)'*A*x -> x'*A'*d(x)"),
    Rule("trace_transpose", None, True, r"\operatorname{tr}(\mathbf{M}^\top) = \operatorname{tr}(\mathbf{M})",
         "tr(Mᵀ) = tr(M)", "a trace equals the trace of the transpose",
         "tr(A*d(X)') -> tr(d(X)*A')"),
    Rule("scalar_trace", None, False, r"s = \operatorname{tr}(s)",
         "a scalar equals its own trace", "a scalar is its own trace", "a'*d(X)*b -> tr(a'*d(X)*b)"),
    Rule("cyclic", None, True, r"\operatorname{tr}(\mathbf{P}\mathbf{Q}) = \operatorname{tr}(\mathbf{Q}\mathbf{P})",
         "trace trick: tr(PQ) = tr(QP)", "trace trick (cyclic shift)",
         "tr(A*d(X)*B) -> tr(B*A*d(X))"),
    Rule("hadamard_trace", None, True,
         r"\operatorname{tr}(\mathbf{A}^\top(\mathbf{B}\odot\mathbf{C})) = \operatorname{tr}((\mathbf{A}\odot\mathbf{B})^\top\mathbf{C})",
         "tr(Aᵀ(B ⊙ C)) = tr((A ⊙ B)ᵀ C)", "move dX out of the elementwise product",
         "tr(A'*(F .* d(X))) -> tr((A .* F)'*d(X))"),
    Rule("diag_trace", None, True,
         r"\operatorname{tr}(\mathbf{M}\operatorname{diag}(\mathbf{v})) = \operatorname{diag}(\mathbf{M})^\top\mathbf{v}",
         "tr(M diag(v)) = diag(M)ᵀ v", "move dX out of diag", "tr(M*diag(d(x))) -> diag(M)'*d(x)"),
    Rule("collect", None, False, r"a\mathbf{P} + b\mathbf{P} = (a + b)\mathbf{P}",
         "collect like terms", "collect like terms", "tr(M*d(X)) + tr(M*d(X)) -> 2*tr(M*d(X))"),
    Rule("read_off", None, False, r"\mathrm{d}y = \operatorname{tr}(\mathbf{G}^\top" + _D + r"\mathbf{X}) "
         r"\Rightarrow \nabla_{\mathbf{X}} f = \mathbf{G}",
         "dy = tr(Gᵀ dX) gives ∇f = G", "read off the gradient", "tr(B*A*d(X)) -> (B*A)'"),
    Rule("transpose_product", None, False, r"(\mathbf{P}\mathbf{Q})^\top = \mathbf{Q}^\top\mathbf{P}^\top",
         "(PQ)ᵀ = QᵀPᵀ", "transpose of a product", "(B*A)' -> A'*B'"),
    Rule("simplify", None, False,
         r"\mathbf{P}\mathbf{Q} + \mathbf{P}\mathbf{R} = \mathbf{P}(\mathbf{Q} + \mathbf{R})",
         "tidy up: collect like terms, take out common factors", "tidy up", "A'*A*x - A'*b -> A'*(A*x - b)"),
    # -- second order: Jacobians and Hessians (SPEC section 6) ----------------
    Rule("kron_product", None, True,
         _D + r"(\mathbf{A}\otimes\mathbf{B}) = " + _D + r"\mathbf{A}\otimes\mathbf{B} + \mathbf{A}\otimes" + _D + r"\mathbf{B}",
         "d(A ⊗ B) = dA ⊗ B + A ⊗ dB", "product rule for the Kronecker product",
         "d(kron(a, X)) -> kron(a, d(X))"),
    Rule("vec", None, True, _D + r"\operatorname{vec}\mathbf{X} = \operatorname{vec}(" + _D + r"\mathbf{X})",
         "d vec X = vec dX; a vector is its own vec", "vec is linear",
         "d(vec(X)) -> vec(d(X))"),
    Rule("kron_vec", None, True,
         r"\operatorname{vec}(\mathbf{A}\mathbf{X}\mathbf{B}) = (\mathbf{B}^\top\otimes\mathbf{A})\operatorname{vec}\mathbf{X}",
         "vec(A X B) = (Bᵀ ⊗ A) vec X", "the Kronecker rule", "vec(A*d(X)*B) -> kron(B', A)*vec(d(X))"),
    Rule("commutation", None, True,
         r"\operatorname{vec}(\mathbf{X}^\top) = \mathbf{K}\operatorname{vec}\mathbf{X}",
         "vec(Xᵀ) = K vec X (K the commutation matrix of X's shape)", "the commutation matrix",
         "vec(d(X)') -> commutation(X)*vec(d(X))"),
    Rule("vec_hadamard", None, True,
         r"\operatorname{vec}(\mathbf{A}\odot\mathbf{X}) = \operatorname{diag}(\operatorname{vec}\mathbf{A})\operatorname{vec}\mathbf{X}",
         "vec(A ⊙ X) = diag(vec A) vec X", "vec of an elementwise product",
         "vec(a .* d(x)) -> diag(a)*d(x)"),
    Rule("vec_outer", None, True,
         r"\operatorname{vec}(\mathbf{F}s) = \operatorname{vec}(\mathbf{F})\,s",
         "vec(F s) = vec(F) s for a scalar s: an outer product with the row of s",
         "vec of a matrix times a scalar differential", "vec(a*(b'*d(x))) -> a*b'*d(x)"),
    Rule("vec_trace", None, True,
         r"\operatorname{tr}(\mathbf{G}^\top" + _D + r"\mathbf{X}) = (\operatorname{vec}\mathbf{G})^\top" + _D + r"\operatorname{vec}\mathbf{X}",
         "tr(Gᵀ dX) = (vec G)ᵀ d vec X", "a scalar differential as a row",
         "tr(A*d(X)) -> vec(A')'*vec(d(X))"),
    Rule("vec_diag", None, True,
         r"\operatorname{vec}\operatorname{diag}(\mathbf{u}) = \operatorname{diag}(\operatorname{vec}\mathbf{I})(\mathbf{1}\otimes\mathbf{I})\mathbf{u}",
         "vec diag(u) = diag(vec I)(1 ⊗ I) u; diag(U) = (1ᵀ ⊗ I) diag(vec I) vec U",
         "vec of a diagonal", "vec(diag(d(x))) -> diag(vec(I))*kron(ones, I)*d(x)"),
    Rule("identify_jacobian", None, True,
         _D + r"\operatorname{vec}\mathbf{F} = \mathbf{J}\," + _D + r"\operatorname{vec}\mathbf{X} \Rightarrow "
         r"\mathbf{J} = \frac{\partial\operatorname{vec}\mathbf{F}}{\partial(\operatorname{vec}\mathbf{X})^\top}",
         "d vec F = J d vec X gives J = ∂vec F/∂(vec X)ᵀ", "read off the Jacobian",
         "d(A*x) = A*d(x) -> A"),
    Rule("second_differential", None, True,
         _D + r"^2 f = " + _D + r"(" + _D + r"f) = \operatorname{tr}((" + _D + r"\mathbf{G})^\top" + _D + r"\mathbf{X}),\ "
         + _D + r"(" + _D + r"\mathbf{X}) = 0",
         "d²f = d(df) = tr((dG)ᵀ dX), with d(dX) = 0", "the second differential",
         "x'*A*x: d2f = (d((A + A')*x))'*d(x)"),
    Rule("identify_hessian", None, True,
         _D + r"^2 f = (" + _D + r"\operatorname{vec}\mathbf{X})^\top\mathbf{H}\," + _D + r"\operatorname{vec}\mathbf{X},\ "
         r"\mathbf{H} = \mathbf{H}^\top",
         "d²f = (d vec X)ᵀ H d vec X with H symmetric", "read off the Hessian",
         "d vec G = (A + A')*d(x) -> H = A + A'"),
    Rule("abbreviate", None, False, r"\mathbf{s} = \sigma(\mathbf{X}\mathbf{w})",
         "a name for a repeated subexpression (display only)", "abbreviate",
         "X'*diag(sigmoid(X*w) .* (1 - sigmoid(X*w)))*X -> X'*diag(s .* (1 - s))*X"),
    Rule("symmetric", None, False,
         r"\nabla_{\mathbf{S}} f = \tfrac{1}{2}(\mathbf{G} + \mathbf{G}^\top)",
         "for a symmetric variable the gradient is ½(G + Gᵀ), G read off as for a general matrix",
         "symmetric variable",
         "tr(A*S) -> (A + A')/2"),
)

RULES += (
    # -- added in the second wave (appended: the order above is the catalogue's) --
    Rule("softplus", None, True,
         _D + r"\log(1 + \exp(\mathbf{U})) = \operatorname{sigmoid}(\mathbf{U})\odot" + _D + r"\mathbf{U}",
         "d log(1 + exp(U)) = sigmoid(U) ⊙ dU (elementwise)",
         "the differential of log(1 + exp(u))", "d(log(1 + exp(z))) -> sigmoid(z) .* d(z)"),
    Rule("norm_squared", None, True,
         _D + r"\|\mathbf{V}\|^{2} = 2\operatorname{tr}(\mathbf{V}^\top" + _D + r"\mathbf{V})",
         "d‖V‖² = 2 tr(Vᵀ dV)", "the differential of a squared norm",
         "d(norm(v)^2) -> 2*v'*d(v)"),
)

BY_ID = {r.id: r for r in RULES}
BASIC = ("constant", "product", "transpose", "trace", "inverse")


def rule(rule_id: str) -> Rule:
    return BY_ID[rule_id]
