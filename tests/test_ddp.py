"""DDP on CPU with the gloo backend: every method keeps its replicas identical and takes the same steps with 2
processes as with 1 process on the same global batches (the loss sees the gathered global batch, gradients are
reduced by torch's DistributedDataParallel), and `torchrun ... mcr_train` with BatchNorm encoders (SyncBatchNorm)
ends with the single-process test metrics.

Two worker processes (RANK 0/1, WORLD_SIZE 2, as torchrun would set) train every method through `fit_run` and
save their final parameters; a third, single process trains the reference runs."""
import os, socket, subprocess, sys, textwrap
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
METHODS = ['unimodal', 'ensemble', 'joint', 'multiloss', 'uni_pre_frozen', 'uni_pre_finetuned', 'ogm_ge', 'agm', 'mlb', 'mcr']
EQUIVALENT = METHODS  # N processes compute the single-process objective, batch-level terms included

WORKER = textwrap.dedent('''
    import os, sys
    from pathlib import Path
    import torch
    torch.set_num_threads(1)
    from mcr_nb.config import RunConfig, DataConfig, ModelConfig, TrainConfig, apply_overrides
    from mcr_nb.learner import TensorMultimodalDataset, register_dataset, fit_run, Callback

    def data(n, seed, d=6, n_classes=3):
        means = torch.randn(n_classes, 2, d, generator=torch.Generator().manual_seed(7))
        g = torch.Generator().manual_seed(seed)
        y = torch.randint(0, n_classes, (n,), generator=g)
        return TensorMultimodalDataset({m: means[y, i] + (1 + i) * torch.randn(n, d, generator=g) for i, m in enumerate('ab')}, y, n_classes)

    DS = {'train': data(96, 0), 'val': data(40, 1), 'test': data(40, 2)}
    register_dataset('ddptoy', lambda cfg, name, split, fold: DS[split])

    class SaveParams(Callback):
        "Write this process's final trainable state (model + loss module)."
        order = 1000
        def __init__(self, path): self.path = path
        def after_fit(self):
            sd = {f'model.{k}': v for k, v in self.learn.model.state_dict().items()}
            if self.learn.method.module is not None: sd.update({f'loss.{k}': v for k, v in self.learn.method.module.state_dict().items()})
            # the statistics that scale gradients (OGM-GE, MLB coefficients; AGM's factors and running score): they must be
            # reduced across ranks, which identical weights alone cannot show (AGM scales before the gradient sync)
            meth, scalar = self.learn.method, lambda v: torch.as_tensor(v).detach().float().reshape(-1)
            sd.update({f'stat.coeff.{m}': scalar(v) for m, v in (getattr(meth, 'coeffs', None) or {}).items()})
            sd.update({f'stat.{k}': scalar(v) for k, v in (getattr(self.learn, 'terms', None) or {}).items() if k.startswith('k/')})
            if getattr(meth, 'score_mean', None) is not None: sd['stat.score_mean'] = scalar(meth.score_mean)
            torch.save(sd, self.path)

    out, methods = Path(sys.argv[1]), sys.argv[2].split(',')
    rank = int(os.environ.get('RANK', '0'))
    base = RunConfig(name='ddp', data=DataConfig(name='ddptoy:x', batch_size=16, eval_batch_size=16),
                     model=ModelConfig(hidden=16, latent=8),
                     train=TrainConfig(epochs=2, lr=1e-2, warmup_steps=3, progress='none'), seed=0)
    extra = {'unimodal': ['method_params.modality=a'],
             'mcr': ['method_params.n_perms=4', 'method_params.lambda_c=1', 'method_params.lambda_b=1'],
             'ogm_ge': ['method_params.alpha=0.5']}
    for m in methods:
        cfg = apply_overrides(base, [f'method={m}'] + extra.get(m, []))
        (out / m).mkdir(parents=True, exist_ok=True)
        fit_run(cfg, out / m, cbs=[SaveParams(out / m / f'rank{rank}.pt')])
    print('worker', rank, 'done', flush=True)
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _env(**kw):
    env = {k: v for k, v in os.environ.items() if k not in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')}
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONPATH=str(ROOT) + os.pathsep + env.get('PYTHONPATH', ''), **kw)
    return env


def _wait(procs, timeout=150):
    for p in procs:
        try: out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs: q.kill()
            pytest.fail('a worker timed out')
        assert p.returncode == 0, f"worker failed (exit {p.returncode}):\n{out}\n{err[-4000:]}"


def _train(tmp):
    "Every method with 2 processes, then with 1 process."
    script = tmp / 'worker.py'; script.write_text(WORKER)
    port = str(_free_port())
    ddp = [subprocess.Popen([sys.executable, str(script), str(tmp / 'w2'), ','.join(METHODS)], cwd=tmp, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE='2', MASTER_ADDR='127.0.0.1', MASTER_PORT=port))
           for r in range(2)]
    _wait(ddp)
    single = subprocess.Popen([sys.executable, str(script), str(tmp / 'w1'), ','.join(EQUIVALENT)], cwd=tmp, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    _wait([single])


def _load(p): return torch.load(p, weights_only=True)


# One test function on purpose: under pytest-xdist a module fixture would be rebuilt on every worker that runs a
# test of this file, training everything twice. Every check runs and the failures are reported together.
def test_ddp_every_method(tmp_path):
    _train(tmp_path)
    problems = []
    for method in METHODS:
        a, b = _load(tmp_path / 'w2' / method / 'rank0.pt'), _load(tmp_path / 'w2' / method / 'rank1.pt')
        if list(a) != list(b): problems.append(f"{method}: different parameter sets across ranks"); continue
        if method in ('ogm_ge', 'agm', 'mlb') and not any(k.startswith('stat.') for k in a): problems.append(f"{method}: no scaling statistics saved")
        diff = [k for k in a if not torch.equal(a[k], b[k])]
        if diff: problems.append(f"{method}: parameters differ across ranks: {diff}")
        if not all(torch.isfinite(v).all() for v in a.values() if v.is_floating_point()): problems.append(f"{method}: non-finite parameters")
    for method in EQUIVALENT:
        a, b = _load(tmp_path / 'w2' / method / 'rank0.pt'), _load(tmp_path / 'w1' / method / 'rank0.pt')
        for k in a:
            if not torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-6):
                problems.append(f"{method}: {k} differs from the single-process run by {(a[k] - b[k]).abs().max():.3g}")
    import json
    s = json.loads((tmp_path / 'w2' / 'joint' / 'summary.json').read_text())
    if s['steps'] != 2 * (96 // 16): problems.append(f"joint took {s['steps']} steps; expected 12 (the runs must actually train)")
    # evaluation is sharded across ranks and the predictions gathered: the scores (loss, accuracy, macro-F1 of every
    # head) are those of the whole split, as in the single-process run
    for method in EQUIVALENT:
        s2, s1 = (json.loads((tmp_path / w / method / 'summary.json').read_text()) for w in ('w2', 'w1'))
        keys = [k for k in s1 if k.startswith(('val_', 'test_'))]
        if not any(k.startswith('test_f1') for k in keys): problems.append(f"{method}: no F1 in the summary ({keys})")
        bad = {k: (s2.get(k), s1[k]) for k in keys if s2.get(k) is None or abs(s2[k] - s1[k]) > 1e-3}
        if bad: problems.append(f"{method}: 2-process scores differ from the single-process run: {bad}")
    assert not problems, '\n'.join(problems)


def _summary(d): import json; return json.loads((d / 'summary.json').read_text())


def test_torchrun_cli_matches_one_process(tmp_path):
    "`torchrun --nproc_per_node 2 mcr_train` (gloo, BatchNorm encoders) ends with the 1-process run's test metrics, to 1e-4."
    exe = Path(sys.executable).parent
    common = ['--config', 'synthetic-competition', '--set', 'model.norm=batch', '--set', 'train.epochs=1', '--set', 'train.max_steps=4', '--set', 'train.progress=none']
    problems = []
    for method in ['mcr', 'joint', 'ogm_ge']:
        runs = {}
        for n in (1, 2):
            out = tmp_path / f'{method}{n}'
            cmd = ([str(exe / 'torchrun'), '--nproc_per_node', '2', '--master_port', str(_free_port())] if n == 2 else []) + [str(exe / 'mcr_train'), '--method', method, *common, '--out', str(out)]
            p = subprocess.run(cmd, cwd=tmp_path, env=_env(), text=True, capture_output=True, timeout=150)
            assert p.returncode == 0, f"{method} with {n} process(es) failed:\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
            runs[n] = _summary(out)
        if runs[2]['steps'] != 4: problems.append(f"{method}: {runs[2]['steps']} steps with 2 processes; expected 4")
        keys = [k for k in runs[1] if k.startswith('test_')]
        bad = {k: (runs[2].get(k), runs[1][k]) for k in keys if runs[2].get(k) is None or abs(runs[2][k] - runs[1][k]) > 1e-4}
        if bad: problems.append(f"{method}: 2-process test metrics differ from 1 process: {bad}")
    assert not problems, '\n'.join(problems)
