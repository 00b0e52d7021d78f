"""The learner's training step reads no tensor value on the host (each read would be a host-device sync on a GPU),
for every registered method.

`tests/test_step_syncs.py` checks the model and loss; this file checks the whole step of `Learner` as a run takes it:
moving the batch, forward, the method's loss, the NaN guard, the running training metrics, backward, the method's
callbacks (gradient modulation, clipping, Pareto combination, ...), the schedule and the optimiser step. A CPU run cannot
see a GPU sync, so every Python-level read of a tensor value (`item`, `bool`, `float`, `int`, `tolist`, ...) is counted,
between the end of one step and the end of a later one, in steps that neither log nor checkpoint (those read values on
purpose, every `train.log_every` steps). The models and losses take their device code paths (`_reads_free` says no read
is free). A control run shows that the counter sees the guard's read at a logging step.
On a machine with a GPU the same cases also run on CUDA under `torch.cuda.set_sync_debug_mode('error')`, where
every synchronisation raises, not only the reads the CPU counter can see (`scripts/gpu_check.sh` runs them).

The methods come from the registry the CLI lists (`list_methods`), each with its default parameters (`method_params_class`)
plus the few tiny settings in `TINY`, so a newly registered method is covered without editing this file. Epoch boundaries
may read values (validation, MSLR's accuracy history, D&R's diagnosis at the start of an epoch, epoch means): the windows
lie inside an epoch (steps 2..5 of a 6-step epoch, or the same steps of a later epoch), so they exclude them. Methods
trained from earlier stages (Uni-Pre) get their stage checkpoints from a fixture (untrained unimodal models: the step's
reads do not depend on the weights); a method with no training epochs of its own (Ensemble) has no step to check: its
stages' methods are registered methods and are checked by their own cases."""
import traceback

import pytest
import torch

import mcr_nb.losses as losses
import mcr_nb.models as models
from mcr_nb.config import DataConfig, ModelConfig, TrainConfig, RunConfig, method_params_class
from mcr_nb.learner import Learner, Callback, TensorMultimodalDataset, build_model, get_method_class, list_methods

READS = ('item', 'tolist', 'numpy', '__array__', '__bool__', '__float__', '__int__', '__index__', '__format__')
STEPS = 6  # training steps per epoch (96 samples, batches of 16)

# the few settings a method's defaults need for a tiny run (every other parameter keeps its default)
TINY = {'unimodal': {'modality': 'a'}, 'mcr': {'n_perms': 2, 'lambda_b': 1.0}}
# further cases: (method, parameters, Learner/TrainConfig settings, epochs, regression, window epoch)
EXTRA = [('joint', {}, {'clip_grad': 1.0, 'grad_accum_steps': 2}, 1, False, 0),
         ('mcr', {}, {'clip_grad': 1.0}, 1, False, 0),
         ('agm', {}, {'grad_accum_steps': 2}, 1, False, 0),
         ('ogm_ge', {}, {'grad_accum_steps': 2}, 1, False, 0), ('mlb', {}, {'grad_accum_steps': 2}, 1, False, 0),  # whole-batch statistics
         ('agm', {}, {}, 2, False, 1),                      # the running score mean of earlier steps in use
         ('agm', {}, {}, 1, True, 0), ('mlb', {}, {}, 1, True, 0), ('ogm_ge', {}, {}, 1, True, 0),  # regression branches
         ('ogm_ge', {'ge': False}, {}, 1, False, 0),
         ('mslr', {'lr_scales': [0.5, 2.0]}, {}, 1, False, 0),            # factors != 1: the 'lr' mode's update rescaling
         ('mslr', {'lr_scales': [0.5, 2.0], 'mode': 'grad'}, {}, 1, False, 0),
         ('mmpareto', {'rescale': False}, {}, 1, False, 0),
         ('reconboost', {}, {}, 3, False, 1),               # the ensemble stage
         ('reconboost', {}, {}, 3, False, 2),               # the second modality stage (with the consolidation term)
         ('dnr', {'every': 1}, {}, 2, False, 1)]            # after a diagnosis and re-initialisation (with validation)
NEEDS_VAL = ('mslr', 'dnr')  # methods that read the validation split (and refuse a run without one)


class Window(Callback):
    "Record host reads made by the package from the end of step `start` to the end of step `stop`."
    order = 10_000
    def __init__(self, start, stop, seen): self.start, self.stop, self.seen, self.on, self.opened = start, stop, seen, False, False
    def after_batch(self):
        s = self.learn.step
        if s == self.start: self.seen.clear(); self.on = self.opened = True
        if s == self.stop: self.on = False


@pytest.fixture
def reads(monkeypatch):
    seen, state = [], {'window': None}
    for name in READS:
        orig = getattr(torch.Tensor, name)
        def wrapper(self, *a, _orig=orig, _name=name, **k):
            w = state['window']
            if w is not None and w.on:
                site = next((f for f in reversed(traceback.extract_stack()[:-1]) if 'mcr_nb' in f.filename), None)
                if site is not None: seen.append(f"{_name} at {site.filename.split('mcr_nb')[-1]}:{site.lineno} ({site.line})")
            return _orig(self, *a, **k)
        monkeypatch.setattr(torch.Tensor, name, wrapper)
    for mod in (models, losses): monkeypatch.setattr(mod, '_reads_free', lambda t: False)
    return seen, state


def toy(n=96, d=6, n_classes=4, seed=0, regression=False):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, n_classes, (n,), generator=g)
    x = {'a': torch.randn(n, d, generator=g) + y[:, None], 'b': torch.randn(n, d + 1, generator=g)}
    if regression: return TensorMultimodalDataset(x, y.float() - 1.5, None)
    return TensorMultimodalDataset(x, y, n_classes)


def stage_dirs(cls, run_cfg, ds, tmp_path):
    "Each stage's run folder holding a best.pt of an untrained model of the stage's method (what `setup` loads)."
    dirs = {}
    for name, sub in cls.stages(run_cfg, ds.modalities):
        d = dirs[name] = tmp_path / 'stages' / name; d.mkdir(parents=True)
        model = build_model(sub.model, ds)
        sub_cls = get_method_class(sub.method)
        Learner(model, ds, None, sub_cls(method_params_class(sub.method)(**sub.method_params), model, ds.n_classes),
                train=sub.train, data=sub.data, default_cbs=False).save_checkpoint(d / 'best.pt')
    return dirs


def train(reads, method='joint', params=None, log_every=1000, epochs=1, regression=False, window_epoch=0, tmp_path=None,
          start=2, stop=5, window_cls=None, **train_kw):
    seen, state = reads
    ds = torch.manual_seed(0) and toy(regression=regression)
    val = toy(48, seed=1, regression=regression) if method in NEEDS_VAL else None
    mcfg, dcfg = ModelConfig(hidden=16, latent=8), DataConfig(batch_size=16)
    tcfg = TrainConfig(epochs=epochs, progress='none', log_every=log_every, **train_kw)
    params = method_params_class(method)(**{**TINY.get(method, {}), **(params or {})})
    run_cfg = RunConfig(model=mcfg, data=dcfg, train=tcfg, method=method, method_params=vars(params))
    cls = get_method_class(method)
    model = build_model(mcfg, ds)
    meth = cls(params, model, ds.n_classes)
    meth.setup(stage_dirs(cls, run_cfg, ds, tmp_path))
    n_epochs = meth.train_epochs(tcfg)
    if n_epochs == 0:  # no training step of its own: the stages' methods (registered) are checked by their own cases
        assert all(sub.method in list_methods() for _, sub in cls.stages(run_cfg, ds.modalities))
        return None
    w = (window_cls or Window)(start + STEPS * window_epoch, stop + STEPS * window_epoch, seen); state['window'] = w
    learn = Learner(model, ds, val, meth, data=dcfg, cbs=[w], train=tcfg)
    learn.fit(n_epochs)
    assert learn.step == STEPS * epochs and w.opened and not w.on
    return seen


CASES = [(m, {}, {}, 1, False, 0) for m in list_methods()] + EXTRA

@pytest.mark.parametrize('method,params,kw,epochs,regression,window_epoch', CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_learner_step_reads_nothing(reads, tmp_path, method, params, kw, epochs, regression, window_epoch):
    seen = train(reads, method, params, epochs=epochs, regression=regression, window_epoch=window_epoch, tmp_path=tmp_path, **kw)
    assert not seen, f"host reads of tensor values in the training step of method {method!r}: {seen}"


def test_every_method_has_a_case():
    assert set(list_methods()) <= {c[0] for c in CASES}


def test_counter_sees_the_logging_read(reads, tmp_path):
    seen = train(reads, 'joint', log_every=4, tmp_path=tmp_path)   # step 4 logs (and the guard reads its flags): inside the window
    assert any('learner.py' in s and 'tolist' in s for s in seen), seen


class CudaWindow(Window):
    "On a GPU: `torch.cuda.set_sync_debug_mode('error')` from the end of step `start` to the end of step `stop`."
    def after_batch(self):
        s = self.learn.step
        if s == self.start: torch.cuda.synchronize(); torch.cuda.set_sync_debug_mode('error'); self.on = self.opened = True
        if s == self.stop: torch.cuda.set_sync_debug_mode(0); self.on = False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (scripts/gpu_check.sh runs it on a GPU machine)")
@pytest.mark.parametrize('method,params,kw,epochs,regression,window_epoch', CASES,
                         ids=[f"cuda-{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_learner_step_does_not_sync_on_cuda(tmp_path, method, params, kw, epochs, regression, window_epoch):
    "The same steps on a GPU, where any operation that makes the host wait for the device raises (no CPU stand-in)."
    try: train(([], {}), method, params, epochs=epochs, regression=regression, window_epoch=window_epoch, tmp_path=tmp_path,
               window_cls=CudaWindow, device='cuda', **kw)
    finally: torch.cuda.set_sync_debug_mode(0)
