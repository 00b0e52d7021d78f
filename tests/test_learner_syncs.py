"""The learner's training step reads no tensor value on the host (each read would be a host-device sync on a GPU).

`tests/test_step_syncs.py` checks the model and loss; this file checks the whole step of `Learner` as a run takes it:
moving the batch, forward, loss, the NaN guard, the running training metrics, backward, gradient clipping, the
schedule and the optimiser step. A CPU run cannot see a GPU sync, so every Python-level read of a tensor value
(`item`, `bool`, `float`, `int`, `tolist`, ...) is counted, between the end of one step and the end of a later one,
in steps that neither log nor checkpoint (those read values on purpose, every `train.log_every` steps). The models
and losses take their device code paths (`_reads_free` says no read is free). A control run shows that the counter
sees the guard's read at a logging step."""
import traceback

import pytest
import torch

import mcr_nb.losses as losses
import mcr_nb.models as models
from mcr_nb.config import DataConfig, ModelConfig, TrainConfig, JointParams, MCRParams, method_params
from mcr_nb.learner import Learner, Callback, TensorMultimodalDataset, build_model, get_method_class

READS = ('item', 'tolist', 'numpy', '__array__', '__bool__', '__float__', '__int__', '__index__', '__format__')


class Window(Callback):
    "Record host reads made by the package from the end of step `start` to the end of step `stop`."
    order = 10_000
    def __init__(self, start, stop, seen): self.start, self.stop, self.seen, self.on = start, stop, seen, False
    def after_batch(self):
        s = self.learn.step
        if s == self.start: self.seen.clear(); self.on = True
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


def toy(n=96, d=6, n_classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, n_classes, (n,), generator=g)
    return TensorMultimodalDataset({'a': torch.randn(n, d, generator=g) + y[:, None], 'b': torch.randn(n, d + 1, generator=g)}, y, n_classes)


def train(reads, method='joint', log_every=1000, start=2, stop=5, **train_kw):
    seen, state = reads
    ds = torch.manual_seed(0) and toy()
    model = build_model(ModelConfig(hidden=16, latent=8), ds)
    params = JointParams() if method == 'joint' else MCRParams(n_perms=2, lambda_b=1.0)
    cls = get_method_class(method)
    w = Window(start, stop, seen); state['window'] = w
    learn = Learner(model, ds, None, cls(params, model, ds.n_classes), data=DataConfig(batch_size=16), cbs=[w],
                    train=TrainConfig(epochs=1, progress='none', log_every=log_every, **train_kw))
    learn.fit()
    assert learn.step == 6
    return seen


@pytest.mark.parametrize('method,kw', [('joint', {}), ('joint', {'clip_grad': 1.0, 'grad_accum_steps': 2}),
                                       ('mcr', {}), ('mcr', {'clip_grad': 1.0})])
def test_learner_step_reads_nothing(reads, method, kw):
    seen = train(reads, method, **kw)
    assert seen == [], f"host reads of tensor values in the learner's training step: {seen}"


def test_counter_sees_the_logging_read(reads):
    seen = train(reads, 'joint', log_every=4)   # step 4 logs (and the guard reads its flags): inside the window
    assert any('learner.py' in s and 'tolist' in s for s in seen), seen
