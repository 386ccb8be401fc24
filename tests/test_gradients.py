"""Named gradient cases, checked numerically against hand-written NumPy functions.

Every case gives an expression, its ``wrt``, declarations with sizes for every
name, a sampling kind per name and an independent NumPy function ``f_np`` of
the point (vectors as 1-D arrays, matrices 2-D, scalars floats).  The truth is
a 5-point central finite difference of ``f_np`` along random directions ``V``
(JAX ``check_jvp`` style): it must equal ``sum(G .* V)``, where ``G`` is the
derived gradient, evaluated twice: from ``gradient.numpy`` and from
``gradient.text`` parsed back with texderive's own parser.  Symmetric
variables get symmetric values and symmetric directions, and their gradient
must be symmetric (SPEC: ``(H + H')/2``).

texderive's evaluator is never the truth here; it only evaluates the parsed
``gradient.text``.
"""
from __future__ import annotations

import keyword
import math
import zlib

import numpy as np
import pytest

from texderive import derive, notation, shapes
from texderive.evaluate import evaluate

RTOL = 1e-5
STEP = 1e-3
POINTS = 3
DIRECTIONS = 3
SIZES = {"m": 4, "n": 3, "p": 2, "k": 5}


# ---------------------------------------------------------------------------
# the cases

class Case:
    __slots__ = ("name", "expr", "wrt", "let", "kinds", "f_np", "sizes")

    def __init__(self, name, expr, wrt, let, f_np, kinds=None, sizes=None):
        self.name, self.expr, self.wrt, self.let, self.f_np = name, expr, wrt, let, f_np
        self.kinds = dict(kinds or {})
        self.sizes = dict(SIZES, **(sizes or {}))

    def __repr__(self):
        return f"Case({self.name!r}, {self.expr!r}, wrt={self.wrt!r})"


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def tr(a):
    return float(np.trace(a))


def ld(a):
    sign, val = np.linalg.slogdet(a)
    return val if sign > 0 else float("nan")


inv = np.linalg.inv
det = np.linalg.det
mp = np.linalg.matrix_power


def fro2(a):
    return float(np.sum(a * a))


# Shorthand declarations (every name gets explicit sizes).
SQ = "matrix n n"

CASES = [
    # -- traces of products (Matrix Cookbook 2.5) ------------------------------
    Case("tr_AXB", "tr(A*X*B)", "X", {"A": "matrix p m", "X": "matrix m n", "B": "matrix n p"},
         lambda v: tr(v["A"] @ v["X"] @ v["B"])),
    Case("tr_AXtB", "tr(A*X'*B)", "X", {"A": "matrix p n", "X": "matrix m n", "B": "matrix m p"},
         lambda v: tr(v["A"] @ v["X"].T @ v["B"])),
    Case("tr_X", "tr(X)", "X", {"X": SQ}, lambda v: tr(v["X"])),
    Case("tr_XtX", "tr(X'*X)", "X", {"X": "matrix m n"}, lambda v: tr(v["X"].T @ v["X"])),
    Case("tr_XAXt", "tr(X*A*X')", "X", {"X": "matrix m n", "A": SQ},
         lambda v: tr(v["X"] @ v["A"] @ v["X"].T)),
    Case("tr_XtBXC", "tr(X'*B*X*C)", "X", {"X": "matrix m n", "B": "matrix m m", "C": SQ},
         lambda v: tr(v["X"].T @ v["B"] @ v["X"] @ v["C"])),
    Case("tr_AXBX", "tr(A*X*B*X)", "X", {"A": SQ, "X": SQ, "B": SQ},
         lambda v: tr(v["A"] @ v["X"] @ v["B"] @ v["X"])),
    Case("tr_XX_implicit_product", "tr(X X)", "X", {"X": SQ}, lambda v: tr(v["X"] @ v["X"])),
    Case("tr_X_plus_I_A", "tr((X + I)*A)", "X", {"X": SQ, "A": SQ},
         lambda v: tr((v["X"] + np.eye(3)) @ v["A"])),
    # -- inverses -----------------------------------------------------------------
    Case("tr_A_invX_B", "tr(A*inv(X)*B)", "X", {"A": "matrix p n", "X": SQ, "B": "matrix n p"},
         lambda v: tr(v["A"] @ inv(v["X"]) @ v["B"]), {"X": "wc"}),
    Case("tr_invX", "tr(inv(X))", "X", {"X": SQ}, lambda v: tr(inv(v["X"])), {"X": "wc"}),
    Case("a_Xinv_b", "a'*X^-1*b", "X", {"a": "vector n", "X": SQ, "b": "vector n"},
         lambda v: v["a"] @ inv(v["X"]) @ v["b"], {"X": "wc"}),
    Case("tr_inv_XtCX_XtBX", "tr(inv(X'*C*X)*X'*B*X)", "X",
         {"X": "matrix m n", "C": "matrix m m", "B": "matrix m m"},
         lambda v: tr(inv(v["X"].T @ v["C"] @ v["X"]) @ v["X"].T @ v["B"] @ v["X"]),
         {"C": "spd"}),
    Case("tr_inv_XtX_plus_I", "tr(inv(X'*X + I))", "X", {"X": "matrix m n"},
         lambda v: tr(inv(v["X"].T @ v["X"] + np.eye(3)))),
    Case("tr_A_inv_X_plus_B", "tr(A*inv(X + B))", "X", {"A": SQ, "X": SQ, "B": SQ},
         lambda v: tr(v["A"] @ inv(v["X"] + v["B"])), {"B": "wc"}),
    # -- powers -------------------------------------------------------------------
    Case("tr_X3", "tr(X^3)", "X", {"X": SQ}, lambda v: tr(mp(v["X"], 3))),
    Case("tr_AX2B", "tr(A*X^2*B)", "X", {"A": "matrix p n", "X": SQ, "B": "matrix n p"},
         lambda v: tr(v["A"] @ v["X"] @ v["X"] @ v["B"])),
    Case("a_X3_b", "a'*X^3*b", "X", {"a": "vector n", "X": SQ, "b": "vector n"},
         lambda v: v["a"] @ mp(v["X"], 3) @ v["b"]),
    Case("tr_Xm2", "tr(X^-2)", "X", {"X": SQ}, lambda v: tr(mp(inv(v["X"]), 2)), {"X": "wc"}),
    Case("tr_A_Xm3", "tr(A*X^(-3))", "X", {"A": SQ, "X": SQ},
         lambda v: tr(v["A"] @ mp(inv(v["X"]), 3)), {"X": "wc"}),
    Case("tr_Xt_power", "tr((X')^2*A)", "X", {"X": SQ, "A": SQ},
         lambda v: tr(v["X"].T @ v["X"].T @ v["A"])),
    # -- det and logdet -------------------------------------------------------------
    Case("det_X", "det(X)", "X", {"X": SQ}, lambda v: det(v["X"]), {"X": "wc"}),
    Case("det_AXB", "det(A*X*B)", "X", {"A": SQ, "X": SQ, "B": SQ},
         lambda v: det(v["A"] @ v["X"] @ v["B"]), {"A": "wc", "X": "wc", "B": "wc"}),
    Case("logdet_X", "logdet(X)", "X", {"X": SQ}, lambda v: ld(v["X"]), {"X": "spd"}),
    Case("log_det_XtX", "log(det(X'*X))", "X", {"X": "matrix m n"},
         lambda v: ld(v["X"].T @ v["X"])),
    Case("logdet_XtCX", "logdet(X'*C*X)", "X", {"X": "matrix m n", "C": "matrix m m"},
         lambda v: ld(v["X"].T @ v["C"] @ v["X"]), {"C": "spd"}),
    Case("logdet_inv_X", "logdet(inv(X))", "X", {"X": SQ}, lambda v: -ld(v["X"]), {"X": "spd"}),
    Case("det_X_squared", "det(X)^2", "X", {"X": SQ}, lambda v: det(v["X"]) ** 2, {"X": "wc"}),
    # -- quadratic forms ------------------------------------------------------------------
    Case("xtAx_wrt_x", "x'*A*x", "x", {"x": "vector n", "A": SQ},
         lambda v: v["x"] @ v["A"] @ v["x"]),
    Case("xtAx_wrt_A", "x'*A*x", "A", {"x": "vector n", "A": SQ},
         lambda v: v["x"] @ v["A"] @ v["x"]),
    Case("atXb", "a'*X*b", "X", {"a": "vector m", "X": "matrix m n", "b": "vector n"},
         lambda v: v["a"] @ v["X"] @ v["b"]),
    Case("atXtb", "a'*X'*b", "X", {"a": "vector n", "X": "matrix m n", "b": "vector m"},
         lambda v: v["a"] @ v["X"].T @ v["b"]),
    Case("btXtXc", "b'*X'*X*c", "X", {"b": "vector n", "X": "matrix m n", "c": "vector n"},
         lambda v: v["b"] @ v["X"].T @ v["X"] @ v["c"]),
    Case("affine_quadratic", "(A*x + b)'*C*(D*x + e)", "x",
         {"A": "matrix m n", "x": "vector n", "b": "vector m", "C": "matrix m m",
          "D": "matrix m n", "e": "vector m"},
         lambda v: (v["A"] @ v["x"] + v["b"]) @ v["C"] @ (v["D"] @ v["x"] + v["e"])),
    Case("tr_of_xtAx_wrt_A", "tr(x'*A*x)", "A", {"x": "vector n", "A": SQ},
         lambda v: v["x"] @ v["A"] @ v["x"]),
    Case("bilinear_product", "(x'*A*y)*(y'*B*x)", "x",
         {"x": "vector n", "A": SQ, "y": "vector n", "B": SQ},
         lambda v: (v["x"] @ v["A"] @ v["y"]) * (v["y"] @ v["B"] @ v["x"])),
    Case("atXb_squared", "(a'*X*b)^2", "X", {"a": "vector m", "X": "matrix m n", "b": "vector n"},
         lambda v: (v["a"] @ v["X"] @ v["b"]) ** 2),
    Case("exp_atXb", "exp(a'*X*b)", "X", {"a": "vector m", "X": "matrix m n", "b": "vector n"},
         lambda v: math.exp(v["a"] @ v["X"] @ v["b"]), {"X": "small"}),
    # -- norms --------------------------------------------------------------------------
    Case("norm_x_sq", "norm(x)^2", "x", {"x": "vector n"}, lambda v: v["x"] @ v["x"]),
    Case("norm_x", "norm(x)", "x", {"x": "vector n"}, lambda v: np.linalg.norm(v["x"])),
    Case("norm_x_cubed", "norm(x)^3", "x", {"x": "vector n"},
         lambda v: np.linalg.norm(v["x"]) ** 3),
    Case("least_squares", "norm(A*x - b)^2", "x",
         {"A": "matrix m n", "x": "vector n", "b": "vector m"},
         lambda v: fro2(v["A"] @ v["x"] - v["b"])),
    Case("norm2_residual", "norm2(A*x - b)", "x",
         {"A": "matrix m n", "x": "vector n", "b": "vector m"},
         lambda v: np.linalg.norm(v["A"] @ v["x"] - v["b"])),
    Case("fro_sq", "norm(X)^2", "X", {"X": "matrix m n"}, lambda v: fro2(v["X"])),
    Case("fro", "norm(X)", "X", {"X": "matrix m n"}, lambda v: math.sqrt(fro2(v["X"]))),
    Case("fro_residual_sq", "norm(A*X - B)^2", "X",
         {"A": "matrix m n", "X": "matrix n p", "B": "matrix m p"},
         lambda v: fro2(v["A"] @ v["X"] - v["B"])),
    Case("half_norm_sq_scaled", "1/2 * norm(A*x - b)^2", "x",
         {"A": "matrix m n", "x": "vector n", "b": "vector m"},
         lambda v: 0.5 * fro2(v["A"] @ v["x"] - v["b"])),
    # -- symmetric variables ------------------------------------------------------------
    Case("sym_tr_AS", "tr(A*S)", "S", {"A": SQ, "S": "symmetric n"}, lambda v: tr(v["A"] @ v["S"])),
    Case("sym_logdet", "logdet(S)", "S", {"S": "symmetric n"}, lambda v: ld(v["S"]), {"S": "spd"}),
    Case("sym_xt_invS_x", "x'*inv(S)*x", "S", {"x": "vector n", "S": "symmetric n"},
         lambda v: v["x"] @ inv(v["S"]) @ v["x"], {"S": "spd"}),
    Case("sym_tr_SASB", "tr(S*A*S*B)", "S", {"A": SQ, "S": "symmetric n", "B": SQ},
         lambda v: tr(v["S"] @ v["A"] @ v["S"] @ v["B"])),
    Case("sym_tr_S2", "tr(S^2)", "S", {"S": "symmetric n"}, lambda v: tr(v["S"] @ v["S"])),
    Case("sym_xtSx", "x'*S*x", "S", {"x": "vector n", "S": "symmetric n"},
         lambda v: v["x"] @ v["S"] @ v["x"]),
    Case("sym_det", "det(S)", "S", {"S": "symmetric n"}, lambda v: det(v["S"]), {"S": "spd"}),
    # -- elementwise functions ------------------------------------------------------------
    Case("sum_log_x", "sum(log(x))", "x", {"x": "vector n"}, lambda v: np.sum(np.log(v["x"])),
         {"x": "positive"}),
    Case("sum_exp_X", "sum(exp(X))", "X", {"X": "matrix m n"}, lambda v: np.sum(np.exp(v["X"]))),
    Case("a_sqrt_x", "a'*sqrt(x)", "x", {"a": "vector n", "x": "vector n"},
         lambda v: v["a"] @ np.sqrt(v["x"]), {"x": "positive"}),
    Case("sum_sin_Ax", "sum(sin(A*x))", "x", {"A": "matrix m n", "x": "vector n"},
         lambda v: np.sum(np.sin(v["A"] @ v["x"]))),
    Case("sum_cos_X", "sum(cos(X))", "X", {"X": "matrix m n"}, lambda v: np.sum(np.cos(v["X"]))),
    Case("sum_tan_x", "sum(tan(x))", "x", {"x": "vector n"}, lambda v: np.sum(np.tan(v["x"])),
         {"x": "small"}),
    Case("sum_sinh_X", "sum(sinh(X))", "X", {"X": "matrix m n"}, lambda v: np.sum(np.sinh(v["X"]))),
    Case("a_cosh_x", "a'*cosh(x)", "x", {"a": "vector n", "x": "vector n"},
         lambda v: v["a"] @ np.cosh(v["x"])),
    Case("sum_tanh_Wx", "sum(tanh(W*x))", "W", {"W": "matrix m n", "x": "vector n"},
         lambda v: np.sum(np.tanh(v["W"] @ v["x"]))),
    Case("sum_sigmoid_X", "sum(sigmoid(X))", "X", {"X": "matrix m n"},
         lambda v: np.sum(sigmoid(v["X"]))),
    Case("sum_abs_x", "sum(abs(x))", "x", {"x": "vector n"}, lambda v: np.sum(np.abs(v["x"])),
         {"x": "nonzero"}),
    Case("a_abs_Xb", "a'*abs(X*b)", "X", {"a": "vector m", "X": "matrix m n", "b": "vector n"},
         lambda v: v["a"] @ np.abs(v["X"] @ v["b"]), {"X": "nonzero", "b": "positive"}),
    Case("scalar_sin_of_form", "sin(x'*A*x)", "x", {"x": "vector n", "A": SQ},
         lambda v: math.sin(v["x"] @ v["A"] @ v["x"])),
    # -- elementwise products, quotients, powers ----------------------------------------------
    Case("sum_A_had_X", "sum(A .* X)", "X", {"A": "matrix m n", "X": "matrix m n"},
         lambda v: np.sum(v["A"] * v["X"])),
    Case("tr_A_XhadB", "tr(A*(X .* B))", "X",
         {"A": "matrix n m", "X": "matrix m n", "B": "matrix m n"},
         lambda v: tr(v["A"] @ (v["X"] * v["B"]))),
    Case("sum_X_had_X_had_A", "sum(X .* A .* X)", "X", {"A": "matrix m n", "X": "matrix m n"},
         lambda v: np.sum(v["X"] * v["A"] * v["X"])),
    Case("sum_A_div_X", "sum(A ./ X)", "X", {"A": "matrix m n", "X": "matrix m n"},
         lambda v: np.sum(v["A"] / v["X"]), {"X": "positive"}),
    Case("sum_X_div_A", "sum(X ./ A)", "X", {"A": "matrix m n", "X": "matrix m n"},
         lambda v: np.sum(v["X"] / v["A"]), {"A": "positive"}),
    Case("sum_X_hpow_3", "sum(X .^ 3)", "X", {"X": "matrix m n"}, lambda v: np.sum(v["X"] ** 3)),
    Case("a_x_hpow_half", "a'*(x .^ 0.5)", "x", {"a": "vector n", "x": "vector n"},
         lambda v: v["a"] @ v["x"] ** 0.5, {"x": "positive"}),
    Case("sum_2_hpow_x", "sum(2.^x)", "x", {"x": "vector n"}, lambda v: np.sum(2.0 ** v["x"])),
    Case("sum_x_hpow_y", "sum(x .^ y)", "y", {"x": "vector n", "y": "vector n"},
         lambda v: np.sum(v["x"] ** v["y"]), {"x": "positive"}),
    Case("sum_recip_x", "sum(1./x)", "x", {"x": "vector n"}, lambda v: np.sum(1.0 / v["x"]),
         {"x": "positive"}),
    # -- sum and diag -----------------------------------------------------------------------
    Case("sum_X", "sum(X)", "X", {"X": "matrix m n"}, lambda v: np.sum(v["X"])),
    Case("sum_AXB", "sum(A*X*B)", "X", {"A": "matrix p m", "X": "matrix m n", "B": "matrix n k"},
         lambda v: np.sum(v["A"] @ v["X"] @ v["B"])),
    Case("tr_A_diag_x", "tr(A*diag(x))", "x", {"A": SQ, "x": "vector n"},
         lambda v: tr(v["A"] @ np.diag(v["x"]))),
    Case("a_diag_x_b", "a'*diag(x)*b", "x", {"a": "vector n", "x": "vector n", "b": "vector n"},
         lambda v: v["a"] @ np.diag(v["x"]) @ v["b"]),
    Case("a_diag_X", "a'*diag(X)", "X",
         {"a": "vector n", "X": SQ}, lambda v: v["a"] @ np.diag(v["X"])),
    Case("sum_exp_diag_X", "sum(exp(diag(X)))", "X", {"X": SQ},
         lambda v: np.sum(np.exp(np.diag(v["X"])))),
    Case("sum_of_vector_times_trace", "sum(c*tr(X))", "X", {"c": "vector p", "X": SQ},
         lambda v: np.sum(v["c"]) * tr(v["X"])),
    Case("sum_of_vector_times_form", "sum((a'*X*a)*c)", "X",
         {"a": "vector n", "X": SQ, "c": "vector p"},
         lambda v: (v["a"] @ v["X"] @ v["a"]) * np.sum(v["c"])),
    Case("alpha_plus_sum_of_scaled_vector", "alpha^2 + sum(alpha*x)", "alpha",
         {"alpha": "scalar", "x": "vector n"},
         lambda v: v["alpha"] ** 2 + np.sum(v["alpha"] * v["x"])),
    Case("norm_diag_AX_sq", "norm(diag(A*X))^2", "X", {"A": "matrix n m", "X": "matrix m n"},
         lambda v: fro2(np.diag(v["A"] @ v["X"]))),
    # -- scalars, Greek names ------------------------------------------------------------------
    Case("alpha_wrt_scaled_trace", "alpha^2*tr(A*X)", "alpha",
         {"alpha": "scalar", "A": SQ, "X": SQ},
         lambda v: v["alpha"] ** 2 * tr(v["A"] @ v["X"])),
    Case("alpha_as_coefficient", "alpha*tr(X'*X)", "X", {"alpha": "scalar", "X": "matrix m n"},
         lambda v: v["alpha"] * tr(v["X"].T @ v["X"])),
    Case("alpha_inside_inverse", "tr(inv(X + alpha*I))", "alpha", {"alpha": "scalar", "X": SQ},
         lambda v: tr(inv(v["X"] + v["alpha"] * np.eye(3))), {"X": "spd", "alpha": "positive"}),
    Case("alpha_line_search", "norm(y - alpha*x)^2", "alpha",
         {"alpha": "scalar", "x": "vector n", "y": "vector n"},
         lambda v: fro2(v["y"] - v["alpha"] * v["x"])),
    Case("beta_exp_and_power", "exp(beta)*x'*x + alpha*beta^3", "beta",
         {"alpha": "scalar", "beta": "scalar", "x": "vector n"},
         lambda v: math.exp(v["beta"]) * (v["x"] @ v["x"]) + v["alpha"] * v["beta"] ** 3),
    Case("scalar_log_of_scalar", "log(theta) * tr(X) + theta^0.5", "theta",
         {"theta": "scalar", "X": SQ},
         lambda v: math.log(v["theta"]) * tr(v["X"]) + v["theta"] ** 0.5, {"theta": "positive"}),
    Case("log_xtAx", "log(x'*A*x)", "x", {"x": "vector n", "A": SQ},
         lambda v: math.log(v["x"] @ v["A"] @ v["x"]), {"A": "spd"}),
    Case("sqrt_xtAx", "sqrt(x'*A*x)", "x", {"x": "vector n", "A": SQ},
         lambda v: math.sqrt(v["x"] @ v["A"] @ v["x"]), {"A": "spd"}),
    Case("exp_atx", "exp(a'*x)", "x", {"a": "vector n", "x": "vector n"},
         lambda v: math.exp(v["a"] @ v["x"])),
    Case("pow_half_xtAx", "(x'*A*x)^0.5", "x", {"x": "vector n", "A": SQ},
         lambda v: (v["x"] @ v["A"] @ v["x"]) ** 0.5, {"A": "spd"}),
    Case("pow_third_xtAx", "(x'*A*x)^(1/3)", "x", {"x": "vector n", "A": SQ},
         lambda v: (v["x"] @ v["A"] @ v["x"]) ** (1 / 3), {"A": "spd"}),
    Case("pow_minus_one_xtAx", "(x'*A*x)^(-1)", "x", {"x": "vector n", "A": SQ},
         lambda v: 1.0 / (v["x"] @ v["A"] @ v["x"]), {"A": "spd"}),
    Case("pow_minus_one_xtAx_wrt_A", "(x'*A*x)^(-1)", "A", {"x": "vector n", "A": SQ},
         lambda v: 1.0 / (v["x"] @ v["A"] @ v["x"]), {"A": "spd"}),
    Case("scalar_power_by_trace", "(a'*x)^(tr(X))", "X",
         {"a": "vector n", "x": "vector n", "X": SQ},
         lambda v: (v["a"] @ v["x"]) ** tr(v["X"]),
         {"a": "positive", "x": "positive", "X": "small"}),
    # -- quotients -----------------------------------------------------------------------
    Case("rayleigh_quotient", "(x'*A*x)/(x'*x)", "x", {"x": "vector n", "A": SQ},
         lambda v: (v["x"] @ v["A"] @ v["x"]) / (v["x"] @ v["x"])),
    Case("ratio_of_linear", "(a'*x)/(b'*x)", "x",
         {"a": "vector n", "b": "vector n", "x": "vector n"},
         lambda v: (v["a"] @ v["x"]) / (v["b"] @ v["x"]), {"b": "positive", "x": "positive"}),
    Case("trace_ratio", "tr(A*X)/tr(B*X)", "X", {"A": SQ, "B": SQ, "X": SQ},
         lambda v: tr(v["A"] @ v["X"]) / tr(v["B"] @ v["X"]), {"B": "positive", "X": "positive"}),
    Case("divide_by_number", "tr(X'*X)/2", "X", {"X": "matrix m n"},
         lambda v: tr(v["X"].T @ v["X"]) / 2),
    # -- ones, I and scalar-plus-array ----------------------------------------------------
    Case("ones_exp_x", "ones'*exp(x)", "x", {"x": "vector n"}, lambda v: np.sum(np.exp(v["x"]))),
    Case("ones_X_ones", "ones'*X*ones", "X", {"X": "matrix m n"}, lambda v: np.sum(v["X"])),
    Case("form_plus_ones_row", "y'*x + ones'*x", "x", {"y": "vector n", "x": "vector n"},
         lambda v: v["y"] @ v["x"] + np.sum(v["x"])),
    Case("one_plus_exp_x", "a'*(1 + exp(x))", "x", {"a": "vector n", "x": "vector n"},
         lambda v: v["a"] @ (1 + np.exp(v["x"]))),
    Case("X_minus_2", "norm(X - 2)^2", "X", {"X": "matrix m n"}, lambda v: fro2(v["X"] - 2)),
    Case("X_minus_2_hpow", "sum((X - 2) .^ 2 .* A)", "X", {"X": "matrix m n", "A": "matrix m n"},
         lambda v: np.sum((v["X"] - 2) ** 2 * v["A"])),
    Case("trace_of_X_minus_I_squared", "tr((X - I)'*(X - I))", "X", {"X": SQ},
         lambda v: fro2(v["X"] - np.eye(3))),
    # -- machine-learning composites ------------------------------------------------------
    Case("ridge", "norm(A*x - b)^2 + lambda*norm(x)^2", "x",
         {"A": "matrix m n", "x": "vector n", "b": "vector m", "lambda": "scalar"},
         lambda v: fro2(v["A"] @ v["x"] - v["b"]) + v["lambda"] * fro2(v["x"]),
         {"lambda": "positive"}),
    Case("ridge_wrt_lambda", "norm(A*x - b)^2 + lambda*norm(x)^2", "lambda",
         {"A": "matrix m n", "x": "vector n", "b": "vector m", "lambda": "scalar"},
         lambda v: fro2(v["A"] @ v["x"] - v["b"]) + v["lambda"] * fro2(v["x"]),
         {"lambda": "positive"}),
    Case("logistic_loss", "sum(log(1 + exp(-y .* (A*w))))", "w",
         {"y": "vector m", "A": "matrix m n", "w": "vector n"},
         lambda v: np.sum(np.log(1 + np.exp(-v["y"] * (v["A"] @ v["w"]))))),
    Case("softplus", "ones'*log(1 + exp(X*w))", "w", {"X": "matrix m n", "w": "vector n"},
         lambda v: np.sum(np.log1p(np.exp(v["X"] @ v["w"])))),
    Case("gaussian_nll_mean", "0.5*(x - mu)'*inv(Sigma)*(x - mu) + 0.5*logdet(Sigma)", "mu",
         {"x": "vector n", "mu": "vector n", "Sigma": "symmetric n"},
         lambda v: 0.5 * (v["x"] - v["mu"]) @ inv(v["Sigma"]) @ (v["x"] - v["mu"])
         + 0.5 * ld(v["Sigma"]), {"Sigma": "spd"}),
    Case("gaussian_nll_cov", "0.5*(x - mu)'*inv(Sigma)*(x - mu) + 0.5*logdet(Sigma)", "Sigma",
         {"x": "vector n", "mu": "vector n", "Sigma": "symmetric n"},
         lambda v: 0.5 * (v["x"] - v["mu"]) @ inv(v["Sigma"]) @ (v["x"] - v["mu"])
         + 0.5 * ld(v["Sigma"]), {"Sigma": "spd"}),
    Case("gaussian_nll_cov_general", "tr(inv(Sigma)*C) + logdet(Sigma)", "Sigma",
         {"C": SQ, "Sigma": "matrix n n"},
         lambda v: tr(inv(v["Sigma"]) @ v["C"]) + ld(v["Sigma"]), {"Sigma": "spd"}),
    Case("matrix_factorisation_U", "norm(Y - U*V')^2 + lambda*(norm(U)^2 + norm(V)^2)", "U",
         {"Y": "matrix m k", "U": "matrix m p", "V": "matrix k p", "lambda": "scalar"},
         lambda v: fro2(v["Y"] - v["U"] @ v["V"].T) + v["lambda"] * (fro2(v["U"]) + fro2(v["V"])),
         {"lambda": "positive"}),
    Case("matrix_factorisation_V", "norm(Y - U*V')^2", "V",
         {"Y": "matrix m k", "U": "matrix m p", "V": "matrix k p"},
         lambda v: fro2(v["Y"] - v["U"] @ v["V"].T)),
    Case("attention_trace", "tr(X*W_q*W_k'*X')", "W_q",
         {"X": "matrix m n", "W_q": "matrix n p", "W_k": "matrix n p"},
         lambda v: tr(v["X"] @ v["W_q"] @ v["W_k"].T @ v["X"].T)),
    Case("attention_scores_exp", "sum(exp(X*W_q*W_k'*X'))", "W_k",
         {"X": "matrix m n", "W_q": "matrix n p", "W_k": "matrix n p"},
         lambda v: np.sum(np.exp(v["X"] @ v["W_q"] @ v["W_k"].T @ v["X"].T)),
         {"X": "small"}),
    Case("attention_values", "tr(A'*tanh(X*W)*B)", "W",
         {"A": "matrix m p", "X": "matrix m n", "W": "matrix n k", "B": "matrix k p"},
         lambda v: tr(v["A"].T @ np.tanh(v["X"] @ v["W"]) @ v["B"])),
    Case("log_sum_exp", "log(sum(exp(x)))", "x", {"x": "vector n"},
         lambda v: math.log(np.sum(np.exp(v["x"])))),
    Case("softmax_cross_entropy", "-y'*W*x + log(ones'*exp(W*x))", "W",
         {"y": "vector m", "W": "matrix m n", "x": "vector n"},
         lambda v: -v["y"] @ v["W"] @ v["x"] + math.log(np.sum(np.exp(v["W"] @ v["x"])))),
    Case("det_power_minus_half", "det(S)^(-1/2)", "S", {"S": "symmetric n"},
         lambda v: det(v["S"]) ** -0.5, {"S": "spd"}),
    Case("norm_reciprocal", "norm(x)^(-1)", "x", {"x": "vector n"},
         lambda v: 1.0 / np.linalg.norm(v["x"])),
    Case("sqrt_of_trace", "sqrt(tr(X'*X))", "X", {"X": "matrix m n"},
         lambda v: math.sqrt(fro2(v["X"]))),
    Case("x_Xm2_x", "x'*X^-2*x", "X", {"x": "vector n", "X": SQ},
         lambda v: v["x"] @ mp(inv(v["X"]), 2) @ v["x"], {"X": "wc"}),
    Case("transposed_inverse", "a'*inv(X)'*b", "X", {"a": "vector n", "X": SQ, "b": "vector n"},
         lambda v: v["a"] @ inv(v["X"]).T @ v["b"], {"X": "wc"}),
    Case("scalar_over_vector_elementwise", "sum(2 ./ x)", "x", {"x": "vector n"},
         lambda v: np.sum(2.0 / v["x"]), {"x": "positive"}),
    Case("sigmoid_of_scalar_form", "sigmoid(a'*X*b)", "X",
         {"a": "vector m", "X": "matrix m n", "b": "vector n"},
         lambda v: float(sigmoid(v["a"] @ v["X"] @ v["b"]))),
    Case("tanh_elementwise_vector_wrt_x", "c'*tanh(W*x + b)", "x",
         {"c": "vector m", "W": "matrix m n", "x": "vector n", "b": "vector m"},
         lambda v: v["c"] @ np.tanh(v["W"] @ v["x"] + v["b"])),
    Case("hadamard_of_vectors_quadratic", "(x .* a)'*A*(x .* a)", "x",
         {"x": "vector n", "a": "vector n", "A": SQ},
         lambda v: (v["x"] * v["a"]) @ v["A"] @ (v["x"] * v["a"])),
    Case("pca_penalty", "-tr(W'*C*W) + lambda*norm(W'*W - I)^2", "W",
         {"W": "matrix n p", "C": SQ, "lambda": "scalar"},
         lambda v: -tr(v["W"].T @ v["C"] @ v["W"])
         + v["lambda"] * fro2(v["W"].T @ v["W"] - np.eye(2)), {"C": "spd", "lambda": "positive"}),
    Case("pca_reconstruction", "norm(X - X*W*W')^2", "W", {"X": "matrix m n", "W": "matrix n p"},
         lambda v: fro2(v["X"] - v["X"] @ v["W"] @ v["W"].T)),
]

BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "duplicate case names"


# ---------------------------------------------------------------------------
# sampling and checking (shared with test_step_values.py)

def declared(case: Case) -> dict:
    """name -> (kind, concrete shape)."""
    out = {}
    for name, (kind, dims) in shapes.parse_let(case.let).items():
        sizes = tuple(d if isinstance(d, int) else case.sizes[d] for d in dims)
        if kind == "scalar":
            shape = ()
        elif kind == "vector":
            shape = (sizes[0],)
        elif kind == "symmetric":
            shape = (sizes[0], sizes[0])
        else:
            shape = sizes
        out[name] = (kind, shape)
    return out


def sample_value(rng, kind: str, sampling: str, shape: tuple):
    if sampling == "normal":
        a = rng.standard_normal(shape)
    elif sampling == "small":
        a = 0.3 * rng.standard_normal(shape)
    elif sampling == "positive":
        a = rng.uniform(0.5, 2.0, shape)
    elif sampling == "nonzero":
        a = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    elif sampling == "spd":
        # symmetric positive definite; a general (not symmetric) matrix gets a skew
        # part too, which keeps x'*A*x > 0 and det > 0 but lets A and A' differ, so
        # that a transposed gradient cannot pass unnoticed
        n = shape[0]
        g = rng.standard_normal((n, n))
        a = g @ g.T / n + np.eye(n)
        if kind != "symmetric":
            k = rng.standard_normal((n, n))
            a = a + 0.3 * (k - k.T)
    elif sampling == "wc":
        n = shape[0]
        a = rng.standard_normal((n, n)) / math.sqrt(n) + 2.0 * np.eye(n)
    else:
        raise AssertionError(f"unknown sampling {sampling}")
    if kind == "symmetric":
        a = (a + a.T) / 2
    return float(a) if shape == () else a


def sample_point(case: Case, rng) -> dict:
    return {name: sample_value(rng, kind, case.kinds.get(name, "normal"), shape)
            for name, (kind, shape) in declared(case).items()}


def sample_direction(case: Case, rng):
    kind, shape = declared(case)[case.wrt]
    if shape == ():
        return 1.0
    v = rng.standard_normal(shape)
    if kind == "symmetric":
        v = (v + v.T) / 2
    return v / np.linalg.norm(v)


def directional_fd(f_np, values: dict, wrt: str, direction, h: float = STEP) -> float:
    """5-point central difference of f_np at values along direction."""
    def at(t):
        moved = dict(values)
        moved[wrt] = values[wrt] + t * direction
        return float(f_np(moved))
    with np.errstate(all="raise"):
        return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


def pairing(g, direction) -> float:
    """tr(G' V) = sum(G .* V)."""
    return float(np.sum(np.asarray(g, dtype=float) * np.asarray(direction, dtype=float)))


def close(a: float, b: float, scale: float = 0.0) -> bool:
    return abs(a - b) <= RTOL * max(abs(a), abs(b), 1e-3 * scale) + 1e-10


def seed_of(case: Case, k: int) -> int:
    return zlib.crc32(f"{case.name}/{k}".encode())


def points(case: Case):
    """(values, [directions]) at POINTS seeded points where f_np is finite."""
    out = []
    for k in range(POINTS):
        rng = np.random.default_rng(seed_of(case, k))
        values = sample_point(case, rng)
        with np.errstate(all="raise"):
            f0 = float(case.f_np(values))
        assert math.isfinite(f0), f"{case.name}: f is not finite at the sampled point"
        out.append((values, [sample_direction(case, rng) for _ in range(DIRECTIONS)]))
    return out


def numpy_namespace(values: dict) -> dict:
    ns = {"np": np}
    for name, val in values.items():
        ns[name + "_" if keyword.iskeyword(name) else name] = val
    return ns


def eval_numpy(code: str, values: dict):
    with np.errstate(all="raise"):
        return eval(code, numpy_namespace(values))  # noqa: S307 - the tool's own output


def expected_numpy_shape(case: Case) -> tuple:
    return declared(case)[case.wrt][1]


def full_shape(case: Case) -> tuple:
    """The wrt variable's shape in the IR's convention: (n, 1) vectors, (1, 1) scalars."""
    shape = expected_numpy_shape(case)
    if len(shape) == 0:
        return (1, 1)
    if len(shape) == 1:
        return (shape[0], 1)
    return shape


def text_gradient_ir(case: Case, text: str):
    """Parse gradient.text back with texderive's own parser, in the case's declarations."""
    syn = notation.parse(text)
    return shapes.elaborate(syn, text, shapes.parse_let(case.let), scalar=False)


def dims_for(case: Case, node) -> dict:
    """Sizes of the dimension symbols of a parsed gradient: its outer shape is the
    wrt variable's (a lone `I` or `ones` has no variable to fix its size, and its
    fresh dimension names need not be the case's), then the case's sizes."""
    full = full_shape(case)
    dims = {}
    for d, size in zip(node.shape, full):
        if isinstance(d, str):
            dims[d] = size
    for d, size in case.sizes.items():
        dims.setdefault(d, size)
    return dims


def check_gradient_against_fd(case: Case, grad_at, label: str) -> int:
    """grad_at(values) -> G in the wrt's NumPy layout.  Returns the comparisons made."""
    count = 0
    sym = declared(case)[case.wrt][0] == "symmetric"
    for values, dirs in points(case):
        g = grad_at(values)
        garr = np.asarray(g, dtype=float)
        assert np.all(np.isfinite(garr)), f"{label}: gradient not finite: {g}"
        if sym:
            assert np.allclose(garr, garr.T, rtol=1e-9, atol=1e-9), \
                f"{label}: the gradient of a symmetric variable is not symmetric:\n{garr}"
        scale = float(np.linalg.norm(garr))
        for v in dirs:
            fd = directional_fd(case.f_np, values, case.wrt, v)
            got = pairing(garr, v)
            assert close(fd, got, scale), (
                f"{label}: {case.expr!r} wrt {case.wrt}: directional derivative "
                f"{fd!r} (finite differences) but sum(G*V) = {got!r}\n"
                f"values={values}\nV={v}\nG={garr}")
            count += 1
    return count


# ---------------------------------------------------------------------------
# the tests

IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_numpy_matches_finite_differences(case):
    doc = derive(case.expr, wrt=case.wrt, let=case.let).to_dict()
    code = doc["gradient"]["numpy"]
    want_shape = expected_numpy_shape(case)

    def grad_at(values):
        g = eval_numpy(code, values)
        shape = np.shape(g)
        assert shape == want_shape, (
            f"gradient.numpy {code!r} gives shape {shape}, the wrt {case.wrt} is {want_shape}")
        if want_shape == ():
            assert isinstance(g, (float, np.floating)), f"{code!r} gives {type(g)}, not a float"
        return g

    assert check_gradient_against_fd(case, grad_at, f"numpy {code!r}") == POINTS * DIRECTIONS


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_text_parses_back_and_matches_finite_differences(case):
    doc = derive(case.expr, wrt=case.wrt, let=case.let).to_dict()
    text = doc["gradient"]["text"]
    g_ir = text_gradient_ir(case, text)
    want = expected_numpy_shape(case)
    full = full_shape(case)

    def grad_at(values):
        g = evaluate(g_ir, values, dims=dims_for(case, g_ir))
        assert g.shape == full, f"gradient.text {text!r} evaluates to shape {g.shape}, want {full}"
        return g.reshape(want) if want else float(g[0, 0])

    assert check_gradient_against_fd(case, grad_at, f"text {text!r}") == POINTS * DIRECTIONS


def test_case_table_is_well_formed():
    """Every name of every expression is declared with sizes; sampling kinds are known."""
    for case in CASES:
        decls = shapes.parse_let(case.let)
        for name, (kind, dims) in decls.items():
            want = {"scalar": 0, "vector": 1, "matrix": 2, "symmetric": 1}[kind]
            assert len(dims) == want, f"{case.name}: {name} needs explicit sizes"
        assert case.wrt in decls, case.name
        for name in case.kinds:
            assert name in decls, f"{case.name}: sampling kind for undeclared {name}"
    assert len(CASES) >= 60
