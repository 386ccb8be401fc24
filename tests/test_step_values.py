"""Every step of a derivation holds an expression equal to the steps before it.

A derivation is a chain of equalities: ``y = ...`` (the expand step), then
``dy = ...`` rewritten rule by rule, then ``grad = ...`` read off and tidied.
A wrong rewrite in the middle can still end in a right gradient (two wrongs,
or a later step that drops the damage), so each step is evaluated on its own
at seeded points and random directions (symmetric ones for a symmetric
variable):

- a ``y`` step equals ``f``, computed by the case's hand-written ``f_np``;
- every ``dy`` step, evaluated with ``D(wrt)`` = the direction, is the same
  number, and that number is the finite-difference directional derivative
  of ``f_np``;
- every ``grad`` step is the same matrix as the final gradient (for a
  symmetric variable, the steps before the symmetrisation give ``H`` with
  ``(H + H')/2`` = the gradient), and pairs with the direction to give the
  directional derivative.

The cases come from test_gradients.py; texderive's evaluator computes the
steps' values, never the truth.
"""
from __future__ import annotations

import numpy as np
import pytest

from test_gradients import (BY_NAME, close, declared, directional_fd, eval_numpy,
                            full_shape, pairing, points)
from texderive import derive
from texderive.evaluate import evaluate
from texderive.printers.text import to_text

STEP_CASES = [
    "tr_AXB", "tr_AXtB", "tr_XtBXC", "tr_AXBX", "tr_A_invX_B", "a_Xinv_b",
    "tr_inv_XtCX_XtBX", "tr_inv_XtX_plus_I", "tr_A_Xm3", "a_X3_b", "det_AXB", "log_det_XtX",
    "logdet_XtCX", "det_X_squared", "affine_quadratic", "bilinear_product", "atXb_squared",
    "least_squares", "norm2_residual", "fro_residual_sq", "norm_x_cubed", "sym_xt_invS_x",
    "sym_tr_SASB", "sym_det", "sum_tanh_Wx", "a_abs_Xb", "tr_A_XhadB", "sum_X_had_X_had_A",
    "sum_A_div_X", "a_x_hpow_half", "sum_x_hpow_y", "sum_AXB", "a_diag_x_b",
    "sum_exp_diag_X", "norm_diag_AX_sq", "alpha_inside_inverse", "alpha_line_search",
    "beta_exp_and_power", "rayleigh_quotient", "trace_ratio", "scalar_power_by_trace",
    "X_minus_2_hpow", "ridge", "logistic_loss", "gaussian_nll_mean", "gaussian_nll_cov",
    "matrix_factorisation_U", "attention_scores_exp", "attention_values", "pca_penalty",
    "pca_reconstruction",
]

CLOSE = 1e-8       # steps are exact identities: they agree to rounding


def _same(a, b, scale: float) -> bool:
    return np.allclose(a, b, rtol=CLOSE, atol=CLOSE * max(1.0, scale))


def _describe(step) -> str:
    try:
        text = to_text(step.expr)
    except Exception as exc:         # the printer is not under test here
        text = f"<unprintable: {exc!r}>"
    return f"step {step.rule!r} ({step.lhs}) {text}"


@pytest.mark.parametrize("name", STEP_CASES)
def test_every_step_keeps_the_value(name):
    case = BY_NAME[name]
    d = derive(case.expr, wrt=case.wrt, let=case.let)
    steps = d.steps
    assert steps, "a derivation has steps"
    symmetric = declared(case)[case.wrt][0] == "symmetric"
    # G (the gradient as if the variable were a general matrix) only for a symmetric one
    assert all(s.lhs in ("y", "dy", "grad") + (("G",) if symmetric else ()) for s in steps)
    assert any(s.lhs == "dy" for s in steps) and steps[-1].lhs == "grad"
    assert steps[-1].expr == d.gradient, "the last step is the gradient"
    # the order is y* then dy+ then G* then grad+
    order = [{"y": 0, "dy": 1, "G": 2, "grad": 3}[s.lhs] for s in steps]
    assert order == sorted(order), [s.lhs for s in steps]
    full = full_shape(case)
    code = d.to_dict()["gradient"]["numpy"]
    dims = dict(case.sizes)
    checked = 0
    for values, directions in points(case):
        f0 = float(case.f_np(values))
        g_final = evaluate(d.gradient, values, dims=dims)
        assert g_final.shape == full
        g_numpy = np.asarray(eval_numpy(code, values), dtype=float).reshape(full)
        scale = float(np.linalg.norm(g_final))
        assert _same(g_numpy, g_final, scale), \
            f"gradient.numpy {code!r} and the gradient IR differ:\n{g_numpy}\n{g_final}"

        for step in steps:
            if step.lhs == "y":
                got = float(evaluate(step.expr, values, dims=dims)[0, 0])
                assert close(got, f0), f"{_describe(step)} = {got!r}, but f = {f0!r}"
                checked += 1
            elif step.lhs in ("grad", "G"):
                g = evaluate(step.expr, values, dims=dims)
                assert g.shape == full, f"{_describe(step)} has shape {g.shape}, want {full}"
                if step.lhs == "G":
                    g = (g + g.T) / 2      # grad = (G + G')/2; a "grad" step equals it as is
                assert _same(g, g_final, scale), (
                    f"{_describe(step)} evaluates to\n{g}\nbut the gradient is\n{g_final}")
                checked += 1

        for v in directions:
            fd = directional_fd(case.f_np, values, case.wrt, v)
            v2 = np.asarray(v, dtype=float).reshape(full)
            first = None
            for step in steps:
                if step.lhs == "dy":
                    got = float(evaluate(step.expr, values, direction=v2, wrt=d.wrt_sym,
                                         dims=dims)[0, 0])
                    if first is None:
                        first = got
                    assert close(got, fd), (
                        f"{_describe(step)} = {got!r} along V, but the directional "
                        f"derivative of f is {fd!r} (first dy step: {first!r})\n"
                        f"values={values}\nV={v}")
                    assert abs(got - first) <= CLOSE * max(1.0, abs(first)) * 100, \
                        f"{_describe(step)} = {got!r}, the first dy step {first!r}"
                    checked += 1
                elif step.lhs in ("grad", "G"):
                    g = evaluate(step.expr, values, dims=dims)
                    got = pairing(g, v2)
                    assert close(got, fd, scale), (
                        f"{_describe(step)}: sum(G .* V) = {got!r}, but the directional "
                        f"derivative of f is {fd!r}")
                    checked += 1
    assert checked > 0
