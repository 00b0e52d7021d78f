"""Own-data files (`mcr_nb.owndata`): every malformed input is one line naming the array and the problem."""
import numpy as np
import pytest

from mcr_nb.owndata import DataFileError, load_own_data, read_arrays


def _good(n=40):
    rng = np.random.default_rng(0)
    return {'x_a': rng.normal(size=(n, 3)).astype(np.float32), 'x_b': rng.normal(size=(n, 2, 4)), 'y': np.arange(n) % 4}


def _with(**kw):
    d = _good()
    for k, v in kw.items():
        if v is None: d.pop(k)
        else: d[k] = v
    return d


def _nan():
    x = _good()['x_a'].copy(); x[7, 1] = np.nan; x[9, 0] = np.inf
    return x


SPLIT_NO_VAL = np.array(['train'] * 30 + ['test'] * 10)

# (case, arrays, array named in the message, problem named in the message)
BAD = [
    ('missing y', _with(y=None), "'y'", "no array 'y'"),
    ('different lengths', _with(x_b=_good()['x_b'][:35]), "'x_b'", "has 35 samples but 'y' has 40"),
    ('nan and inf', _with(x_a=_nan()), "'x_a'", "2 NaN/inf value(s) (first in sample 7)"),
    ('negative labels', _with(y=np.arange(40) % 4 - 1), "'y'", "negative labels"),
    ('labels with a gap', _with(y=(np.arange(40) % 4) * 2), "'y'", "class(es) [1, 3, 5] have no samples"),
    ('one class only', _with(y=np.zeros(40, dtype=np.int64)), "'y'", "one class only"),
    ('bool labels', _with(y=np.arange(40) % 2 == 0), "'y'", "dtype bool"),
    ('nan regression target', _with(y=np.where(np.arange(40) == 3, np.nan, 1.0)), "'y'", "NaN/inf"),
    ('2-d labels', _with(y=np.zeros((40, 2), dtype=np.int64)), "'y'", "expected (N,)"),
    ('split without val', _with(split=SPLIT_NO_VAL), "'split'", "no 'val' samples"),
    ('unknown split value', _with(split=np.array(['train', 'val', 'test', 'dev'] * 10)), "'split'", "['dev']"),
    ('numeric split', _with(split=np.zeros(40)), "'split'", "expected strings"),
    ('one modality', _with(x_b=None), "x_a", "expected at least 2 arrays named x_<name>"),
    ('unexpected array', _with(z=np.zeros(40)), "'z'", "unexpected array"),
    ('modality without features', _with(x_a=np.zeros(40)), "'x_a'", "reshape to (N, 1)"),
    ('string modality', _with(x_a=np.array([['a']] * 40)), "'x_a'", "expected numbers"),
]


@pytest.mark.parametrize('case,arrays,array,problem', BAD, ids=[b[0] for b in BAD])
def test_bad_npz(tmp_path, case, arrays, array, problem):
    f = tmp_path / 'bad.npz'
    np.savez(f, **arrays)
    with pytest.raises(DataFileError) as e: load_own_data(f, 'train')
    msg = str(e.value)
    assert '\n' not in msg and str(f) in msg and array in msg and problem in msg, msg


@pytest.mark.parametrize('case,arrays,array,problem', BAD, ids=[b[0] for b in BAD])
def test_bad_folder(tmp_path, case, arrays, array, problem):
    for k, v in arrays.items(): np.save(tmp_path / f'{k}.npy', v)
    with pytest.raises(DataFileError) as e: load_own_data(tmp_path, 'train')
    msg = str(e.value)
    assert '\n' not in msg and array in msg and problem in msg, msg


def test_object_array_never_unpickled(tmp_path):
    f = tmp_path / 'obj.npz'
    np.savez(f, **_with(x_a=np.array([{'a': 1}] * 40, dtype=object)))  # savez pickles object arrays
    with pytest.raises(DataFileError, match=r"array 'x_a' is an object array \(it would need pickle"): read_arrays(f)
    np.save(tmp_path / 'x_a.npy', np.array([[1], 'b'], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError, match=r"array 'x_a' \(x_a.npy\) is an object array"): read_arrays(tmp_path)


@pytest.mark.parametrize('content,problem', [(b'not a zip archive at all', 'not an .npz archive'), (None, 'is a single .npy array')])
def test_not_npz(tmp_path, content, problem):
    f = tmp_path / 'data.npz'
    if content is None: np.save(tmp_path / 'one.npy', np.zeros(3)); (tmp_path / 'one.npy').rename(f)
    else: f.write_bytes(content)
    with pytest.raises(DataFileError, match=problem): load_own_data(f)


def test_truncated_npz(tmp_path):
    f = tmp_path / 'cut.npz'; np.savez(f, **_good(400))
    f.write_bytes(f.read_bytes()[:3000])
    with pytest.raises(DataFileError) as e: load_own_data(f)
    assert '\n' not in str(e.value) and str(f) in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such file or folder'): load_own_data(tmp_path / 'nope.npz')


def test_empty_folder(tmp_path):
    with pytest.raises(DataFileError, match='no .npy files'): load_own_data(tmp_path)


def test_good_file_splits_partition(tmp_path):
    f = tmp_path / 'ok.npz'; np.savez(f, **_good(80))  # 4 classes of 20: round(0.15 * 20) = 3 each to val and test
    sizes = {s: len(load_own_data(f, s)) for s in ('train', 'val', 'test')}
    assert sizes == {'train': 56, 'val': 12, 'test': 12}
    reg = tmp_path / 'reg.npz'; np.savez(reg, **_with(y=np.linspace(0, 1, 40)))
    ds = load_own_data(reg, 'train')
    assert ds.n_classes is None and ds.y.dtype.is_floating_point
