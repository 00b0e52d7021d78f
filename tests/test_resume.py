"""Crash-safe training: a run killed with SIGKILL mid-epoch and resumed ends bit-identical to an uninterrupted run;
the same config trained twice gives bit-identical metrics (CPU)."""
import json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
STEPS_PER_EPOCH, EPOCHS = 12, 4

SCRIPT = textwrap.dedent(f'''
    import sys, time
    from pathlib import Path
    import torch
    torch.set_num_threads(1)
    from mcr_nb.config import RunConfig, DataConfig, ModelConfig, TrainConfig
    from mcr_nb.learner import TensorMultimodalDataset, register_dataset, fit_run, Callback

    def data(n, seed, d=8, n_classes=4):
        means = torch.randn(n_classes, 2, d, generator=torch.Generator().manual_seed(11)) * 0.8
        g = torch.Generator().manual_seed(seed)
        y = torch.randint(0, n_classes, (n,), generator=g)
        return TensorMultimodalDataset({{m: means[y, i] + (1 + i) * torch.randn(n, d, generator=g) for i, m in enumerate('ab')}}, y, n_classes)

    DS = {{'train': data({STEPS_PER_EPOCH} * 16, 0), 'val': data(64, 1), 'test': data(64, 2)}}
    register_dataset('resumetoy', lambda cfg, name, split, fold: DS[split])

    class Slow(Callback):
        "Stateless: gives the test time to kill the run between checkpoints."
        def after_step(self): time.sleep(float(sys.argv[3]))

    out, mode = Path(sys.argv[1]), sys.argv[2]
    # MCR: permutations and dropout-free MLPs; its sampling draws from the global RNG, restored from checkpoints
    cfg = RunConfig(name='resume', data=DataConfig(name='resumetoy:x', batch_size=16), model=ModelConfig(hidden=16, latent=8),
                    train=TrainConfig(epochs={EPOCHS}, lr=3e-3, warmup_steps=5, checkpoint_every_steps=5, progress='none'),
                    method='mcr', method_params={{'n_perms': 4, 'lambda_b': 1.0}}, seed=5)
    fit_run(cfg if mode == 'new' else None, out, resume=(mode == 'resume'), cbs=[Slow()])
''')


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK')}
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONPATH=str(ROOT) + os.pathsep + env.get('PYTHONPATH', ''))
    return env


def _start(script, out, mode, sleep=0.0):
    return subprocess.Popen([sys.executable, str(script), str(out), mode, str(sleep)], text=True, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(p, timeout=120):
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, f"run failed (exit {p.returncode}):\n{out}\n{err[-4000:]}"


def _records(run):
    "metrics.jsonl without the wall-clock measurements (`VOLATILE_KEYS`: time, throughput)."
    from mcr_nb.learner import VOLATILE_KEYS
    return [{k: v for k, v in json.loads(l).items() if k not in VOLATILE_KEYS} for l in (run / 'metrics.jsonl').read_text().splitlines()]


def _csv(run):
    from mcr_nb.learner import VOLATILE_KEYS
    lines = (run / 'metrics.csv').read_text().splitlines()
    drop = [i for i, c in enumerate(lines[0].split(',')) if c in VOLATILE_KEYS]
    assert 'time' in lines[0].split(',') and len(drop) >= 3, lines[0]  # time, samples_per_s, data_wait (+ peak_mem_mb on CUDA)
    return [[c for i, c in enumerate(l.split(',')) if i not in drop] for l in lines]


def _weights(run, name='last.pt'):
    ck = torch.load(run / name, weights_only=True)
    return {**{f'model.{k}': v for k, v in ck['model'].items()}, **{f'loss.{k}': v for k, v in ck['method_module'].items()}}


def _summary(run): return {k: v for k, v in json.loads((run / 'summary.json').read_text()).items() if k != 'seconds'}


def _kill_and_resume(tmp):
    "An uninterrupted run, a run killed mid-epoch then resumed, and the same config once more."
    script = tmp / 'run.py'; script.write_text(SCRIPT)
    ref, killed = _start(script, tmp / 'ref', 'new'), _start(script, tmp / 'killed', 'new', sleep=0.05)
    ck_path, kill_state, t0 = tmp / 'killed' / 'last.pt', None, time.time()
    while time.time() - t0 < 90 and killed.poll() is None:
        if ck_path.is_file():
            c = torch.load(ck_path, weights_only=True)['counters']
            if c['epoch'] >= 1 and c['iter'] > 0:  # a mid-epoch checkpoint of epoch 1 or later exists: kill now
                killed.send_signal(signal.SIGKILL); killed.wait(); kill_state = c; break
        time.sleep(0.02)
    assert kill_state is not None, f"could not kill the run mid-epoch (exit {killed.poll()}; {killed.stderr.read()[-2000:] if killed.poll() is not None else ''})"
    _finish(ref)
    resumed, again = _start(script, tmp / 'killed', 'resume'), _start(script, tmp / 'again', 'new')
    _finish(resumed); _finish(again)
    return kill_state


# One test function on purpose: under pytest-xdist a module fixture would be rebuilt on every worker that runs a
# test of this file. The checks are in the order a failure is easiest to read.
def test_kill_resume_and_reproducibility(tmp_path):
    tmp, c = tmp_path, _kill_and_resume(tmp_path)
    assert 0 < c['step'] < STEPS_PER_EPOCH * EPOCHS and c['iter'] > 0, f"not killed mid-epoch: {c}"
    # resumed == uninterrupted, bit for bit
    a, b = _weights(tmp / 'ref'), _weights(tmp / 'killed')
    assert list(a) == list(b) and any(k.startswith('loss.ceb_head') for k in a)
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, f"weights differ after resume: {diff}"
    assert _records(tmp / 'ref') == _records(tmp / 'killed')
    assert _csv(tmp / 'ref') == _csv(tmp / 'killed')
    assert _summary(tmp / 'ref') == _summary(tmp / 'killed')
    best_a, best_b = _weights(tmp / 'ref', 'best.pt'), _weights(tmp / 'killed', 'best.pt')
    assert all(torch.equal(best_a[k], best_b[k]) for k in best_a)
    # the same config twice: bit-identical metrics
    assert _records(tmp / 'ref') == _records(tmp / 'again')
    assert _summary(tmp / 'ref') == _summary(tmp / 'again')
    assert len(_csv(tmp / 'ref')) == EPOCHS + 1  # header + one row per epoch
    # a run folder is only resumed with its own config, and never overwritten
    from mcr_nb.config import load_config, apply_overrides
    from mcr_nb.learner import fit_run
    cfg = apply_overrides(load_config(tmp / 'ref' / 'config.yaml'), ['train.lr=0.1'])
    with pytest.raises(ValueError, match=r"with a different config: train.lr: 0.003 -> 0.1;"):
        fit_run(cfg, tmp / 'ref', resume=True)
    with pytest.raises(FileExistsError, match='already holds a run'):
        fit_run(cfg, tmp / 'ref')
    with pytest.raises(FileNotFoundError, match='cannot resume'):
        fit_run(None, tmp / 'nothing', resume=True)
