"""Build the documentation site into `_docs/` from the committed notebooks: offline, without executing them.

Quarto (what `nbdev_docs` needs) does not install here, so the route is:
1. nbdev's own notebook processors (front matter from `# Title` / `> subtitle`, `show_doc` cells after every
   exported definition, doc links, hidden cells removed, magics cleaned);
2. a small mapping step written here: Quarto-style directives (`#| include: false`, `#| echo: false`,
   `#| output: false`, `#| code-fold`, `#| solution`) become myst-nb cell tags (a solution is folded, closed), the front matter becomes the page title and
   subtitle, `show_doc` entries are rendered from the installed package (imported, never the notebook's cells),
   `#| export` source is shown folded after its entries (`#| exports` unfolded), widgets are replaced by the
   static outputs they captured (the figure of their default setting, else a note), nbdev's absolute doc links
   become relative links, and every page gets its source link and a "run this notebook" note;
3. Sphinx + myst-nb (stored outputs, `nb_execution_mode = "off"`) + sphinx-book-theme, with MathJax shipped in
   the site's static files (`sphinx-mathjax-offline`), so equations render without a CDN.

Usage: `python tools/build_docs.py [--nbs nbs] [--out _docs] [--strict]` (`make docs`). Exits 1 on an error (a
module that does not import); `--strict` also fails on any warning. The intermediate Sphinx sources go to
`build/docs_src/` (gitignored); the Sphinx configuration and the site's CSS and JavaScript live in `docs/`.
"""
from __future__ import annotations

import argparse, configparser, copy, html, importlib, importlib.util, inspect, json, os, posixpath, re, shutil
import subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "docs"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_STATIC = ('<div class="mcr-widget-note">Above: a static view of an interactive widget at its default setting. '
                 'Open this notebook in JupyterLab (see "Run this notebook" below) to move its controls.</div>')
WIDGET_NOTE = ('<div class="mcr-widget-note"><strong>Interactive widget.</strong> It runs only inside Jupyter: '
               'open this notebook in JupyterLab (see "Run this notebook" below) to use it.</div>')


def settings(root: Path = ROOT) -> dict:
    "The `[DEFAULT]` section of settings.ini as a dict."
    cp = configparser.ConfigParser()
    cp.read(root / "settings.ini", encoding="utf-8")
    return dict(cp["DEFAULT"])


# ---------------------------------------------------------------- notebooks and page names
def find_notebooks(nbs: Path) -> list[Path]:
    "Notebooks nbdev would document: no path part starting with `_` or `.`, sorted by path."
    out = []
    for p in sorted(nbs.rglob("*.ipynb")):
        rel = p.relative_to(nbs)
        if any(part.startswith(("_", ".")) for part in rel.parts): continue
        out.append(p)
    return out


def page_name(rel: Path) -> str:
    "nbdev's output page for a notebook path relative to nbs/: numbers dropped, e.g. `tutorials/01_x.ipynb` -> `tutorials/x`."
    name = re.sub(r"^\d+[a-zA-Z0-9]*_", "", rel.name.lower())
    return (rel.parent / name).with_suffix("").as_posix()


SECTION_ORDER = ("course", "tutorials", "guides")  # sidebar groups first, in this order; other folders follow


def nav_groups(pages: list[dict]) -> list[tuple[str, list[dict]]]:
    """Sidebar groups in notebook order: a page's `- section: name` front matter (in its title cell) or else its
    sub-folder of nbs/; course, tutorials and guides first, other folders alphabetically, then the API reference."""
    folders = {}
    for p in pages:
        if p["page"] == "index": continue
        folder = p.get("section") or p["rel"].parent.as_posix()
        folders.setdefault(folder, []).append(p)
    rank = lambda f: SECTION_ORDER.index(f) if f in SECTION_ORDER else len(SECTION_ORDER)
    order = sorted(folders, key=lambda f: (f == ".", rank(f), f))
    caption = lambda f: "API reference" if f == "." else f.replace("_", " ").capitalize()
    return [(caption(f), folders[f]) for f in order]


# ---------------------------------------------------------------- cell helpers
_DIRECTIVE = re.compile(r"^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")


def split_directives(src: str) -> tuple[dict, str]:
    "The leading `#| key: value` directives of a code cell, and the source without them."
    lines, d = src.splitlines(), {}
    i = 0
    while i < len(lines) and (not lines[i].strip() or _DIRECTIVE.match(lines[i])):
        m = _DIRECTIVE.match(lines[i])
        if m: d[m.group(1)] = m.group(2).strip().strip('"\'') or True
        i += 1
    return d, "\n".join(lines[i:]).strip("\n")


def is_false(v) -> bool: return str(v).strip().lower() == "false"


def add_tags(cell: dict, *tags: str) -> None:
    cell.setdefault("metadata", {}).setdefault("tags", [])
    for t in tags:
        if t not in cell["metadata"]["tags"]: cell["metadata"]["tags"].append(t)


def source_of(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


# ---------------------------------------------------------------- show_doc entries, rendered from the package
_SHOWDOC = re.compile(r"^show_doc\(", re.MULTILINE)


def default_exp(nb: dict) -> str | None:
    for c in nb["cells"]:
        if c["cell_type"] != "code": continue
        m = re.search(r"^\s*#\|\s*default_exp\s+(\S+)", source_of(c), re.MULTILINE)
        if m: return m.group(1)
    return None


def showdoc_namespace(lib: str, mod: str | None) -> dict:
    "Names visible to a notebook's `show_doc` cells: its exported module (imported, not executed from cells)."
    from nbdev.showdoc import show_doc
    ns = {"show_doc": show_doc}
    if mod:
        try: ns.update(vars(importlib.import_module(f"{lib}.{mod}")))
        except Exception as e:
            raise RuntimeError(f"cannot import {lib}.{mod} to render its API docs ({e!r}); run `nbdev_export`") from e
        ns["show_doc"] = show_doc
    return ns


def render_show_doc(src: str, ns: dict, problems: list) -> str:
    "Markdown of every `show_doc(...)` expression in `src`, evaluated in `ns`; failures go to `problems`."
    import ast
    ev = lambda node: eval(compile(ast.Expression(node), "<show_doc>", "eval"), dict(ns))
    parts = []
    for node in ast.parse(src).body:
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "show_doc"): continue
        call = node.value
        try: md = ev(call)._repr_markdown_()
        except Exception as e:
            problems.append(f"`{ast.unparse(call)}` failed ({e!r}); the site shows a plain signature instead")
            if not call.args: continue
            try: md = plain_doc(ev(call.args[0]), ast.unparse(call.args[0]))
            except Exception: continue
        sym = ev(call.args[0]) if call.args else None
        if "#LNone" in md and sym is not None:  # nbdev finds no line number for symbols imported from the package
            try: md = md.replace("#LNone", f"#L{inspect.getsourcelines(inspect.unwrap(sym))[1]}")
            except (TypeError, OSError): md = md.replace("#LNone", "")
        if inspect.isclass(sym):  # nbdev 2.4 writes `def Name(` for a class's signature
            md = re.sub(rf"^def {re.escape(sym.__name__)}\(", f"class {sym.__name__}(", md, count=1, flags=re.MULTILINE)
        parts.append(md)
    return "\n\n".join(parts)


def plain_doc(obj, name: str) -> str:
    "A show_doc-like entry from the signature as written (annotations not evaluated) and the docstring."
    kind = "class" if inspect.isclass(obj) else "def"
    try: sig = str(inspect.signature(obj))
    except (TypeError, ValueError): sig = "(...)"
    doc = (inspect.getdoc(obj) or "").split("\n")[0]
    return f"### {name}\n\n```python\n{kind} {name.split('.')[-1]}{sig}\n```\n\n" + (f"*{doc}*\n" if doc else "")


# ---------------------------------------------------------------- links
_MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def rewrite_links(text: str, page: str, site_prefix: str, nb_pages: dict, nb_dir: str) -> str:
    "Make nbdev's absolute doc links and links to `.ipynb` files relative links to the built pages."
    here = posixpath.dirname(page)

    def rel(target_page_html: str) -> str:
        return posixpath.relpath(target_page_html, here or ".")

    def fix(url: str) -> str:
        if site_prefix and url.startswith(site_prefix):  # resolved by `resolve_doc_links` once every page exists
            return DOC_SCHEME + (url[len(site_prefix):] or "index.html")
        if re.match(r"^[a-zA-Z][\w+.-]*:", url) or url.startswith(("#", "/")): return url
        path, _, frag = url.partition("#")
        if path.endswith(".ipynb"):
            target = posixpath.normpath(posixpath.join(nb_dir, path))
            if target in nb_pages: return rel(nb_pages[target] + ".html") + (f"#{frag}" if frag else "")
        return url

    text = _MD_LINK.sub(lambda m: f"]({fix(m.group(1))})", text)
    return re.sub(r'href="([^"]+)"', lambda m: f'href="{fix(m.group(1))}"', text)


DOC_SCHEME = "mcr-doc:"
_DOC_LINK = re.compile(re.escape(DOC_SCHEME) + r'([^)\s"#]+)(?:#([^)\s"]*))?')


def resolve_doc_links(pages: list[dict]) -> None:
    "nbdev's symbol links as relative links; an anchor with no show_doc entry falls back to its class, then the page."
    anchors = {}
    for p in pages:
        text = json.dumps(p["nb"]["cells"])
        anchors[p["page"] + ".html"] = set(re.findall(r'<span id=\\"([^"\\]+)\\"></span>', text))

    def fix(m, here):
        path, frag = m.group(1), m.group(2) or ""
        while frag and frag not in anchors.get(path, ()):
            frag = frag.rpartition(".")[0]
        return posixpath.relpath(path, here or ".") + (f"#{frag}" if frag else "")

    def walk(x, here):
        if isinstance(x, str): return _DOC_LINK.sub(lambda m: fix(m, here), x) if DOC_SCHEME in x else x
        if isinstance(x, list): return [walk(v, here) for v in x]
        if isinstance(x, dict): return {k: walk(v, here) for k, v in x.items()}
        return x

    for p in pages: p["nb"]["cells"] = walk(p["nb"]["cells"], posixpath.dirname(p["page"]))


def quarto_link_attrs(text: str) -> str:
    "nbdev's `[source](url){target=... style=...}` (a Quarto attribute list) as plain HTML."
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)\{[^}]*\}",
                  lambda m: f'<a class="mcr-source-link" href="{m.group(2)}">{m.group(1)}</a>', text)


def add_anchors(md: str) -> str:
    "An HTML id per show_doc heading, spelled as nbdev's links spell it (lower case)."
    def anchor(m):
        name = m.group(2).strip().strip("`")
        ids = dict.fromkeys([name.lower(), name])
        spans = "".join(f'<span id="{html.escape(i)}"></span>' for i in ids)
        return f"{m.group(1)} {spans}{m.group(2)}"
    return re.sub(r"^(#{2,4}) (\S+)\s*$", anchor, md, flags=re.MULTILINE)


# ---------------------------------------------------------------- widgets
def widget_outputs(model_id: str, state: dict, seen=None) -> list:
    "The outputs captured by the Output widgets inside a widget (the view of its default setting)."
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state: return []
    seen.add(model_id)
    m = state[model_id]
    out = list(m.get("state", {}).get("outputs", []) or []) if m.get("model_name") == "OutputModel" else []
    for ref in m.get("state", {}).get("children", []) or []:
        if isinstance(ref, str) and ref.startswith("IPY_MODEL_"): out += widget_outputs(ref[len("IPY_MODEL_"):], state, seen)
    return out


def static_widgets(cell: dict, state: dict) -> bool:
    "Replace widget views in a cell's outputs by what they captured; a note where they captured nothing."
    outs, changed = [], False
    static = [o for o in cell.get("outputs", []) if WIDGET_VIEW not in o.get("data", {}) and
              (set(o.get("data", {})) - {"text/plain"} or o.get("output_type") == "stream")]
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        if WIDGET_VIEW not in data: outs.append(o); continue
        changed = True
        captured = [copy.deepcopy(c) for c in widget_outputs(data[WIDGET_VIEW].get("model_id", ""), state)]
        for c in captured: c.setdefault("metadata", {})
        if captured:
            outs += captured + [{"output_type": "display_data", "metadata": {},
                                 "data": {"text/html": WIDGET_STATIC, "text/plain": "static view of a widget"}}]
        elif not static:
            outs.append({"output_type": "display_data", "metadata": {},
                         "data": {"text/html": WIDGET_NOTE, "text/plain": "interactive widget"}})
    cell["outputs"] = outs
    return changed


# ---------------------------------------------------------------- one notebook
def nbdev_process(path: Path) -> dict:
    "Run nbdev's documentation processors (all but the executing one) on a notebook; return it as a dict."
    from execnb.nbio import read_nb, dict2nb
    from nbdev import processors as P
    from nbdev.process import NBProcessor
    procs = [P.FrontmatterProc, P.populate_language, P.add_show_docs, P.insert_warning, P.strip_ansi, P.hide_line,
             P.filter_stream_, P.rm_header_dash, P.clean_show_doc, P.ai_magics, P.clean_magics, P.hide_,
             P.add_links, P.strip_hidden_metadata]
    nb = read_nb(path)
    proc = NBProcessor(nb=nb, procs=procs)
    proc.process()
    nb = proc.nb
    cells = []
    for c in nb.cells:
        d = {k: copy.deepcopy(v) for k, v in dict(c).items() if not k.endswith("_") and k != "idx_"}
        d["has_sd"] = bool(getattr(c, "has_sd", False))
        # NBProcessor strips the `#|` lines from the source and keeps them here; put them back for `convert`
        dirs = {k.rstrip(":"): " ".join(map(str, v)) for k, v in (getattr(c, "directives_", None) or {}).items()}
        if c.cell_type == "code" and dirs:
            d["source"] = "".join(f"#| {k}: {v}\n" if v else f"#| {k}\n" for k, v in dirs.items()) + source_of(d)
        cells.append(d)
    return {"cells": cells, "metadata": copy.deepcopy(dict(nb.metadata)), "nbformat": 4, "nbformat_minor": 5}


def front_matter(cell: dict) -> dict:
    import yaml
    src = source_of(cell).strip()
    if not src.startswith("---"): return {}
    return yaml.safe_load(src.strip("-\n")) or {}


def convert(path: Path, nbs: Path, cfg: dict, nb_pages: dict, warnings: list, errors: list) -> dict:
    "A notebook ready for myst-nb: titles, tags, rendered show_docs, static widgets, relative links, run note."
    rel = path.relative_to(nbs)
    page = nb_pages[rel.as_posix()]
    raw_nb = json.loads(path.read_text(encoding="utf-8"))
    nb = nbdev_process(path)
    state = (raw_nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}) or {}).get("state", {})
    site_prefix = cfg.get("doc_host", "").rstrip("/") + cfg.get("doc_baseurl", "").rstrip("/") + "/"
    ns = None
    fm, cells, pending_exports = {}, [], []

    def flush_exports():
        cells.extend(pending_exports); pending_exports.clear()

    for c in nb["cells"]:
        if c["cell_type"] == "raw" and not fm and source_of(c).strip().startswith("---"):
            fm = front_matter(c); continue
        src = source_of(c)
        if c["cell_type"] == "markdown":
            if src.strip().startswith("<!-- WARNING: THIS FILE WAS AUTOGENERATED"): continue
            flush_exports()
            c["source"] = rewrite_links(quarto_link_attrs(src), page, site_prefix, nb_pages, rel.parent.as_posix())
            c.pop("has_sd", None); c.pop("outputs", None); c.pop("execution_count", None)
            cells.append(c); continue
        if c["cell_type"] != "code": continue
        d, body = split_directives(src)
        auto_sd = c.pop("has_sd", False)
        is_sd = auto_sd or bool(_SHOWDOC.search(body))
        if is_false(d.get("include", "")): continue
        if is_sd and (auto_sd or not c.get("outputs")):
            if ns is None:
                try: ns = showdoc_namespace(cfg["lib_name"], default_exp(raw_nb))
                except RuntimeError as e:  # build the rest of the site, but the build fails (see `build`)
                    errors.append(f"{rel}: {e}"); ns = {}
            if not ns: continue
            problems = []
            md = render_show_doc(body, ns, problems)
            warnings += [f"{rel}: {p}" for p in problems]
            if not md.strip(): continue
            c["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"text/markdown": md, "text/plain": ""}}]
        if static_widgets(c, state) and not c["outputs"]: continue
        c["outputs"] = [o for o in c.get("outputs", []) if not blank_output(o)]
        for o in c.get("outputs", []):
            md = o.get("data", {}).get("text/markdown")
            if md is not None:
                md = "".join(md) if isinstance(md, list) else md
                if is_sd: md = add_anchors(re.sub(r"^\s*---\s*\n", "", md))  # the rule is drawn by CSS
                o["data"]["text/markdown"] = rewrite_links(quarto_link_attrs(md), page, site_prefix, nb_pages,
                                                          rel.parent.as_posix())
        c["source"] = body
        if is_sd or is_false(d.get("echo", "")) or not body.strip(): add_tags(c, "remove-input")
        if is_false(d.get("output", "")): add_tags(c, "remove-output")
        if str(d.get("code-fold", "")).lower() in ("true", "1"): add_tags(c, "hide-input")
        if d.get("solution"):  # an exercise's solution: code and output folded, closed until the reader opens it
            add_tags(c, "hide-cell")
            c.setdefault("metadata", {})["mystnb"] = {"code_prompt_show": "Show the solution",
                                                      "code_prompt_hide": "Hide the solution"}
        if not c.get("outputs") and "remove-input" in c.get("metadata", {}).get("tags", []): continue
        if not body.strip() and not c.get("outputs"): continue
        if d.get("export") or d.get("exporti"):
            # nbdev hides exported source; the site shows it folded, after the definitions' show_doc entries.
            flush_exports(); add_tags(c, "hide-input"); pending_exports.append(c); continue
        if is_sd: cells.append(c); continue
        flush_exports(); cells.append(c)
    flush_exports()

    n_code = sum(c["cell_type"] == "code" and source_of(c).strip() != "" for c in raw_nb["cells"])
    if n_code and not any(c.get("outputs") for c in raw_nb["cells"] if c["cell_type"] == "code"):
        warnings.append(f"{rel}: no stored outputs; if its cells display anything, execute it "
                        "(jupyter nbconvert --to notebook --execute --inplace) "
                        "so the site shows its results")
    title = fm.get("title") or rel.stem
    if not fm.get("title"): warnings.append(f"{rel}: no `# Title` markdown cell; the page is titled {title!r}")
    head = f"# {title}\n"
    if fm.get("description"): head += f"\n{{.mcr-subtitle}}\n{fm['description']}\n"
    src_url = f"{cfg.get('git_url', '').rstrip('/')}/blob/{cfg.get('branch', 'main')}/{cfg.get('nbs_path', 'nbs')}/{rel.as_posix()}"
    nb_file = f"{cfg.get('nbs_path', 'nbs')}/{rel.as_posix()}"
    head += (f'\n{{.mcr-source-line}}\nThis page is the notebook [`{nb_file}`]({src_url}), shown with the outputs '
             f'stored in it.\n')
    run_note = run_this_notebook(nb_file, src_url, cfg)
    cells = [md_cell(head)] + cells + ([md_cell(run_note)] if page != "index" else [])
    meta = {"kernelspec": raw_nb.get("metadata", {}).get("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}),
            "language_info": {"name": "python"}}
    return {"page": page, "rel": rel, "title": title, "section": fm.get("section"),
            "nb": {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}}


def blank_output(o: dict) -> bool:
    "An output that would show as an empty box: whitespace-only stream text or plain text."
    if o.get("output_type") == "stream": return not "".join(o.get("text", "")).strip()
    data = o.get("data", {})
    if o.get("output_type") in ("display_data", "execute_result") and set(data) <= {"text/plain"}:
        return not "".join(data.get("text/plain", "")).strip()
    return False


def md_cell(src: str) -> dict: return {"cell_type": "markdown", "metadata": {}, "source": src}


def run_this_notebook(nb_file: str, src_url: str, cfg: dict) -> str:
    "The note at the end of each page: how to open the notebook in JupyterLab."
    has_lab = "jupyterlab" in cfg.get("dev_requirements", "")
    install = "" if has_lab else ".venv/bin/pip install jupyterlab   # once\n"
    return ("```{admonition} Run this notebook\n:class: tip mcr-run-note\n"
            f"Everything on this page comes from [`{nb_file}`]({src_url}). To run it yourself, from a clone of the "
            "repository:\n\n"
            f"    make venv\n    {install.replace(chr(10), chr(10) + '    ')}"
            f".venv/bin/jupyter lab {nb_file}\n\n"
            "then run all cells (Run > Run All Cells). Cells marked `#| slow`, `#| gpu` or `#| data` are the heavy ones.\n"
            "```\n")


# ---------------------------------------------------------------- the site
def toctree(caption: str, pages: list[dict]) -> str:
    entries = "\n".join(p["page"] for p in pages)
    return f"```{{toctree}}\n:hidden:\n:caption: {caption}\n:titlesonly:\n\n{entries}\n```\n"


ASSET_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".csv", ".txt", ".json", ".yaml", ".yml"}


def write_sources(pages: list[dict], src: Path, nbs: Path) -> None:
    "Write the page notebooks (with the sidebar's toctrees in index) and the files they may refer to (images)."
    if src.exists(): shutil.rmtree(src)
    src.mkdir(parents=True)
    for f in nbs.rglob("*"):
        rel = f.relative_to(nbs)
        if f.is_file() and f.suffix.lower() in ASSET_SUFFIXES and not any(p.startswith(("_", ".")) for p in rel.parts):
            (src / rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, src / rel)
    index = next(p for p in pages if p["page"] == "index")
    for caption, group in nav_groups(pages):
        index["nb"]["cells"].append(md_cell(toctree(caption, group)))
    for p in pages:
        out = src / (p["page"] + ".ipynb")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(p["nb"], indent=1, ensure_ascii=False), encoding="utf-8")


def sphinx_build(src: Path, out: Path, doctrees: Path, strict: bool) -> tuple[int, list[str]]:
    "Run Sphinx (html builder) with the configuration in docs/; return its exit code and warnings."
    if out.exists(): shutil.rmtree(out)
    if doctrees.exists(): shutil.rmtree(doctrees)
    warn_file = doctrees.parent / "docs_warnings.txt"
    doctrees.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(CONF_DIR), "-d", str(doctrees), "-q",
           "-w", str(warn_file), "--keep-going", str(src), str(out)]
    if strict: cmd.insert(-2, "-W")
    env = {**os.environ, "MCR_DOCS_ROOT": str(ROOT)}
    res = subprocess.run(cmd, env=env, text=True, capture_output=True)
    warns = [l for l in (warn_file.read_text(encoding="utf-8").splitlines() if warn_file.exists() else []) if l.strip()]
    if res.returncode: print(res.stdout[-4000:], res.stderr[-4000:], sep="\n")
    return res.returncode, warns


def build(nbs: Path = ROOT / "nbs", out: Path = ROOT / "_docs", strict: bool = False, quiet: bool = False) -> dict:
    "Build the site from the notebooks in `nbs` into `out`; return a summary (pages, warnings, seconds)."
    t0 = time.time()
    if importlib.util.find_spec("sphinx-mathjax-offline") is None:
        raise SystemExit("the package sphinx-mathjax-offline is missing (it ships MathJax into the site, so equations "
                         "render offline): pip install -c constraints.txt -e '.[dev]' or pip install sphinx-mathjax-offline")
    nbs, out = Path(nbs).resolve(), Path(out).resolve()
    cfg = settings()
    paths = find_notebooks(nbs)
    rels = [p.relative_to(nbs) for p in paths]
    if Path("index.ipynb") not in rels: raise SystemExit(f"{nbs}/index.ipynb is missing: it is the home page")
    nb_pages = {r.as_posix(): page_name(r) for r in rels}
    clash = {v for v in nb_pages.values() if list(nb_pages.values()).count(v) > 1}
    if clash: raise SystemExit(f"two notebooks map to the same page {sorted(clash)}: rename one of them")
    warnings: list[str] = []
    errors: list[str] = []  # problems that fail the build once the site is written
    cwd = os.getcwd(); os.chdir(ROOT)  # nbdev reads settings.ini from the working directory
    try: pages = [convert(p, nbs, cfg, nb_pages, warnings, errors) for p in paths]
    finally: os.chdir(cwd)
    resolve_doc_links(pages)
    tag = "docs_src" if out == (ROOT / "_docs") else f"docs_src_{abs(hash(str(out))) % 10**8}"
    src = ROOT / "build" / tag
    write_sources(pages, src, nbs)
    t1 = time.time()
    rc, sphinx_warns = sphinx_build(src, out, ROOT / "build" / (tag + "_doctrees"), strict)
    warnings += sphinx_warns
    secs = time.time() - t0
    if not quiet:
        for w in warnings: print("warning:", w)
        print(f"built {len(pages)} pages from {nbs.relative_to(ROOT) if nbs.is_relative_to(ROOT) else nbs} into "
              f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} in {secs:.1f} s "
              f"(notebooks {t1 - t0:.1f} s, sphinx {secs - (t1 - t0):.1f} s; "
              f"{len(warnings)} warning(s)); open {out / 'index.html'}")
    for e in errors: print("ERROR:", e)
    if rc: raise SystemExit(f"sphinx-build failed (exit {rc})")
    return {"pages": [p["page"] for p in pages], "notebooks": [str(p["rel"]) for p in pages],
            "warnings": warnings, "errors": errors, "seconds": secs, "out": out}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nbs", default=str(ROOT / "nbs"), help="folder of notebooks (default: nbs/)")
    ap.add_argument("--out", default=str(ROOT / "_docs"), help="output folder (default: _docs/)")
    ap.add_argument("--strict", action="store_true", help="fail on any warning")
    a = ap.parse_args(argv)
    res = build(Path(a.nbs), Path(a.out), strict=a.strict)
    return 1 if res["errors"] or (a.strict and res["warnings"]) else 0


if __name__ == "__main__":
    sys.exit(main())
