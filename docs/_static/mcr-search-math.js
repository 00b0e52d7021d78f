// Sphinx writes search-result snippets into #search-results after the page has loaded, with the TeX of any
// equation in them. Typeset those snippets with the MathJax shipped in _static/ (loaded only when needed).
// A snippet cut in the middle of an equation keeps an unmatched delimiter: drop it so no raw `\(` shows.
(() => {
  const TOKEN = /\\\(|\\\)|\\\[|\\\]|\$\$/g;
  const CLOSER = {"\\(": "\\)", "\\[": "\\]", "$$": "$$"};

  // Sphinx highlights the query inside snippets with <span>s, which can split an equation over several
  // elements, and it cuts snippets anywhere. Join each equation back into one text node and drop delimiters
  // left without a partner, so MathJax can typeset what is there and nothing raw remains.
  function repairTex(par) {
    const nodes = [];
    const walker = document.createTreeWalker(par, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
    const spans = [], cuts = [];  // spans: [startNode, endNode]; cuts: [nodeIdx, index, length]
    let open = null;
    nodes.forEach((node, k) => {
      for (const m of node.nodeValue.matchAll(TOKEN)) {
        const tok = m[0];
        if (open && tok === CLOSER[open.tok]) { if (open.k !== k) spans.push([open.k, k]); open = null; }
        else if (!open && CLOSER[tok]) open = {k, index: m.index, tok};
        else if (!open) cuts.push([k, m.index, tok.length]);
      }
    });
    if (open) cuts.push([open.k, open.index, open.tok.length]);
    for (const [k, i, n] of cuts.reverse()) nodes[k].nodeValue = nodes[k].nodeValue.slice(0, i) + nodes[k].nodeValue.slice(i + n);
    for (const [a, b] of spans.reverse()) {
      for (let k = a + 1; k <= b; k++) {
        nodes[a].nodeValue += nodes[k].nodeValue;
        nodes[k].nodeValue = "";
      }
      // text after the closing delimiter in node b moves along with it: the order of the words is unchanged
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("search-results");
    if (!box) return;
    let timer = null, loading = false;
    const typeset = () => {
      box.querySelectorAll("p").forEach(repairTex);
      if (!TOKEN.test(box.textContent)) return;
      TOKEN.lastIndex = 0;
      if (window.MathJax && window.MathJax.typesetPromise) { window.MathJax.typesetPromise([box]); return; }
      if (loading) return;
      loading = true;
      const root = document.documentElement.dataset.content_root || "";
      const s = document.createElement("script");
      s.src = root + "_static/mathjax/tex-chtml.js";  // typesets the whole page, snippets included, on startup
      document.head.appendChild(s);
    };
    new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(typeset, 150); })
      .observe(box, {childList: true, subtree: true});
  });
})();
