"""The model + loss training step reads no tensor value on the host (the source of host-device syncs on a GPU).

A CPU run cannot see a GPU sync, so the test counts what would cause one: every Python-level read of a tensor's
value (`item`, `bool`, `float`, `int`, indexing with a tensor, `tolist`, `numpy`, formatting). The package takes
its device code paths when `_reads_free` says a read is not free (it says so for every non-CPU tensor); the test
forces those paths on CPU. A control run with the CPU paths (where value checks are free and do run) shows that
the counter sees reads."""
import traceback

import pytest
import torch

import mcr_nb.losses as losses
import mcr_nb.models as models
from mcr_nb.losses import MCRConfig, MCRLoss
from mcr_nb.models import MLPModelConfig, build_mlp_model

READS = ('item', 'tolist', 'numpy', '__array__', '__bool__', '__float__', '__int__', '__index__', '__format__')


@pytest.fixture
def reads(monkeypatch):
    "Record the call site of every host read of a tensor value."
    seen = []
    for name in READS:
        orig = getattr(torch.Tensor, name)
        def wrapper(self, *a, _orig=orig, _name=name, **k):
            site = next((f for f in reversed(traceback.extract_stack()[:-1]) if 'mcr_nb' in f.filename), None)
            seen.append(f"{_name} at {site.filename.split('mcr_nb')[-1]}:{site.lineno}" if site else _name)
            return _orig(self, *a, **k)
        monkeypatch.setattr(torch.Tensor, name, wrapper)
    return seen


def device_paths(monkeypatch):
    "Take the code paths the package takes on a GPU (no value checks where a read would stall the device)."
    for mod in (models, losses): monkeypatch.setattr(mod, '_reads_free', lambda t: False)


def step(n_mod=2, fusion='late_linear', norm='none', task='classification', **cfg):
    torch.manual_seed(0)
    dims = {m: 5 + i for i, m in enumerate(['a', 'v', 't'][:n_mod])}
    n_out = 4 if task == 'classification' else 1
    model = build_mlp_model(MLPModelConfig(hidden=16, latent=8, fusion=fusion, fusion_hidden=16, norm=norm), dims, n_out)
    crit = MCRLoss(MCRConfig(task=task, **cfg), model.latent_dims, n_out)
    x = {m: torch.randn(12, d) for m, d in dims.items()}
    y = torch.randint(0, 4, (12,)) if task == 'classification' else torch.randn(12)
    def run():
        loss, terms = crit(model(x), y, fuse=model.fuse)
        loss.backward()
        return loss
    run()   # warm-up: caches (game tables, offsets) are built once, outside the steady state
    return run


CASES = {'default (greedy, L_Con)': dict(), 'full objective': dict(lambda_b=1.0),
         'independent, literal game': dict(strategy='independent', game='literal'), 'three modalities': dict(n_mod=3, lambda_b=1.0),
         'batch norm': dict(norm='batch'), 'nonlinear fusion': dict(fusion='concat_mlp'),
         'regression': dict(task='regression', lambda_c=0.0), 'zero perturbation': dict(perturbation='zero')}


@pytest.mark.parametrize('case', CASES)
def test_step_reads_nothing_on_device_paths(case, reads, monkeypatch):
    run = step(**CASES[case])
    device_paths(monkeypatch)
    reads.clear()
    run(); run()
    assert reads == [], f"host reads of tensor values in the training step: {reads}"


def test_counter_sees_the_cpu_value_checks(reads):
    run = step()
    reads.clear()
    run()
    assert any('models.py' in r for r in reads) and any('core.py' in r for r in reads), reads
