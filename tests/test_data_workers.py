"""The benchmark loaders under a multi-process DataLoader: what CPU training and GPU runs use.

HDF5 handles do not survive `fork`, so the Something-Something loader must reopen its stores in each worker; the
other loaders must give the same evaluation items in workers as in the main process.
"""
import torch
from torch.utils.data import DataLoader

from mcr_nb.data.ave import AVEDataset, write_ave_fixture
from mcr_nb.data.sthsth import SthSthDataset, write_sthsth_fixture


def _all(ds, workers):
    batches = list(DataLoader(ds, batch_size=3, num_workers=workers))
    return {m: torch.cat([b[0][m] for b in batches]) for m in batches[0][0]}, torch.cat([b[1] for b in batches])


def test_sthsth_workers_match_main_process(tmp_path):
    root = write_sthsth_fixture(tmp_path / 'Something-Something')
    ds = SthSthDataset(root, 'val', n_frames=4, image_size=16)
    ds[0]  # open the stores in the parent first, as an evaluation before training would
    x0, y0 = _all(ds, 0)
    x2, y2 = _all(ds, 2)
    assert torch.equal(y0, y2)
    for m in x0: assert torch.allclose(x0[m], x2[m])


def test_ave_workers_match_main_process(tmp_path):
    root = write_ave_fixture(tmp_path / 'AVE', spec_shape=(257, 50))
    ds = AVEDataset(root, 'test', image_size=16)
    x0, y0 = _all(ds, 0)
    x2, y2 = _all(ds, 2)
    assert torch.equal(y0, y2) and torch.equal(x0['audio'], x2['audio']) and torch.allclose(x0['video'], x2['video'])
