"""Textbook forms of machine-learning and statistics gradients (issue 14).

For every problem of ``ml_problems.py``:

1. the textbook form itself is checked: its hand-written NumPy (``grad_np``) and
   its section-1 text (``expected``, read by the benchmark's own reader) agree
   with finite differences of the hand-written ``f_np``;
2. texderive derives the gradient; its ``gradient.numpy`` and ``gradient.text``
   are compared with the same finite differences (never with texderive's own
   evaluator);
3. the size of texderive's answer against the textbook's (operators plus
   leaves, the benchmark judge's ``node_count``: a ratio of 1.0 is as short as
   the book) and the number of steps of the derivation.

The truth, the sampler and the size measure are the benchmark's
(``../shared/bench/common.py`` and ``notation.py``; ``--bench DIR`` elsewhere).

    python benchmarks/ml_textbook.py                      # table, worst first
    python benchmarks/ml_textbook.py --json benchmarks/ml_results.json
    python benchmarks/ml_textbook.py --write-corpus benchmarks/ml_corpus.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = 1.3            # every answer within 1.3x the textbook's size


def load_bench(bench_dir: Path):
    sys.path.insert(0, str(bench_dir))
    import common
    import notation
    return common, notation


def _grad_from_text(notation, common, entry, text, values):
    import numpy as np
    env = dict(values)
    for name in list(env):
        if isinstance(env[name], np.ndarray) and env[name].ndim == 1:
            env[name] = env[name].reshape(-1, 1)
    val = notation.evaluate(text, env)
    return notation.to_shape(val, common.wrt_shape(entry))


def rel_err(a, b) -> float:
    import numpy as np
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def run_one(entry: dict, common, notation, points: int = 3) -> dict:
    import numpy as np
    from texderive import derive
    out = {"id": entry["id"], "source": entry["source"], "expr": entry["expr"],
           "wrt": entry["wrt"], "textbook": entry["expected"]}
    worst_book = worst_ours = worst_text = 0.0
    d = derive(entry["expr"], wrt=entry["wrt"], let=entry.get("let") or None)
    doc = d.to_dict()
    text, code = doc["gradient"]["text"], doc["gradient"]["numpy"]
    for k in range(points):
        values = common.sample_point(entry, k)
        truth = np.asarray(common.fd_gradient(entry, values), dtype=float)
        with np.errstate(all="ignore"):
            book = np.asarray(common.eval_py(entry["grad_np"], values), dtype=float)
            book_text = _grad_from_text(notation, common, entry, entry["expected"], values)
            ours = np.asarray(common.eval_py(code, values), dtype=float)
            ours_text = _grad_from_text(notation, common, entry, text, values)
        if common.wrt_symmetric(entry):
            book = (book + book.T) / 2          # the books' forms are symmetric already
        worst_book = max(worst_book, rel_err(book, truth), rel_err(book_text, truth))
        worst_ours = max(worst_ours, rel_err(ours, truth))
        worst_text = max(worst_text, rel_err(ours_text, truth))
    size_ours = notation.node_count(notation.parse(text))
    size_book = notation.node_count(notation.parse(entry["expected"]))
    out.update({
        "texderive": text, "steps": len(doc["steps"]),
        "size": size_ours, "textbook_size": size_book, "ratio": round(size_ours / size_book, 3),
        "textbook_checked": worst_book < common.RTOL * 10,
        "correct": worst_ours < common.RTOL * 10 and worst_text < common.RTOL * 10,
        "max_rel_error": float(f"{max(worst_ours, worst_text):.1e}"),
        "warnings": doc.get("warnings", []),
    })
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=str(ROOT.parent / "shared" / "bench"),
                    help="the benchmark folder with common.py and notation.py")
    ap.add_argument("--json", metavar="OUT", help="write the per-problem results here")
    ap.add_argument("--write-corpus", metavar="OUT",
                    help="write the problems in the judge's corpus layout and stop")
    ap.add_argument("--ids", help="comma-separated ids")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from ml_problems import PROBLEMS
    problems = [dict(p, tier=3) for p in PROBLEMS]
    if args.ids:
        keep = set(args.ids.split(","))
        problems = [p for p in problems if p["id"] in keep]
    if args.write_corpus:
        Path(args.write_corpus).write_text(json.dumps(problems, indent=1) + "\n", encoding="utf-8")
        print(f"{len(problems)} problems written to {args.write_corpus}")
        return 0
    sys.path.insert(0, str(ROOT))
    common, notation = load_bench(Path(args.bench))
    results = []
    for p in problems:
        try:
            results.append(run_one(p, common, notation))
        except Exception as exc:              # a refusal or a crash is a result too
            results.append({"id": p["id"], "source": p["source"], "expr": p["expr"],
                            "wrt": p["wrt"], "textbook": p["expected"], "error": str(exc)[:200]})
    ok = [r for r in results if "error" not in r]
    ratios = sorted(r["ratio"] for r in ok)
    over = [r for r in ok if r["ratio"] > TARGET]
    summary = {
        "problems": len(results), "correct": sum(r["correct"] for r in ok),
        "wrong": sum(not r["correct"] for r in ok), "refused": len(results) - len(ok),
        "textbook_forms_checked": sum(r["textbook_checked"] for r in ok),
        "median_ratio": ratios[len(ratios) // 2] if ratios else None,
        "max_ratio": ratios[-1] if ratios else None, "over_target": len(over),
        "target": TARGET, "max_steps": max((r["steps"] for r in ok), default=0),
    }
    print(f"{'id':28} {'ratio':>5} {'steps':>5}  texderive  |  textbook")
    for r in sorted(results, key=lambda r: -r.get("ratio", 99)):
        if "error" in r:
            print(f"{r['id']:28} {'ERR':>5} {'':>5}  {r['error']}")
            continue
        flag = "" if r["correct"] and r["textbook_checked"] else \
            ("  WRONG" if not r["correct"] else "  TEXTBOOK?")
        print(f"{r['id']:28} {r['ratio']:5.2f} {r['steps']:5d}  {r['texderive']}  |  "
              f"{r['textbook']}{flag}")
    print(" ".join(f"{k} {v}" for k, v in summary.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "results": results},
                                              indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return 0 if summary["wrong"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
