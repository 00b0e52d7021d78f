"""The installed console scripts, run as a user runs them: subprocesses of .venv/bin/mcr_train etc. on tiny synthetic configs."""
import csv, json, os, subprocess, sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
# A tiny, fast version of the default synthetic config: small MLPs, few steps, CPU, no progress bar.
TINY = ['train.epochs=2', 'train.max_steps=12', 'data.batch_size=64', 'model.hidden=16', 'model.latent=8',
        'train.device=cpu', 'train.progress=none', 'train.warmup_steps=0']


def cli(name, *args, check=None, timeout=120):
    "Run an installed console script; return the CompletedProcess (text output)."
    exe = BIN / name
    assert exe.exists(), f"console script {exe} is not installed; run `pip install -e .` (settings.ini console_scripts)"
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    if check is not None:
        assert r.returncode == check, f"{name} {' '.join(map(str, args))} exited {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
    return r


def train(out, method='joint', seed=0, *extra):
    return cli('mcr_train', '--config', 'synthetic-competition', '--method', method, '--seed', seed,
               '--set', *TINY, *extra, '--out', out, check=0)


@pytest.mark.parametrize('name,words', [('mcr_train', 'Train one method on one named config'),
                                        ('mcr_collect', 'Gather run folders'),
                                        ('mcr_sweep', 'Run a grid of mcr_train runs')])
def test_help_says_what_it_does(name, words):
    r = cli(name, '--help', check=0)
    assert words in ' '.join(r.stdout.split()), r.stdout


def test_list_names_configs_and_methods():
    out = cli('mcr_train', '--list', check=0).stdout
    for name in ('synthetic-competition', 'joint', 'multiloss', 'ensemble', 'mcr'):
        assert f'  {name}\n' in out, out


@pytest.mark.parametrize('args,words', [
    (['--config', 'synthetic-competiton', '--method', 'joint', '--out', 'x'], "unknown config (or pass a .yaml file) 'synthetic-competiton'"),
    (['--config', 'synthetic-competition', '--method', 'mcrr', '--out', 'x'], "unknown method 'mcrr'; expected one of:"),
    (['--config', 'synthetic-competition', '--method', 'joint', '--set', 'train.epoch=1', '--out', 'x'], "unknown key 'train.epoch'"),
    (['--config', 'synthetic-competition', '--out', 'x'], 'a new run needs --method'),
    (['--resume', '/nonexistent/run'], "'/nonexistent/run' is not a run folder"),
])
def test_user_errors_are_one_clear_line(args, words):
    r = cli('mcr_train', *args, check=2)
    assert r.stderr.startswith('mcr_train: error: ') and words in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr


def test_train_eval_collect(tmp_path):
    runs = tmp_path / 'runs'
    r = train(runs / 's0', 'joint', 0)
    assert f'run folder: {runs / "s0"}' in r.stdout
    for f in ('config.yaml', 'summary.json', 'last.pt'):
        assert (runs / 's0' / f).is_file(), f"mcr_train did not write {f}"
    train(runs / 's1', 'joint', 1)
    # a second run into the same folder is refused, with the way to continue it
    again = cli('mcr_train', '--config', 'synthetic-competition', '--method', 'joint', '--out', runs / 's0', check=2)
    assert f'--resume {runs / "s0"}' in again.stderr
    # --eval prints metrics of the saved run
    ev = cli('mcr_train', '--eval', runs / 's0', check=0)
    assert ev.stdout.strip().splitlines()[-1] == f'run folder: {runs / "s0"}'
    assert len(ev.stdout.splitlines()) >= 2
    # mcr_collect groups the two seeds into one row with n = 2
    col = cli('mcr_collect', runs, '--csv', tmp_path / 'table.csv', check=0)
    lines = [l for l in col.stdout.splitlines() if l.startswith('| synthetic-competition')]
    assert len(lines) == 1 and '| joint |' in lines[0] and '| 2 |' in lines[0] and ' ± ' in lines[0], col.stdout
    rows = list(csv.DictReader(open(tmp_path / 'table.csv')))
    assert len(rows) == 1 and rows[0]['n'] == '2' and rows[0]['method'] == 'joint'


def test_sweep_slices_and_skips(tmp_path):
    out = tmp_path / 'sweep'
    grid = ['--configs', 'synthetic-competition', '--methods', 'joint', 'multiloss', '--seeds', '0', '--set', *TINY, '--out', out]
    dry = cli('mcr_sweep', *grid, '--dry-run', check=0).stdout
    assert dry.count('todo') == 2 and '2 of 2 cells selected' in dry, dry
    first = cli('mcr_sweep', *grid, '--array-index', '0', '--array-size', '2', check=0).stdout
    assert 'done 1, skipped (finished before) 0, failed 0' in first, first
    # the same grid written as a YAML file has the same cells and run ids: the finished one is skipped
    import yaml
    (tmp_path / 'grid.yaml').write_text(yaml.safe_dump({'configs': ['synthetic-competition'], 'methods': ['joint', 'multiloss'],
                                                        'seeds': [0], 'common': TINY}))
    second = cli('mcr_sweep', tmp_path / 'grid.yaml', '--out', out, check=0).stdout
    assert 'done 1, skipped (finished before) 1, failed 0' in second, second
    assert len(list((out / 'results').glob('*.json'))) == 2
    table = [l for l in second.splitlines() if l.startswith('| synthetic-competition')]
    assert sorted(l.split('|')[2].strip() for l in table) == ['joint', 'multiloss'], second


# ---------------------------------------------------------------- every bad command line: one line, exit 2 (1: a stopped run)
# In-process (the console scripts' own functions), so the table stays cheap; `test_user_errors_are_one_clear_line`
# above runs a few of them through the installed executables.
import shutil, stat

SMALL = ['train.epochs=1', 'data.batch_size=128', 'model.hidden=8', 'model.latent=4', 'train.device=cpu', 'train.progress=none']

def new_run(out, *sets, method='joint', extra=()):
    return ['--config', 'synthetic-paper-ratio-1', '--method', method, *extra, '--set', *SMALL, *sets, '--out', str(out)]

def run_cmd(fn, argv, capsys):
    rc = fn(list(map(str, argv)))
    out, err = capsys.readouterr()
    return rc, out, err

@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    "A finished tiny run (copied by the tests that change it)."
    from mcr_nb.cli import mcr_train
    d = tmp_path_factory.mktemp('finished') / 'run'
    assert mcr_train(new_run(d)) == 0
    return d

def copy_run(finished, tmp):
    d = tmp / 'run'; shutil.copytree(finished, d); return d

def edit_config(d, old, new):
    p = d / 'config.yaml'; t = p.read_text(); assert old in t; p.write_text(t.replace(old, new, 1))

def no_summary(d):
    (d / 'summary.json').unlink(); return d

BAD = [  # id, setup(tmp, finished) -> argv, exit status, strings the one stderr line must contain
    ('out-is-a-file', lambda t, f: new_run((t / 'f').write_text('x') and t / 'f'), 2, ["is a file; a run folder must be a directory"]),
    ('ceb-hidden-negative', lambda t, f: new_run(t / 'r', 'method_params.ceb_hidden=-3', method='mcr'), 2, ["method_params.ceb_hidden must be >= 1, got -3"]),
    ('ceb-hidden-zero', lambda t, f: new_run(t / 'r', 'method_params.ceb_hidden=0', method='mcr'), 2, ["method_params.ceb_hidden must be >= 1, got 0"]),
    ('eta-min-negative', lambda t, f: new_run(t / 'r', 'train.eta_min=-0.1'), 2, ["train.eta_min must be a finite number >= 0, got -0.1"]),
    ('eta-min-above-lr', lambda t, f: new_run(t / 'r', 'train.eta_min=0.01'), 2, ["train.eta_min <= train.lr must hold", "train.lr=0.001"]),
    ('lr-nan', lambda t, f: new_run(t / 'r', 'train.lr=nan'), 2, ["train.lr must be a finite number > 0, got nan"]),
    ('seed-overflow', lambda t, f: new_run(t / 'r', extra=['--seed', '99999999999999999999']), 2, ["seed must be in [0, 4294967295], got 99999999999999999999"]),
    ('seed-negative', lambda t, f: new_run(t / 'r', extra=['--seed', '-1']), 2, ["seed must be in [0, 4294967295], got -1"]),
    ('fold-on-synthetic', lambda t, f: new_run(t / 'r', extra=['--fold', '7']), 2, ["has no folds; fold must be 0, got 7"]),
    ('method-twice', lambda t, f: new_run(t / 'r', 'method=mcr'), 2, ["--set method=mcr contradicts --method joint"]),
    ('yaml-alias-bomb', lambda t, f: ['--config', (t / 'bomb.yaml').write_text('a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\n') and t / 'bomb.yaml',
                                      '--method', 'joint', '--out', t / 'r'], 2, ["bomb.yaml' uses YAML anchors or aliases"]),
    ('yaml-empty', lambda t, f: ['--config', (t / 'e.yaml').write_text('') is not None and t / 'e.yaml', '--method', 'joint', '--out', t / 'r'], 2,
     ["e.yaml' is empty; expected a mapping"]),
    ('resume-edited-lr', lambda t, f: (edit_config(d := no_summary(copy_run(f, t)), 'lr: 0.001', 'lr: 0.01'), ['--resume', d])[1], 2,
     ["config.yaml was edited after the run started: train.lr: 0.001 -> 0.01"]),
    ('resume-edited-method', lambda t, f: (edit_config(d := no_summary(copy_run(f, t)), 'method: joint', 'method: mcr'), ['--resume', d])[1], 2,
     ["config.yaml was edited after the run started:", "method: 'joint' -> 'mcr'"]),
    ('resume-edited-no-checkpoint', lambda t, f: (edit_config(d := no_summary(copy_run(f, t)), 'seed: 0', 'seed: 5'),
                                                  [(d / x).unlink() for x in ('last.pt', 'best.pt')], ['--resume', d])[2], 2,
     ["config.yaml was edited after the run started (it no longer matches its recorded fingerprint) and no checkpoint exists yet"]),
    ('resume-truncated-config', lambda t, f: ((d := copy_run(f, t)) / 'config.yaml').write_text((d / 'config.yaml').read_text()[:400]) and ['--resume', d], 2,
     ["config.yaml"]),
    ('resume-empty-config', lambda t, f: ((d := copy_run(f, t)) / 'config.yaml').write_text('') is not None and ['--resume', d], 2, ["config.yaml' is empty"]),
    ('resume-set-unsafe', lambda t, f: ['--resume', copy_run(f, t), '--set', 'train.lr=0.1'], 2, ["--set on resume may change only train.epochs", "got train.lr"]),
    ('resume-short-metrics', lambda t, f: ((d := no_summary(copy_run(f, t))) / 'metrics.jsonl').write_text('{}\n') and ['--resume', d], 2,
     ["metrics.jsonl' holds 3 bytes but the checkpoint recorded", "restore it, or start a new run"]),
    ('eval-missing-best', lambda t, f: ((d := copy_run(f, t)) / 'best.pt').unlink() or ['--eval', d], 2,
     ["has no best.pt yet; evaluate last.pt with checkpoint='last' (mcr_train --eval DIR --checkpoint last)"]),
    ('weights-overflow', lambda t, f: new_run(t / 'r', 'train.lr=1e39', 'train.max_steps=1', 'train.schedule=constant'), 1,
     ["non-finite weights after step 1", "training stopped without writing them", "no checkpoint was written"]),
]
if not __import__('torch').cuda.is_available():
    BAD.append(('cuda-without-gpu', lambda t, f: new_run(t / 'r', 'train.device=cuda'), 2,
                ["train.device='cuda' but no CUDA device is visible (torch.cuda.is_available() is False)"]))


@pytest.mark.parametrize('setup,code,needles', [pytest.param(s, c, n, id=i) for i, s, c, n in BAD])
def test_bad_command_line_one_line(setup, code, needles, tmp_path, finished, capsys):
    from mcr_nb.cli import mcr_train
    argv = setup(tmp_path, finished)
    rc, out, err = run_cmd(mcr_train, argv, capsys)
    assert rc == code, f"exit {rc}, expected {code}\n{err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('mcr_train: error: '), err
    missing = [n for n in needles if n not in lines[0]]
    assert not missing, f"{lines[0]!r} lacks {missing}"


def test_weights_overflow_writes_no_checkpoint(tmp_path, capsys):
    from mcr_nb.cli import mcr_train
    rc, _, err = run_cmd(mcr_train, new_run(tmp_path / 'r', 'train.lr=1e39', 'train.max_steps=1', 'train.schedule=constant'), capsys)
    assert rc == 1 and not any((tmp_path / 'r' / f).exists() for f in ('last.pt', 'best.pt', 'summary.json')), err


def test_resume_finished_and_safe_set(tmp_path, finished, capsys):
    from mcr_nb.cli import mcr_train
    d = copy_run(finished, tmp_path)
    before = (d / 'summary.json').read_bytes()
    rc, out, err = run_cmd(mcr_train, ['--resume', d], capsys)
    assert rc == 0 and (d / 'summary.json').read_bytes() == before, err  # a finished run: exit 0, summary untouched
    rc, out, err = run_cmd(mcr_train, ['--resume', d, '--set', 'train.epochs=2', '--set', 'train.progress=none'], capsys)
    assert rc == 0, err
    assert json.loads((d / 'summary.json').read_text())['epochs'] == 2
    assert '# changed on resume: train.epochs: 1 -> 2' in (d / 'config.yaml').read_text()
    rc, out, err = run_cmd(mcr_train, ['--resume', d], capsys)  # the recorded change is the config now: a plain resume works
    assert rc == 0, err
    rc, out, err = run_cmd(mcr_train, ['--eval', d, '--checkpoint', 'last'], capsys)
    assert rc == 0 and 'test_acc:' in out, err
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in d.iterdir() if p.is_file() and p.name != '.lock'}
    assert len(set(modes.values())) == 1, modes  # checkpoints have the permissions of every other file


def test_lock_refuses_a_second_process(tmp_path, finished, capsys):
    from mcr_nb.cli import mcr_train
    from mcr_nb.core import RunLock
    d = no_summary(copy_run(finished, tmp_path))
    p = subprocess.Popen([sys.executable, '-c', f"from mcr_nb.core import RunLock; import time; l = RunLock({str(d)!r}); print('held', flush=True); time.sleep(60)"],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == 'held'
        rc, out, err = run_cmd(mcr_train, ['--resume', d], capsys)
        assert rc == 2 and f"is in use by another process (pid {p.pid})" in err, err
    finally:
        p.kill(); p.wait()
    RunLock(d).release()  # a killed holder releases the lock at once
    rc, out, err = run_cmd(mcr_train, ['--resume', d], capsys)
    assert rc == 0, err


def test_collect_counts_each_run_once_and_skips_bad_folders(tmp_path, finished, capsys, monkeypatch):
    from mcr_nb.cli import mcr_collect
    root = tmp_path / 'all'
    for i in range(2): shutil.copytree(finished, root / f'r{i}')
    shutil.copytree(finished, root / 'bad'); (root / 'bad' / 'summary.json').write_text('[1, 2]')
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_cmd(mcr_collect, ['all', str(root), 'all/r0'], capsys)  # the same runs reached three ways
    assert rc == 0, err
    row = [l for l in out.splitlines() if l.startswith('| synthetic-paper-ratio-1')]
    assert len(row) == 1 and '| 2 |' in row[0], out
    assert "mcr_collect: warning: skipped run folder" in err and "holds a list; expected a mapping of metrics" in err, err


def test_sweep_stops_in_one_line_on_non_finite(tmp_path, capsys):
    from mcr_nb.sweep import mcr_sweep
    rc, out, err = run_cmd(mcr_sweep, ['--configs', 'synthetic-paper-ratio-1', '--methods', 'joint', '--set', *SMALL,
                                       '--set', 'train.lr=1e39', 'train.max_steps=1', 'train.schedule=constant', '--out', tmp_path / 's'], capsys)
    assert rc == 1 and err.strip().startswith('mcr_sweep: error: non-finite weights') and len(err.strip().splitlines()) == 1, err


def test_dataloader_workers_ignore_sigint_and_sigterm():
    "Workers get the process group's signals; they must outlive them until the main process has saved."
    import signal, torch
    from mcr_nb.learner import iter_batches
    class Probe(torch.utils.data.Dataset):  # not in memory: goes through a DataLoader
        def __len__(self): return 4
        def __getitem__(self, i):
            ign = signal.getsignal(signal.SIGINT) == signal.SIG_IGN and signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
            return {'ignored': torch.tensor([float(ign)])}, torch.tensor(0)
    xb, _ = next(iter(iter_batches(Probe(), [torch.arange(4)], num_workers=1)))
    assert xb['ignored'].eq(1).all()
    assert signal.getsignal(signal.SIGINT) != signal.SIG_IGN  # the main process keeps its handlers


def test_print_config_is_plain_yaml_and_needs_no_out(capsys):
    import yaml
    from mcr_nb.cli import mcr_train
    rc, out, err = run_cmd(mcr_train, ['--config', 'synthetic-competition', '--method', 'mcr', '--set', 'train.lr=3e-4',
                                       '--set', 'method_params.n_perms=4', '--print-config'], capsys)
    assert rc == 0 and err == '', err
    d = yaml.safe_load(out)  # nothing but the YAML on stdout
    assert (d['method'], d['train']['lr'], d['method_params']['n_perms']) == ('mcr', 3e-4, 4)
    assert '!!' not in out and '&' not in out
