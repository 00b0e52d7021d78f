"""Cost of estimating each modality's unique information: latent-space vs input-space perturbation.

Latent-space perturbation (MCR's permutation) re-runs only the fusion head on K perturbed copies; input-space
perturbation re-runs modality m's encoder on K perturbed inputs. This script measures both on a two-modality
model whose encoders are ResNet18s (mcr_nb.encoders.ResNet18, about 1.8 GMACs per 224x224 image), in one run,
and prints the ratios. A second table repeats the comparison as the encoder grows (ResNet18 at reduced widths).
Wall time is the median of --repeats calls of `model_unique_information` (the shared clean forward included;
modes interleaved, so background load affects them alike);
peak memory is the peak resident set size of a fresh subprocess running one call (minus a subprocess that runs
only the clean forward).

    python benchmarks/bench_estimators.py                 # full run (CPU, 1 thread: about a minute)
    python benchmarks/bench_estimators.py --size 112 --repeats 1 --json out.json
"""
from __future__ import annotations
import argparse, json, statistics, subprocess, sys, time

import torch
from torch.utils.flop_counter import FlopCounterMode

from mcr_nb.encoders import ResNet18
from mcr_nb.models import MultimodalModel
from mcr_nb.estimators import EstimatorConfig, model_unique_information

MODES = {'latent_permute': 'permute', 'input_noise': 'input_noise', 'input_zero': 'input_zero'}


def build(widths, size, batch, n_classes=10, seed=0):
    "A frames + spectrogram model with ResNet18 encoders, late linear fusion, and a random batch."
    torch.manual_seed(seed)
    enc = {'frames': ResNet18(3, widths), 'spec': ResNet18(1, widths)}
    model = MultimodalModel(enc, {m: widths[-1] for m in enc}, n_classes).eval()
    g = torch.Generator().manual_seed(seed)
    x = {'frames': torch.randn(batch, 3, size, size, generator=g), 'spec': torch.randn(batch, 1, size, size, generator=g)}
    return model, x, torch.randint(n_classes, (batch,), generator=g)


def gmacs(widths, size):
    "Multiply-accumulates (G) of one ResNet18 forward on a single 3-channel image."
    net = ResNet18(3, widths).eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad(): net(torch.randn(1, 3, size, size))
    return fc.get_total_flops() / 2e9


def run_once(model, x, y, mode, n_perms, seed=0):
    if mode == 'forward':
        with torch.no_grad(): return model(x)
    return model_unique_information(model, x, y, EstimatorConfig(kind=MODES[mode], n_perms=n_perms),
                                    generator=torch.Generator().manual_seed(seed))


def timed(model, x, y, modes, n_perms, repeats):
    "Median wall time per mode; the modes are interleaved so that background load hits them alike."
    for mode in modes: run_once(model, x, y, mode, n_perms)  # warm-up
    ts = {mode: [] for mode in modes}
    for _ in range(repeats):
        for mode in modes:
            t = time.perf_counter(); run_once(model, x, y, mode, n_perms); ts[mode].append(time.perf_counter() - t)
    return {mode: statistics.median(v) for mode, v in ts.items()}


def peak_rss_mb(args, widths, mode):
    "Peak resident memory (MB) of a fresh process that builds the model and runs `mode` once."
    cmd = [sys.executable, __file__, '--_child', mode, '--size', str(args.size), '--batch', str(args.batch),
           '--n-perms', str(args.n_perms), '--threads', str(args.threads), '--widths', ','.join(map(str, widths))]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def compare(args, widths, size, memory):
    model, x, y = build(widths, size, args.batch)
    row = {'widths': list(widths), 'size': size, 'gmacs_per_image': round(gmacs(widths, size), 3)}
    for mode, t in timed(model, x, y, ['forward', *MODES], args.n_perms, args.repeats).items(): row[f'{mode}_s'] = t
    for mode in ('input_noise', 'input_zero'): row[f'ratio_{mode}'] = row[f'{mode}_s'] / row['latent_permute_s']
    if memory:
        base = peak_rss_mb(args, widths, 'forward')
        for mode in MODES: row[f'{mode}_extra_mb'] = peak_rss_mb(args, widths, mode) - base
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', type=int, default=224, help='image side for the ResNet18-cost comparison')
    p.add_argument('--batch', type=int, default=4, help='batch size B')
    p.add_argument('--n-perms', type=int, default=32, help='perturbations K per sample (the paper uses 32)')
    p.add_argument('--repeats', type=int, default=3, help='timed calls per mode (median reported)')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    p.add_argument('--sweep-size', type=int, default=64, help='image side for the encoder-growth sweep (0: skip)')
    p.add_argument('--no-memory', action='store_true', help='skip the peak-memory subprocesses')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    p.add_argument('--widths', default='64,128,256,512', help=argparse.SUPPRESS)
    p.add_argument('--_child', default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    widths = tuple(int(w) for w in args.widths.split(','))
    if args._child:
        model, x, y = build(widths, args.size, args.batch)
        run_once(model, x, y, args._child, args.n_perms)
        with open('/proc/self/status') as f:  # VmHWM: this process's peak resident set (ru_maxrss survives exec)
            print(next(int(l.split()[1]) for l in f if l.startswith('VmHWM')) / 1024)
        return
    print(f'torch {torch.__version__}, {args.threads} thread(s), batch {args.batch}, K = {args.n_perms}, 2 modalities')
    main_row = compare(args, widths, args.size, not args.no_memory)
    print(f"\nResNet18 encoders at {args.size}x{args.size}: {main_row['gmacs_per_image']:.2f} GMACs per image")
    print(f"  clean forward            {main_row['forward_s'] * 1e3:9.1f} ms")
    for mode in MODES:
        mem = f", peak memory {main_row[f'{mode}_extra_mb']:+.0f} MB" if not args.no_memory else ''
        print(f"  {mode:<24s} {main_row[f'{mode}_s'] * 1e3:9.1f} ms{mem}")
    print(f"  ratio input_noise / latent_permute = {main_row['ratio_input_noise']:.1f}x, "
          f"input_zero / latent_permute = {main_row['ratio_input_zero']:.1f}x")
    sweep = []
    if args.sweep_size:
        print(f'\nAs the encoder grows (ResNet18 widths, {args.sweep_size}x{args.sweep_size} inputs):')
        print(f"  {'widths':<20s} {'GMACs':>7s} {'latent ms':>10s} {'input ms':>10s} {'ratio':>7s}")
        for scale in (8, 4, 2, 1):
            w = tuple(c // scale for c in (64, 128, 256, 512))
            r = compare(args, w, args.sweep_size, False); sweep.append(r)
            print(f"  {str(w):<20s} {r['gmacs_per_image']:7.3f} {r['latent_permute_s'] * 1e3:10.1f} "
                  f"{r['input_noise_s'] * 1e3:10.1f} {r['ratio_input_noise']:6.1f}x")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'settings': {k: v for k, v in vars(args).items() if not k.startswith('_')},
                       'torch': torch.__version__, 'resnet18': main_row, 'sweep': sweep}, f, indent=1)


if __name__ == '__main__': main()
