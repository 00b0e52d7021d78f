"""Throughput of training per Table-1 config: the loader alone, the step alone and the whole loop, for joint and MCR.

Usage: python benchmarks/bench_throughput.py [--quick] [--device cpu|cuda] [--configs NAME,NAME] [--batches N]
                                             [--workers N] [--frame-dtype uint8|float32] [--out DIR]

For each config in `mcr_nb.benchmarks.BENCHMARKS` the script writes a small dataset in the benchmark's real
on-disk format with `mcr_nb.benchmarks.write_fixture` (the loader's own fixture writer), resolves
the run config as `mcr_train` does (`make_run_config`), builds the dataset, model, method and optimizer as the
learner does, and measures samples per second of
  (a) the loader alone: `mcr_nb.learner.iter_batches` over the training split, as an epoch reads it;
  (b) the step alone: forward, loss, backward and optimizer step on one batch already on the device (best of
      three rounds);
  (c) the whole loop: loader, copy to the device (with the dataset's `device_transform`, e.g. the normalisation of
      uint8 frames, through `mcr_nb.core.batch_to_device`) and step, as in training;
for the methods `joint` and `mcr`. Per config it prints one line with the word `bottleneck` naming what bounds
the loop (the loader or the step: whichever alone is slower) and the MCR/joint ratio of the step time, and one line
with the bytes of one item per input and their dtypes. The results go to
`benchmarks/results/throughput_<device>[_quick][_float32].json` with the device's name.

Frame datasets ship uint8 frames (their default `frame_dtype='uint8'`), normalised on the device after the copy;
`--frame-dtype float32` measures the old path (frames normalised in the loader, float32 items, 4x the bytes) and
writes its results to the file with the suffix `_float32`, so that the two can be compared.

`--quick` (meant to finish in under 3 minutes on 2 CPU cores; one torch thread unless `--threads` says otherwise) shrinks the inputs (32 px frames, 8 frames at most,
half-second audio, small encoder widths and latents: `mcr_nb.benchmarks.TINY_OVERRIDES`, as `tests/test_data_e2e.py`), uses batch 8 and times 4
batches per measurement; without it the configs' own shapes and batch sizes are used (meant for a GPU).
Configs whose optional dependencies are missing (`transformers`, `h5py`, `soundfile`, ...) are skipped, naming
the missing module. Timings are wall-clock (the loader runs in worker processes or the main thread); on a
shared machine run it twice and compare.
"""
import argparse, importlib.util, json, sys, tempfile, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import device_name, slug, sync   # shared with bench_mcr_step.py


def setup(name, method, root, dev, quick, batch, frame_dtype=None):
    "Dataset, model, method and optimizer of one run, built as the learner builds them."
    from mcr_nb.sweep import make_run_config
    from mcr_nb.config import method_params
    from mcr_nb.learner import build_data, build_model, get_method_class, make_optimizer
    from mcr_nb.benchmarks import TINY_OVERRIDES
    ovs = [f'data.root={root}'] + (TINY_OVERRIDES.get(name, []) + [f'data.batch_size={batch}'] if quick else [])
    if frame_dtype and not name.startswith(('mosi', 'mosei')): ovs.append(f'data.options.frame_dtype={frame_dtype}')   # the loaders with frames
    cfg = make_run_config(name, method, 0, 0, ovs)
    ds = build_data(cfg.data, 'train', cfg.fold)
    model = build_model(cfg.model, ds).to(dev)
    m = get_method_class(cfg.method)(method_params(cfg), model, ds.n_classes)
    if m.module is not None: m.module.to(dev)
    return cfg, ds, m, make_optimizer(m.parameters(), cfg.train)


def measure(name, method, root, dev, quick, n_batches, workers, frame_dtype=None):
    "Samples/s of the loader alone, the step alone and the whole loop for one config and method."
    from mcr_nb.learner import iter_batches
    from mcr_nb.core import batch_to_device, device_transform_of
    cfg, ds, m, opt = setup(name, method, root, dev, quick, 8, frame_dtype)
    bs = min(cfg.data.batch_size, len(ds))
    order = torch.randperm(len(ds), generator=torch.Generator().manual_seed(0))
    batches = [order[i:i + bs] for i in range(0, len(ds) - bs + 1, bs)] or [order]
    batches = (batches * (n_batches // len(batches) + 1))[:n_batches]
    nw = cfg.data.num_workers if workers is None else workers
    tf = device_transform_of(ds)   # e.g. uint8 frames -> normalised float32, on the device after the copy (as the learner does)
    move = lambda xb, y: (batch_to_device(xb, dev, tf), y.to(dev, non_blocking=True))

    def step(xb, y):
        opt.zero_grad(set_to_none=True)
        loss, _ = m.loss(m.forward(xb), y)
        loss.backward(); opt.step()

    for _ in iter_batches(ds, batches[:2], 0, seed=0): pass   # warm-up: imports, file cache
    t = time.perf_counter(); n = 0
    for xb, y in iter_batches(ds, batches, nw, seed=0): n += len(y)
    loader = n / (time.perf_counter() - t)
    xb, y = next(iter(iter_batches(ds, batches[:1], 0, seed=0)))
    item = {k: {'bytes': v.nbytes // len(y), 'dtype': str(v.dtype).removeprefix('torch.')} for k, v in xb.items()}   # what one item ships
    xb, y = move(xb, y)
    for _ in range(2): step(xb, y)   # warm-up (allocator, cudnn autotuning, caches)
    best = float('inf')
    for _ in range(3):   # the least disturbed of three rounds (the machine may be shared)
        sync(dev); t = time.perf_counter()
        for _ in range(n_batches): step(xb, y)
        sync(dev); best = min(best, time.perf_counter() - t)
    step_rate = n_batches * len(y) / best
    t = time.perf_counter(); n = 0
    for xb, y in iter_batches(ds, batches, nw, seed=1):
        step(*move(xb, y)); n += len(y)
    sync(dev); loop = n / (time.perf_counter() - t)
    return {'batch_size': len(y), 'num_workers': nw, 'batches': n_batches,
            'loader_samples_per_s': round(loader, 2), 'step_samples_per_s': round(step_rate, 2), 'loop_samples_per_s': round(loop, 2),
            'item': item}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='small shapes, batch 8, 4 batches per measurement (< 3 min on 2 CPU cores)')
    ap.add_argument('--device', default='cpu'); ap.add_argument('--configs', default='', help='comma-separated config names (default: all)')
    ap.add_argument('--batches', type=int, default=None, help='batches per measurement (default 4 with --quick, else 20)')
    ap.add_argument('--workers', type=int, default=None, help='DataLoader workers (default: the config\'s data.num_workers)')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: 1 with --quick, else torch\'s choice)')
    ap.add_argument('--frame-dtype', choices=('uint8', 'float32'), default=None,
                    help="frames of the frame datasets (default: the loaders' own, uint8); float32 = normalised in the loader")
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent / 'results'), help='folder for the JSON results')
    a = ap.parse_args()
    threads = a.threads or (1 if a.quick else None)   # --quick: one thread, so that a shared or small machine is not oversubscribed
    if threads: torch.set_num_threads(threads)
    dev = torch.device(a.device)
    if dev.type == 'cuda' and not torch.cuda.is_available(): sys.exit("bench_throughput: error: --device cuda but no CUDA device is visible")
    import mcr_nb.benchmarks
    names = [c for c in a.configs.split(',') if c] or list(mcr_nb.benchmarks.BENCHMARKS)
    n_batches = a.batches or (4 if a.quick else 20)
    res = {'device': device_name(dev), 'torch': torch.__version__, 'quick': a.quick, 'batches': n_batches,
           'frame_dtype': a.frame_dtype or 'uint8', 'configs': {}}
    print(f"torch {torch.__version__}, device {res['device']}, {'quick' if a.quick else 'full'} shapes, {n_batches} batches per measurement")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='mcr_throughput_') as tmp:
        for name in names:
            missing = [m for m in mcr_nb.benchmarks.NEEDS.get(name, ()) if importlib.util.find_spec(m) is None]
            if missing:
                print(f"{name}: skipped, needs the optional package(s) {', '.join(missing)} (not installed)")
                res['configs'][name] = {'skipped': f"needs {', '.join(missing)}"}; continue
            try:
                root = mcr_nb.benchmarks.write_fixture(name, Path(tmp) / name, tiny=a.quick, more_samples=True)
                r = {meth: measure(name, meth, root, dev, a.quick, n_batches, a.workers, a.frame_dtype) for meth in ('joint', 'mcr')}
            except ImportError as e:   # an optional dependency the loader or encoder needs
                print(f"{name}: skipped, needs {e.name or e} (not installed)")
                res['configs'][name] = {'skipped': f"needs {e.name or e}"}; continue
            for meth, v in r.items():
                print(f"{name} {meth}: loader {v['loader_samples_per_s']:.1f}, step {v['step_samples_per_s']:.1f}, "
                      f"loop {v['loop_samples_per_s']:.1f} samples/s (batch {v['batch_size']}, workers {v['num_workers']})")
            item = r['mcr']['item']
            print(f"{name}: bytes per item " + ', '.join(f"{k} {v['bytes']:,} ({v['dtype']})" for k, v in item.items())
                  + f"; {sum(v['bytes'] for v in item.values()):,} in all")
            mcr = r['mcr']
            bound = 'loader' if mcr['loader_samples_per_s'] < mcr['step_samples_per_s'] else 'step'
            ratio = r['joint']['step_samples_per_s'] / mcr['step_samples_per_s']
            print(f"{name}: bottleneck {bound} (MCR loop {mcr['loop_samples_per_s']:.1f} samples/s; loader alone "
                  f"{mcr['loader_samples_per_s']:.1f}, step alone {mcr['step_samples_per_s']:.1f}); MCR/joint step time {ratio:.2f}x")
            res['configs'][name] = {**r, 'bottleneck': bound, 'mcr_over_joint_step_time': round(ratio, 3)}
    res['seconds'] = round(time.perf_counter() - t0, 1)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    path = out / f"throughput_{slug(res['device'])}{'_quick' if a.quick else ''}{'_float32' if a.frame_dtype == 'float32' else ''}.json"
    path.write_text(json.dumps(res, indent=1) + '\n')
    print(f"results: {path} ({res['seconds']} s)")


if __name__ == '__main__':
    main()
