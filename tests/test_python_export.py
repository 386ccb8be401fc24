"""Code export (``--format python``): the module is imported and run, the way a user
pastes it into an optimiser.  value_and_grad's gradient is compared with the corpus'
hand-written NumPy gradient and with ``gradient.numpy``; check_gradient (finite
differences) must say < 1e-6 on right gradients and catch a wrong one."""
from __future__ import annotations

import importlib.util
import itertools
import json
import keyword
import pathlib
import re
import sys

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from texderive import cli, derive, ir

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"
_counter = itertools.count()


def load_module(text: str, folder: pathlib.Path):
    path = folder / f"grad_{next(_counter)}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def module_for(expr, wrt, let=None, latex=False):
    d = derive(expr, wrt, let, latex=latex)
    return d, d.to_python()


def py(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) else name


def close(a, b, scale=1.0):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    tol = 1e-8 * max(1.0, scale, float(np.max(np.abs(b), initial=0.0)))
    assert float(np.max(np.abs(a - b), initial=0.0)) <= tol, (a, b)


# --- the benchmark's corpus: hand-written NumPy f and gradient ------------------------

def corpus():
    path = BENCH / "corpus.json"
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


CORPUS = corpus()


def bench_common():
    if not (BENCH / "common.py").exists():
        pytest.skip("the benchmark (shared/bench) is not beside the repository")
    sys.path.insert(0, str(BENCH))
    try:
        import common
    finally:
        sys.path.remove(str(BENCH))
    return common


@pytest.mark.parametrize("entry", CORPUS, ids=[e["id"] for e in CORPUS])
def test_corpus_value_and_grad_against_hand_written_numpy(entry, tmp_path):
    common = bench_common()
    d, text = module_for(entry["expr"], entry["wrt"], entry["let"])
    mod = load_module(text, tmp_path)
    for point in range(3):
        values = common.sample_point(entry, point)
        inputs = {py(k): v for k, v in values.items()}
        f, g = mod.value_and_grad(**common.copy_values(inputs))
        f_ref = common.f_value(entry, common.copy_values(values))
        g_ref = common.eval_py(entry["grad_np"], common.copy_values(values))
        close(f, f_ref, abs(f_ref))
        close(g, np.asarray(g_ref, dtype=float).reshape(np.shape(g)), abs(f_ref))
        # the same as the gradient's NumPy expression (SPEC section 4)
        close(g, common.eval_py(d.gradient_numpy, common.copy_values(values)))
        err = mod.check_gradient(**common.copy_values(inputs))
        assert isinstance(err, float) and err < 1e-6, err


# --- the project's examples ------------------------------------------------------------

def examples():
    out = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        deck = yaml.safe_load(path.read_text(encoding="utf-8"))
        shared = deck.get("let") or {}
        for i, e in enumerate(deck["derivations"], 1):
            let = {**shared, **(e.get("let") or {})}
            out.append(pytest.param(e["expr"], e["wrt"], let, bool(e.get("latex")),
                                    id=f"{path.stem}-{i}"))
    return out


def sample(d):
    """A point where f is defined (the numeric check's sampler), in the module's layout."""
    from texderive import check
    rng = np.random.default_rng(1)
    for sizes in check._assignments(check._dims_of(d.f), rng):
        hit = check._Problem(d.f, d.gradient, d.wrt_sym, sizes).search(rng)
        if hit is not None:
            break
    values = {}
    for s in ir.free_syms(d.f):
        v = hit[0][s.name]
        values[py(s.name)] = float(v[0, 0]) if s.kind == "scalar" else \
            v[:, 0].copy() if s.kind == "vector" else v
    return values


@pytest.mark.parametrize("expr, wrt, let, latex", examples())
def test_examples_value_and_grad(expr, wrt, let, latex, tmp_path):
    d, text = module_for(expr, wrt, let, latex)
    mod = load_module(text, tmp_path)
    values = sample(d)
    f, g = mod.value_and_grad(**values)
    numpy_ns = {"np": np, "numpy": np, **values}
    close(g, eval(d.gradient_numpy, {"__builtins__": {}}, numpy_ns))   # texderive's own output
    err = mod.check_gradient(**values)
    assert err < 1e-6, err
    # an independent central difference of the module's f along one direction
    x = np.asarray(values[py(wrt)], dtype=float)
    v = np.random.default_rng(5).standard_normal(x.shape)
    if d.wrt_sym.kind == "symmetric":
        v = (v + v.T) / 2
    h = 1e-5

    def fx(t):
        return mod.value_and_grad(**{**values, py(wrt): x + t * v})[0]
    fd = (fx(h) - fx(-h)) / (2 * h)
    assert abs(fd - float(np.sum(np.asarray(g) * v))) <= 1e-5 * max(1.0, abs(fd)), (fd, g)


# --- the module itself -------------------------------------------------------------------

def test_check_gradient_catches_a_wrong_gradient(tmp_path):
    for expr, wrt, let in [("norm(A*x - b)^2", "x", {}), ("logdet(S) - tr(B*S)", "S",
                                                          {"S": "symmetric"})]:
        d, text = module_for(expr, wrt, let)
        wrong, n = re.subn(r"^    _result = (.*)$", r"    _result = 1.001 * (\1)", text, flags=re.M)
        assert n == 1
        rng = np.random.default_rng(0)
        if wrt == "x":
            values = {"x": rng.standard_normal(3), "A": rng.standard_normal((4, 3)),
                      "b": rng.standard_normal(4)}
        else:
            g = rng.standard_normal((3, 3))
            values = {"S": g @ g.T + 3 * np.eye(3), "B": rng.standard_normal((3, 3))}
        assert load_module(text, tmp_path).check_gradient(**values) < 1e-6
        assert load_module(wrong, tmp_path).check_gradient(**values) > 5e-4


def test_shared_subexpressions_are_computed_once(tmp_path):
    _, text = module_for("norm(A*x - b)^2", "x")
    assert text.count("A @ x - b") == 1
    assert re.search(r"^    _t1 = A @ x - b$", text, re.M)
    _, text = module_for("tr(inv(X'*C*X)*(X'*B*X))", "X")
    assert text.count("np.linalg.inv(") == 1
    # a local that nothing reads is not computed
    for name in re.findall(r"^    (_t\d+) = ", text, re.M):
        assert len(re.findall(rf"\b{name}\b", text)) >= 2


def test_keyword_names_an_input_named_np_and_one_named_numpy(tmp_path):
    _, text = module_for("norm(A*x - b)^2 + lambda*norm(x)^2", "x")
    assert "def value_and_grad(*, x, A, b, lambda_):" in text
    mod = load_module(text, tmp_path)
    rng = np.random.default_rng(2)
    A, x, b, lam = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(4), 0.7
    f, g = mod.value_and_grad(x=x, A=A, b=b, lambda_=lam)
    close(f, np.sum((A @ x - b) ** 2) + lam * x @ x)
    close(g, 2 * A.T @ (A @ x - b) + 2 * lam * x)

    _, text = module_for("x'*np*x + tr(np)", "np", {"np": "matrix"})
    mod = load_module(text, tmp_path)
    M, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    f, g = mod.value_and_grad(np=M, x=x)
    close(f, x @ M @ x + np.trace(M))
    close(g, np.outer(x, x) + np.eye(3))
    assert mod.check_gradient(np=M, x=x) < 1e-6

    _, text = module_for("numpy'*x + np'*x", "x")
    mod = load_module(text, tmp_path)
    u, w, x = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    f, g = mod.value_and_grad(x=x, numpy=u, np=w)
    close(f, u @ x + w @ x)
    close(g, u + w)
    assert mod.check_gradient(x=x, numpy=u, np=w) < 1e-6


def test_cli_format_python_first_line_and_determinism():
    args = ["derive", "logdet(S) - tr(B*S)", "--wrt", "S", "--let", "S: symmetric n"]
    out = CliRunner().invoke(cli.main, args + ["--format", "python"])
    numpy_out = CliRunner().invoke(cli.main, args + ["--format", "numpy"])
    assert out.exit_code == 0, out.output
    from texderive.ownership import unstamp, verdict     # each first line has its own checksum
    assert unstamp(out.output).splitlines()[0] == unstamp(numpy_out.output).splitlines()[0]
    assert verdict(out.output)
    assert out.output.startswith("# generated by texderive ")
    again = CliRunner().invoke(cli.main, args + ["--format", "python"])
    assert again.output == out.output
    compile(out.output, "<module>", "exec")
    imports = re.findall(r"^(?:import|from) .*$", out.output, re.M)
    assert imports == ["import numpy as _numpy", "import numpy as np"]
    assert "eval" not in out.output and "exec" not in out.output


def test_latex_input_source_stays_out_of_the_docstring(tmp_path):
    d, text = module_for(r'\operatorname{tr}(\mathbf{A}\mathbf{X}) + \frac{1}{2}', "X", latex=True)
    assert "\\" not in text.split("import numpy", 1)[0]
    load_module(text, tmp_path)


# --- Jacobians and Hessians (SPEC section 6) -----------------------------------------------

def vec(a):
    return np.asarray(a, dtype=float).reshape(-1, order="F")


def commutation(m, n):
    """K with K vec(X) = vec(X') for X m x n (hand-written)."""
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1.0
    return K


_R = np.random.default_rng(11)
_A34, _B42, _x4 = _R.standard_normal((3, 4)), _R.standard_normal((4, 2)), _R.standard_normal(4)
_X33 = _R.standard_normal((3, 3)) + 4 * np.eye(3)
_X32 = _R.standard_normal((3, 2))
_S44 = _R.standard_normal((4, 4))

JACOBIANS = [
    # expr, wrt, let, inputs, F(inputs), J(inputs) by hand
    ("A*x", "x", {}, {"A": _A34, "x": _x4}, lambda v: v["A"] @ v["x"], lambda v: v["A"]),
    ("X*B", "X", {}, {"X": _X32, "B": _B42[:2]},
     lambda v: v["X"] @ v["B"], lambda v: np.kron(v["B"].T, np.eye(3))),
    ("x*alpha", "alpha", {}, {"x": _x4, "alpha": 0.7},
     lambda v: v["x"] * v["alpha"], lambda v: v["x"]),
    ("exp(x) .* x", "x", {}, {"x": _x4},
     lambda v: np.exp(v["x"]) * v["x"], lambda v: np.diag(np.exp(v["x"]) * (1 + v["x"]))),
    ("inv(X)", "X", {}, {"X": _X33}, lambda v: np.linalg.inv(v["X"]),
     lambda v: -np.kron(np.linalg.inv(v["X"]).T, np.linalg.inv(v["X"]))),
]
HESSIANS = [
    ("x'*A*x + sum(exp(x))", "x", {}, {"x": _x4, "A": _S44},
     lambda v: v["x"] @ v["A"] @ v["x"] + np.sum(np.exp(v["x"])),
     lambda v: v["A"] + v["A"].T + np.diag(np.exp(v["x"]))),
    ("log(det(X))", "X", {}, {"X": _X33}, lambda v: np.linalg.slogdet(v["X"])[1],
     lambda v: -commutation(3, 3) @ np.kron(np.linalg.inv(v["X"]).T, np.linalg.inv(v["X"]))),
    ("alpha^3", "alpha", {}, {"alpha": 1.3}, lambda v: v["alpha"] ** 3,
     lambda v: 6 * v["alpha"]),
    ("norm(A*x - b)^2", "x", {}, {"A": _A34, "x": _x4, "b": _R.standard_normal(3)},
     lambda v: np.sum((v["A"] @ v["x"] - v["b"]) ** 2), lambda v: 2 * v["A"].T @ v["A"]),
]


@pytest.mark.parametrize("expr, wrt, let, inputs, F, J", JACOBIANS, ids=[j[0] for j in JACOBIANS])
def test_value_and_jacobian(tmp_path, expr, wrt, let, inputs, F, J):
    d = derive(expr, wrt, let)
    assert d.result_kind == "jacobian"
    mod = load_module(d.to_python(), tmp_path)
    f, jac = mod.value_and_jacobian(**inputs)
    close(f, F(inputs))
    close(jac, J(inputs))
    close(jac, eval(d.result_numpy, {"__builtins__": {}}, {"np": np, **inputs}))
    assert mod.check_jacobian(**inputs) < 1e-6
    wrong, n = re.subn(r"^    _result = (.*)$", r"    _result = 1.001 * (\1)", d.to_python(),
                       flags=re.M)
    assert n == 1 and load_module(wrong, tmp_path).check_jacobian(**inputs) > 5e-4
    assert not hasattr(mod, "value_and_grad")


@pytest.mark.parametrize("expr, wrt, let, inputs, f, H", HESSIANS, ids=[h[0] for h in HESSIANS])
def test_value_and_hessian(tmp_path, expr, wrt, let, inputs, f, H):
    d = derive(expr, wrt, let, hessian=True)
    assert d.result_kind == "hessian"
    mod = load_module(d.to_python(), tmp_path)
    value, hess = mod.value_and_hessian(**inputs)
    close(value, f(inputs))
    close(hess, H(inputs))
    assert isinstance(value, float)
    assert mod.check_hessian(**inputs) < 1e-6
    wrong, n = re.subn(r"^    _result = (.*)$", r"    _result = 1.001 * (\1)", d.to_python(),
                       flags=re.M)
    assert n == 1 and load_module(wrong, tmp_path).check_hessian(**inputs) > 5e-4


def second_problems():
    path = BENCH / "second" / "problems.json"
    if not path.exists():
        return []
    return [p for p in json.loads(path.read_text(encoding="utf-8")) if not p.get("refuse_pattern")]


SECOND = second_problems()


@pytest.mark.parametrize("entry", SECOND, ids=[e["id"] for e in SECOND])
def test_second_order_problems_against_hand_written_f(entry, tmp_path):
    """The second benchmark's problems: F (f) equals the hand-written NumPy, the checker
    says < 1e-6, and J vec(V) (v'Hw) matches a difference of the hand-written F (f)."""
    common = bench_common()
    d = derive(entry["expr"], entry["wrt"], entry["let"], hessian=entry["hessian"])
    assert d.result_kind == entry["asked"]
    mod = load_module(d.to_python(), tmp_path)
    run = getattr(mod, f"value_and_{entry['asked']}")
    check = getattr(mod, f"check_{entry['asked']}")
    for point in range(2):
        values = common.sample_point(entry, point)
        inputs = {py(k): v for k, v in values.items()}
        value, result = run(**common.copy_values(inputs))
        ref = common.eval_py(entry["f_np"], common.copy_values(values))
        close(value, np.asarray(ref, dtype=float).reshape(np.shape(value)))
        assert check(**common.copy_values(inputs)) < 1e-6
        x = np.asarray(values[entry["wrt"]], dtype=float)
        rng = np.random.default_rng(point)
        v, w, h = rng.standard_normal(x.shape), rng.standard_normal(x.shape), 1e-4

        def F(t, s=0.0):
            moved = {**common.copy_values(values), entry["wrt"]: x + t * v + s * w}
            return vec(common.eval_py(entry["f_np"], moved))
        if entry["asked"] == "jacobian":
            fd = (F(h) - F(-h)) / (2 * h)
            an = vec(result) * float(v) if x.ndim == 0 else np.asarray(result) @ vec(v)
        else:
            fd = ((F(h, h) - F(h, -h) - F(-h, h) + F(-h, -h)) / (4 * h * h))[0]
            an = float(v * result * w) if x.ndim == 0 else float(vec(v) @ np.asarray(result) @ vec(w))
        assert np.allclose(fd, an, rtol=1e-4, atol=1e-4 * (1 + np.max(np.abs(an)))), (fd, an)
