"""The audio-visual digits end to end: `mcr_prep avdigits` (deterministic, splits, metadata) and a tiny `mcr_train`.

These need eSpeak NG (`espeak-ng` on PATH). Without it they are skipped with the install command, except in CI
(CI=true), where a missing eSpeak NG is a failure. The check that a full `mcr_train --config avdigits` run
reproduces the stored seed-0 MCR row is marked `slow` (MCR_SLOW_TESTS=1 runs it; about a minute on 2 cores)."""
import csv, hashlib, json, os, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def require_espeak():
    from mcr_nb.data.avdigits import ESPEAK_INSTALL
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI") == "true": pytest.fail(ESPEAK_INSTALL + " -- required in CI (CI=true)")
        pytest.skip(ESPEAK_INSTALL)


def run(*args, env=None):
    r = subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env or {})}, timeout=600)
    return r


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file(): h.update(p.relative_to(folder).as_posix().encode()); h.update(p.read_bytes())
    return h.hexdigest()


def test_prep_is_deterministic_with_disjoint_splits(tmp_path):
    require_espeak()
    from mcr_nb.data.avdigits import espeak_version, METADATA_COLUMNS, split_speakers, SPEAKERS
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        r = run("mcr_prep", "avdigits", "--out", str(out), "--n-images", "60", "--pairs-per-image", "1", "--seed", "3")
        assert r.returncode == 0, r.stderr
        assert "wrote" in r.stdout and espeak_version() in r.stdout
    assert digest(outs[0]) == digest(outs[1]), "same settings and seed must give identical files"
    other = tmp_path / "c"
    assert run("mcr_prep", "avdigits", "--out", str(other), "--n-images", "60", "--pairs-per-image", "1", "--seed", "4").returncode == 0
    assert digest(other) != digest(outs[0])
    with open(outs[0] / "metadata.csv", newline="") as f: rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(METADATA_COLUMNS)
    assert {r["espeak_ng"] for r in rows} == {espeak_version()}
    assert espeak_version() in (outs[0] / "README.md").read_text()
    images = {s: {r["image"] for r in rows if r["split"] == s} for s in ("train", "val", "test")}
    assert not images["train"] & images["test"] and not images["train"] & images["val"] and not images["val"] & images["test"]
    speakers = {s: {r["voice"].split("+")[1] for r in rows if r["split"] == s} for s in ("train", "val", "test")}
    assert not speakers["train"] & speakers["test"], "test voices must be unseen in training"
    assert speakers["test"] <= set(split_speakers(SPEAKERS, (0.6, 0.2, 0.2), 3)["test"])
    for r in rows[:5]:
        assert (outs[0] / "images" / f"{r['image']}.png").is_file() and (outs[0] / "audio" / f"{r['id']}.wav").is_file()


def test_tiny_train_prepares_in_place(tmp_path):
    "CI's tiny benchmark: a few hundred pairs, one epoch, data prepared in an empty data.root on first use."
    require_espeak()
    root, out = tmp_path / "data", tmp_path / "run"
    root.mkdir()  # empty: prepared in place
    r = run("mcr_train", "--config", "avdigits-tiny", "--method", "mcr", "--seed", "0", "--out", str(out),
            "--set", f"data.root={root}", "train.progress=none")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (root / "metadata.csv").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 <= summary["test_acc"] <= 1.0
    r2 = run("mcr_train", "--config", "avdigits-tiny", "--method", "joint", "--seed", "0", "--out", str(tmp_path / "run2"),
             "--set", f"data.root={root}", "data.options.snr=3.0", "train.progress=none")
    assert r2.returncode == 2 and "snr=" in r2.stderr, r2.stderr[-2000:]


@pytest.mark.skipif(os.environ.get("MCR_SLOW_TESTS") != "1", reason="slow: set MCR_SLOW_TESTS=1")
def test_mcr_seed0_reproduces_stored_row(tmp_path):
    require_espeak()
    stored = ROOT / "nbs" / "tutorials" / "results" / "avdigits_runs.csv"
    with open(stored, newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["method"] == "mcr" and r["seed"] == "0" and r["variant"] == "base")
    # a reader's plain command, with the machine's default threads: the config's train.threads=1 makes it reproduce
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    r = subprocess.run([str(BIN / "mcr_train"), "--config", "avdigits", "--method", "mcr", "--seed", "0",
                        "--out", str(tmp_path / "run"), "--set", "train.progress=none"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "threads: 1" in (tmp_path / "run" / "config.yaml").read_text()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["test_acc"] == pytest.approx(float(row["test_acc"]), abs=1e-6)
