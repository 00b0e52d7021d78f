# Sphinx configuration of the mcr-nb documentation site. `tools/build_docs.py` (`make docs`) writes the page
# sources (processed notebooks) to build/docs_src/ and runs Sphinx with this folder as its configuration folder.
# Everything here works offline: stored notebook outputs only, MathJax shipped in _static/, no CDN.
import configparser, os, re
from pathlib import Path

ROOT = Path(os.environ.get("MCR_DOCS_ROOT", Path(__file__).resolve().parent.parent))
_cp = configparser.ConfigParser()
_cp.read(ROOT / "settings.ini", encoding="utf-8")
ini = _cp["DEFAULT"]

project = ini.get("title", "mcr-nb")
author = ini.get("author", "")
copyright = ini.get("copyright", "")
release = version = ini.get("version", "")

extensions = ["myst_nb", "sphinx-mathjax-offline"]  # the second ships MathJax 3 into _static/mathjax
source_suffix = {".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"

# myst-nb: render the outputs stored in the notebooks, never execute.
nb_execution_mode = "off"
nb_render_markdown_format = "myst"  # show_doc entries and markdown outputs may carry $math$
nb_merge_streams = True
nb_code_prompt_show = "Show code {type}"
nb_code_prompt_hide = "Hide code {type}"
nb_ipywidgets_js = {}  # widgets are replaced by static outputs at build time; load no widget JS from a CDN
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
myst_enable_extensions = ["dollarmath", "amsmath", "attrs_block", "attrs_inline", "colon_fence", "deflist"]
myst_all_links_external = True  # build_docs.py already made every link a relative link to a built page
myst_dmath_double_inline = True
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = project
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["mcr.css"]
html_js_files = ["mcr-search-math.js"]
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": ini.get("git_url", ""),
    "repository_branch": ini.get("branch", "main"),
    "path_to_docs": ini.get("nbs_path", "nbs"),
    "use_repository_button": bool(ini.get("git_url")),
    "use_source_button": False,   # page sources are processed copies: each page links its notebook itself
    "use_download_button": False,
    "use_fullscreen_button": False,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}
html_context = {"default_mode": "light"}


# Slider explorers (`mcr_nb.explorer`): pages that contain one load Plotly's JavaScript from the site itself. The file
# ships inside the `plotly` package (a dev dependency) and is copied into _static/ when the build finishes.
PLOTLY_JS = "_static/plotly.min.js"


def _plotly_source() -> Path:
    import plotly
    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not src.is_file(): raise FileNotFoundError(f"{src} is missing: reinstall plotly (pip install -e '.[dev]')")
    return src


def _explorer_pages(app, pagename, templatename, context, doctree):
    "Add plotly.min.js to the scripts of a page that holds a slider explorer (and only there: it is 4.8 MB)."
    if "mcr-explorer" not in (context.get("body") or ""): return
    from sphinx.builders.html._assets import _JavaScript
    context["script_files"] = list(context.get("script_files", [])) + [_JavaScript(PLOTLY_JS)]


def _copy_plotly(app, exception):
    if exception is None and app.builder.format == "html":
        import shutil
        dest = Path(app.outdir) / PLOTLY_JS
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_plotly_source(), dest)


def setup(app):
    _plotly_source()  # fail early, with the fix, if plotly is missing
    app.connect("html-page-context", _explorer_pages)
    app.connect("build-finished", _copy_plotly)


# Search: the maths names. Sphinx indexes the TeX of `$L_{MIPD}$` as the words `L_` and `MIPD`, so a search for
# `L_MIPD` (as the prose and the code spell it) missed every page that writes it as maths. Index each subscripted
# name of a maths node also as one word: `L_{MIPD}` -> `L_MIPD`, `\lambda_M` -> `lambda_M`.
_TEX_WRAP = re.compile(r"\\(?:text|mathrm|mathit|mathcal|operatorname)\{([^{}]*)\}")
_TEX_SUB = re.compile(r"([A-Za-z]+)_\{?([A-Za-z0-9]+)")


def math_words(tex: str) -> list:
    "The subscripted names in a TeX string, written as the prose writes them."
    plain = _TEX_WRAP.sub(r"\1", tex).replace("\\", " ")
    return [f"{a}_{b}" for a, b in _TEX_SUB.findall(plain)]


def _index_math_names():
    "Wrap the search indexer's node visitor (Sphinx >= 8: `_feed_visit_nodes`; older: `WordCollector`)."
    from docutils import nodes
    import sphinx.search as search
    is_math = lambda node: isinstance(node, (nodes.math, nodes.math_block))
    if hasattr(search, "_feed_visit_nodes"):
        feed = search._feed_visit_nodes
        if getattr(feed, "_mcr_math", False): return

        def feed_visit_nodes(node, *, word_store, **kw):
            if is_math(node): word_store.words.extend(math_words(node.astext()))
            return feed(node, word_store=word_store, **kw)
        feed_visit_nodes._mcr_math = True
        search._feed_visit_nodes = feed_visit_nodes
    else:
        collector = search.WordCollector
        if getattr(collector, "_mcr_math", False): return
        visit = collector.dispatch_visit

        def dispatch_visit(self, node):
            if is_math(node): self.found_words.extend(math_words(node.astext()))
            return visit(self, node)
        collector.dispatch_visit, collector._mcr_math = dispatch_visit, True


_index_math_names()
