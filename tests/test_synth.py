"""data_synthetic/ is what `mcr_synth` generates: a regeneration equals the stored arrays (integers exactly, floats
within 1e-6, comparing contents, not archive bytes) and the stored truth belongs to the registered spec."""
import json

import numpy as np
import pytest

from mcr_nb.synthetic import (BitSpec, compare_with_stored, default_root, get_spec, list_synthetic, load_synthetic,
                              mcr_synth, spec_hash)

ROOT = default_root()


@pytest.mark.parametrize("name", list_synthetic())
def test_regeneration_matches_stored(name):
    diffs = compare_with_stored(name, ROOT, atol=1e-6)  # raises on any mismatch
    assert len(diffs) == 15 and max(diffs.values()) <= 1e-6


@pytest.mark.parametrize("name", list_synthetic())
def test_stored_truth_is_current(name):
    truth = json.loads((ROOT / name / "truth.json").read_text())
    spec = get_spec(name)
    assert truth["spec_hash"] == spec_hash(spec), f"{name}: truth.json is stale, run `mcr_synth`"
    assert (ROOT / name / "card.md").is_file()
    if isinstance(spec, BitSpec):  # the latent PID of the bit recipe is the bit counts
        p = truth["latent"]["pid"]
        got = [p["redundancy"], p["unique1"], p["unique2"], p["synergy"]]
        np.testing.assert_allclose(got, [spec.n_redundant, spec.n_unique1, spec.n_unique2, spec.n_synergy], atol=1e-6)
    for k in ("bayes_acc_joint", "bayes_acc_x1", "bayes_acc_x2"):
        assert 1 / truth["n_classes"] - 0.02 <= truth["observed"][k] <= 1


def test_readme_lists_every_dataset():
    text = (ROOT / "README.md").read_text()
    for name in list_synthetic(): assert f"[{name}]({name}/card.md)" in text


def test_load_reads_the_stored_folder():
    ds = load_synthetic("competition", "test")
    assert ds.source == str(ROOT / "competition") and len(ds) == 10000 and ds.n_classes == 16
    x, y = ds[0]
    assert set(x) == {"x1", "x2"} and x["x1"].shape == (32,) and int(y) < 16


def test_cli_help_and_check(capsys):
    with pytest.raises(SystemExit) as e: mcr_synth(["--help"])
    assert e.value.code == 0 and "Generate the synthetic" in capsys.readouterr().out
    assert mcr_synth(["--check", "--out", str(ROOT), "--names", "unique"]) == 0
    assert mcr_synth(["--check", "--names", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mcr_synth: error:") and "unknown synthetic dataset 'nope'" in err[0], err
