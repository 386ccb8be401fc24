"""Packaging (SPEC section 7): the sdist built and listed holds the package with its
templates and schemas, pyproject.toml, PKG-INFO, README, LICENSE, CHANGELOG and the tests,
and nothing else (no build outputs, generated examples, docs/dev notes with machine paths,
venv); a wheel built from it has the templates, schemas and py.typed; the long description
shows no relative image."""
from __future__ import annotations

import email.parser
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def need_build():
    missing = [m for m in ("build", "hatchling") if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(missing)} must be installed in CI (the test extra)")
        pytest.skip(f"{', '.join(missing)} not installed")


def build(kind: str, source: pathlib.Path, out: pathlib.Path) -> pathlib.Path:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "build", f"--{kind}", "--no-isolation",
                           "-o", str(out), str(source)], capture_output=True, text=True,
                          env=env, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    found = sorted(out.glob("*.tar.gz" if kind == "sdist" else "*.whl"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    need_build()
    out = tmp_path_factory.mktemp("dist")
    path = build("sdist", ROOT, out)
    with tarfile.open(path) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
        texts = {name: tar.extractfile(m).read() for name, m in members.items() if m.isfile()}
        tar.extractall(out / "unpacked", filter="data")
    (unpacked,) = (out / "unpacked").iterdir()
    return texts, unpacked


def test_the_sdist_holds_the_package_templates_schemas_and_tests(sdist):
    texts, _ = sdist
    names = set(texts)
    for required in ("pyproject.toml", "PKG-INFO", "README.md", "LICENSE", "CHANGELOG.md",
                     "texderive/__init__.py", "texderive/__main__.py", "texderive/py.typed",
                     "texderive/schemas/document.schema.json", "texderive/schemas/deck.schema.json",
                     "templates/latex.tex.jinja", "templates/texderive.sty",
                     "tests/test_api.py", "tests/js/render_math.js"):
        assert required in names, required
    package = {p.relative_to(ROOT).as_posix() for p in (ROOT / "texderive").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert package <= names
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").iterdir()}
    assert templates <= names


def test_the_sdist_holds_nothing_else(sdist):
    texts, _ = sdist
    allowed = re.compile(r"(texderive|templates|tests)/|examples/[^/]+\.yaml$|examples/paper/paper\.tex$"
                         r"|(pyproject\.toml|PKG-INFO|README\.md|LICENSE|CHANGELOG\.md|hatch_build\.py"
                         r"|\.gitignore)$")
    for name in texts:
        assert allowed.match(name), name
        assert "__pycache__" not in name and not name.endswith((".pyc", ".pdf", ".aux", ".log"))
        for part in ("docs/", ".venv/", "examples/out/", "examples/build/", "generated/", "dist/",
                     ".git/", "benchmarks/", ".hypothesis/"):
            assert not name.startswith(part) and f"/{part}" not in name, name


def test_no_file_in_the_sdist_names_a_local_path(sdist):
    texts, _ = sdist
    # written in pieces, so that this file does not match itself
    local = re.compile(b"|".join([rb"/wor" + rb"k/", rb"/hom" + rb"e/[a-z]", rb"/Use" + rb"rs/[A-Za-z]",
                                  rb"/roo" + rb"t/", rb"[A-Z]:\\\\Use" + rb"rs"]))
    for name, data in texts.items():
        assert not local.search(data), name


def test_the_long_description_has_no_relative_image(sdist):
    texts, _ = sdist
    info = email.parser.BytesParser().parsebytes(texts["PKG-INFO"])
    assert info["Description-Content-Type"] == "text/markdown"
    body = info.get_payload()
    assert "# texderive" in body
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", body) + re.findall(r"<img[^>]*src=\"([^\"]+)", body)
    assert [src for src in images if not src.startswith("https://")] == []
    assert "*(Picture: The log-determinant example, first slide.)*" in body
    assert info["License"] == "MIT" and "Typing :: Typed" in info.get_all("Classifier")
    assert "notebook" in info.get_all("Provides-Extra")


def test_a_wheel_built_from_the_sdist_has_templates_schemas_and_typing(sdist, tmp_path):
    _, unpacked = sdist
    wheel = build("wheel", unpacked, tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("texderive/templates/latex.tex.jinja", "texderive/templates/texderive.sty",
                     "texderive/schemas/document.schema.json", "texderive/py.typed",
                     "texderive/__main__.py"):
        assert required in names, required
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]


def test_the_readme_hook_replaces_relative_images_only():
    spec = importlib.util.spec_from_file_location("hatch_build_under_test", ROOT / "hatch_build.py")
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling not installed")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    text = ("![A slide](docs/a.png)\n![Logo](https://example.org/l.png)\n"
            "![Two\nlines](./b.png \"title\")\n[a link](docs/x.md)\n")
    out = hook.long_description(text)
    assert "*(Picture: A slide.)*" in out and "https://example.org/l.png" in out
    assert "*(Picture: Two lines.)*" in out and "[a link](docs/x.md)" in out
    assert "docs/a.png" not in out and "b.png" not in out
