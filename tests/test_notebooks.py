"""Every notebook in nbs/ as one pytest case, run by nbdev's in-process executor.

Cells flagged with a `tst_flags` flag (`slow gpu data`) are skipped unless named in the environment variable
MCR_TEST_FLAGS (e.g. `MCR_TEST_FLAGS="slow" make test`)."""
import os
from pathlib import Path

import pytest
import nbdev.test as nbtest  # the module, not the name, so pytest does not collect nbdev's test_nb

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / "nbs"
SKIP_FLAGS = "slow gpu data".split()


def notebooks() -> list:
    "Notebooks nbdev would test: no part starting with `_` or `.`, no `.notest` beside them."
    out = []
    for p in sorted(NBS.rglob("*.ipynb")):
        rel = p.relative_to(NBS)
        if any(part.startswith(("_", ".")) for part in rel.parts): continue
        if (p.parent / ".notest").exists(): continue
        out.append(p)
    return out


@pytest.mark.parametrize("nb", notebooks(), ids=lambda p: p.relative_to(NBS).as_posix())
def test_notebook(nb):
    force = os.environ.get("MCR_TEST_FLAGS", "").split()
    ok, secs = nbtest.test_nb(nb, skip_flags=SKIP_FLAGS, force_flags=force, showerr=True, basepath=ROOT)
    assert ok, f"{nb.relative_to(ROOT)} failed (see the traceback above)"
