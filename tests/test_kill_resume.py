"""Crash safety through the command line:

- a NaN/Inf loss stops the run with a message naming the step and the loss term, and the last good checkpoint
  stays loadable and finite.

Kills at every write boundary, SIGTERM/SIGINT and bit-identical resumption are tested in
`tests/test_write_boundaries.py` (every durable write of a run) and `tests/test_resume.py` (a SIGKILL mid-epoch).
"""
import json, os, re, signal, subprocess, sys, time
from pathlib import Path

import torch

from mcr_nb.core import load_checkpoint

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
# MCR on the competition dataset, small: 2 epochs of 31 steps, a checkpoint after every step.
RUN = ['--config', 'synthetic-competition', '--method', 'mcr', '--seed', '3', '--set', 'train.epochs=2',
       'data.batch_size=256', 'model.hidden=32', 'model.latent=16', 'train.device=cpu', 'train.progress=none',
       'train.warmup_steps=4', 'train.T_0=8', 'train.checkpoint_every_steps=1', 'train.log_every=5', 'method_params.n_perms=4']
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
from mcr_nb.learner import VOLATILE_KEYS
TIMING = ('seconds',) + VOLATILE_KEYS  # wall-clock fields (summary's seconds; time and throughput per epoch): the only numbers allowed to differ between runs


def mcr_train(*args, check=0, timeout=180):
    exe = BIN / 'mcr_train'
    assert exe.exists(), f"console script {exe} is not installed; run `pip install -e .`"
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=timeout)
    assert r.returncode == check, f"mcr_train exited {r.returncode} (expected {check})\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
    return r


def without_timing(d: dict) -> dict: return {k: v for k, v in d.items() if k not in TIMING}

def summary(d: Path) -> dict: return without_timing(json.loads((d / 'summary.json').read_text()))

def history(d: Path) -> list:
    "metrics.jsonl without wall-clock fields: every logged loss, metric and learning rate."
    return [without_timing(json.loads(l)) for l in (d / 'metrics.jsonl').read_text().splitlines() if l.strip()]

def assert_same_tensors(a, b, where=''):
    "Recursively compare two checkpoint parts: tensors bit for bit, everything else by equality."
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), f"tensors differ at {where}"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"keys differ at {where}: {sorted(a)} vs {sorted(b)}"
        for k in a: assert_same_tensors(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"lengths differ at {where}"
        for i, (x, y) in enumerate(zip(a, b)): assert_same_tensors(x, y, f"{where}[{i}]")
    else: assert a == b, f"values differ at {where}: {a!r} vs {b!r}"

def assert_same_run(a: Path, b: Path):
    assert summary(a) == summary(b)
    assert history(a) == history(b)
    ca, cb = load_checkpoint(a / 'last.pt'), load_checkpoint(b / 'last.pt')
    for part in ('model', 'opt', 'method_module', 'counters'): assert_same_tensors(ca[part], cb[part], part)


def test_nan_loss_stops_naming_step_and_term(tmp_path):
    out = tmp_path / 'nan'
    r = mcr_train('--config', 'synthetic-competition', '--method', 'joint', '--set', 'train.lr=1e30', 'train.epochs=1',
                  'train.schedule=constant', 'data.batch_size=256', 'model.hidden=16', 'model.latent=8', 'train.device=cpu',
                  'train.progress=none', 'train.checkpoint_every_steps=1', '--out', out, check=1)
    m = re.search(r"non-finite loss at step (\d+) .*term\(s\) '(\w+)' = (nan|inf|-inf)", r.stderr)
    assert m, r.stderr
    assert f"the last good checkpoint is {out / 'last.pt'}" in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr
    ck = load_checkpoint(out / 'last.pt')  # intact and loadable
    assert ck['counters']['step'] <= int(m.group(1))
    assert all(bool(torch.isfinite(v).all()) for v in ck['model'].values() if v.is_floating_point())
    assert not (out / 'summary.json').exists()
