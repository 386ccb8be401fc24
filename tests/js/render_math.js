// Renders TeX formulas with KaTeX and MathJax 3, as a notebook or a web page would.
// stdin: JSON [{"tex": "...", "display": true}, ...]; stdout: JSON {"katex": [errors],
// "mathjax": [errors]}, an error being {"tex", "message"}.  Modules from NODE_PATH.
"use strict";
const katex = require("katex");
const {mathjax} = require("mathjax-full/js/mathjax.js");
const {TeX} = require("mathjax-full/js/input/tex.js");
const {SVG} = require("mathjax-full/js/output/svg.js");
const {liteAdaptor} = require("mathjax-full/js/adaptors/liteAdaptor.js");
const {RegisterHTMLHandler} = require("mathjax-full/js/handlers/html.js");
require("mathjax-full/js/input/tex/base/BaseConfiguration.js");
require("mathjax-full/js/input/tex/ams/AmsConfiguration.js");
require("mathjax-full/js/input/tex/boldsymbol/BoldsymbolConfiguration.js");
require("mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js");

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
// The packages every MathJax 3 set-up has (Jupyter, Colab, MkDocs load more); no
// "noundefined", so an unknown macro is an error rather than red text.
const tex = new TeX({packages: ["base", "ams", "boldsymbol", "newcommand"],
                     formatError: (jax, err) => { throw err; }});
const html = mathjax.document("", {InputJax: tex, OutputJax: new SVG({fontCache: "none"})});

const items = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = {katex: [], mathjax: []};
for (const {tex: source, display} of items) {
  try {
    katex.renderToString(source, {displayMode: display, throwOnError: true});
  } catch (e) {
    out.katex.push({tex: source, message: String(e.message || e)});
  }
  try {
    const node = html.convert(source, {display: display});
    const markup = adaptor.outerHTML(node);
    if (markup.includes("merror") || markup.includes("data-mjx-error")) {
      out.mathjax.push({tex: source, message: "rendered as an error"});
    }
  } catch (e) {
    out.mathjax.push({tex: source, message: String(e.message || e)});
  }
}
process.stdout.write(JSON.stringify(out));
