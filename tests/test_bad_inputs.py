"""Every bad input gets a clear error: a table of mistakes across the public API.

Each case is (id, the call that must fail, the exception type, strings the message must contain). The strings
name the offending value and what was expected, so a case fails if an error is raised for the wrong reason or
with a vague message. Cases whose API does not yet give a clear error are marked `xfail` with the message the
function should give (`WANTED`), so the table doubles as the to-do list for their owners.
"""
import json, os, pickle, struct
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
CASES = []


def case(id, exc, *needles, wanted=None):
    "Register `fn` as a bad-input case: calling it must raise `exc` with every needle in the message."
    def deco(fn):
        marks = [pytest.mark.xfail(reason=f"WANTED: {wanted}", strict=False)] if wanted else []
        CASES.append(pytest.param(fn, exc, needles, id=id, marks=marks))
        return fn
    return deco


def message(e: BaseException) -> str:
    "The message of an exception (KeyError's str() adds quotes around it)."
    return e.args[0] if isinstance(e, KeyError) and e.args else str(e)


# ---------------------------------------------------------------- fixtures built by the cases themselves
def tiny_model(fusion='late_linear'):
    from mcr_nb.models import MLPModelConfig, build_mlp_model
    torch.manual_seed(0)
    return build_mlp_model(MLPModelConfig(hidden=8, latent=4, n_layers=1, fusion=fusion), {'x1': 3, 'x2': 2}, 3)


def batch(b=4, **changes):
    x = {'x1': torch.randn(b, 3), 'x2': torch.randn(b, 2)}
    x.update(changes)
    return {k: v for k, v in x.items() if v is not None}


# ---------------------------------------------------------------- tensors and modalities (core, models)
@case('not-a-tensor', TypeError, "inputs['x1'] must be a torch.Tensor, got list")
def _(): tiny_model()({'x1': [[0.0] * 3] * 4, 'x2': torch.randn(4, 2)})

@case('wrong-rank', ValueError, "x must have rank 2, got shape (4,)")
def _():
    from mcr_nb.core import check_tensor
    check_tensor(torch.randn(4), 'x', ndim=2)

@case('wrong-feature-dim', ValueError, "inputs['x1'] has shape (4, 5); expected (B, 3)")
def _(): tiny_model()(batch(x1=torch.randn(4, 5)))

@case('input-rank-1', ValueError, "inputs['x1']", "(4,)", "rank 2")
def _(): tiny_model()(batch(x1=torch.randn(4)))

@case('batch-size-mismatch', ValueError, "batch sizes differ across modalities: {'x1': 4, 'x2': 3}")
def _(): tiny_model()(batch(x2=torch.randn(3, 2)))

@case('missing-modality', KeyError, "has modalities ['x1']; expected exactly ['x1', 'x2']", "missing ['x2']")
def _(): tiny_model()(batch(x2=None))

@case('extra-modality', KeyError, "unexpected ['x3']")
def _(): tiny_model()(batch(x3=torch.randn(4, 1)))

@case('inputs-not-a-dict', TypeError, "inputs must be a dict of tensors keyed by modality ['x1', 'x2'], got Tensor")
def _(): tiny_model()(torch.randn(4, 5))

@case('non-float-input', TypeError, "inputs['x1']", "torch.int64", "floating-point")
def _(): tiny_model()(batch(x1=torch.ones(4, 3, dtype=torch.long)))

@case('model-nan-input', ValueError, "inputs['x2'] contains 1 NaN/Inf value(s); expected finite values")
def _(): tiny_model()(batch(x2=torch.tensor([[0.0, 1.0]] * 3 + [[float('inf'), 0.0]])))

@case('nan-in-tensor', ValueError, "x contains 1 NaN/Inf value(s); expected finite values")
def _():
    from mcr_nb.core import check_tensor
    check_tensor(torch.tensor([[0.0, float('nan')]]), 'x', finite=True)

# ---------------------------------------------------------------- labels
@case('labels-out-of-range', ValueError, "y has labels in [0, 5]; expected class indices in [0, 2]")
def _():
    from mcr_nb.core import check_labels
    check_labels(torch.tensor([0, 5, 1]), n_classes=3)

@case('labels-negative', ValueError, "y has labels in [-1, 1]; expected class indices in [0, 2]")
def _():
    from mcr_nb.core import check_labels
    check_labels(torch.tensor([0, -1, 1]), n_classes=3)

@case('labels-float-for-classes', TypeError, "y must be an integer tensor, got dtype torch.float32")
def _():
    from mcr_nb.core import check_labels
    check_labels(torch.tensor([0.0, 1.0]), n_classes=3)

@case('labels-count-mismatch', ValueError, "y has 3 labels but the inputs have batch size 4")
def _():
    from mcr_nb.core import check_labels
    check_labels(torch.tensor([0, 1, 2]), n_classes=3, batch_size=4)

@case('metric-length-mismatch', ValueError, "pred has 4 samples but y has 3")
def _():
    from mcr_nb.metrics import accuracy
    accuracy(torch.randn(4, 3), torch.tensor([0, 1, 2]))

@case('metric-empty', ValueError, "metrics need at least one sample")
def _():
    from mcr_nb.metrics import accuracy
    accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))

# ---------------------------------------------------------------- names: fusion, encoder, split, modality, ...
@case('unknown-fusion', ValueError, "unknown fusion 'late'; expected one of: late_linear, concat_mlp")
def _(): tiny_model(fusion='late')

@case('unknown-encoder', ValueError, "unknown encoder 'resnet50'; expected one of: spectrogram_resnet18")
def _():
    from mcr_nb.encoders import build_encoder
    build_encoder('resnet50')

@case('unknown-split', ValueError, "unknown split 'dev'; expected one of: train, val, test")
def _():
    from mcr_nb.data.common import check_split
    check_split('dev')

@case('unknown-detach-modality', ValueError, "unknown modality 'audio'; expected one of: x1, x2")
def _():
    m = tiny_model()
    m.fuse({'x1': torch.randn(2, 4), 'x2': torch.randn(2, 4)}, detach=['audio'])

@case('one-modality-model', ValueError, "a multimodal model needs >= 2 modalities, got ['x1']")
def _():
    from mcr_nb.models import MultimodalModel
    MultimodalModel({'x1': torch.nn.Linear(3, 4)}, {'x1': 4}, 3)

@case('zero-outputs', ValueError, "n_outputs must be >= 1, got 0")
def _():
    from mcr_nb.models import MultimodalModel
    MultimodalModel({'a': torch.nn.Linear(3, 4), 'b': torch.nn.Linear(2, 4)}, {'a': 4, 'b': 4}, 0)

@case('encoder-wrong-channels', ValueError, "ResNet18 input has 3 channels; this network was built with in_channels=1")
def _():
    from mcr_nb.encoders import ResNet18
    ResNet18(in_channels=1)(torch.randn(1, 3, 32, 32))

# ---------------------------------------------------------------- counts: K, modalities, data
@case('n-perms-zero', ValueError, "n_perms must be >= 1, got 0")
def _():
    from mcr_nb.metrics import permutation_importance
    m = tiny_model()
    permutation_importance(m.fuse, {'x1': torch.randn(4, 4), 'x2': torch.randn(4, 4)}, torch.tensor([0, 1, 2, 0]), n_perms=0)

@case('empty-loader', ValueError, "the loader yielded no batches; expected a non-empty split")
def _():
    from mcr_nb.metrics import collect_outputs
    collect_outputs(tiny_model(), [])

@case('empty-waveform', ValueError, "empty waveform")
def _():
    from mcr_nb.data.common import tile_clip
    tile_clip(np.zeros(0, dtype=np.float32), 16000)

@case('negative-weight', ValueError, "lambda_m must be a finite number >= 0, got -0.5")
def _():
    from mcr_nb.core import check_nonneg
    check_nonneg(-0.5, 'lambda_m')

@case('nan-weight', ValueError, "mu must be a finite number >= 0, got nan")
def _():
    from mcr_nb.core import check_nonneg
    check_nonneg(float('nan'), 'mu')

# ---------------------------------------------------------------- files: data roots, corrupt files, checkpoints
LAYOUT = "CREMA-D/\n  AudioWAV/*.wav\n  train.csv"

@case('data-root-missing', FileNotFoundError, "data root '/nonexistent/cremad'", "does not exist", "AudioWAV/*.wav", "train.csv")
def _():
    from mcr_nb.data.common import resolve_root
    resolve_root('/nonexistent/cremad', 'CREMA-D', 'MCR_CREMAD_ROOT', LAYOUT)

@case('data-file-missing', FileNotFoundError, "missing file", "train.csv", "Expected layout", "AudioWAV/*.wav")
def _(tmp=None):
    import tempfile
    from mcr_nb.data.common import require
    require(Path(tempfile.mkdtemp()) / 'train.csv', LAYOUT)

@case('cremad-root-missing', FileNotFoundError, "data root '/nonexistent/CREMA-D'", "does not exist", "AudioWAV/<clip>.wav", "data_splits_VALV.json")
def _():
    from mcr_nb.data.cremad import CremadDataset
    CremadDataset('/nonexistent/CREMA-D', 'train')

@case('cremad-split-file-missing', FileNotFoundError, "missing file", "data_splits_VALV.json", "Expected layout")
def _():
    import tempfile
    from mcr_nb.data.cremad import CremadDataset
    d = Path(tempfile.mkdtemp()); (d / 'AudioWAV').mkdir()
    CremadDataset(d, 'train')

@case('cremad-split-file-truncated', ValueError, "cannot read", "data_splits_VALV.json", "as JSON")
def _():
    import tempfile
    from mcr_nb.data.cremad import CremadDataset
    d = Path(tempfile.mkdtemp()); (d / 'AudioWAV').mkdir()
    (d / 'data_splits_VALV.json').write_text('{"1": {"train": ["1001_DFA')
    CremadDataset(d, 'train')

def _truncated(name: str, data: bytes) -> Path:
    import tempfile
    p = Path(tempfile.mkdtemp()) / name
    p.write_bytes(data)
    return p

@case('truncated-pickle', ValueError, "cannot read", "feats.pkl")
def _():
    from mcr_nb.data.common import load_pickle
    load_pickle(_truncated('feats.pkl', pickle.dumps({'a': list(range(100))})[:20]))

@case('corrupt-wav', ValueError, "cannot read", "clip.wav")
def _():
    from mcr_nb.data.common import load_wav
    load_wav(_truncated('clip.wav', b'RIFF\x10\x00\x00\x00WAVEfmt '), 16000)

@case('corrupt-image', ValueError, "cannot read", "frame.jpg")
def _():
    from mcr_nb.data.common import load_image
    load_image(_truncated('frame.jpg', b'\xff\xd8\xff\xe0garbage'))

@case('checkpoint-missing', FileNotFoundError, "checkpoint '/nonexistent/last.pt' does not exist")
def _():
    from mcr_nb.core import load_checkpoint
    load_checkpoint('/nonexistent/last.pt')

@case('checkpoint-truncated', ValueError, "last.pt", "is corrupt or not a mcr_nb checkpoint")
def _():
    import io
    from mcr_nb.core import load_checkpoint
    buf = io.BytesIO(); torch.save({'w': torch.randn(100)}, buf)
    load_checkpoint(_truncated('last.pt', buf.getvalue()[: len(buf.getvalue()) // 2]))

class NotPlainData:  # an object a checkpoint must never contain: weights_only loading refuses it
    pass

@case('checkpoint-with-code', ValueError, "evil.pt", "is corrupt or not a mcr_nb checkpoint", "NotPlainData")
def _():
    import io
    from mcr_nb.core import load_checkpoint
    buf = io.BytesIO(); torch.save({'obj': NotPlainData()}, buf)
    load_checkpoint(_truncated('evil.pt', buf.getvalue()))

# ---------------------------------------------------------------- probability tables (info)
@case('table-not-normalised', ValueError, "P is not normalised: it sums to 2, expected 1")
def _():
    from mcr_nb.info import mcr_terms
    mcr_terms(np.full((2, 2, 2), 0.25))

@case('table-negative', ValueError, "P has negative entries (min -0.075); probabilities must be >= 0")
def _():
    from mcr_nb.info import mcr_terms
    mcr_terms(np.full((2, 2, 2), 1 / 8) - np.eye(2)[:, :, None] * 0.2)

@case('table-wrong-rank', ValueError, "P must be a 3-D table P[x1, x2, y], got shape (2, 2)")
def _():
    from mcr_nb.info import mcr_terms
    mcr_terms(np.full((2, 2), 0.25))

# ---------------------------------------------------------------- synthetic data
@case('unknown-synthetic-dataset', ValueError, "unknown synthetic dataset 'competiton'; expected one of:", "competition")
def _():
    from mcr_nb.synthetic import load_synthetic
    load_synthetic('competiton')

@case('synthetic-root-missing', FileNotFoundError, "/nonexistent/synth", "competition/splits.npz", "mcr_synth --out /nonexistent/synth")
def _():
    from mcr_nb.synthetic import load_synthetic
    load_synthetic('competition', 'train', '/nonexistent/synth')

@case('synthetic-file-corrupt', ValueError, "splits.npz", "corrupt")
def _():
    import tempfile
    from mcr_nb.synthetic import load_synthetic
    d = Path(tempfile.mkdtemp()); (d / 'competition').mkdir()
    (d / 'competition' / 'splits.npz').write_bytes(b'PK\x03\x04truncated')
    load_synthetic('competition', 'train', d)

# ---------------------------------------------------------------- the MCR game (losses)
@case('batch-of-one-permutation', ValueError, "permutation needs a batch of at least 2 samples, got batch size 1")
def _():
    from mcr_nb.losses import sample_perms
    sample_perms(1, 4)

@case('k-zero-permutations', ValueError, "n_perms must be >= 1, got 0")
def _():
    from mcr_nb.losses import sample_perms
    sample_perms(8, 0)

@case('jsd-class-mismatch', ValueError, "logits_p (4, 3) and logits_q (4, 2) need the same number (>= 2) of classes")
def _():
    from mcr_nb.losses import jsd
    jsd(torch.randn(4, 3), torch.randn(4, 2))

@case('game-one-modality', ValueError, "the MCR game needs >= 2 modalities, got ['audio']")
def _():
    from mcr_nb.losses import proper_subsets
    proper_subsets(['audio'])

@case('unknown-strategy', ValueError, "unknown strategy 'greedyy'; expected one of: greedy, independent, collaborative")
def _():
    from mcr_nb.losses import game_terms
    game_terms('greedyy', ['a', 'b'], ['a'])

@case('unknown-perturbation', ValueError, "unknown perturbation 'shuffle'; expected one of: permute, noise, zero")
def _():
    from mcr_nb.losses import perturb_latents
    perturb_latents({'a': torch.randn(4, 2), 'b': torch.randn(4, 2)}, ['a'], 'shuffle', None)

@case('mcr-negative-weight', ValueError, "lambda_m must be a finite number >= 0, got -0.1")
def _():
    from mcr_nb.losses import MCRConfig
    MCRConfig(lambda_m=-0.1)

@case('mcr-k-zero', ValueError, "n_perms must be an integer >= 1, got 0")
def _():
    from mcr_nb.losses import MCRConfig
    MCRConfig(n_perms=0)

@case('mcr-temperature-zero', ValueError, "temperature must be > 0, got 0")
def _():
    from mcr_nb.losses import MCRConfig
    MCRConfig(temperature=0)

def mcr_loss_on(b, y):
    from mcr_nb.losses import MCRConfig, MCRLoss
    m = tiny_model()
    return MCRLoss(MCRConfig(), m.latent_dims, 3)(m(batch(b)), y)

@case('mcr-batch-of-one', ValueError, "permutation needs a batch of at least 2 samples, got batch size 1")
def _(): mcr_loss_on(1, torch.tensor([0]))

@case('mcr-labels-out-of-range', ValueError, "y has labels in [0, 7]; expected class indices in [0, 2]")
def _(): mcr_loss_on(4, torch.tensor([0, 1, 2, 7]))

@case('mcr-labels-float', TypeError, "y must be an integer tensor, got dtype torch.float32")
def _(): mcr_loss_on(4, torch.tensor([0.0, 1.0, 2.0, 1.0]))

@case('mcr-labels-count', ValueError, "y has 3 labels but the inputs have batch size 4")
def _(): mcr_loss_on(4, torch.tensor([0, 1, 2]))

# ---------------------------------------------------------------- training: datasets, methods, checkpoints, resume
@case('empty-dataset', ValueError, "dataset 'synthetic:tiny' split 'train' is empty; expected at least one sample")
def _():
    from mcr_nb.learner import TensorMultimodalDataset, check_dataset
    empty = TensorMultimodalDataset({'a': torch.zeros(0, 2), 'b': torch.zeros(0, 2)}, torch.zeros(0, dtype=torch.long), 3)
    check_dataset(empty, "dataset 'synthetic:tiny' split 'train'")

@case('dataset-int-inputs', TypeError, "inputs['a'] must be a floating-point tensor, got dtype torch.int64")
def _():
    from mcr_nb.learner import TensorMultimodalDataset
    TensorMultimodalDataset({'a': torch.zeros(4, 2, dtype=torch.long), 'b': torch.zeros(4, 2)}, torch.zeros(4, dtype=torch.long), 3)

@case('dataset-nan-inputs', ValueError, "inputs['a'] contains 1 NaN/Inf value(s); expected finite values")
def _():
    from mcr_nb.learner import TensorMultimodalDataset
    x = torch.zeros(4, 2); x[1, 0] = float('nan')
    TensorMultimodalDataset({'a': x, 'b': torch.zeros(4, 2)}, torch.zeros(4, dtype=torch.long), 3)

@case('unknown-dataset-prefix', ValueError, "unknown dataset prefix 'cremad2'; expected one of:", "synthetic")
def _():
    from mcr_nb.config import DataConfig
    from mcr_nb.learner import build_data
    build_data(DataConfig(name='cremad2:audio_visual'), 'train')

@case('unknown-method-registry', ValueError, "unknown method 'mcrr'; expected one of:", "joint", "mcr")
def _():
    from mcr_nb.learner import get_method_class
    get_method_class('mcrr')

def _saved(obj, name):
    import tempfile
    from mcr_nb.core import atomic_save
    return atomic_save(obj, Path(tempfile.mkdtemp()) / name)

@case('checkpoint-old-version', ValueError, "old.pt", "has format version 0; this mcr_nb reads version")
def _():
    from mcr_nb.core import load_checkpoint
    from mcr_nb.learner import CHECKPOINT_FORMAT, check_checkpoint
    p = _saved({'format': CHECKPOINT_FORMAT, 'version': 0, 'model': {}}, 'old.pt')
    check_checkpoint(load_checkpoint(p), p)

@case('checkpoint-foreign', ValueError, "foreign.pt", "is not a mcr_nb learner checkpoint", "expected 'mcr_nb.learner'")
def _():
    from mcr_nb.core import load_checkpoint
    from mcr_nb.learner import check_checkpoint
    p = _saved({'state_dict': {'w': torch.zeros(2)}}, 'foreign.pt')
    check_checkpoint(load_checkpoint(p), p)

@case('checkpoint-other-model', ValueError, "other.pt", "does not match this model", "size mismatch for encoders.x1.0.weight")
def _():
    from mcr_nb.learner import load_model_state
    from mcr_nb.models import MLPModelConfig, build_mlp_model
    other = build_mlp_model(MLPModelConfig(hidden=16, latent=4), {'x1': 3, 'x2': 2}, 3)
    load_model_state(tiny_model(), other.state_dict(), 'other.pt')

@case('resume-not-a-run', FileNotFoundError, "cannot resume: '/nonexistent/run/config.yaml' does not exist")
def _():
    from mcr_nb.learner import fit_run
    fit_run(None, '/nonexistent/run', resume=True)

@case('resume-with-other-config', ValueError, "with a different config: seed: 0 -> 4", "resume with its saved config.yaml")
def _():
    import tempfile
    from mcr_nb.config import save_config
    from mcr_nb.learner import fit_run
    d = Path(tempfile.mkdtemp()); save_config(base_cfg(), d / 'config.yaml')
    fit_run(override('seed=4'), d, resume=True)

# ---------------------------------------------------------------- configs: names, keys, types, weights
def base_cfg():
    from mcr_nb.config import get_config
    return get_config('synthetic-competition')

def override(*ovs):
    from mcr_nb.config import apply_overrides
    return apply_overrides(base_cfg(), list(ovs))

@case('unknown-config', ValueError, "'synthetic-competiton'; expected one of:", "synthetic-competition")
def _():
    from mcr_nb.config import get_config
    get_config('synthetic-competiton')

@case('unknown-method', ValueError, "unknown method 'mcrr'; expected one of:", "joint", "multiloss", "mcr")
def _(): override('method=mcrr')

@case('mistyped-override-key', KeyError, "unknown key 'train.epoch' in override", "valid keys under train:", "epochs")
def _(): override('train.epoch=3')

@case('override-wrong-type', ValueError, "train.epochs must be int, got 'abc'")
def _(): override('train.epochs=abc')

@case('mistyped-yaml-key', KeyError, "unknown key(s) ['epochz'] in train", "valid keys:", "epochs")
def _():
    import tempfile
    from mcr_nb.config import get_config
    p = Path(tempfile.mkdtemp()) / 'mine.yaml'
    p.write_text('base: synthetic-competition\ntrain:\n  lr: 0.1\n  epochz: 3\n')
    get_config(str(p))

@case('yaml-with-python-object', ValueError, "mine.yaml", "is not valid YAML", "python/object/apply:os.system")
def _():
    import tempfile
    from mcr_nb.config import get_config
    p = Path(tempfile.mkdtemp()) / 'mine.yaml'
    p.write_text('!!python/object/apply:os.system ["echo unsafe"]\n')
    get_config(str(p))

@case('negative-loss-weight', ValueError, "method_params.mu must be a finite number >= 0, got -1.0")
def _(): override('method=multiloss', 'method_params.mu=-1')

@case('n-perms-zero-config', ValueError, "method_params.n_perms must be >= 1, got 0")
def _(): override('method=mcr', 'method_params.n_perms=0')

@case('unknown-optimizer', ValueError, "unknown optimizer 'adan'; expected one of: adam, adamw, sgd")
def _(): override('train.optimizer=adan')

@case('unknown-strategy-config', ValueError, "unknown strategy 'greedyy'; expected one of: greedy, independent, collaborative")
def _(): override('method=mcr', 'method_params.strategy=greedyy')

@case('unknown-perturbation-config', ValueError, "unknown perturbation 'shuffle'; expected one of: permute")
def _(): override('method=mcr', 'method_params.perturbation=shuffle')

@case('unknown-fusion-config', ValueError, "unknown fusion 'late'; expected one of: late_linear, concat_mlp")
def _(): override('model.fusion=late')

# ---------------------------------------------------------------- sweeps and the command line
@case('grid-mistyped-key', ValueError, "unknown grid key 'seed'; expected one of: configs, methods, seeds")
def _():
    from mcr_nb.sweep import grid_from_dict
    grid_from_dict({'configs': ['synthetic-competition'], 'methods': ['joint'], 'seed': [0]})

@case('grid-slice-out-of-range', ValueError, "slice start=0, stop=9 is invalid for a grid of 2 cells")
def _():
    from mcr_nb.sweep import Grid, expand_grid, select_cells
    select_cells(expand_grid(Grid(configs=['c'], methods=['joint', 'mcr'])), 0, 9)

@case('override-without-value', ValueError, "--set has 'train.epochs'; expected 'dotted.key=value'")
def _():
    from mcr_nb.sweep import check_overrides
    check_overrides(['train.epochs'], '--set')


# ---------------------------------------------------------------- reliability, second round: values, runs, files
def _P():
    return np.full((2, 2, 2), 1 / 8)

@case('labels-int32', TypeError, "y must hold class indices as torch.int64 (long), got dtype torch.int32")
def _():
    from mcr_nb.core import check_labels
    check_labels(torch.tensor([0, 1], dtype=torch.int32), n_classes=3)

@case('seed-negative-api', ValueError, "seed must be an integer in [0, 4294967295], got -1")
def _():
    from mcr_nb.core import seed_everything
    seed_everything(-1)

@case('cuda-device-missing', RuntimeError, "train.device='cuda' but no CUDA device is visible (torch.cuda.is_available() is False)")
def _():
    if torch.cuda.is_available(): raise RuntimeError("train.device='cuda' but no CUDA device is visible (torch.cuda.is_available() is False) [skipped: CUDA present]")
    from mcr_nb.core import get_device
    get_device('cuda')

@case('info-axis-negative', ValueError, "mutual_info argument b has axis -1; expected integers in [0, 2]")
def _():
    from mcr_nb.info import mutual_info
    mutual_info(_P(), 0, -1)

@case('info-axis-out-of-range', ValueError, "mutual_info argument a has axis 5; expected integers in [0, 2]")
def _():
    from mcr_nb.info import mutual_info
    mutual_info(_P(), 5, 1)

@case('info-cmi-axis-out-of-range', ValueError, "cond_mutual_info argument c has axis 3")
def _():
    from mcr_nb.info import cond_mutual_info
    cond_mutual_info(_P(), 0, 1, 3)

@case('info-axis-repeated', ValueError, "mutual_info argument a repeats an axis: (0, 0)")
def _():
    from mcr_nb.info import mutual_info
    mutual_info(_P(), (0, 0), 2)

@case('synth-noise-inf', ValueError, "View.noise must be a finite number, got inf")
def _():
    from mcr_nb.synthetic import View
    View(noise=float('inf'))

@case('synth-amplitude-nan', ValueError, "FiveClassSpec.amplitude must be a finite number, got nan")
def _():
    from mcr_nb.synthetic import FiveClassSpec
    FiveClassSpec(amplitude=float('nan'))

@case('synth-bits-fractional', TypeError, "BitSpec.n_redundant must be an integer, got 1.5")
def _():
    from mcr_nb.synthetic import BitSpec
    BitSpec(n_redundant=1.5)

@case('synth-dim1-zero', ValueError, "FiveClassSpec.dim1 must be >= 1, got 0")
def _():
    from mcr_nb.synthetic import FiveClassSpec
    FiveClassSpec(dim1=0)

@case('synth-dim-negative', ValueError, "View.dim must be >= 1, got -3")
def _():
    from mcr_nb.synthetic import View
    View(dim=-3)

@case('synth-seed-negative', ValueError, "BitSpec.seed must be in [0, 4294967295], got -1")
def _():
    from mcr_nb.synthetic import BitSpec
    BitSpec(seed=-1)

@case('config-eta-min-negative', ValueError, "train.eta_min must be a finite number >= 0, got -0.1")
def _(): override('train.eta_min=-0.1')

@case('config-eta-min-above-lr', ValueError, "train.eta_min <= train.lr must hold", "train.eta_min=0.01, train.lr=0.001")
def _(): override('train.eta_min=0.01')

@case('config-momentum-one', ValueError, "train.momentum must be a finite number in [0, 1), got 1.0")
def _(): override('train.momentum=1')

@case('config-lr-inf', ValueError, "train.lr must be a finite number > 0, got inf")
def _(): override('train.lr=inf')

@case('config-seed-overflow', ValueError, "seed must be in [0, 4294967295], got 99999999999999999999")
def _(): override('seed=99999999999999999999')

@case('config-batch-zero', ValueError, "data.batch_size must be >= 1, got 0")
def _(): override('data.batch_size=0')

@case('config-ceb-hidden-zero', ValueError, "method_params.ceb_hidden must be >= 1, got 0")
def _(): override('method=mcr', 'method_params.ceb_hidden=0')

@case('config-modulation-window', ValueError, "method_params.modulation_starts <= method_params.modulation_ends must hold")
def _(): override('method=ogm_ge', 'method_params.modulation_starts=10', 'method_params.modulation_ends=5')

@case('config-yaml-alias', ValueError, "bomb.yaml' uses YAML anchors or aliases")
def _():
    import tempfile
    from mcr_nb.config import get_config
    p = Path(tempfile.mkdtemp()) / 'bomb.yaml'
    p.write_text('a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n')
    get_config(str(p))

@case('config-yaml-empty', ValueError, "empty.yaml' is empty; expected a mapping of RunConfig fields")
def _():
    import tempfile
    from mcr_nb.config import get_config
    p = Path(tempfile.mkdtemp()) / 'empty.yaml'; p.write_text('\n')
    get_config(str(p))

@case('grid-yaml-alias', ValueError, "grid.yaml' uses YAML anchors or aliases")
def _():
    import tempfile
    from mcr_nb.sweep import load_grid
    p = Path(tempfile.mkdtemp()) / 'grid.yaml'
    p.write_text('configs: &c [synthetic-competition]\nmethods: *c\n')
    load_grid(p)

def _run_folder():
    import tempfile
    from mcr_nb.config import save_config
    d = Path(tempfile.mkdtemp()); save_config(base_cfg(), d / 'config.yaml')
    return d

@case('run-config-truncated', ValueError, "does not match its recorded fingerprint: it was edited or truncated")
def _():
    from mcr_nb.config import read_run_config
    d = _run_folder(); t = (d / 'config.yaml').read_text().splitlines(True); (d / 'config.yaml').write_text(''.join(t[: len(t) * 2 // 3]))  # lost lines would read as defaults
    read_run_config(d / 'config.yaml')

@case('run-config-unmarked', ValueError, "has no '# fingerprint:' line")
def _():
    import yaml
    from mcr_nb.config import read_run_config, config_to_dict
    d = _run_folder(); (d / 'config.yaml').write_text(yaml.safe_dump(config_to_dict(base_cfg())))
    read_run_config(d / 'config.yaml')

@case('resume-edited-before-checkpoint', ValueError, "config.yaml was edited after the run started", "no checkpoint exists yet")
def _():
    from mcr_nb.learner import fit_run
    d = _run_folder(); p = d / 'config.yaml'; p.write_text(p.read_text().replace('seed: 0', 'seed: 9'))
    fit_run(None, d, resume=True)

@case('resume-unsafe-override', ValueError, "--set on resume may change only train.epochs", "got train.lr")
def _():
    from mcr_nb.learner import fit_run
    fit_run(None, _run_folder(), resume=True, overrides=['train.lr=0.1'])

@case('new-run-into-run-folder', FileExistsError, "already holds a run (config.yaml)")
def _():
    from mcr_nb.learner import fit_run
    fit_run(base_cfg(), _run_folder())

@case('fold-on-synthetic', ValueError, "dataset 'synthetic:competition' has no folds; fold must be 0, got 7")
def _():
    from mcr_nb.config import DataConfig
    from mcr_nb.learner import build_data
    build_data(DataConfig(name='synthetic:competition'), 'train', 7)

@case('non-finite-weights', RuntimeError, "non-finite weights: 1 tensor(s) hold NaN/Inf (model.w)", "no checkpoint was written")
def _():
    from mcr_nb.learner import check_finite_state
    check_finite_state({'model': {'w': torch.tensor([1.0, float('inf')]), 'n': torch.tensor(3)}, 'method_module': {}, 'opt': {'state': {}}})

@case('non-finite-optimizer-state', RuntimeError, "opt.state[0].exp_avg_sq")
def _():
    from mcr_nb.learner import check_finite_state
    check_finite_state({'model': {}, 'method_module': {}, 'opt': {'state': {0: {'exp_avg_sq': torch.tensor([float('nan')])}}}})

@case('method-flag-and-override', ValueError, "--set method=mcr contradicts --method joint")
def _():
    from mcr_nb.sweep import make_run_config
    make_run_config('synthetic-competition', 'joint', overrides=['method=mcr'])

@case('run-folder-is-a-file', NotADirectoryError, "is a file; a run folder must be a directory")
def _():
    import tempfile
    from mcr_nb.core import RunLock
    f = Path(tempfile.mkdtemp()) / 'f'; f.write_text('x')
    RunLock(f)


# ---------------------------------------------------------------- the test
@pytest.mark.parametrize('fn,exc,needles', CASES)
def test_bad_input(fn, exc, needles):
    with pytest.raises(exc) as info:
        fn()
    msg = message(info.value)
    missing = [n for n in needles if n not in msg]
    assert not missing, f"the message {msg!r} does not contain {missing}"


def test_enough_distinct_cases():
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), 'case ids must be distinct'
    assert len(ids) >= 30, f'the suite has {len(ids)} cases; the reliability issue asks for at least 30'
