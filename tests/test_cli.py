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
