"""Generate README.md from nbs/index.ipynb without Quarto.

Hidden cells (`#| hide`, `#| include: false`) are dropped, nbdev directives are stripped, markdown cells are
copied (relative links to notebooks become `nbs/...` paths), code cells become fenced python blocks followed by their text outputs (`#| echo: false` shows only
the output). Usage: `python tools/make_readme.py [--check]` (`--check` exits 1 if README.md is stale).
"""
import json, sys, re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = "<!-- Generated from nbs/index.ipynb by `make readme` (tools/make_readme.py). Do not edit by hand. -->\n\n"


def directives(src: str) -> dict:
    "The nbdev `#| key: value` directives of a code cell."
    out = {}
    for line in src.splitlines():
        m = re.match(r"^#\|\s*([\w-]+)\s*:?\s*(.*)$", line.strip())
        if m: out[m.group(1)] = m.group(2).strip() or True
    return out


def strip_directives(src: str) -> str:
    return "\n".join(l for l in src.splitlines() if not l.strip().startswith("#|")).strip()


def text_outputs(cell: dict) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stdout": parts.append("".join(o["text"]))
        elif o.get("output_type") in ("execute_result", "display_data"):
            d = o.get("data", {})
            if "text/markdown" in d: parts.append("".join(d["text/markdown"]))
            elif "text/plain" in d and "image/png" not in d: parts.append("".join(d["text/plain"]))
    return "".join(parts).rstrip()


def nb_links(md: str) -> str:
    "Relative links to notebooks (`tutorials/x.ipynb`), written for the site, as paths from the repository root (`nbs/...`)."
    return re.sub(r"\]\((?![a-zA-Z][\w+.-]*:|/|#)([^)\s]+\.ipynb(?:#[^)\s]*)?)\)", lambda m: f"](nbs/{m.group(1)})", md)


def render(nb: dict) -> str:
    out = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            out.append(nb_links(src.strip()))
            continue
        if cell["cell_type"] != "code": continue
        d = directives(src)
        if d.get("hide") or str(d.get("include", "")).lower() == "false" or d.get("export") or d.get("exporti"): continue
        code = strip_directives(src)
        if code and str(d.get("echo", "")).lower() != "false": out.append(f"```python\n{code}\n```")
        txt = text_outputs(cell)
        if txt: out.append(txt if txt.lstrip().startswith(("|", "<")) else f"    " + txt.replace("\n", "\n    "))
    return HEADER + "\n\n".join(p for p in out if p) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text(encoding="utf-8"))
    text = render(nb)
    readme = ROOT / "README.md"
    if "--check" in argv:
        if not readme.exists() or readme.read_text(encoding="utf-8") != text:
            print("README.md is stale: it differs from what nbs/index.ipynb generates. Run `make readme`.")
            return 1
        return 0
    readme.write_text(text, encoding="utf-8")
    print(f"wrote {readme.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
