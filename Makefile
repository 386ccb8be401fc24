# texderive: `make examples` builds every example, `make test` runs the tests.
# Both set up the virtual environment .venv first (python3 -m venv, pip install -e '.[test]').
.DELETE_ON_ERROR:
.SUFFIXES:

PYTHON3 ?= python3
VENV    := .venv
# The Python that runs texderive and the tests; `make examples PY=python3` uses another
# one that has the dependencies (then no venv is made).
PY      := $(VENV)/bin/python
TEXDERIVE := $(PY) -m texderive.cli
LATEXMK := latexmk -pdf -interaction=nonstopmode -halt-on-error -file-line-error
# What the generated files depend on: the package and its templates.
SOURCES := pyproject.toml $(wildcard texderive/*.py texderive/printers/*.py templates/*)

OUT   := examples/out
BUILD := examples/build
DECKS := tutorial cookbook_ml
PAPER_SNIPPETS := $(addprefix examples/paper/generated/,least-squares.tex trace.tex \
                    logdet.tex gaussian.tex)

.PHONY: all examples readme-images test test-matrix bench fuzz clean distclean
all: examples

# The venv is a real file: --copies makes bin/python a file of its own (a symlink would
# carry the system Python's old mtime), touched once the install has succeeded.
$(VENV)/bin/python: pyproject.toml
	$(PYTHON3) -m venv --copies $(VENV)
	$@ -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# --- examples --------------------------------------------------------------
# texderive rewrites an output only when its content changes, and a stamp records
# that the command ran: so PDFs rebuild only when their .tex changed, and a second
# `make examples` has nothing to do.
examples: $(DECKS:%=$(BUILD)/%.pdf) $(BUILD)/paper.pdf

$(DECKS:%=$(OUT)/%.stamp): $(OUT)/%.stamp: examples/%.yaml $(SOURCES) | $(PY)
	@mkdir -p $(@D)
	$(TEXDERIVE) build $< -o $(OUT)/$*.tex
	@touch $@

# An empty recipe: make looks at the .tex again after the stamp's recipe ran.
$(DECKS:%=$(OUT)/%.tex): $(OUT)/%.tex: $(OUT)/%.stamp ;

$(DECKS:%=$(BUILD)/%.pdf): $(BUILD)/%.pdf: $(OUT)/%.tex
	@test -f $< || $(TEXDERIVE) build examples/$*.yaml -o $<
	$(LATEXMK) -outdir=$(BUILD) $<
	@touch $@

# The paper \input's snippets made by `texderive derive`.
examples/paper/generated/stamp: Makefile $(SOURCES) | $(PY)
	@mkdir -p $(@D)
	$(TEXDERIVE) derive 'norm(A*x - b)^2' --wrt x -o $(@D)/least-squares.tex
	$(TEXDERIVE) derive 'tr(A*X*B)' --wrt X --style steps -o $(@D)/trace.tex
	$(TEXDERIVE) derive "log(det(X'*X))" --wrt X -o $(@D)/logdet.tex
	$(TEXDERIVE) derive --wrt Sigma --let 'Sigma: symmetric n' --let 'S: symmetric n' \
	    -o $(@D)/gaussian.tex -- '-logdet(Sigma) - tr(inv(Sigma)*S)'
	@touch $@

$(PAPER_SNIPPETS): examples/paper/generated/stamp ;

$(BUILD)/paper.pdf: examples/paper/paper.tex $(PAPER_SNIPPETS)
	@ls $(PAPER_SNIPPETS) >/dev/null 2>&1 || { rm -f examples/paper/generated/stamp; \
	    $(MAKE) --no-print-directory examples/paper/generated/stamp; }
	cd examples/paper && $(LATEXMK) -outdir=../build paper.tex
	@touch $@

# The README's pictures: the two slides of the log-determinant example of the tutorial.
readme-images: $(BUILD)/tutorial.pdf
	@page=$$(for i in $$(seq 1 $$(pdfinfo $< | awk '/^Pages:/ {print $$2}')); do \
	    pdftotext -f $$i -l $$i $< - | grep -q '^A log-determinant' && { echo $$i; break; }; \
	done); test -n "$$page" || { echo "no log-determinant slide in $<" >&2; exit 1; }; \
	pdftoppm -png -r 80 -f $$page -l $$page -singlefile $< docs/slide-logdet && \
	pdftoppm -png -r 80 -f $$((page + 1)) -l $$((page + 1)) -singlefile $< docs/slide-logdet-cont

# --- checks ----------------------------------------------------------------
# KaTeX and MathJax 3 (from npm, when npm is there) let the tests render the Markdown
# output and the notebook's math for real.
NODE_MODULES := $(VENV)/node/node_modules
$(NODE_MODULES)/katex/package.json $(NODE_MODULES)/mathjax-full/package.json &: | $(PY)
	@if command -v npm >/dev/null 2>&1; then \
	    npm install --silent --no-audit --no-fund --prefix $(VENV)/node katex mathjax-full \
	    || echo "make: could not install KaTeX and MathJax: their tests will be skipped"; \
	else echo "make: npm not found: the KaTeX and MathJax tests will be skipped"; fi

test: $(PY) $(NODE_MODULES)/katex/package.json $(NODE_MODULES)/mathjax-full/package.json
	NODE_PATH=$(CURDIR)/$(NODE_MODULES) $(PY) -m pytest -q

# Every combination of the output options compiled (make test runs all pairs of them).
test-matrix: $(PY)
	TEXDERIVE_MATRIX=1 $(PY) -m pytest -q -m matrix tests/test_option_matrix.py

bench: $(PY)
	@if [ -f benchmarks/run.py ]; then $(PY) benchmarks/run.py; \
	else echo "benchmarks/run.py is not there yet: nothing to run"; fi

# `make test` is deterministic: Hypothesis runs derandomized (profile "ci", see
# tests/conftest.py).  The wide random search is here, with fresh seeds on every run:
# tests/fuzz.py over derive, the numeric check and the printers (FUZZ_SEED replays a run),
# then the property tests under the "fuzz" profile.  A failure found here becomes a named
# regression test.
FUZZ_INPUTS ?= 100000
# drawn once (a plain ?= would draw anew at each use: the replay line named another seed)
ifeq ($(origin FUZZ_SEED),undefined)
FUZZ_SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif
FUZZ_EXAMPLES ?= 1000
fuzz: $(PY)
	@echo "fuzz: seed $(FUZZ_SEED) (replay with make fuzz FUZZ_SEED=$(FUZZ_SEED))"
	$(PY) tests/fuzz.py --seed $(FUZZ_SEED) --inputs $(FUZZ_INPUTS)
	TEXDERIVE_HYPOTHESIS=fuzz TEXDERIVE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q \
	    -p no:cacheprovider tests/test_properties.py tests/test_fuzz.py

clean:
	rm -rf $(OUT) $(BUILD) examples/paper/generated .pytest_cache .hypothesis dist

distclean: clean
	rm -rf $(VENV)
