"""Own data and plugins from the command line: `--data`, `--plugin` (parent and spawned workers, entry points),
`--threads`, and the `mcr_train --list` format that tools read."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TINY = ['train.epochs=1', 'train.progress=none', 'model.hidden=16', 'model.latent=8']


def _run(*args, env=None, cwd=None):
    e = {**os.environ, 'OMP_NUM_THREADS': '1', **(env or {})}
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, env=e, cwd=cwd, timeout=300)


@pytest.fixture(scope='module')
def npz(tmp_path_factory):
    rng = np.random.default_rng(0); n = 400; y = rng.integers(0, 3, n)
    f = tmp_path_factory.mktemp('data') / 'mydata.npz'
    np.savez(f, x_photo=(rng.normal(size=(n, 1, 6, 6)) + y[:, None, None, None]).astype(np.float32),
             x_sound=(rng.normal(size=(n, 5, 3)) + 0.5 * y[:, None, None]).astype(np.float32), y=y)
    return f


PLUGIN = textwrap.dedent('''
    import torch
    from mcr_nb.config import register_config, get_config, apply_overrides
    from mcr_nb.learner import register_dataset, TensorMultimodalDataset

    def _build(cfg, name, split, fold):
        g = torch.Generator().manual_seed({'train': 0, 'val': 1, 'test': 2}[split])
        y = torch.arange(300) % 2
        return TensorMultimodalDataset({'eye': torch.randn(300, 4, generator=g) + y[:, None].float(),
                                        'ear': torch.randn(300, 3, generator=g)}, y, 2)

    register_dataset('plugdata', _build)
    register_config('plug-config')(lambda: apply_overrides(get_config('synthetic-competition'), ['data.name=plugdata:any']))
''')


@pytest.fixture(scope='module')
def plugin_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('plug')
    (d / 'my_mcr_plugin.py').write_text(PLUGIN)
    return d


def test_train_with_data_and_threads(tmp_path, npz):
    "The console entry point in a fresh interpreter with OMP_NUM_THREADS=2: --threads 1 takes effect, the run is named by the file."
    code = ("import torch; from mcr_nb.cli import mcr_train; "
            f"rc = mcr_train(['--data', {str(npz)!r}, '--method', 'mcr', '--out', {str(tmp_path / 'run')!r}, '--threads', '1', '--set', *{TINY!r}]); "
            "print('threads', torch.get_num_threads(), 'rc', rc)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '2'}, timeout=300)
    assert 'threads 1 rc 0' in r.stdout, r.stdout + r.stderr
    assert 'test_acc_photo' in r.stdout and 'test_acc_sound' in r.stdout
    cfg = (tmp_path / 'run' / 'config.yaml').read_text()
    assert 'name: mydata' in cfg and f'npz:{npz.resolve()}' in cfg and 'kind: auto' in cfg
    assert json.loads((tmp_path / 'run' / 'trained_parts.json').read_text())['head'] == {'photo': True, 'sound': True}


def test_train_data_errors(tmp_path, npz, capsys):
    from mcr_nb.cli import mcr_train
    def err(*argv):
        rc = mcr_train(list(argv)); e = capsys.readouterr().err
        assert rc == 2 and e.count('\n') == 1, e
        return e
    assert 'no such file or folder' in err('--data', str(tmp_path / 'missing.npz'), '--method', 'joint', '--out', str(tmp_path / 'r'))
    bad = tmp_path / 'bad.npz'; np.savez(bad, x_a=np.zeros((10, 2)), x_b=np.zeros((9, 2)), y=np.arange(10) % 2)
    assert "array 'x_b' has 9 samples but 'y' has 10" in err('--data', str(bad), '--method', 'joint', '--out', str(tmp_path / 'r'))
    assert '--threads must be >= 1' in err('--data', str(npz), '--method', 'joint', '--out', str(tmp_path / 'r'), '--threads', '0')


def test_bench_with_data_names_modalities(tmp_path, npz, capsys):
    from mcr_nb.bench import mcr_bench
    rc = mcr_bench(['--data', str(npz), '--methods', 'joint', 'unimodal', '--seeds', '0', '--jobs', '1', '--quiet',
                    '--out', str(tmp_path / 'b'), '--set', *TINY])
    assert rc == 0, capsys.readouterr()
    table = (tmp_path / 'b' / 'table.md').read_text()
    assert '| method | runs | test acc | head photo | head sound | probe photo | probe sound |' in table  # the file's order
    assert '| unimodal-photo | 1 |' in table and '| unimodal-sound | 1 |' in table and 'nan' not in table
    assert '| joint | 1 |' in table and '-: no number' in table  # joint's heads are untrained
    assert (tmp_path / 'b' / 'bench.png').is_file()


def test_plugin_reaches_spawned_workers(tmp_path, plugin_dir):
    env = {'PYTHONPATH': str(plugin_dir)}
    r = _run('mcr_bench', '--plugin', 'my_mcr_plugin', '--config', 'plug-config', '--methods', 'joint', '--seeds', '0', '1',
             '--jobs', '2', '--quiet', '--out', str(tmp_path / 'b'), '--set', *TINY, env=env)
    assert r.returncode == 0 and 'FAILED' not in r.stdout + r.stderr, r.stdout + r.stderr
    assert '| joint | 2 |' in r.stdout and 'probe eye' in r.stdout


def test_main_registration_is_refused_for_workers(monkeypatch):
    from mcr_nb import config, learner
    config.load_plugins()  # the built-in registrations first, into the real registries; the test's own go into copies
    monkeypatch.setattr(config, '_CONFIGS', dict(config._CONFIGS)); monkeypatch.setattr(learner, '_DATASETS', dict(learner._DATASETS))
    from mcr_nb.bench import check_spawnable
    from mcr_nb.learner import register_dataset
    from mcr_nb.sweep import Grid
    from mcr_nb.config import register_config, get_config, apply_overrides
    def builder(cfg, name, split, fold): raise AssertionError('not built')
    builder.__module__ = '__main__'
    register_dataset('mainonly', builder)
    register_config('mainonly-config')(lambda: apply_overrides(get_config('synthetic-competition'), ['data.name=mainonly:x']))
    with pytest.raises(RuntimeError, match=r"dataset prefix 'mainonly' is registered in __main__"):
        check_spawnable([Grid(configs=['mainonly-config'], methods=['joint'])])


@pytest.mark.parametrize('script,args', [('mcr_train', ['--list']), ('mcr_sweep', ['--out', 'x', '--configs', 'a', '--methods', 'joint']),
                                         ('mcr_bench', ['--out', 'x']), ('mcr_collect', ['x']), ('mcr_diagnose', ['--config', 'x']),
                                         ('mcr_synth', ['--check']), ('mcr_prep', ['avdigits', '--out', 'x'])])
def test_unimportable_plugin_is_an_error(tmp_path, capsys, monkeypatch, script, args):
    "In-process (each script's function, as its console entry point calls it); the registry is restored afterwards."
    import importlib
    from mcr_nb import config
    mod, fn = {'mcr_train': ('cli', 'mcr_train'), 'mcr_sweep': ('sweep', 'mcr_sweep'), 'mcr_bench': ('bench', 'mcr_bench'),
               'mcr_collect': ('cli', 'mcr_collect'), 'mcr_diagnose': ('diagnose', 'mcr_diagnose'),
               'mcr_synth': ('synthetic', 'mcr_synth'), 'mcr_prep': ('prep', 'mcr_prep')}[script]
    main = getattr(importlib.import_module(f'mcr_nb.{mod}'), fn)
    monkeypatch.chdir(tmp_path); monkeypatch.setattr(config, 'PLUGINS', list(config.PLUGINS))
    pre = ['--plugin', 'no_such_module_xyz'] if script == 'mcr_prep' else []
    post = [] if script == 'mcr_prep' else ['--plugin', 'no_such_module_xyz']
    rc = main([*pre, *args, *post])
    err = capsys.readouterr().err
    assert rc == 2 and "plugin module 'no_such_module_xyz' cannot be imported" in err, err


def test_entry_point_plugin(tmp_path, plugin_dir, monkeypatch):
    "An installed distribution's entry point in group mcr_nb.plugins is imported without any flag; a broken one is an error naming it."
    import importlib
    from mcr_nb import config
    from mcr_nb.config import list_configs, load_plugins, PluginError
    dist = tmp_path / 'my_mcr_plugin-0.1.dist-info'; dist.mkdir()
    (dist / 'METADATA').write_text('Metadata-Version: 2.1\nName: my-mcr-plugin\nVersion: 0.1\n')
    (dist / 'entry_points.txt').write_text('[mcr_nb.plugins]\nmine = my_mcr_plugin\n')
    from mcr_nb import learner
    load_plugins()  # the built-in registrations first, into the real registries; the test's own go into copies
    monkeypatch.setattr(config, '_LOADED', set(config._LOADED)); monkeypatch.setattr(config, '_CONFIGS', dict(config._CONFIGS))
    monkeypatch.setattr(config, '_EP_SCANNED', set(config._EP_SCANNED))
    monkeypatch.setattr(learner, '_DATASETS', dict(learner._DATASETS)); monkeypatch.delitem(sys.modules, 'my_mcr_plugin', raising=False)
    assert 'plug-config' not in list_configs()
    monkeypatch.syspath_prepend(str(tmp_path)); monkeypatch.syspath_prepend(str(plugin_dir)); importlib.invalidate_caches()
    assert 'plug-config' in list_configs()  # the entry point was found and imported, no flag
    (dist / 'entry_points.txt').write_text('[mcr_nb.plugins]\nbroken = not_a_module_abc\n')
    monkeypatch.setattr(config, '_EP_SCANNED', set())  # entry points are scanned once per sys.path; a new process would rescan
    with pytest.raises(PluginError, match=r"plugin entry point 'broken' \(not_a_module_abc\) of group 'mcr_nb.plugins' cannot be imported"):
        load_plugins()


def test_list_format(capsys):
    from mcr_nb.cli import mcr_train
    assert mcr_train(['--list']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == 'configs:' and 'methods:' in lines
    assert all(l in ('configs:', 'methods:') or (l.startswith('  ') and not l.startswith('   ') and ' ' not in l.strip()) for l in lines)
    assert '  owndata' in lines


def test_print_config_with_data(tmp_path, npz, capsys):
    "`--print-config` with `--data`: the resolved YAML only, no run folder; it loads back as the same config."
    import yaml
    from mcr_nb.cli import mcr_train
    from mcr_nb.config import config_to_dict, get_config
    rc = mcr_train(['--data', str(npz), '--method', 'mcr', '--print-config', '--set', 'train.epochs=7'])
    out = capsys.readouterr().out
    assert rc == 0
    d = yaml.safe_load(out)
    assert d['name'] == 'mydata' and d['data']['name'] == f'npz:{npz.resolve()}' and d['model']['kind'] == 'auto' and d['train']['epochs'] == 7
    f = tmp_path / 'mine.yaml'; f.write_text(out)
    assert config_to_dict(get_config(str(f))) == d


def test_script_without_main_guard_fails_fast(tmp_path):
    "Spawned workers re-run an unguarded script; the benchmark stops with a message naming the guard instead of hanging."
    (tmp_path / 'script.py').write_text(
        "from mcr_nb.bench import run_bench, BenchPreset\n"
        "run_bench(BenchPreset(['joint'], [0, 1], overrides=['train.epochs=1', 'train.progress=none', 'train.max_steps=5']), 'out', jobs=2)\n")
    r = subprocess.run([sys.executable, 'script.py'], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode != 0 and "without an `if __name__ == '__main__':` guard" in r.stderr, r.stderr[-2000:]
