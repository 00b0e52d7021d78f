"""`mcr_diagnose` on data with known competition (`synthetic-competition`: x2's encoder learns less under joint
training) and without (`unique` with a 10,000-sample test split: each modality holds a label bit the other lacks).

The default run checks reduced versions (2 seeds, about 40 s of CPU in all): competition is found where it is
(10 epochs: x2 learns slowly, so after 3 or 5 epochs even its unimodal model has learned little and the check says
inconclusive), and not claimed where it is not (3 epochs). The full checks (the command's defaults: 5 seeds x 10 epochs, each about
1.5 to 2 minutes on 2 cores) need MCR_SLOW_TESTS=1. Training is deterministic per seed, so the verdicts do not
depend on the machine's speed (the budget is set high enough never to cut seeds)."""
import json
import os

import pytest

from mcr_nb.diagnose import mcr_diagnose
from mcr_nb.owndata import synthetic_npz

SLOW = pytest.mark.skipif(os.environ.get("MCR_SLOW_TESTS") != "1", reason="slow: set MCR_SLOW_TESTS=1")


def _run(tmp_path, capsys, *args):
    rc = mcr_diagnose([*args, '--out', str(tmp_path / 'runs'), '--budget', '100000'])
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads((tmp_path / 'runs' / 'diagnosis.json').read_text()), out


@pytest.fixture(scope='module')
def unique_large(tmp_path_factory):
    return synthetic_npz('unique', tmp_path_factory.mktemp('data') / 'unique_large.npz', ('left', 'right'),
                         n_train=8000, n_val=2000, n_test=10000)


def test_competition_present_reduced(tmp_path, capsys):
    d, out = _run(tmp_path, capsys, '--config', 'synthetic-competition', '--seeds', '2', '--jobs', '1')
    assert d['verdict'] == 'present' and d['modality'] == 'x2', out
    assert 'verdict: competition present: joint training under-uses x2' in out
    assert '| x1 |' in out and '| x2 |' in out


def test_no_competition_not_claimed_reduced(tmp_path, capsys):
    small = synthetic_npz('unique', tmp_path / 'unique_small.npz', ('left', 'right'), n_test=10000)  # 2000 training samples
    d, out = _run(tmp_path, capsys, '--data', str(small), '--seeds', '2', '--epochs', '3', '--jobs', '1')
    assert d['verdict'] in ('absent', 'inconclusive'), out
    assert d['modalities'] == ['left', 'right'] and '| left |' in out


@SLOW
def test_competition_present_full(tmp_path, capsys):
    d, out = _run(tmp_path, capsys, '--config', 'synthetic-competition')
    assert d['verdict'] == 'present' and d['modality'] == 'x2' and len(d['seeds']) == 5, out


@SLOW
def test_competition_absent_full(tmp_path, capsys, unique_large):
    d, out = _run(tmp_path, capsys, '--data', str(unique_large))
    assert d['verdict'] == 'absent' and len(d['seeds']) == 5, out
    assert 'verdict: competition absent' in out


def test_usage_errors(tmp_path, capsys):
    assert mcr_diagnose(['--out', str(tmp_path)]) == 2
    assert 'needs --data FILE' in capsys.readouterr().err
    assert mcr_diagnose(['--config', 'synthetic-competition', '--seeds', '1', '--out', str(tmp_path)]) == 2
    assert 'seeds must be >= 2' in capsys.readouterr().err
    assert mcr_diagnose(['--data', str(tmp_path / 'none.npz')]) == 2
    assert 'no such file or folder' in capsys.readouterr().err
