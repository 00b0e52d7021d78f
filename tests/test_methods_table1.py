"""The five remaining Table-1 methods (MSLR, MMCosine, MMPareto, ReconBoost, D&R) through the CLI and `fit_run`:
listed by `mcr_train --list`, trained on `synthetic-competition` and on Table-1 configs over fixture files,
refusing what they do not support, and resuming bit-identically after a crash."""
import json

import pytest
import torch

import mcr_nb.benchmarks  # registers the Table-1 configs, dataset prefixes and model kinds
from mcr_nb.cli import mcr_train
from mcr_nb.config import RunConfig, DataConfig, ModelConfig, TrainConfig, apply_overrides
from mcr_nb.data.cremad import write_cremad_fixture
from mcr_nb.data.mosi import write_affect_fixture
from mcr_nb.learner import Callback, TensorMultimodalDataset, fit_run, register_dataset

NEW = ['mslr', 'mmcosine', 'mmpareto', 'reconboost', 'dnr']
# settings that make each method act within a two- or three-epoch run
ACT = {'mslr': ['method_params.window=1'], 'dnr': ['method_params.every=1'], 'reconboost': [], 'mmcosine': [], 'mmpareto': []}
QUIET = ['train.progress=none', 'train.warmup_steps=0']


def test_list_has_the_new_methods(capsys):
    assert mcr_train(['--list']) == 0
    lines = capsys.readouterr().out.splitlines()
    for m in NEW: assert f'  {m}' in lines, f"'  {m}' not in mcr_train --list"


@pytest.mark.parametrize('method', NEW)
def test_cli_synthetic_competition(method, tmp_path, capsys):
    torch.set_num_threads(1)
    out = tmp_path / 'run'
    rc = mcr_train(['--config', 'synthetic-competition', '--method', method, '--out', str(out), '--set', 'train.epochs=3',
                    'model.hidden=32', 'model.latent=16', *QUIET, *ACT[method]])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    s = json.loads((out / 'summary.json').read_text())
    assert s['method'] == method and s['epochs'] == 3
    assert 0 <= s['test_acc'] <= 1 and (out / 'last.pt').is_file()


AV_TINY = ['data.options.image_size=32', 'model.options.widths=[8,8,8,8]', 'model.latent=8']
FIXTURE_RUNS = [('cremad-resnet', m) for m in NEW] + [('mosi-vt', 'mmpareto'), ('mosi-vat', 'mmpareto')]


@pytest.mark.parametrize('config,method', FIXTURE_RUNS)
def test_table1_config_over_fixtures(config, method, tmp_path, capsys):
    torch.set_num_threads(1)
    if config.startswith('cremad'): root, tiny = write_cremad_fixture(tmp_path / 'CREMA-D'), AV_TINY
    else: root, tiny = write_affect_fixture(tmp_path / 'MOSI', 'mosi'), ['model.options.n_layers=1']
    out = tmp_path / 'run'
    rc = mcr_train(['--config', config, '--method', method, '--fold', '0', '--out', str(out), '--set', f'data.root={root}',
                    'data.batch_size=4', 'data.eval_batch_size=4', 'train.epochs=2', 'train.max_steps=3', *QUIET, *tiny, *ACT[method],
                    'method_params.pretrained=false' if method != 'dnr' else 'method_params.every=1'])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    s = json.loads((out / 'summary.json').read_text())
    assert s['method'] == method and s['steps'] == 3


@pytest.mark.parametrize('method', ['mslr', 'mmcosine', 'reconboost', 'dnr'])
def test_regression_is_refused(method, tmp_path, capsys):
    root = write_affect_fixture(tmp_path / 'MOSI', 'mosi')
    rc = mcr_train(['--config', 'mosi-vt', '--method', method, '--out', str(tmp_path / 'run'), '--set', f'data.root={root}',
                    'model.options.n_layers=1', *QUIET])
    assert rc != 0
    assert 'classification only' in capsys.readouterr().err


def _toy(n, seed, n_classes=3, d=6, M=2):
    means = torch.randn(n_classes, M, d, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, n_classes, (n,), generator=g)
    return TensorMultimodalDataset({m: means[y, i] + (1 + i) * torch.randn(n, d, generator=g) for i, m in enumerate('abc'[:M])}, y, n_classes)


TOY = {'train': _toy(160, 0), 'val': _toy(64, 1), 'test': _toy(64, 2)}
TOY3 = {'train': _toy(160, 0, M=3), 'val': _toy(64, 1, M=3), 'test': _toy(64, 2, M=3)}
register_dataset('mt1toy', lambda cfg, name, split, fold: (TOY3 if name == 'three' else TOY)[split])


class Crash(Exception): pass


class CrashAt(Callback):
    "Raise after optimiser step `step` (a checkpoint was written at a multiple of checkpoint_every_steps before it)."
    def __init__(self, step): self.at = step
    def after_step(self):
        if self.learn.step == self.at: raise Crash()


def _cfg(method, name='two'):
    base = RunConfig(name='mt1', data=DataConfig(name=f'mt1toy:{name}', batch_size=16), model=ModelConfig(hidden=16, latent=8),
                     train=TrainConfig(epochs=4, lr=3e-3, warmup_steps=0, checkpoint_every_steps=4, progress='none'), seed=3)
    return apply_overrides(base, [f'method={method}', *ACT[method]])


@pytest.mark.parametrize('method', NEW)
def test_exact_resume_after_crash(method, tmp_path):
    torch.set_num_threads(1)
    ref = fit_run(_cfg(method), tmp_path / 'ref')
    with pytest.raises(Crash): fit_run(_cfg(method), tmp_path / 'crash', cbs=[CrashAt(27)])   # epoch 2 of 4, mid-epoch (10 steps/epoch)
    res = fit_run(None, tmp_path / 'crash', resume=True)
    for k in ('test_acc', 'test_loss', 'val_loss'): assert res[k] == ref[k], (k, res[k], ref[k])
    a = torch.load(tmp_path / 'ref' / 'last.pt', weights_only=True)
    b = torch.load(tmp_path / 'crash' / 'last.pt', weights_only=True)
    for k, v in a['model'].items(): assert torch.equal(v, b['model'][k]), k
    assert json.dumps(a['method_state'], default=str) == json.dumps(b['method_state'], default=str)


@pytest.mark.parametrize('method', ['mslr', 'mmcosine', 'mmpareto', 'reconboost', 'dnr'])
def test_three_modalities(method, tmp_path):
    torch.set_num_threads(1)
    s = fit_run(_cfg(method, 'three'), tmp_path / 'run')
    assert s['epochs'] == 4 and 'test_acc_c' in s


def test_ddp_is_refused(monkeypatch):
    import mcr_nb.methods_table1 as mt
    from mcr_nb.models import MLPModelConfig, build_mlp_model
    monkeypatch.setattr(mt, 'dist_info', lambda: (0, 2))
    model = build_mlp_model(MLPModelConfig(hidden=8, latent=4), {'a': 6, 'b': 6}, 3)
    for cls, P in [(mt.MSLR, mt.MSLRParams), (mt.MMCosine, mt.MMCosineParams), (mt.MMPareto, mt.MMParetoParams), (mt.ReconBoost, mt.ReconBoostParams), (mt.DnR, mt.DnRParams)]:
        with pytest.raises(ValueError, match='does not run under DDP'): cls(P(), model, 3)


def test_table1_configs_resolve_per_method_to_their_table():
    "Every (Table-1 config, method) pair resolves through apply_overrides to the settings of nbs/23_benchmark_configs' table."
    from mcr_nb.benchmarks import METHOD_TABLE, method_settings
    from mcr_nb.config import get_config, method_params
    n = 0
    for name, (_, methods, _) in METHOD_TABLE.items():
        base = get_config(name)
        for m in ('mcr',) + methods:
            cfg = apply_overrides(base, [f'method={m}'])
            mp = method_params(cfg)
            for k, (v, src) in method_settings(name, m).items():
                sec, _, field = k.partition('.')
                got = getattr(getattr(cfg, sec), field) if field else getattr(mp, k)
                assert got == v, (name, m, k, got, v, src)
                n += 1
    assert n > 500


def test_table1_configs_resolve_per_method_spot_checks():
    "Spot checks; nbs/23_benchmark_configs checks every (config, method, setting) against its table."
    from mcr_nb.benchmarks import method_settings
    from mcr_nb.config import get_config, method_params
    cfg = get_config('cremad-resnet')
    for m, lr in [('ogm_ge', 1e-3), ('mcr', 1e-4), ('mmpareto', 1e-4), ('reconboost', 1e-4), ('uni_pre_frozen', 1e-4), ('mslr', 1e-3)]:
        c = apply_overrides(cfg, [f'method={m}'])
        assert c.train.lr == lr == method_settings('cremad-resnet', m)['train.lr'][0], m
    c = apply_overrides(get_config('cremad-conformer'), ['method=reconboost'])
    p = method_params(c)
    assert (c.data.batch_size, p.w1, p.modality_epochs, p.consolidation_grad) == (8, 5.0, 4, False)
    c = apply_overrides(get_config('mosi-vt'), ['method=agm'])
    assert (c.train.monitor, method_params(c).alpha) == ('val_loss', 1.5)


def test_pre_stages_train_with_the_unimodal_settings():
    from mcr_nb.config import get_config
    from mcr_nb.learner import unimodal_stages
    cfg = apply_overrides(get_config('ucf-resnet'), ['method=mcr', 'data.batch_size=4'])
    (name, sub), _ = unimodal_stages(cfg, ['audio', 'video'], None)
    assert name == 'unimodal_audio' and sub.method == 'unimodal' and sub.method_params['modality'] == 'audio'
    assert (sub.train.lr, sub.train.patience, sub.train.epochs) == (1e-3, 100, 1000)   # the authors' unimodal runs
    assert cfg.train.lr == 1e-4 and sub.data.batch_size == 4                          # the run keeps its own; data follows the run


def _accum_run(method, params, k, regression=False, val=True, **train_kw):
    "Final weights of 3 steps (batches of 16) with train.grad_accum_steps=k."
    from mcr_nb.config import method_params_class
    from mcr_nb.learner import Learner, build_model, get_method_class
    torch.manual_seed(0)
    tr, va = _toy(48, 0), _toy(32, 1)
    if regression: tr, va = (TensorMultimodalDataset(d.inputs, d.y.float() - 1, None) for d in (tr, va))
    model = build_model(ModelConfig(hidden=16, latent=8), tr)
    meth = get_method_class(method)(method_params_class(method)(**params), model, tr.n_classes)
    Learner(model, tr, va if val else None, meth, data=DataConfig(batch_size=16),
            train=TrainConfig(epochs=1, lr=1e-2, warmup_steps=0, progress='none', grad_accum_steps=k, **train_kw)).fit()
    return model.state_dict()


@pytest.mark.parametrize('method,params,regression', [('ogm_ge', {'ge': False}, False), ('ogm_ge', {}, False), ('ogm_ge', {}, True),
                                                      ('mlb', {}, False), ('mlb', {}, True), ('mslr', {'lr_scales': [0.5, 2.0]}, False),
                                                      ('mslr', {'lr_scales': [0.5, 2.0], 'mode': 'grad'}, False),
                                                      ('mmcosine', {}, False), ('reconboost', {}, False), ('dnr', {}, False)])
def test_grad_accum_matches_the_whole_batch(method, params, regression):
    "Gradient accumulation takes the whole batch's step: gradient modulation (OGM-GE, MLB) reads the whole batch's statistics."
    torch.set_num_threads(1)
    one, two = _accum_run(method, params, 1, regression), _accum_run(method, params, 2, regression)
    for k, v in one.items(): torch.testing.assert_close(two[k], v, rtol=1e-4, atol=1e-5, msg=lambda m: f"{method} {k}: {m}")


def test_mmpareto_refuses_grad_accum():
    with pytest.raises(ValueError, match=r'mmpareto does not support train.grad_accum_steps > 1 \(got 2\)'): _accum_run('mmpareto', {}, 2)
    _accum_run('mmpareto', {}, 1)


@pytest.mark.parametrize('method', ['mslr', 'dnr'])
def test_validation_split_is_required(method):
    with pytest.raises(ValueError, match=f"{method} needs a validation split"): _accum_run(method, {}, 1, val=False)
