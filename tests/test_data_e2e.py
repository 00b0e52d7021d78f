"""A tiny end-to-end `mcr_train` run per benchmark config, on fixture files written in each benchmark's real format.

Each case writes a few-sample dataset with the loader's fixture writer (`mcr_nb.benchmarks.write_fixture`), runs
`mcr_train --config <benchmark> --method mcr --fold 0` for two optimiser steps with tiny encoders on CPU
(`mcr_nb.benchmarks.TINY_OVERRIDES`), and checks the run folder and the printed metrics. It exercises the whole path:
config registry -> dataset builder -> loader -> model builder -> MCR -> run folder.

The download cases go one step earlier: a tiny tree in each official download layout (written with the ffmpeg that
imageio-ffmpeg bundles, with the layout's quirks) -> `mcr_prep <benchmark>` -> the loader -> one training step.
"""
import importlib.util
import json

import pytest
import torch

import mcr_nb.benchmarks  # registers the benchmark configs, dataset prefixes and model kinds
from mcr_nb.benchmarks import NEEDS, TINY_OVERRIDES, write_fixture
from mcr_nb.cli import mcr_train
from mcr_nb.data.ave import write_ave_fixture
from mcr_nb.data.cremad import write_cremad_fixture
from mcr_nb.data.sthsth import write_sthsth_fixture

CASES = {name: (lambda d, name=name: write_fixture(name, d), TINY_OVERRIDES[name]) for name in TINY_OVERRIDES}


def test_every_benchmark_has_a_case():
    assert set(CASES) == set(mcr_nb.benchmarks.BENCHMARKS)


@pytest.mark.parametrize('name', sorted(CASES))
def test_tiny_mcr_train_run(name, tmp_path, capsys):
    torch.set_num_threads(1)
    if 'transformers' in NEEDS.get(name, ()) and importlib.util.find_spec('transformers') is None:
        pytest.skip(f"{name} needs the optional 'transformers' package (pip install 'mcr-nb[hf]'), not installed here")
    write, tiny = CASES[name]
    root = write(tmp_path)
    out = tmp_path / 'run'
    rc = mcr_train(['--config', name, '--method', 'mcr', '--fold', '0', '--out', str(out), '--set',
                    f'data.root={root}', 'data.batch_size=4', 'data.eval_batch_size=4', 'train.epochs=1', 'train.max_steps=2',
                    'train.warmup_steps=0', 'train.progress=none', 'method_params.n_perms=2', *tiny])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    for f in ('config.yaml', 'metrics.jsonl', 'last.pt', 'best.pt', 'summary.json'):
        assert (out / f).is_file(), f"{f} missing in the run folder"
    summary = json.loads((out / 'summary.json').read_text())
    assert summary, 'empty summary'
    if mcr_nb.benchmarks.BENCHMARKS[name].pretrained_encoders:   # the paper's '--pre': unimodal stages first
        assert sorted(p.name for p in (out / 'stages').iterdir()), 'no unimodal stage runs for a --pre config'
    assert 'run folder' in printed.out


def test_conformer_config_says_what_it_needs(tmp_path, capsys):
    root = write_cremad_fixture(tmp_path / 'CREMA-D', face_dim=24)
    rc = mcr_train(['--config', 'cremad-conformer', '--method', 'mcr', '--out', str(tmp_path / 'run'), '--set', f'data.root={root}',
                    'train.max_steps=1', 'train.progress=none'])
    assert rc == 2
    assert 'model.options.wav2vec2_path' in capsys.readouterr().err


def test_pretrained_columns_are_listed(capsys):
    assert mcr_train(['--list']) == 0
    out = capsys.readouterr().out
    for name in ('ave-hubert-vivit', 'sthsth-swin', 'sthsth-2p1d'): assert name in out


def test_hf_column_without_transformers_says_what_to_install(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a, **k: None if name == 'transformers' else real(name, *a, **k))
    root = write_ave_fixture(tmp_path / 'AVE', spec_shape=(257, 20), wav_seconds=0.25)
    rc = mcr_train(['--config', 'ave-hubert-vivit', '--method', 'mcr', '--out', str(tmp_path / 'run'), '--set', f'data.root={root}',
                    'data.options.max_seconds=0.25', 'train.max_steps=1', 'train.progress=none'])
    assert rc == 2
    assert "pip install 'mcr-nb[hf]'" in capsys.readouterr().err


def test_swin_config_asks_for_weights(tmp_path, capsys):
    root = write_sthsth_fixture(tmp_path / 'Something-Something')
    rc = mcr_train(['--config', 'sthsth-swin', '--method', 'mcr', '--out', str(tmp_path / 'run'), '--set', f'data.root={root}',
                    'data.options.image_size=16', 'data.options.n_frames=4', 'train.max_steps=1', 'train.progress=none'])
    assert rc == 2
    assert 'model.options.swin_path' in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------------
# From the official downloads: raw archive layout (written with the bundled ffmpeg) -> mcr_prep -> loader -> one step.
from mcr_nb.prep import mcr_prep  # noqa: E402

def _raw_case(name):
    "(download writer, prep-report checks, Table-1 config, tiny overrides) for each benchmark's download."
    from mcr_nb.prep_ave import write_ave_download
    from mcr_nb.prep_cremad import write_cremad_download
    from mcr_nb.prep_sthsth import write_sthsth_download
    from mcr_nb.prep_ucf import write_ucf_download
    case = {
        'cremad': (write_cremad_download, {'total': 12, 'usable': 12, 'skipped_by_reason': {}}, 'cremad-resnet'),
        'ave': (write_ave_download, {'total': 9, 'usable': 8, 'skipped_by_reason': {'no audio track': 1}}, 'ave-resnet'),
        'ucf': (write_ucf_download, {'total': 12, 'usable': 8, 'skipped_by_reason': {'no audio track': 4}}, 'ucf-resnet'),
        'sthsth': (write_sthsth_download, {'total': 13, 'usable': 12, 'skipped_by_reason': {'no video file': 1}}, 'sthsth-2p1d'),
    }[name]
    return case + (TINY_OVERRIDES[case[2]],)


@pytest.mark.parametrize('name', ['cremad', 'ave', 'ucf', 'sthsth'])
def test_download_to_training_step(name, tmp_path, capsys):
    torch.set_num_threads(1)
    write, expect, config, tiny = _raw_case(name)
    raw, out = write(tmp_path / 'raw'), tmp_path / 'prepared'
    assert mcr_prep([name, '--raw', str(raw), '--out', str(out), '--jobs', '2', '--quiet']) == 0, capsys.readouterr().err
    report = json.loads((out / 'prep_report.json').read_text())
    assert {k: report[k] for k in expect} == expect
    if name == 'cremad':   # the 1.5-s clip: three real frames (1-fps sampling alone gives two)
        assert len(list((out / 'Image-01-FPS' / '1001_IEO_NEU_HI').glob('*.jpg'))) == 3
    if name == 'ucf':      # HandstandPushups: label from classInd.txt (folder name), 1-based; the silent class is skipped
        from mcr_nb.data.ucf import read_ucf_index
        index = read_ucf_index(out / 'UCF_fps1_audio16000.h5')
        assert index['v_HandStandPushups_g02_c01.avi'][0] == 3
        assert [index[c][1:] for c in index if c.startswith('v_ApplyEyeMakeup')] == [(0, 0)] * 4   # indexed as silent, no data
    run = tmp_path / 'run'
    rc = mcr_train(['--config', config, '--method', 'mcr', '--fold', '0', '--out', str(run), '--set', f'data.root={out}',
                    'data.batch_size=4', 'data.eval_batch_size=4', 'train.epochs=1', 'train.max_steps=1', 'train.warmup_steps=0',
                    'train.progress=none', 'method_params.n_perms=2', *tiny])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assert json.loads((run / 'summary.json').read_text())


def test_prep_rerun_is_resumable_and_wrong_layout_exits_2(tmp_path, capsys):
    from mcr_nb.prep_ucf import write_ucf_download
    raw, out = write_ucf_download(tmp_path / 'raw', n_groups=2), tmp_path / 'UCF-101'
    assert mcr_prep(['ucf', '--raw', str(raw), '--out', str(out), '--chunk', '2', '--quiet']) == 0
    chunk_mtimes = {p.name: p.stat().st_mtime_ns for p in (out / 'ucf_chunks').iterdir()}
    (out / 'ucf_chunks' / sorted(chunk_mtimes)[-1]).unlink()       # as if killed before the last chunk was written
    assert mcr_prep(['ucf', '--raw', str(raw), '--out', str(out), '--chunk', '2', '--quiet']) == 0
    report = json.loads((out / 'prep_report.json').read_text())
    assert (report['written'] > 0, report['already_done'] > 0, report['usable']) == (True, True, 4)
    assert {p.name: p.stat().st_mtime_ns for p in (out / 'ucf_chunks').iterdir() if p.name != sorted(chunk_mtimes)[-1]} == \
        {k: v for k, v in chunk_mtimes.items() if k != sorted(chunk_mtimes)[-1]}      # finished chunks were not rewritten
    assert not [p for p in out.rglob('*') if '.tmp-' in p.name]
    assert mcr_prep(['ucf', '--raw', str(tmp_path / 'nothing'), '--out', str(tmp_path / 'x'), '--quiet']) == 2
    assert "missing" in capsys.readouterr().err
    import shutil                                                   # only silent clips left: nothing usable, exit 2
    for cls in ('Basketball', 'HandstandPushups'): shutil.rmtree(raw / 'UCF-101' / cls)
    assert mcr_prep(['ucf', '--raw', str(raw), '--out', str(tmp_path / 'silent'), '--quiet']) == 2
    assert 'no usable clip among 2' in capsys.readouterr().err
    assert json.loads((tmp_path / 'silent' / 'prep_report.json').read_text())['skipped_by_reason'] == {'no audio track': 2}
