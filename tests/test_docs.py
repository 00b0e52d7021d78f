"""The documentation site, checked in a real browser.

Builds the site (`tools/build_docs.py`, the same code as `make docs`), serves it on 127.0.0.1 and opens every page
in headless Chromium, driven through the DevTools protocol by the small standard-library client below (no
Playwright needed). A page fails on: a broken internal link or anchor, an image that did not load
(`naturalWidth == 0`), raw `$$`, `\\(` or `\\[` left in the visible text, a MathJax error, a JavaScript error or
`console.error`, a request to anything but the local server (the site must work offline), an empty widget or
output area. Also checked: every exported function and class has its show_doc entry, search returns results with
their equations typeset, and a fixture site (tests/fixtures/docs_site: math, a plot, widgets, hidden cells, a picture
file) renders each nbdev directive as intended. A checker that misses a planted fault fails too.

Screenshots of the home page and one tutorial are saved under _docs/_screenshots/.
Without /usr/bin/chromium the browser tests are skipped (with the install command), unless MCR_REQUIRE_BROWSER=1
(as in CI), where a missing browser is a failure.
"""
import base64, contextlib, functools, http.server, json, os, re, shutil, socket, struct, subprocess, sys, tempfile
import threading, time, urllib.parse, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_docs  # noqa: E402

FIXTURE_NBS = ROOT / "tests" / "fixtures" / "docs_site"
INSTALL = "apt-get update && apt-get install -y chromium"
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--window-size=1280,900"]


def chromium_path():
    "The Chromium to drive: $MCR_CHROMIUM if set (only it), else /usr/bin/chromium or `chromium` on PATH."
    if os.environ.get("MCR_CHROMIUM"): cands = [os.environ["MCR_CHROMIUM"]]
    else: cands = ["/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((p for p in cands if p and Path(p).exists()), None)


def need_browser():
    path = chromium_path()
    if path: return path
    msg = f"headless Chromium not found at /usr/bin/chromium; install it with `{INSTALL}` (Debian/Ubuntu, as root)"
    if os.environ.get("MCR_REQUIRE_BROWSER") == "1": pytest.fail(msg + " -- required because MCR_REQUIRE_BROWSER=1")
    pytest.skip(msg)


# ------------------------------------------------------------------ a minimal WebSocket + DevTools protocol client
class WebSocket:
    "Just enough of RFC 6455 for the DevTools protocol: masked text frames out, text frames in."
    def __init__(self, url: str, timeout: float = 60):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk: raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]: raise ConnectionError(f"WebSocket handshake refused: {head[:200]!r}")

    def _exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            if not chunk: raise ConnectionError("DevTools connection closed")
            buf += chunk
        return bytes(buf)

    def _frame(self, opcode: int, payload: bytes) -> None:
        n, mask = len(payload), os.urandom(4)
        head = bytes([0x80 | opcode])
        if n < 126: head += bytes([0x80 | n])
        elif n < 1 << 16: head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else: head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text: str) -> None: self._frame(0x1, text.encode())

    def recv(self) -> str:
        parts = []
        while True:
            b1, b2 = self._exact(2)
            fin, opcode, n = b1 & 0x80, b1 & 0x0F, b2 & 0x7F
            if n == 126: n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127: n = struct.unpack(">Q", self._exact(8))[0]
            mask = self._exact(4) if b2 & 0x80 else None
            data = self._exact(n)
            if mask: data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode == 0x9: self._frame(0xA, data); continue  # ping -> pong
            if opcode == 0x8: raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0x0, 0x1, 0x2): parts.append(data)
            if fin and opcode != 0xA: return b"".join(parts).decode()

    def close(self):
        with contextlib.suppress(OSError): self._frame(0x8, b""); self.sock.close()


class Browser:
    "Headless Chromium driven through the DevTools protocol: open pages, evaluate JavaScript, record errors."
    def __init__(self, exe: str):
        self.profile = tempfile.mkdtemp(prefix="mcr-chromium-")
        self.proc = subprocess.Popen([exe, *CHROME_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
                                      "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and len(port_file.read_text().split()) >= 2: break
            if self.proc.poll() is not None: raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            time.sleep(0.1)
        else: raise RuntimeError("chromium did not open its DevTools port within 30 s")
        port = int(port_file.read_text().split()[0])
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id, self.events = 0, []
        for m in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"): self.call(m)

    def call(self, method: str, timeout: float = 60, **params):
        "Send one DevTools command and return its result; events that arrive meanwhile are kept in `events`."
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        t0 = time.time()
        while time.time() - t0 < timeout:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg: raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg: self.events.append(msg)
        raise TimeoutError(method)

    def wait_event(self, name: str, timeout: float = 30) -> dict:
        t0 = time.time()
        while time.time() - t0 < timeout:
            for i, e in enumerate(self.events):
                if e["method"] == name: return self.events.pop(i)
            self.ws.sock.settimeout(max(0.1, timeout - (time.time() - t0)))
            try: self.events.append(json.loads(self.ws.recv()))
            except socket.timeout: break
            finally: self.ws.sock.settimeout(60)
        raise TimeoutError(f"no {name} within {timeout} s")

    def eval(self, js: str, timeout: float = 30):
        "Evaluate an expression (promises awaited) in the page and return its JSON value."
        r = self.call("Runtime.evaluate", timeout=timeout, expression=js, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r: raise RuntimeError(f"page script failed: {r['exceptionDetails'].get('text')}: "
                                                       f"{r['exceptionDetails'].get('exception', {}).get('description')}")
        return r.get("result", {}).get("value")

    def open(self, url: str) -> list:
        "Navigate to `url`, wait for load, images and MathJax; return the errors the page logged."
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        self.eval(SETTLE_JS)
        self.call("Runtime.evaluate", expression="0")  # flush events that arrived during settling
        return page_errors(self.events, url)

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        if full_page:
            h = min(int(self.eval("document.documentElement.scrollHeight")), 8000)
            self.call("Emulation.setDeviceMetricsOverride", width=1280, height=h, deviceScaleFactor=1, mobile=False)
            self.eval(SETTLE_JS)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        if full_page: self.call("Emulation.clearDeviceMetricsOverride")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self):
        with contextlib.suppress(Exception): self.call("Browser.close", timeout=5)
        self.ws.close()
        try: self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired: self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


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
  };
})()"""


def page_errors(events: list, url: str) -> list:
    "JavaScript errors, console errors and requests that left the local server, from DevTools events."
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlparse(url))
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append(f"JavaScript error: {d.get('exception', {}).get('description') or d.get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append(f"browser error: {p['entry'].get('text')} {p['entry'].get('url', '')}".strip())
        elif m == "Network.requestWillBeSent":
            req = p.get("request", {}).get("url", "")
            if req.startswith(("http:", "https:", "ws:", "wss:")) and not req.startswith(origin):
                out.append(f"request outside the site (must work offline): {req[:120]}")
        elif m == "Network.responseReceived":
            r = p.get("response", {})
            if r.get("status", 200) >= 400 and r.get("url", "").startswith(origin):
                out.append(f"HTTP {r['status']} for {r['url']}")
    return list(dict.fromkeys(out))


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
        problems += broken_links(seen, base, folder)
        if search_word:
            browser.open(base + f"search.html?q={urllib.parse.quote(search_word)}")
            hits = 0
            for _ in range(50):
                hits = browser.eval("document.querySelectorAll('#search-results li, .search li').length")
                if hits: break
                time.sleep(0.1)
            if not hits: problems.append(f"search.html: searching {search_word!r} found nothing")
            for _ in range(50):  # the snippets' TeX is typeset by _static/mcr-search-math.js once results are in
                info = browser.eval(SETTLE_JS) and browser.eval(INSPECT_JS)
                if not info["raw_math"]: break
                time.sleep(0.2)
            problems += [f"search.html?q={search_word}: raw TeX left in the results: {s!r}" for s in info["raw_math"]]
    return problems, seen


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
    assert tut.count("<mjx-container") == 0  # MathJax typesets in the browser: the HTML ships TeX ...
    n_math = len(re.findall(r'class="math', tut))
    assert n_math >= 3, f"expected inline and display math on the fixture page, found {n_math}"


def test_checker_catches_faults(browser, tmp_path):
    "A page with one of each fault: the checker must report every one (so the site check can fail)."
    (tmp_path / "index.html").write_text("""<!doctype html><html><head><title>bad</title></head><body>
      <h1 id="top">Bad page</h1><p>Unrendered display math: $$x^2$$ and inline \\(y\\).</p>
      <a href="missing.html">a dead link</a> <a href="index.html#nowhere">a dead anchor</a> <a href="#top">fine</a>
      <img src="no-such-image.png"> <div class="cell_output"></div>
      <script>console.error('planted console error'); undefined_function();</script></body></html>""")
    problems, _ = check_site(browser, tmp_path)
    text = "\n".join(problems)
    for expected in ["broken link to missing.html", "missing anchor index.html#nowhere", "naturalWidth 0",
                     "raw TeX left in the text: '$$'", "raw TeX left in the text: '\\\\('", "planted console error",
                     "undefined_function", "empty widget/output area", "HTTP 404"]:
        assert expected in text, f"the checker missed: {expected}\n{text}"
    assert "#top" not in text
    assert undocumented_symbols(tmp_path), "the show_doc coverage check found nothing missing on an empty site"
