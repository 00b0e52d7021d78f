"""The run's data path with DataLoader workers: loaders built once per run (persistent workers for training and
evaluation), and exact resume with any number of workers, since every item is loaded with its own seed."""
import json, random

import numpy as np
import pytest
import torch

from mcr_nb.config import DataConfig, ModelConfig, TrainConfig
from mcr_nb.learner import Learner, Callback, build_model, VOLATILE_KEYS


class Augmented(torch.utils.data.Dataset):
    "Items on 'disk' (no in-memory tensors: a DataLoader loads them) with augmentation that draws from all three RNGs."
    modalities, n_classes = ['a', 'b'], 4
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.y = torch.randint(0, 4, (n,), generator=g)
        self.a, self.b = torch.randn(n, 6, generator=g) + self.y[:, None], torch.randn(n, 5, generator=g)
        self.input_dims = {'a': 6, 'b': 5}
    def __len__(self): return len(self.y)
    def __getitem__(self, i):
        noise = 0.1 * torch.randn(6) + 0.01 * random.random() + 0.01 * float(np.random.rand())
        return {'a': self.a[i] + noise, 'b': self.b[i]}, self.y[i]


TRAIN, VAL = Augmented(64, 0), Augmented(24, 1)


class Crash(Callback):
    order = 200  # after CheckpointCB
    def after_step(self):
        if self.learn.step == 11: raise SystemError('simulated crash')


class Pids(Callback):
    "The process ids of the training loader's workers, at every step."
    def __init__(self): self.seen = []
    def after_batch(self): self.seen.append(tuple(w.pid for w in self.learn.loader.dl._iterator._workers))


def learner(out, workers, cbs=()):
    torch.manual_seed(0)
    m = build_model(ModelConfig(hidden=16, latent=8), TRAIN)
    m.encoders['a'].insert(1, torch.nn.Dropout(0.2))  # the training process's own RNG stream
    return Learner(m, TRAIN, VAL, out_dir=out, seed=3, cbs=cbs, data=DataConfig(batch_size=8, eval_batch_size=8, num_workers=workers),
                   train=TrainConfig(epochs=2, lr=3e-3, progress='none', checkpoint_every_steps=3, log_every=2))


def records(out): return [{k: v for k, v in json.loads(l).items() if k not in VOLATILE_KEYS} for l in (out / 'metrics.jsonl').read_text().splitlines()]
def weights(learn): return torch.cat([p.detach().flatten() for p in learn.model.parameters()])


def test_workers_built_once_and_resume_exactly(tmp_path, monkeypatch):
    built, init = [], torch.utils.data.DataLoader.__init__
    def counting(self, *a, **k):
        built.append(k.get('num_workers')); init(self, *a, **k)
    monkeypatch.setattr(torch.utils.data.DataLoader, '__init__', counting)
    ref = learner(tmp_path / 'ref', 0).fit()
    pids = Pids()
    full = learner(tmp_path / 'full', 2, [pids]).fit()
    assert built == [0, 0, 2, 2], built  # one training and one validation loader per run, for both epochs
    assert len(pids.seen) == 2 * 8 and len(set(pids.seen)) == 1, pids.seen  # the same two workers in every step of both epochs
    assert full.loader.dl is None  # fit stopped its workers
    with pytest.raises(SystemError, match='simulated crash'): learner(tmp_path / 'cut', 2, [Crash()]).fit()
    resumed = learner(tmp_path / 'cut', 2).load(tmp_path / 'cut' / 'last.pt')
    assert (resumed.epoch, resumed.iter, resumed.step) == (1, 1, 9)  # the checkpoint of step 9, in the middle of epoch 1
    resumed.fit()
    for other in (full, resumed): assert torch.equal(weights(ref), weights(other))
    assert records(tmp_path / 'ref') == records(tmp_path / 'full') == records(tmp_path / 'cut')
    assert all('samples_per_s' in r for r in map(json.loads, (tmp_path / 'cut' / 'metrics.jsonl').read_text().splitlines()) if r['kind'] == 'epoch')
