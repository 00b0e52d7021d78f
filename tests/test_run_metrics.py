"""The metrics a run reports: the MOSI/MOSEI regression metrics on the MOSI fixture, accuracy and macro-F1 for
classification, MCR from unimodal pre-trained encoders from the command line, and TensorBoard's clear error."""
import json, sys

import pytest
import torch

import mcr_nb.benchmarks  # registers the benchmark configs, dataset prefixes and model kinds
from mcr_nb.cli import mcr_train
from mcr_nb.config import load_config
from mcr_nb.data.mosi import write_affect_fixture
from mcr_nb.learner import build_data, build_model, evaluate_run, TensorBoardCB
from mcr_nb.metrics import regression_metrics, macro_f1

REG_KEYS = ['acc', 'f1', 'acc_with_zero', 'f1_with_zero', 'mae', 'corr', 'acc7', 'acc5']


def test_mosi_run_reports_the_regression_metrics(tmp_path, capsys):
    torch.set_num_threads(1)
    root = write_affect_fixture(tmp_path / 'MOSI', 'mosi')
    out = tmp_path / 'run'
    rc = mcr_train(['--config', 'mosi-vt', '--method', 'mcr', '--out', str(out), '--set', f'data.root={root}', 'data.batch_size=4',
                    'data.eval_batch_size=4', 'train.epochs=2', 'train.max_steps=6', 'train.warmup_steps=0', 'train.progress=none',
                    'method_params.n_perms=2', 'model.options.n_layers=1'])
    printed = capsys.readouterr().out
    assert rc == 0
    summary = json.loads((out / 'summary.json').read_text())
    for k in REG_KEYS:
        assert f'test_{k}' in summary, f"test_{k} missing from the summary"
        assert f'test_{k}: ' in printed, f"mcr_train did not print test_{k}"
    # the reported numbers are those of the best checkpoint's predictions, scored by mcr_nb.metrics
    cfg = load_config(out / 'config.yaml')
    ds = build_data(cfg.data, 'test', cfg.fold)
    model = build_model(cfg.model, ds)
    model.load_state_dict(torch.load(out / 'best.pt', weights_only=False)['model']); model.eval()
    with torch.no_grad():
        xb, y = ds.get_batch(torch.arange(len(ds))) if hasattr(ds, 'get_batch') else next(iter(torch.utils.data.DataLoader(ds, batch_size=len(ds))))
        pred = model(xb).logits.reshape(-1)
    direct = regression_metrics(pred, y)
    for ours, theirs in [('acc', 'acc2_nonzero'), ('f1', 'f1_nonzero'), ('mae', 'mae'), ('corr', 'corr'), ('acc7', 'acc7')]:
        assert summary[f'test_{ours}'] == pytest.approx(direct[theirs], abs=1e-5), ours
    ev = evaluate_run(out, 'test')
    assert ev['test_acc7'] == pytest.approx(summary['test_acc7'], abs=1e-9)


def test_classification_run_reports_macro_f1_per_head(tmp_path, capsys):
    out = tmp_path / 'run'
    rc = mcr_train(['--config', 'synthetic-competition', '--method', 'multiloss', '--out', str(out), '--set', 'train.epochs=1',
                    'train.max_steps=20', 'train.progress=none'])
    printed = capsys.readouterr().out
    assert rc == 0
    s = json.loads((out / 'summary.json').read_text())
    for k in ('test_acc', 'test_f1', 'test_acc_x1', 'test_f1_x1', 'test_acc_x2', 'test_f1_x2'):
        assert k in s and f'{k}: ' in printed, k
    assert 0 < s['test_f1'] <= 1


def test_mcr_pretrained_from_the_cli(tmp_path, capsys):
    out = tmp_path / 'pre'
    rc = mcr_train(['--config', 'synthetic-competition', '--method', 'mcr', '--out', str(out), '--set', 'method_params.pretrained=true',
                    'method_params.pretrain_epochs=1', 'train.epochs=1', 'train.max_steps=5', 'train.progress=none'])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in (out / 'stages').iterdir()) == ['unimodal_x1', 'unimodal_x2']
    # existing checkpoints instead of stages
    out2 = tmp_path / 'pre2'
    ck = '{x1: %s, x2: %s}' % (out / 'stages' / 'unimodal_x1', out / 'stages' / 'unimodal_x2' / 'best.pt')
    rc = mcr_train(['--config', 'synthetic-competition', '--method', 'mcr', '--out', str(out2), '--set', 'method_params.pretrained=true',
                    f'method_params.unimodal_ckpts={ck}', 'train.epochs=0', 'train.progress=none'])
    assert rc == 0, capsys.readouterr().err
    assert not (out2 / 'stages').exists()
    a, b = torch.load(out2 / 'best.pt', weights_only=False)['model'], torch.load(out / 'stages' / 'unimodal_x2' / 'best.pt', weights_only=False)['model']
    assert all(torch.equal(v, b[k]) for k, v in a.items() if k.startswith(('encoders.x2.', 'heads.x2.')))
    rc = mcr_train(['--config', 'synthetic-competition', '--method', 'mcr', '--out', str(tmp_path / 'bad'), '--set',
                    f'method_params.unimodal_ckpts={ck}'])
    assert rc == 2 and 'pretrained is false' in capsys.readouterr().err


def test_tensorboard_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)  # as if tensorboard were not installed
    with pytest.raises(ImportError, match='pip install tensorboard'): TensorBoardCB(tmp_path)
