"""The benchmark's expression corpus: the project's own examples and Matrix Cookbook identities.

``corpus(root)`` returns a list of :class:`Case` (expr, wrt, let), without duplicates:

* the project's examples, read from ``examples/*.yaml`` at run time (a deck's shared
  ``let`` merged under each entry's own), so the corpus follows the decks as they change;
* the snippets that the Makefile's paper target and the command line's ``--help`` derive;
* about forty identities from The Matrix Cookbook (Petersen & Pedersen, version of
  15 November 2012), cited by section: 2.1.2 determinants, 2.2 inverses, 2.4 scalar
  forms, 2.5 traces, 2.6/2.7 norms.  Where the Cookbook assumes a square or symmetric
  matrix the case declares it only when the identity needs it (texderive infers shapes).

Only the standard library and PyYAML (a dependency of texderive) are used here.
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    name: str
    expr: str
    wrt: str
    let: dict = field(default_factory=dict)
    source: str = ""
    latex: bool = False

    def key(self) -> tuple:
        return (self.expr, self.wrt, tuple(sorted(self.let.items())), self.latex)


# Derived by the Makefile's paper target and shown in `texderive derive --help`.
PROJECT_SNIPPETS = [
    Case("paper least squares", "norm(A*x - b)^2", "x", source="Makefile (paper)"),
    Case("paper trace", "tr(A*X*B)", "X", source="Makefile (paper)"),
    Case("paper logdet", "log(det(X'*X))", "X", source="Makefile (paper)"),
    Case("paper gaussian", "-logdet(Sigma) - tr(inv(Sigma)*S)", "Sigma",
         {"Sigma": "symmetric n", "S": "symmetric n"}, source="Makefile (paper)"),
    Case("help logdet symmetric", "logdet(S)", "S", {"S": "symmetric"}, source="cli --help"),
    Case("help latex trace", r"\operatorname{tr}(\mathbf{A}\mathbf{X})", "X",
         source="cli --help", latex=True),
    Case("help negative logdet", "-logdet(X)", "X", source="cli --help"),
    Case("starter symmetric", "logdet(S) - tr(B*S)", "S", {"S": "symmetric n"},
         source="cli init (starter deck)"),
]

_C = "Matrix Cookbook "

COOKBOOK = [
    # 2.1.2 derivatives of a determinant
    Case("det", "det(X)", "X", source=_C + "2.1.2"),
    Case("det of a product", "det(A*X*B)", "X", source=_C + "2.1.2"),
    Case("det of a congruence", "det(X'*A*X)", "X", source=_C + "2.1.2"),
    Case("log det X'X", "log(det(X'*X))", "X", source=_C + "2.1.2"),
    Case("log det", "logdet(X)", "X", source=_C + "2.1.2"),
    Case("det of a power", "det(X^3)", "X", source=_C + "2.1.2"),
    Case("log det of a congruence", "logdet(X'*A*X)", "X", source=_C + "2.1.2"),
    # 2.2 derivatives of an inverse
    Case("bilinear form of an inverse", "a'*inv(X)*b", "X", source=_C + "2.2"),
    Case("trace of an inverse product", "tr(A*inv(X)*B)", "X", source=_C + "2.2"),
    # 2.4 scalar forms
    Case("linear form", "a'*x", "x", source=_C + "2.4.1"),
    Case("bilinear form", "a'*X*b", "X", source=_C + "2.4.1"),
    Case("bilinear form, transposed", "a'*X'*b", "X", source=_C + "2.4.1"),
    Case("a'Xa", "a'*X*a", "X", source=_C + "2.4.1"),
    Case("b'X'Xc", "b'*X'*X*c", "X", source=_C + "2.4.2"),
    Case("affine quadratic", "(B*x + b)'*C*(D*x + d)", "x", source=_C + "2.4.2"),
    Case("b'X'DXc", "b'*X'*D*X*c", "X", source=_C + "2.4.2"),
    Case("(Xb+c)'D(Xb+c)", "(X*b + c)'*D*(X*b + c)", "X", source=_C + "2.4.2"),
    Case("quadratic form", "x'*B*x", "x", source=_C + "2.4.2"),
    Case("weighted distance, in x", "(x - s)'*W*(x - s)", "x", source=_C + "2.4.2"),
    Case("weighted distance, in s", "(x - s)'*W*(x - s)", "s", source=_C + "2.4.2"),
    Case("weighted residual", "(x - A*s)'*W*(x - A*s)", "s", source=_C + "2.4.2"),
    Case("bilinear form of a power", "a'*X^3*b", "X", source=_C + "2.4.3"),
    # 2.5 traces
    Case("trace", "tr(X)", "X", source=_C + "2.5.1"),
    Case("tr(XA)", "tr(X*A)", "X", source=_C + "2.5.1"),
    Case("tr(AXB)", "tr(A*X*B)", "X", source=_C + "2.5.1 (eq. 101)"),
    Case("tr(AX'B)", "tr(A*X'*B)", "X", source=_C + "2.5.1"),
    Case("tr(X'A)", "tr(X'*A)", "X", source=_C + "2.5.1"),
    Case("tr(AX')", "tr(A*X')", "X", source=_C + "2.5.1"),
    Case("tr(X^2)", "tr(X^2)", "X", source=_C + "2.5.2"),
    Case("tr(X^2 B)", "tr(X^2*B)", "X", source=_C + "2.5.2"),
    Case("tr(X'BX)", "tr(X'*B*X)", "X", source=_C + "2.5.2"),
    Case("tr(XBX')", "tr(X*B*X')", "X", source=_C + "2.5.2"),
    Case("tr(AXBX)", "tr(A*X*B*X)", "X", source=_C + "2.5.2"),
    Case("tr(X'X)", "tr(X'*X)", "X", source=_C + "2.5.2"),
    Case("tr(BXX')", "tr(B*X*X')", "X", source=_C + "2.5.2"),
    Case("tr(B'X'CXB)", "tr(B'*X'*C*X*B)", "X", source=_C + "2.5.2"),
    Case("tr(X'BXC)", "tr(X'*B*X*C)", "X", source=_C + "2.5.2"),
    Case("tr(AXBX'C)", "tr(A*X*B*X'*C)", "X", source=_C + "2.5.2"),
    Case("tr((AXB+C)(AXB+C)')", "tr((A*X*B + C)*(A*X*B + C)')", "X", source=_C + "2.5.2"),
    Case("tr(X^4)", "tr(X^4)", "X", source=_C + "2.5.3"),
    Case("tr(AX^3)", "tr(A*X^3)", "X", source=_C + "2.5.3"),
    Case("tr(AX^-1)", "tr(A*inv(X))", "X", source=_C + "2.5.4"),
    Case("tr((X'CX)^-1 A)", "tr(inv(X'*C*X)*A)", "X", source=_C + "2.5.4"),
    Case("tr((X'CX)^-1 X'BX)", "tr(inv(X'*C*X)*X'*B*X)", "X", source=_C + "2.5.4"),
    Case("quadratic form of an inverse", "x'*inv(A)*x", "A", source=_C + "2.2"),
    # 2.6 / 2.7 norms
    Case("distance", "norm(x - a)", "x", source=_C + "2.6"),
    Case("squared distance", "norm(x - a)^2", "x", source=_C + "2.6"),
    Case("Frobenius norm squared", "norm(X)^2", "X", source=_C + "2.7"),
    Case("Frobenius norm", "norm(X)", "X", source=_C + "2.7"),
    Case("least squares", "norm(A*x - b)^2", "x", source=_C + "2.6"),
]


def project_examples(root: str) -> list:
    """The derivations of ``examples/*.yaml`` (each deck's shared let under the entry's)."""
    import yaml
    out = []
    for path in sorted(glob.glob(os.path.join(root, "examples", "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            deck = yaml.safe_load(f) or {}
        shared = {str(k): str(v) for k, v in (deck.get("let") or {}).items()}
        name = os.path.splitext(os.path.basename(path))[0]
        for i, e in enumerate(deck.get("derivations") or [], 1):
            let = dict(shared)
            let.update({str(k): str(v) for k, v in (e.get("let") or {}).items()})
            out.append(Case(f"{name} {i}: {e.get('title', '')}".strip(), str(e["expr"]),
                            str(e["wrt"]), let, source=f"examples/{name}.yaml",
                            latex=bool(e.get("latex", False))))
    return out


def corpus(root: str | None = None) -> list:
    """Every case once: the project's examples first, then the Cookbook's identities."""
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    seen, out = set(), []
    for c in project_examples(root) + PROJECT_SNIPPETS + COOKBOOK:
        if c.key() not in seen:
            seen.add(c.key())
            out.append(c)
    return out


if __name__ == "__main__":
    for c in corpus():
        print(f"{c.source:28s} {c.expr:45s} wrt {c.wrt:6s} {c.let or ''}")
