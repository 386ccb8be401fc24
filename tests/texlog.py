"""Reading a LaTeX log the way the compile tests do: errors, undefined control
sequences, overfull boxes (over 1pt) and multiply-defined labels."""
from __future__ import annotations

import os
import re
import shutil

import pytest

_OVERFULL_H = re.compile(r"^Overfull \\hbox \(([\d.]+)pt too wide\)", re.M)


def need(*tools: str) -> None:
    """Skip when a tool is missing, except in CI (CI=true), where it is a failure."""
    missing = [t for t in tools if not shutil.which(t)]
    if not missing:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{', '.join(missing)} must be installed in CI (see .ci/run)")
    pytest.skip(f"{', '.join(missing)} not installed")


def problems(log: str) -> list:
    found = [line for line in log.splitlines() if line.startswith("!")]
    if "Undefined control sequence" in log:
        found.append("Undefined control sequence")
    found += [m.group(0) for m in _OVERFULL_H.finditer(log) if float(m.group(1)) > 1.0]
    found += [line for line in log.splitlines() if line.startswith("Overfull \\vbox")]
    found += [line for line in log.splitlines()
              if re.search(r"multiply[- ]defined|There were undefined references", line)]
    return found


def tex_env() -> dict:
    """TeX may read and write only below the current folder (LATEX.md, safety)."""
    return {**os.environ, "openin_any": "p", "openout_any": "p"}
