"""Step and Derivation records; ``Derivation.to_dict()`` is SPEC section 4.

A :class:`Step` holds IR, never LaTeX: printers run when the document is made,
with the notation the caller asks for.  A step's note is a tuple of segments:

    "words"                  plain text
    ("ref", rule_id)         the rule's number, "(2)" (nothing for bookkeeping rules)
    ("rule", rule_id)        the rule's statement, as math
    ("math", node)           an expression
    ("eq", lhs, rhs)         lhs = rhs
"""
from __future__ import annotations

import re

from . import __version__, ir
from .errors import TexderiveError
from .rules import BASIC, BY_ID

#: The version of the JSON document's layout (SPEC section 7), a top-level integer.
SCHEMA_VERSION = 1

# y = f, dy, the gradient (G: the read-off gradient of a symmetric variable as a general
# matrix); dF, d vec F, J (F' with respect to a scalar) of a Jacobian; d²f, d∇f, d vec ∇f,
# H of a Hessian
LHS = ("y", "dy", "grad", "G", "dF", "dvecF", "J", "Fprime", "d2f", "dG", "dvecG", "H")


class Step:
    __slots__ = ("rule", "lhs", "expr", "note")

    def __init__(self, rule: str, lhs: str, expr, note: tuple = ()):
        if rule not in BY_ID:
            raise ValueError(f"unknown rule id {rule!r}")
        if lhs not in LHS:
            raise ValueError(f"bad lhs {lhs!r}")
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "lhs", lhs)
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "note", tuple(note))

    def __setattr__(self, name, value):
        raise AttributeError("Step is immutable")

    def __repr__(self) -> str:
        return f"Step({self.rule!r}, {self.lhs!r}, {self.expr!r})"

    def rule_ids(self):
        """Rules this step cites: its own and those its note refers to."""
        yield self.rule
        for seg in self.note:
            if isinstance(seg, tuple) and seg[0] in ("ref", "rule"):
                yield seg[1]


def number_rules(derivations, start: dict | None = None) -> dict:
    """Rule numbers for one derivation or a deck: the five basic rules are (1)-(5);
    every other stated rule gets 6, 7, ... in order of first use."""
    numbers = dict(start or {})
    for i, rid in enumerate(BASIC, 1):
        numbers.setdefault(rid, i)
    nxt = max([n for n in numbers.values()] + [5]) + 1
    for d in derivations:
        for step in d.steps:
            for rid in step.rule_ids():
                if BY_ID[rid].stated and rid not in numbers:
                    numbers[rid] = nxt
                    nxt += 1
    return numbers


class Derivation:
    """The result of :func:`texderive.derive`: input, steps, result, check.

    ``result_kind`` is ``"gradient"``, ``"jacobian"`` or ``"hessian"`` (SPEC section 6)
    and ``result`` its IR; ``gradient`` is the result of a gradient and None otherwise.
    """

    def __init__(self, *, source: str, wrt: str, let: dict, latex_input: bool, f, wrt_sym,
                 steps, gradient=None, check=None, result=None, result_kind: str = "gradient",
                 hessian: bool = False, warnings=()):
        if result_kind not in ("gradient", "jacobian", "hessian"):
            raise ValueError(f"bad result kind {result_kind!r}")
        self.source, self.wrt, self.let, self.latex_input = source, wrt, dict(let), latex_input
        self.f, self.wrt_sym, self.steps = f, wrt_sym, tuple(steps)
        self.result_kind = result_kind
        self.result = result if result is not None else gradient
        self.gradient = self.result if result_kind == "gradient" else None
        self.hessian = bool(hessian)
        self.check = check
        self.warnings = tuple(warnings)      # non-fatal remarks (SPEC section 7)

    # -- conveniences --------------------------------------------------------
    def _need_gradient(self, what: str) -> None:
        if self.result_kind != "gradient":
            from .errors import TexderiveError
            raise TexderiveError(f"{what}: this derivation's result is a {self.result_kind}, "
                                 f"not a gradient; use result_text, result_latex or "
                                 f"result_numpy")

    @property
    def gradient_text(self) -> str:
        from .ir import free_syms
        from .printers.text import to_text
        self._need_gradient("gradient_text")
        return to_text(self.gradient, free_syms(self.f))

    @property
    def gradient_numpy(self) -> str:
        from .printers.numpy import to_numpy
        self._need_gradient("gradient_numpy")
        return to_numpy(self.gradient, self.f, self.wrt_sym)

    @property
    def result_text(self) -> str:
        from .ir import free_syms
        from .printers.text import to_text
        return to_text(self.result, free_syms(self.f))

    @property
    def result_latex(self) -> str:
        from .printers.latex import to_latex
        return to_latex(self.result)

    @property
    def result_numpy(self) -> str:
        from .printers.numpy import result_numpy
        return result_numpy(self.result, self.f, self.wrt_sym, self.result_kind)

    @property
    def result_shape(self) -> list:
        from .second import result_shape
        return result_shape(self.result_kind, self.f, self.wrt_sym)

    def __repr__(self) -> str:
        what = {"gradient": "d", "jacobian": "J d", "hessian": "H d"}[self.result_kind]
        return f"<Derivation {what}/d{self.wrt} {self.source!r}: {self.result_text}>"

    def run_check(self, exact: bool = False, exact_timeout: float = 60.0) -> dict:
        """Run the numeric (or exact) check; a failed check raises CheckError."""
        from .check import exact_check, numeric_check
        from .errors import CheckError
        from .limits import exact_timeout as valid_timeout
        exact_timeout = valid_timeout(exact_timeout)
        what = {"gradient": "gradient", "jacobian": "Jacobian", "hessian": "Hessian"}[
            self.result_kind]
        kw = {} if self.result_kind == "gradient" else {
            "kind": self.result_kind, "numpy": self.result_numpy}
        if exact:
            result = exact_check(self.f, self.result, self.wrt_sym, timeout=exact_timeout,
                                 **({"kind": self.result_kind} if kw else {}))
            if result.get("status") == "failed":
                raise CheckError(f"the derived {what} failed its exact check")
            if result.get("status") != "proved":
                num = numeric_check(self.f, self.result, self.wrt_sym, **kw)
                if not num["passed"]:
                    raise CheckError(f"the derived {what} failed its numerical check")
                result = {**result, "numeric": num}
        else:
            result = numeric_check(self.f, self.result, self.wrt_sym, **kw)
            if not result["passed"]:
                # finite differences can fail a right gradient of a wildly oscillating f:
                # only a failure the exact check does not overturn is reported
                proof = exact_check(self.f, self.result, self.wrt_sym,
                                    timeout=min(exact_timeout, 20.0),
                                    **({"kind": self.result_kind} if kw else {}))
                if proof.get("status") != "proved":
                    reason = result.get("reason") or ""
                    raise CheckError(f"the derived {what} failed its numerical check "
                                     f"(max relative error {result['max_rel_error']:.2e})"
                                     + (f": {reason}" if reason and "differs" not in reason
                                        else ""))
                result = {**proof, "numeric": result}
        self.check = result
        return result

    # -- the document ------------------------------------------------------------
    def document(self, nt, numbers=None, parts=frozenset({"latex", "text", "steps_text", "numpy"})) -> dict:
        """The document of SPEC section 4 in the printer settings ``nt`` (a
        ``LatexNotation``), with the rule ``numbers`` of a deck.  ``parts`` says
        what to compute (see ``outputs.PARTS``): ``latex`` (every math string),
        ``text`` (f's and the gradient's text), ``steps_text`` (each step's text),
        ``numpy`` (the gradient's NumPy); a part left out is absent or ""."""
        from .printers import latex as L
        from .printers.text import to_pretty, to_text
        from .ir import free_syms
        numbers = number_rules([self], numbers)
        want_tex, want_text = "latex" in parts, "text" in parts
        inputs = free_syms(self.f)      # they name the sizes in text: rows(X)

        def tex(node) -> str:
            return L.to_latex(node, nt) if want_tex else ""

        def lhs_latex(kind: str) -> str:
            if not want_tex or kind == "y":
                return "y"
            if kind == "G":
                return L.to_latex(ir.Sym("G", "matrix", *self.wrt_sym.shape), nt)
            return step_lhs_latex(kind, self.f, self.wrt_sym, nt)

        used = []
        for step in self.steps:
            for rid in step.rule_ids():
                if rid not in used:
                    used.append(rid)
        stated = sorted((r for r in used if r in numbers), key=lambda r: numbers[r])
        rules = [{"id": rid, "number": numbers.get(rid),
                  "latex": restyle(BY_ID[rid].statement, nt) if want_tex else "",
                  "text": BY_ID[rid].text} for rid in stated + [r for r in used if r not in numbers]]
        steps = []
        for step in self.steps:
            text, note_tex = note_strings(step.note, numbers, nt, text=want_text, latex=want_tex)
            steps.append({
                "rule": step.rule,
                "number": numbers.get(step.rule),
                "lhs": lhs_latex(step.lhs),
                "latex": tex(step.expr),
                "text": to_pretty(step.expr, inputs) if "steps_text" in parts else "",
                "note": text,
                "note_latex": note_tex,
            })
        res = {"text": to_text(self.result, inputs) if want_text else "",
               "latex": tex(self.result)}
        if "numpy" in parts:
            res["numpy"] = self.result_numpy
        doc = {
            "schema_version": SCHEMA_VERSION,
            "generator": f"texderive {__version__}",
            "input": {"expr": self.source, "wrt": self.wrt, "let": dict(self.let),
                      "hessian": self.hessian},
            "function": {"text": to_text(self.f, inputs) if want_text else "", "latex": tex(self.f)},
            "rules": rules,
            "steps": steps,
            "result": {"kind": self.result_kind, **res, "shape": self.result_shape},
        }
        if self.result_kind == "gradient":
            doc["gradient"] = dict(res)
        if self.check is not None:
            doc["check"] = published_check(self.check)
        if self.warnings:
            doc["warnings"] = list(self.warnings)
        return doc

    # -- outputs (SPEC section 7): what ``derive --format X`` prints --------------
    def to_dict(self, notation=None, numbers=None, **options) -> dict:
        """The JSON document of SPEC section 4, as ``derive --format json`` prints it.

        ``notation``: the notation options as a dict (``{"bold": "bm"}``), or as
        keywords (``bold="bm"``).  (A ``LatexNotation``, with a deck's rule
        ``numbers``, gives the document in exactly those printer settings.)"""
        if numbers is not None or _is_printer(notation):
            from .printers.latex import LatexNotation
            if notation is None:
                from .outputs import make_notation
                notation = make_notation({}, "json")
            elif not isinstance(notation, LatexNotation):
                raise TexderiveError("to_dict(numbers=...) takes notation as a LatexNotation")
            if options:
                raise TexderiveError("to_dict() with a LatexNotation takes no other options")
            return self.document(notation, numbers)
        from .outputs import check_options, document
        opts = check_options("json", {"notation": notation, **options})
        return document([self], "json", notation=opts["notation"])[0]

    def to_latex(self, **options) -> str:
        """An ``align*`` snippet, as ``derive --format latex`` prints it.

        Options as on the command line: ``style`` ("chain" | "steps"), ``title``,
        ``template_dir``, ``reveal``, and the notation as keywords (``bold="bm"``,
        ``transpose="T"``, ...) or ``notation={...}``."""
        return self._output("latex", options)

    def to_standalone(self, **options) -> str:
        """A complete article, as ``derive --format standalone`` prints it."""
        return self._output("standalone", options)

    def to_beamer(self, **options) -> str:
        """Beamer frames to ``\\input`` into a deck, as ``derive --format beamer`` prints them."""
        return self._output("beamer", options)

    def to_markdown(self, **options) -> str:
        """Markdown with ``$$`` blocks, as ``derive --format markdown`` prints it."""
        return self._output("markdown", options)

    def to_text(self, **options) -> str:
        """The steps in Unicode for a terminal, as ``derive --format text`` prints them."""
        return self._output("text", options)

    def to_numpy(self, **options) -> str:
        """A comment line, then the gradient as one NumPy expression (``--format numpy``)."""
        return self._output("numpy", options)

    def to_python(self, **options) -> str:
        """A Python module computing f and its gradient (``--format python``)."""
        return self._output("python", options)

    def _output(self, fmt: str, options: dict) -> str:
        from .outputs import output
        if "notation" in options and _is_printer(options["notation"]):
            raise TexderiveError("notation must be a dict of notation options, e.g. "
                                 "{'bold': 'bm'}")
        return output(self, fmt, **options)

    # -- notebooks ---------------------------------------------------------------
    def _repr_markdown_(self) -> str:
        from .notebook import markdown
        return markdown(self)

    def _repr_latex_(self) -> str:
        from .notebook import latex
        return latex(self)


def _is_printer(notation) -> bool:
    return notation is not None and type(notation).__name__ == "LatexNotation"


def step_lhs_latex(kind: str, f, wrt_sym, nt) -> str:
    """The LaTeX of a step's left-hand side (``Step.lhs`` is one of ``LHS``)."""
    from .printers import latex as L
    if kind == "y":
        return "y"
    if kind == "dy":
        return L.dy(nt)
    if kind == "grad":
        return L.gradient_lhs(wrt_sym, nt)
    d = L._d(nt)                                    # the differential operator
    vector_f = f.shape[1] == 1
    big_f = L.name_latex("f" if vector_f else "F", "vector" if vector_f else "matrix", nt)
    vec = r"\operatorname{vec}"
    x = L.name_latex(wrt_sym.name, wrt_sym.kind, nt)
    if kind == "dF":
        return L._join(d, big_f)
    if kind == "dvecF":
        return d + vec + big_f
    if kind == "J":
        return L.name_latex("J", "matrix", nt)
    if kind == "Fprime":
        return r"\frac{" + L._join(d, big_f) + "}{" + L._join(d, x) + "}"
    if kind == "d2f":
        return L._join(d + "^2", "f")
    if kind == "dG":
        return d + r"\," + L.gradient_lhs(wrt_sym, nt)
    if kind == "dvecG":
        return d + vec + "(" + L.gradient_lhs(wrt_sym, nt) + ")"
    if kind == "H":
        if wrt_sym.shape == (1, 1):
            return "f''"
        return L.name_latex("H", "matrix", nt)
    raise ValueError(f"bad lhs {kind!r}")


# ---------------------------------------------------------------------------
# notes and rule statements in the caller's notation

_ESC = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
        "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}", "<": r"\textless{}",
        ">": r"\textgreater{}", "|": r"\textbar{}"}
_ESC_TABLE = str.maketrans(_ESC)
_UNICODE_MATH = {"ᵀ": r"^\top", "⁻¹": r"^{-1}", "∘": r"\circ", "−": "-", "‖": r"\|", "Σ": r"\Sigma",
                 "⊙": r"\odot", "ᵏ": "^k"}


def escape_text(s: str) -> str:
    """Escape free text for LaTeX text mode (one pass)."""
    out = s.translate(_ESC_TABLE)
    # Unicode maths in our own notes becomes inline math
    for k, v in _UNICODE_MATH.items():
        out = out.replace(k, r"\(" + v + r"\)")
    return out


def restyle(statement: str, nt) -> str:
    """A rule statement (written with \\mathrm{d}, ^\\top, \\operatorname{tr}, \\mathbf)
    in the notation of nt."""
    d = r"\dd" if nt.macros else (r"\operatorname{d}" if nt.differential == "operatorname"
                                   else r"\mathrm{d}")
    s = statement.replace(r"\mathrm{d}", d + " " if nt.macros else d)
    s = s.replace(r"^\top", r"\T" if nt.macros else      # texderive.sty: \T is ^{\top}
                  {"top": r"^\top", "mathsf": r"^{\mathsf T}", "T": "^T"}[nt.transpose])
    s = s.replace(r"\operatorname{tr}", r"\tr" if nt.macros else
                  (r"\operatorname{Tr}" if nt.trace == "Tr" else r"\operatorname{tr}"))
    bold = {"mathbf": r"\mathbf", "bm": r"\boldsymbol" if nt.web else r"\bm", "none": ""}[nt.bold]
    if bold != r"\mathbf":
        from .printers.latex import joined_sub
        s = joined_sub(r"\\mathbf\{([A-Za-z0-9]+)\}",
                       (lambda m: m.group(1)) if not bold else
                       (lambda m: bold + "{" + m.group(1) + "}"), s)
    return s


def note_strings(note: tuple, numbers: dict, nt, *, text: bool = True, latex: bool = True) -> tuple:
    """(plain text, LaTeX text) of a step's note; a form not asked for is ""."""
    from .printers import latex as L
    from .printers.text import to_pretty

    def pretty(node) -> str:
        return to_pretty(node) if text else ""

    def math(node) -> str:
        return L.to_latex(node, nt) if latex else ""

    plain, tex = [], []
    for seg in note:
        if isinstance(seg, str):
            plain.append(seg)
            tex.append(escape_text(seg) if latex else "")
            continue
        kind = seg[0]
        if kind == "ref":
            n = numbers.get(seg[1])
            plain.append(f"({n})" if n is not None else "")
            tex.append(rf"\(({n})\)" if n is not None else "")
        elif kind == "rule":
            r = BY_ID[seg[1]]
            plain.append(r.text)
            tex.append(r"\(" + restyle(r.statement, nt) + r"\)" if latex else "")
        elif kind == "math":
            plain.append(pretty(seg[1]))
            tex.append(r"\(" + math(seg[1]) + r"\)")
        elif kind == "eq":
            plain.append(f"{pretty(seg[1])} = {pretty(seg[2])}")
            tex.append(r"\(" + math(seg[1]) + " = " + math(seg[2]) + r"\)")
    t = re.sub(r"\s+", " ", "".join(plain)).strip().replace("by , ", "") if text else ""
    x = re.sub(r"[ \t]+", " ", "".join(tex)).strip().replace("by , ", "") if latex else ""
    return t, x


def published_check(check: dict) -> dict:
    """The check as the document prints it: no timings, the error as a bound by decade,
    so the same input gives the same bytes on any machine (SPEC section 5)."""
    out = {}
    for key, value in check.items():
        if key == "seconds":
            continue
        if key == "max_rel_error":
            from .limits import decade_bound
            value = decade_bound(value)
        elif isinstance(value, dict):
            value = published_check(value)
        out[key] = value
    return out

