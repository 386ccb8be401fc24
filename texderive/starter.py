"""The starter projects of ``texderive init``: a lecture (a Beamer deck) and, with
``--paper``, a paper whose snippets come from one deck.

Plain text only (no imports): the command line loads this module at start-up.

The Makefiles follow one pattern, so ``make`` rebuilds only what changed and
``make -q`` tells the truth:

- texderive rewrites an output only when its content changes, and latexmk reruns
  LaTeX only when a file it reads changed (it compares checksums): so the PDF's
  recipe can run both whenever any input is newer, and then touch the PDF.  A
  stamp file that is newer than an unchanged ``.tex`` would make ``make -q``
  report "out of date" for ever.
- The texderive version is kept in ``.texderive-version``, rewritten (when
  make reads the Makefile) only when ``texderive --version`` says something
  else: upgrading texderive rebuilds the outputs and ``texderive.sty``.
"""

STARTER_DECK = """\
# A texderive deck: 'make' turns it into deck.tex and build/deck.pdf.
# Keys: title, subtitle, author, institute, format (beamer | article), style (chain | steps),
# reveal (true: uncover each derivation line by line), check (numeric | exact | none),
# notation (bold: mathbf | bm | none, transpose: top | mathsf | T, trace: tr | Tr,
#           gradient: nabla | partial, equals: overset | stackrel, macros: true | false),
# let (declarations shared by every derivation), derivations (a list).
# Each derivation: title, text, expr, wrt, and optionally let, latex (true: expr is LaTeX).
title: Matrix derivatives by the differential method
author: Your Name
format: beamer
style: chain
notation:
  bold: mathbf
  transpose: top
let:
  S: symmetric n
derivations:
  - title: Least squares
    text: A is a constant matrix and b a constant vector.
    expr: norm(A*x - b)^2
    wrt: x
  - title: A trace
    text: The trace trick moves dX to the end.
    expr: tr(A*X*B)
    wrt: X
  - title: A log-determinant
    expr: log(det(X'*X))
    wrt: X
  - title: A symmetric variable
    text: For a symmetric S the gradient is the symmetric (H + H')/2.
    expr: logdet(S) - tr(B*S)
    wrt: S
"""

_VERSION_STAMP = """\
# The version of texderive, in a file rewritten only when it changes: the outputs
# depend on it, so upgrading texderive rebuilds them (and texderive.sty).
TEXDERIVE_VERSION := $(shell $(TEXDERIVE) --version)
$(shell test "$$(cat .texderive-version 2>/dev/null)" = '$(TEXDERIVE_VERSION)' \\
          || echo '$(TEXDERIVE_VERSION)' > .texderive-version)
"""

_STY_RULE = """\
texderive.sty: .texderive-version
\t$(TEXDERIVE) sty -o $@
\t@touch $@
"""

STARTER_MAKEFILE = """\
# Builds build/deck.pdf from deck.yaml: run 'make' ('make -q' says whether it is up to date).
.DELETE_ON_ERROR:
TEXDERIVE ?= texderive
LATEXMK ?= latexmk -pdf -interaction=nonstopmode -halt-on-error -file-line-error -outdir=build

""" + _VERSION_STAMP + """
all: build/deck.pdf

# texderive rewrites deck.tex only when it changes and latexmk reruns LaTeX only when
# a file it reads changed, so a touched deck.yaml recompiles nothing.
build/deck.pdf: deck.yaml deck.tex texderive.sty .texderive-version
\t$(TEXDERIVE) build deck.yaml -o deck.tex
\t$(LATEXMK) deck.tex
\t@touch $@

# deck.tex is made by the PDF's recipe; a deleted one makes the PDF out of date.
deck.tex: ;

""" + _STY_RULE + """
clean:
\trm -rf build deck.tex .texderive-version

.PHONY: all clean
"""

PAPER_DECK = """\
# The derivations of a paper: 'make' writes one snippet per derivation into
# generated/NAME.tex (NAME: the derivation's 'name:', else its title in lowercase with
# '-' between words) and builds build/paper.pdf from paper.tex, which \\input's them.
# Each snippet is a bare align* environment that needs only amsmath (and bm), with its
# own rule numbers, exactly what 'texderive derive' prints for it.
# Keys: format: snippets, style (chain | steps), check (numeric | exact | none),
# notation (bold, transpose, trace, gradient, equals, macros; see 'texderive derive --help'),
# let (declarations shared by every derivation), derivations (a list).
# Each derivation: title and/or name, expr, wrt, and optionally let, latex, style.
title: Gradients for a paper
format: snippets
style: chain
let:
  S: symmetric n
derivations:
  - title: Least squares
    expr: norm(A*x - b)^2
    wrt: x
  - title: A trace
    style: steps
    expr: tr(A*X*B)
    wrt: X
  - name: logdet
    title: A log-determinant
    expr: log(det(X'*X))
    wrt: X
  - title: A symmetric variable
    expr: logdet(S) - tr(B*S)
    wrt: S
"""

PAPER_TEX = r"""% A paper that \input's the snippets texderive writes into generated/ (run 'make').
\documentclass[11pt]{article}
\usepackage[a4paper,margin=25mm]{geometry}
\usepackage{amsmath}
\usepackage{bm}
% \usepackage{texderive}   % only for 'notation: {macros: true}' in paper.yaml

\title{Gradients for a paper}
\author{Your Name}
\date{}

\begin{document}
\maketitle

\section{Least squares}
For a constant matrix $\mathbf{A}$ and vector $\mathbf{b}$, the gradient of the squared
residual follows from its differential:
\input{generated/least-squares}

\section{A trace}
\input{generated/a-trace}

\section{A log-determinant}
For $\mathbf{X}$ of full column rank:
\input{generated/logdet}

\section{A symmetric variable}
For a symmetric $\mathbf{S}$ the gradient is the symmetric $(\mathbf{H} + \mathbf{H}^\top)/2$:
\input{generated/a-symmetric-variable}

\end{document}
"""

PAPER_MAKEFILE = """\
# Builds build/paper.pdf from paper.tex and the snippets of paper.yaml: run 'make'
# ('make -q' says whether it is up to date).  The pattern to copy into a paper's Makefile:
# one 'texderive build' writes every snippet in one process, rewriting only those whose
# content changed; latexmk reruns LaTeX only when a file it reads changed.
.DELETE_ON_ERROR:
TEXDERIVE ?= texderive
LATEXMK ?= latexmk -pdf -interaction=nonstopmode -halt-on-error -file-line-error -outdir=build
SNIPPETS := $(wildcard generated/*.tex)

""" + _VERSION_STAMP + """
all: build/paper.pdf

build/paper.pdf: paper.tex paper.yaml texderive.sty .texderive-version $(SNIPPETS)
\t$(TEXDERIVE) build paper.yaml -o generated
\t$(LATEXMK) paper.tex
\t@touch $@

""" + _STY_RULE + """
clean:
\trm -rf build generated .texderive-version

.PHONY: all clean
"""
