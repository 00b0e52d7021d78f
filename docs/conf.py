# Sphinx configuration of the mcr-nb documentation site. `tools/build_docs.py` (`make docs`) writes the page
# sources (processed notebooks) to build/docs_src/ and runs Sphinx with this folder as its configuration folder.
# Everything here works offline: stored notebook outputs only, MathJax shipped in _static/, no CDN.
import configparser, os
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
