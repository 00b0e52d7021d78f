"""The documentation site, checked in a real browser.

Builds the site (`tools/build_docs.py`, the same code as `make docs`), serves it on 127.0.0.1 and opens every page
in the system's headless Chromium, driven by Playwright for Python (`playwright` is in the dev extra; it is launched
on /usr/bin/chromium with `executable_path`, so it downloads no browser of its own). A page fails on: a broken
internal link or anchor, an image that did not load (`naturalWidth == 0`), raw `$$`, `\\(` or `\\[` left in the
visible text, a MathJax error, a JavaScript error or `console.error`, a request to anything but the local server
(the site must work offline), an empty widget or output area, figure text rendered below a minimum size. Also
checked: every exported function and class has its show_doc entry, search returns results with snippets and their
equations typeset, every slider explorer redraws its figure when a slider moves, every exercise's solution is folded
(closed), and a fixture site (tests/fixtures/docs_site: math, a plot, widgets, hidden cells, a picture file, a
solution) renders each nbdev directive as intended. A checker that misses a planted fault fails too.

Screenshots of the home page and one tutorial are saved under _docs/_screenshots/.
Without /usr/bin/chromium (or Playwright) the browser tests are skipped (with the install command), unless
MCR_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""
import contextlib, functools, http.server, os, re, shutil, struct, sys, threading, time, urllib.parse, zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_docs  # noqa: E402

FIXTURE_NBS = ROOT / "tests" / "fixtures" / "docs_site"
INSTALL = "apt-get update && apt-get install -y chromium"
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio", "--hide-scrollbars"]
MIN_TEXT_PX = 9       # no text of a Plotly explorer drawn smaller than this (CSS px)
MIN_FIGURE_DPI = 72   # a PNG figure's dots per inch after the page scales it: 8-point text stays >= 8 px


def chromium_path():
    "The Chromium to drive: $MCR_CHROMIUM if set (only it), else /usr/bin/chromium or `chromium` on PATH."
    if os.environ.get("MCR_CHROMIUM"): cands = [os.environ["MCR_CHROMIUM"]]
    else: cands = ["/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((p for p in cands if p and Path(p).exists()), None)


def need_browser():
    path = chromium_path()
    msg = None
    if not path: msg = f"headless Chromium not found at /usr/bin/chromium; install it with `{INSTALL}` (Debian/Ubuntu, as root)"
    else:
        try: import playwright.sync_api  # noqa: F401
        except ImportError: msg = "Playwright for Python is missing: pip install -c constraints.txt -e '.[dev]' (or pip install playwright)"
    if msg is None: return path
    if os.environ.get("MCR_REQUIRE_BROWSER") == "1": pytest.fail(msg + " -- required because MCR_REQUIRE_BROWSER=1")
    pytest.skip(msg)


class Browser:
    "Headless system Chromium driven by Playwright: open pages, evaluate JavaScript, collect the errors a page logs."
    def __init__(self, exe: str):
        from playwright.sync_api import sync_playwright
        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=exe, headless=True, args=CHROME_ARGS)
        self.page = self._browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors, self.origin = [], None
        self.page.on("pageerror", lambda e: self.errors.append(f"JavaScript error: {e}"))
        self.page.on("console", self._console)
        self.page.on("request", self._request)
        self.page.on("response", self._response)

    def _console(self, msg):
        if msg.type in ("error", "assert") and not msg.text.startswith("Failed to load resource"):
            self.errors.append(f"console.error: {msg.text}")

    def _request(self, req):
        url = req.url
        if self.origin and url.startswith(("http:", "https:", "ws:", "wss:")) and not url.startswith(self.origin):
            self.errors.append(f"request outside the site (must work offline): {url[:120]}")

    def _response(self, resp):
        if self.origin and resp.status >= 400 and resp.url.startswith(self.origin):
            self.errors.append(f"HTTP {resp.status} for {resp.url}")

    def eval(self, js: str, timeout: float = 30):
        "Evaluate an expression (a promise is awaited) in the page and return its JSON value."
        return self.page.evaluate(js)

    def open(self, url: str) -> list:
        "Navigate to `url`, wait for load, images and MathJax; return the errors the page logged."
        self.errors = []
        self.origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlparse(url))
        self.page.goto(url, wait_until="load")
        self.eval(SETTLE_JS)
        return list(dict.fromkeys(self.errors))

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)

    def close(self):
        with contextlib.suppress(Exception): self._browser.close()
        with contextlib.suppress(Exception): self._pw.stop()


SETTLE_JS = """(async () => {
  for (const img of document.images) img.loading = 'eager';
  await Promise.all([...document.images].map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await new Promise(r => setTimeout(r, 50));
  return true;
})()"""

# What a page shows, collected in the page: links, ids, broken images, raw TeX, empty widget/output areas.
INSPECT_JS = r"""(async () => {
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'TEXTAREA', 'MJX-CONTAINER', 'NOSCRIPT', 'KBD', 'SAMP']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode(n) {
    for (let p = n.parentElement; p; p = p.parentElement) {
      if (skip.has(p.tagName) || p.classList.contains('MathJax') || p.classList.contains('highlight')) return NodeFilter.FILTER_REJECT;
      if (getComputedStyle(p).display === 'none') return NodeFilter.FILTER_REJECT;
    }
    return NodeFilter.FILTER_ACCEPT; }});
  let text = ''; while (walker.nextNode()) text += walker.currentNode.nodeValue + ' ';
  const raw = [];
  for (const re of [/\$\$/g, /\\\(/g, /\\\[/g, /\\begin\{/g, /\$[^$\s][^$\n]*\\[a-zA-Z]+[^$\n]*\$/g]) {
    const m = text.match(re); if (m) raw.push(...m.slice(0, 3).map(s => s.slice(0, 60)));
  }
  const hasContent = el => el.innerText.trim() !== '' || el.querySelector('img, svg, canvas, video, iframe, table, mjx-container');
  const empty = [];
  for (const el of document.querySelectorAll('.jupyter-widgets, .widget-area, .widget-subarea, .jp-OutputArea-output, ' +
                                              'script[type^="application/vnd.jupyter.widget"], div.cell_output')) {
    if (el.tagName === 'SCRIPT') { empty.push('an unrendered widget view'); continue; }
    if (el.closest('details:not([open])')) continue;  // a folded solution: its content is there, not drawn
    if (!hasContent(el)) empty.push((el.className || el.tagName).toString().slice(0, 60));
  }
  return {
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name')),
    // naturalWidth is 0 for a missing picture, and also for an SVG without an intrinsic size: decode() tells them apart
    broken_images: (await Promise.all([...document.images].map(async i =>
      i.naturalWidth === 0 && !(await i.decode().then(() => true, () => false)) ? i.getAttribute('src') : null)))
      .filter(s => s !== null),
    raw_math: raw,
    math_errors: [...document.querySelectorAll('mjx-merror, .MathJax_Error')].map(e => e.textContent.slice(0, 80)),
    empty_areas: empty,
    title: document.title,
    text: document.body.innerText,
    h1: (document.querySelector('h1') || {innerText: ''}).innerText.replace(/#$/, '').trim(),
    // figures as drawn: the file, its pixel width and the width the page gives it
    figures: [...document.querySelectorAll('div.cell_output img, .output img')].filter(i => i.naturalWidth > 0)
      .map(i => ({src: i.getAttribute('src'), natural: i.naturalWidth, shown: i.getBoundingClientRect().width})),
    // the smallest text in the slider explorers' Plotly figures, in CSS px
    explorer_text_px: Math.min(Infinity, ...[...document.querySelectorAll('.mcr-explorer-plot svg text')]
      .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
      .map(t => parseFloat(getComputedStyle(t).fontSize))),
    explorers: [...document.querySelectorAll('.mcr-explorer')].map(e => e.id),
    exercises: [...document.querySelectorAll('h2, h3')].filter(h => /Exercise/.test(h.innerText)).length,
    solutions: [...document.querySelectorAll('.tag_hide-cell details')].map(d => ({open: d.open,
      label: d.querySelector('summary') ? d.querySelector('summary').innerText.trim() : '',
      hidden: [...d.children].filter(c => c.tagName !== 'SUMMARY').every(c => !c.checkVisibility())})),
  };
})()"""

# Move the first slider of every explorer on the page; report whether the figure was drawn and whether it changed.
EXPLORER_JS = r"""(async () => {
  const sig = plot => [...plot.querySelectorAll('svg path, svg text')].map(e => (e.getAttribute('d') || '') + e.textContent).join('|');
  const out = [];
  for (const ex of document.querySelectorAll('.mcr-explorer')) {
    const plot = ex.querySelector('.mcr-explorer-plot'), input = ex.querySelector('input[type=range]');
    const before = sig(plot), frame = ex.getAttribute('data-frame');
    input.value = String((parseInt(input.value, 10) + 1) % (parseInt(input.max, 10) + 1));
    input.dispatchEvent(new Event('input', {bubbles: true}));
    await new Promise(r => setTimeout(r, 400));
    out.push({id: ex.id, drawn: !!plot.querySelector('svg.main-svg'), changed: sig(plot) !== before && before !== '',
              frame_before: frame, frame_after: ex.getAttribute('data-frame')});
  }
  return out;
})()"""


def png_dpi(path: Path):
    "Dots per inch stored in a PNG's pHYs chunk (matplotlib writes it), or None."
    try: data = path.read_bytes()
    except OSError: return None
    if data[:8] != b"\x89PNG\r\n\x1a\n": return None
    i = 8
    while i + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind == b"pHYs" and n >= 9:
            x, _, unit = struct.unpack(">IIB", data[i + 8:i + 17])
            return x * 0.0254 if unit == 1 else None
        if kind == b"IDAT": return None
        i += 12 + n
    return None


def figure_problems(page: str, info: dict, folder: Path) -> list:
    "Figures whose text would render too small: explorer text below MIN_TEXT_PX, PNGs shrunk below MIN_FIGURE_DPI."
    out = []
    if info["explorer_text_px"] is not None and info["explorer_text_px"] < MIN_TEXT_PX:
        out.append(f"{page}: explorer text drawn at {info['explorer_text_px']:.1f} px (minimum {MIN_TEXT_PX})")
    for f in info["figures"]:
        src = urllib.parse.unquote((f["src"] or "").split("?")[0])
        dpi = png_dpi((folder / posixpath_dir(page) / src).resolve()) if src.endswith(".png") else None
        if not dpi or not f["natural"]: continue
        shown_dpi = dpi * f["shown"] / f["natural"]
        if shown_dpi < MIN_FIGURE_DPI:
            out.append(f"{page}: figure {src} is shown at {shown_dpi:.0f} dpi (saved at {dpi:.0f}, scaled to {f['shown']:.0f} of "
                       f"{f['natural']} px); its text is too small (minimum {MIN_FIGURE_DPI} dpi as shown)")
    return out


def posixpath_dir(page: str) -> str:
    return page.rpartition("/")[0] or "."



# ------------------------------------------------------------------ serving and checking a site
@contextlib.contextmanager
def serve(folder: Path):
    "Serve `folder` on 127.0.0.1 (a free port) in a thread; yield the base URL."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try: yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally: httpd.shutdown(); httpd.server_close()


def site_pages(folder: Path) -> list:
    "Every HTML page of a built site (not the theme's assets or copied sources)."
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(folder).parts))


def check_site(browser: Browser, folder: Path, search_word: str | None = None) -> tuple[list, dict]:
    "Open every page of the site in `folder`; return (problems, {page: what the page showed})."
    problems, seen = [], {}
    with serve(folder) as base:
        for page in site_pages(folder):
            errs = browser.open(base + page)
            info = browser.eval(INSPECT_JS)
            seen[page] = info
            problems += [f"{page}: {e}" for e in errs]
            problems += [f"{page}: image did not load (naturalWidth 0): {s}" for s in info["broken_images"]]
            problems += [f"{page}: raw TeX left in the text: {s!r}" for s in info["raw_math"]]
            problems += [f"{page}: MathJax error: {s}" for s in info["math_errors"]]
            problems += [f"{page}: empty widget/output area ({s})" for s in info["empty_areas"]]
            problems += figure_problems(page, info, folder)
            problems += [f"{page}: a solution is open (solutions must be folded): {s['label']!r}" for s in info["solutions"]
                         if s["open"] or not s["hidden"]]
            if info["explorers"]:
                info["explorer_moves"] = browser.eval(EXPLORER_JS)
                for e in info["explorer_moves"]:
                    if not e["drawn"]: problems.append(f"{page}: explorer {e['id']} drew no figure")
                    elif not e["changed"] or e["frame_before"] == e["frame_after"]:
                        problems.append(f"{page}: moving a slider of explorer {e['id']} did not change the figure ({e})")
        problems += broken_links(seen, base, folder)
        if search_word:
            browser.open(base + f"search.html?q={urllib.parse.quote(search_word)}")
            hits = 0
            for _ in range(50):
                hits = browser.eval("document.querySelectorAll('#search-results li, .search li').length")
                if hits: break
                time.sleep(0.1)
            if not hits: problems.append(f"search.html: searching {search_word!r} found nothing")
            snippets = 0
            for _ in range(50):  # Sphinx fills each result's snippet (p.context) from the page once it has loaded it
                snippets = browser.eval("[...document.querySelectorAll('#search-results li p.context')]"
                                        ".filter(p => p.innerText.trim()).length")
                if snippets: break
                time.sleep(0.1)
            if hits and not snippets: problems.append(f"search.html: the results for {search_word!r} show no text snippet")
            for _ in range(50):  # the snippets' TeX is typeset by _static/mcr-search-math.js once results are in
                info = browser.eval(SETTLE_JS) and browser.eval(INSPECT_JS)
                if not info["raw_math"]: break
                time.sleep(0.2)
            problems += [f"search.html?q={search_word}: raw TeX left in the results: {s!r}" for s in info["raw_math"]]
    return problems, seen


def search_hits(browser: Browser, base: str, word: str) -> int:
    "How many results the site's search lists for `word` (once the result count has stopped changing)."
    browser.open(base + f"search.html?q={urllib.parse.quote(word)}")
    last, stable = -1, 0
    for _ in range(100):
        n = browser.eval("document.querySelectorAll('#search-results li').length")
        stable = stable + 1 if n == last and n else 0
        if stable >= 5 or (n == 0 and browser.eval("!!document.querySelector('#search-results p.search-summary')")): return n
        last = n; time.sleep(0.1)
    return last


def broken_links(seen: dict, base: str, folder: Path) -> list:
    "Internal links whose file is missing, or whose #anchor is not an id on the target page."
    out = []
    for page, info in seen.items():
        for href in info["links"]:
            if not href.startswith(base): continue
            path, _, frag = href[len(base):].partition("#")
            path = urllib.parse.unquote(path.split("?")[0])
            target = folder / (path or "index.html")
            if target.is_dir(): target = target / "index.html"
            if not target.exists():
                out.append(f"{page}: broken link to {href[len(base):]}"); continue
            tpage = target.relative_to(folder).as_posix()
            if frag and tpage in seen and urllib.parse.unquote(frag) not in seen[tpage]["ids"]:
                out.append(f"{page}: link to a missing anchor {href[len(base):]}")
    return sorted(set(out))


def undocumented_symbols(out: Path) -> list:
    "Public functions and classes in the package index (`_modidx`) with no entry (anchor) on their page."
    import importlib
    lib = build_docs.settings()["lib_name"]
    idx = importlib.import_module(f"{lib}._modidx").d["syms"]
    pages, missing = {}, []
    for mod, syms in idx.items():
        for full, (url, _) in syms.items():
            local = full[len(mod) + 1:]
            if "." in local or local.startswith("_"): continue  # methods and private names get no entry of their own
            page, _, frag = url.partition("#")
            if page not in pages: pages[page] = (out / page).read_text(encoding="utf-8") if (out / page).exists() else None
            if pages[page] is None: missing.append(f"{full}: no page {page}")
            elif f'id="{frag}"' not in pages[page]: missing.append(f"{full}: no entry #{frag} on {page}")
    return missing


EXPLORER_PAGES = ["tutorials/mi_decomposition.html", "tutorials/the_game.html", "tutorials/synthetic_benchmark.html"]
EXERCISE_PAGES = ["tutorials/mi_decomposition.html", "tutorials/the_game.html", "tutorials/mcr_in_your_loop.html",
                  "tutorials/synthetic_benchmark.html", "tutorials/estimating_unique_information.html",
                  "tutorials/your_own_data.html", "tutorials/ceb_bottleneck.html", "tutorials/real_data_on_a_laptop.html"]


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def browser():
    b = Browser(need_browser())
    yield b
    b.close()


@pytest.fixture(scope="module")
def site():
    "The real site, built from nbs/ into _docs/ exactly as `make docs` does."
    return build_docs.build(ROOT / "nbs", ROOT / "_docs", quiet=True)


@pytest.fixture(scope="module")
def fixture_site():
    return build_docs.build(FIXTURE_NBS, ROOT / "build" / "docs_fixture", quiet=True)


# ------------------------------------------------------------------ tests
def test_site_builds_and_passes_browser_check(site, request):
    "`make docs` builds every notebook's page in < 3 min; every page passes the browser check; screenshots saved."
    out = site["out"]
    assert not site["errors"], "the docs build reported errors:\n" + "\n".join(site["errors"])
    assert site["seconds"] < 180, f"the docs build took {site['seconds']:.0f} s (limit 180 s)"
    assert (out / "index.html").exists() and (out / "search.html").exists() and (out / "searchindex.js").exists()
    assert list((out / "_static" / "mathjax").glob("tex-chtml*.js")), "MathJax is not shipped in _static/mathjax"
    assert "index" in site["pages"] and len(site["pages"]) == len(site["notebooks"])
    for nb, page in zip(site["notebooks"], site["pages"]):
        assert (out / f"{page}.html").exists(), f"{nb} has no page {page}.html"
    for w in site["warnings"]: print("docs warning:", w)
    missing = undocumented_symbols(out)
    assert not missing, f"{len(missing)} exported symbol(s) without a show_doc entry on the site:\n" + "\n".join(missing[:40])
    # One test, not two: under `pytest -n 2` a second test could rebuild _docs/ on another worker meanwhile.
    browser = request.getfixturevalue("browser")  # the build is checked above even where the browser is missing
    problems, seen = check_site(browser, out, search_word=build_docs.settings()["lib_name"].split("_")[0])
    # README.md and the home page both come from nbs/index.ipynb: every README section is on the home page.
    home_text = seen["index.html"]["text"]
    readme = re.sub(r"^```.*?^```", "", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.M | re.S)
    for h in re.findall(r"^#{1,3} (.+)$", readme, re.MULTILINE):
        h = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", h).replace("`", "").strip()
        assert h in home_text, f"README section {h!r} is not on the home page"
    with serve(out) as base:
        browser.open(base + "index.html"); browser.screenshot(out / "_screenshots" / "home.png")
        tutorials = [p for p in site["pages"] if p.startswith("tutorials/")]
        shot = tutorials[0] if tutorials else next(p for p in site["pages"] if p != "index")
        browser.open(base + shot + ".html"); browser.screenshot(out / "_screenshots" / "tutorial.png", full_page=True)
    print(f"checked {len(seen)} pages; screenshots of index and {shot} in {out / '_screenshots'}")
    assert not problems, f"{len(problems)} problem(s) on the site:\n" + "\n".join(problems[:60])
    # the course: explorers, exercises with folded solutions, the course pages linked from the home page
    for page in EXPLORER_PAGES:
        assert seen[page]["explorers"], f"{page} has no slider explorer"
        assert all(e["changed"] for e in seen[page]["explorer_moves"]), seen[page]["explorer_moves"]
    for page in EXERCISE_PAGES:
        n_ex, n_sol = seen[page]["exercises"], len(seen[page]["solutions"])
        assert n_ex >= 3 and n_sol >= 3, f"{page}: {n_ex} exercise headings and {n_sol} folded solutions (want >= 3 each)"
    home_links = set(seen["index.html"]["links"])
    for target in ("course/syllabus.html", "course/glossary.html", "course/bibliography.html", "https://arxiv.org/abs/2411.07335"):
        assert any(l.split("#")[0].endswith(target) for l in home_links), f"the home page does not link {target}"
    with serve(out) as base:  # maths names are indexed as the prose spells them: $L_{MIPD}$ is found by `L_MIPD`
        n_math, n_word = search_hits(browser, base, "L_MIPD"), search_hits(browser, base, "MIPD")
    print(f"search: 'L_MIPD' {n_math} pages, 'MIPD' {n_word} pages")
    assert n_math >= 8, f"searching 'L_MIPD' finds {n_math} pages (the maths $L_{{MIPD}}$ is on many more)"
    others = [p for p in seen if p.startswith("tutorials/") and p not in EXERCISE_PAGES and p != "tutorials/reliability.html"
              and seen[p]["exercises"] < 3]
    if others: print("tutorials without 3 exercises yet:", others)


def test_fixture_site_renders_directives(browser, fixture_site):
    out = fixture_site["out"]
    assert not fixture_site["errors"] and not fixture_site["warnings"], fixture_site
    problems, seen = check_site(browser, out, search_word="fixture")
    assert not problems, "\n".join(problems)
    tut = (out / "tutorials" / "fixture.html").read_text(encoding="utf-8")
    home = (out / "index.html").read_text(encoding="utf-8")
    for hidden in ["HIDDEN_MARKER_ONE", "HIDDEN_MARKER_TWO", "SOURCE_MARKER_THREE", "OUTPUT_HIDDEN_MARKER",
                   "interactive(children", "IntSlider(value=3, min=0"]:
        assert hidden not in tut, f"{hidden!r} should not be on the fixture tutorial page"
    assert not re.search(r"#\|\s*(hide|echo|include|output|export)", tut), "an nbdev directive line is shown"
    assert "HOME_HIDDEN_MARKER" not in home
    info = seen["tutorials/fixture.html"]
    assert "OUTPUT_VISIBLE_MARKER" in info["text"] and "print('OUTPUT_' + 'HIDDEN_MARKER')" in info["text"]
    assert info["h1"] == "Fixture tutorial", info["h1"]
    assert 'class="mcr-subtitle' in tut and "mcr-run-note" in tut and "jupyter lab nbs/tutorials/01_fixture.ipynb" in tut
    assert tut.count("<img") >= 3, "the plot, the widget's static figure and the picture file should be images"
    assert "static view of an interactive widget" in tut and "Interactive widget." in tut
    assert [s["open"] for s in info["solutions"]] == [False] and info["solutions"][0]["label"] == "Show the solution"
    assert "SOLUTION_MARKER" in tut and "SOLUTION_MARKER" not in info["text"], "the solution must be in the page, folded"
    assert info["explorers"] == ["fixture-explorer"] and info["explorer_moves"][0]["changed"], info.get("explorer_moves")
    assert "plotly.min.js" in tut and "plotly.min.js" not in home, "Plotly's script is loaded only by pages with an explorer"
    assert (out / "_static" / "plotly.min.js").stat().st_size > 1e6
    assert tut.count("<mjx-container") == 0  # MathJax typesets in the browser: the HTML ships TeX ...
    n_math = len(re.findall(r'class="math', tut))
    assert n_math >= 3, f"expected inline and display math on the fixture page, found {n_math}"


def test_checker_catches_faults(browser, tmp_path):
    "A page with one of each fault: the checker must report every one (so the site check can fail)."
    (tmp_path / "index.html").write_text("""<!doctype html><html><head><title>bad</title></head><body>
      <h1 id="top">Bad page</h1><p>Unrendered display math: $$x^2$$ and inline \\(y\\).</p>
      <a href="missing.html">a dead link</a> <a href="index.html#nowhere">a dead anchor</a> <a href="#top">fine</a>
      <img src="no-such-image.png"> <div class="cell_output"></div>
      <div class="tag_hide-cell"><details open><summary>Show the solution</summary><div>the answer</div></details></div>
      <div class="mcr-explorer" id="dead-explorer"><input type="range" min="0" max="2" value="0"><div class="mcr-explorer-plot"></div></div>
      <script>console.error('planted console error'); undefined_function();</script></body></html>""")
    problems, _ = check_site(browser, tmp_path)
    text = "\n".join(problems)
    for expected in ["broken link to missing.html", "missing anchor index.html#nowhere", "naturalWidth 0",
                     "raw TeX left in the text: '$$'", "raw TeX left in the text: '\\\\('", "planted console error",
                     "undefined_function", "empty widget/output area", "HTTP 404", "a solution is open",
                     "explorer dead-explorer drew no figure"]:
        assert expected in text, f"the checker missed: {expected}\n{text}"
    assert "#top" not in text
    assert undocumented_symbols(tmp_path), "the show_doc coverage check found nothing missing on an empty site"
