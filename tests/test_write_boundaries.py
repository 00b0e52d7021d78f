"""Crash consistency at every write boundary (the central reliability guarantee).

A tiny MCR run is killed with SIGKILL right after its N-th durable write, for every N from 1 to the number of
durable writes of the run (config.yaml, metrics appends, best.pt, last.pt, summary.json), then resumed with
`mcr_train --resume`; the final weights, `summary.json` (all but `seconds`), the test metrics and the logged
history (all but the wall-clock `VOLATILE_KEYS` of `mcr_nb.learner`) must be bit-identical to an uninterrupted run. The kill comes from the environment hook of
`mcr_nb.core.durable_write_done` (`MCR_FAULT_AFTER_WRITES=N`), so no boundary is left to chance. The same is done
for SIGTERM and SIGINT at several steps: the run finishes the step, writes last.pt, exits 1, and resumes exactly.

One driver process imports the package once and forks one child per run, so each boundary costs a run, not a
Python start-up. `MCR_TEST_FLAGS=slow` adds the same sweep through `mcr_sweep` and a run with mid-epoch checkpoints.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SLOW = 'slow' in os.environ.get('MCR_TEST_FLAGS', '').split()

DRIVER = textwrap.dedent(r'''
    import json, os, signal, sys, io, contextlib
    from pathlib import Path
    import torch
    torch.set_num_threads(1)
    import mcr_nb.core as core
    from mcr_nb import learner
    from mcr_nb.cli import mcr_train
    from mcr_nb.sweep import mcr_sweep

    root, mode, extra = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    from mcr_nb.config import load_plugins
    load_plugins()  # imported once here, not in every forked run
    SET = ['train.epochs=2', 'data.batch_size=128', 'model.hidden=16', 'model.latent=8', 'train.device=cpu',
           'train.progress=none', 'train.warmup_steps=3', 'train.T_0=5', 'train.log_every=4', 'method_params.n_perms=2'] + extra
    NEW = ['--config', 'synthetic-paper-ratio-1', '--method', 'mcr', '--seed', '7', '--set', *SET]

    def child(fn, env=None, signal_at=None):
        "Run fn() in a forked child; return ('exit', code) or ('signal', signum), and the child's stderr."
        errf = root / f'.stderr{os.getpid()}'
        pid = os.fork()
        if pid == 0:
            fd = os.open(errf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC); os.dup2(fd, 2)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            os.environ.update(env or {}); core._WRITES['n'] = 0
            if signal_at is not None:
                sig, step = signal_at; one = learner.Learner._one_batch
                def patched(self):
                    one(self)
                    if self.step == step: os.kill(os.getpid(), sig)
                learner.Learner._one_batch = patched
            rc = 3
            try: rc = fn()
            finally: os._exit(rc)
        _, st = os.waitpid(pid, 0)
        err = errf.read_text() if errf.exists() else ''
        return (('signal', os.WTERMSIG(st)) if os.WIFSIGNALED(st) else ('exit', os.WEXITSTATUS(st))), err

    def train(out):
        if mode == 'train': return lambda: mcr_train(NEW + ['--out', str(out)])
        return lambda: mcr_sweep(['--configs', 'synthetic-paper-ratio-1', '--methods', 'mcr', '--seeds', '7', '--set', *SET, '--out', str(out)])
    def resume(out):
        if mode == 'train': return lambda: mcr_train(['--resume', str(out)])
        return train(out)  # a sweep is resumed by running it again

    def run_dir(out):
        return out if mode == 'train' else next((out / 'runs').iterdir())

    def fail(msg): print(msg); sys.exit(1)

    ref = root / 'ref'
    (kind, rc), err = child(train(ref))
    if (kind, rc) != ('exit', 0): fail(f'reference run failed: {kind} {rc}\n{err}')
    report = {'boundaries': 0, 'signals': []}
    n = 1
    while True:
        out = root / f'kill{n}'
        (kind, code), err = child(train(out), {'MCR_FAULT_AFTER_WRITES': str(n)})
        if kind == 'exit':
            if code != 0: fail(f'run with a fault after write {n} exited {code}\n{err}')
            break  # fewer than n durable writes: every boundary was covered
        if code != signal.SIGKILL: fail(f'killed by signal {code}, expected SIGKILL')
        (kind, code), err = child(resume(out))
        if (kind, code) != ('exit', 0): fail(f'resume after a kill at write {n} ended {kind} {code}\n{err}')
        report['boundaries'] = n; n += 1
    for sig, step in [(signal.SIGTERM, 1), (signal.SIGINT, 5), (signal.SIGTERM, 8)] if mode == 'train' else []:
        out = root / f'sig{sig}_{step}'
        (kind, code), err = child(train(out), signal_at=(sig, step))
        if (kind, code) != ('exit', 1) or 'mcr_train: error: stopped by' not in err or '--resume' not in err or 'Traceback' in err:
            fail(f'{signal.Signals(sig).name} at step {step}: ended {kind} {code}, stderr:\n{err}')
        report['signals'].append([signal.Signals(sig).name, step, err.strip().splitlines()[-1]])
        (kind, code), err = child(resume(out))
        if (kind, code) != ('exit', 0): fail(f'resume after {signal.Signals(sig).name} ended {kind} {code}\n{err}')

    # every run folder must equal the reference, bit for bit
    def same(a, b, where):
        if isinstance(a, torch.Tensor):
            if not (isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)): fail(f'tensors differ at {where}')
        elif isinstance(a, dict):
            if a.keys() != b.keys(): fail(f'keys differ at {where}: {sorted(a)} vs {sorted(b)}')
            for k in a: same(a[k], b[k], f'{where}.{k}')
        elif isinstance(a, (list, tuple)):
            if len(a) != len(b): fail(f'lengths differ at {where}')
            for i, (x, y) in enumerate(zip(a, b)): same(x, y, f'{where}[{i}]')
        elif a != b: fail(f'values differ at {where}: {a!r} vs {b!r}')
    def records(d): return [{k: v for k, v in json.loads(l).items() if k not in learner.VOLATILE_KEYS} for l in (d / 'metrics.jsonl').read_text().splitlines()]
    def summ(d): return {k: v for k, v in json.loads((d / 'summary.json').read_text()).items() if k != 'seconds'}  # stop_reason too: restored from last.pt
    R = run_dir(ref)
    for out in sorted(p for p in root.iterdir() if p.is_dir() and p.name != 'ref'):
        D = run_dir(out)
        same(summ(R), summ(D), f'{out.name}/summary.json')
        same(records(R), records(D), f'{out.name}/metrics.jsonl')
        if (R / 'metrics.csv').read_text().count('\n') != (D / 'metrics.csv').read_text().count('\n'): fail(f'{out.name}/metrics.csv has another number of rows')
        for f in ('last.pt', 'best.pt'):
            a, b = core.load_checkpoint(R / f), core.load_checkpoint(D / f)
            for part in ('model', 'method_module', 'opt', 'counters', 'callbacks', 'rng'):
                if part == 'callbacks':  # byte offsets of the logs depend on the width of wall-clock times
                    for c in (a, b): c['callbacks']['LoggerCB'].pop('offsets')
                same(a[part], b[part], f'{out.name}/{f}:{part}')
        if mode == 'sweep':
            ra, rb = (json.loads(next((o / 'results').iterdir()).read_text()) for o in (ref, out))
            same(ra['metrics'] | {'seconds': 0}, rb['metrics'] | {'seconds': 0}, f'{out.name}/results')
    report['runs_compared'] = len([p for p in root.iterdir() if p.is_dir()]) - 1
    report['test_acc'] = json.loads((R / 'summary.json').read_text())['test_acc']
    print(json.dumps(report))
''')


def drive(tmp_path, mode, extra=()):
    script = tmp_path / 'driver.py'; script.write_text(DRIVER)
    runs = tmp_path / 'runs'; runs.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MCR_FAULT_AFTER_WRITES')}
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    r = subprocess.run([sys.executable, str(script), str(runs), mode, json.dumps(list(extra))], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=600)
    assert r.returncode == 0, f"driver failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_every_write_boundary_and_signals_resume_exactly(tmp_path):
    rep = drive(tmp_path, 'train')
    # config.yaml, two metrics appends, best.pt and last.pt per epoch (2 epochs), summary.json
    assert rep['boundaries'] >= 8, rep
    assert rep['runs_compared'] == rep['boundaries'] + 1 + 3, rep  # + the run with too few writes to be killed, + signals
    assert [s[:2] for s in rep['signals']] == [['SIGTERM', 1], ['SIGINT', 5], ['SIGTERM', 8]], rep
    for name, step, line in rep['signals']:
        assert line.startswith(f'mcr_train: error: stopped by {name} after step {step} ') and 'continue with: mcr_train --resume' in line, line


@pytest.mark.skipif(not SLOW, reason='slow: set MCR_TEST_FLAGS=slow')
def test_every_write_boundary_mid_epoch_checkpoints(tmp_path):
    rep = drive(tmp_path, 'train', ['train.checkpoint_every_steps=4'])
    assert rep['boundaries'] >= 14, rep


@pytest.mark.skipif(not SLOW, reason='slow: set MCR_TEST_FLAGS=slow')
def test_every_write_boundary_of_a_sweep(tmp_path):
    rep = drive(tmp_path, 'sweep')
    assert rep['boundaries'] >= 9, rep  # the run's writes and the sweep's result file
