"""One real-shape MCR training step per benchmark: samples/s and peak memory.

Run from the repository root on a machine with a GPU (needs only torch, numpy and this repository; the
`ave-hubert-vivit` line also needs `transformers` and is skipped without it):

    PYTHONPATH=. python scripts/gpu_smoke.py                 # CUDA, bf16 autocast, every benchmark
    PYTHONPATH=. python scripts/gpu_smoke.py --device cpu --tiny   # a quick CPU check with tiny shapes

For each config of `mcr_nb.benchmarks.BENCHMARKS` it builds the full-size model, the MCR loss with the config's
parameters (lambda_M, mu, lambda_C, lambda_B, K permutations), an optimiser, and runs warm-up steps followed by
timed steps on random inputs of the real shapes and batch size. Pretrained backbones (Video Swin-T, HuBERT-base,
ViViT-B for 10 frames) are built with their real shapes and random weights: the step time does not depend on them. It prints one line per benchmark and exits with
status 1 if any step fails or gives a non-finite loss. The time budget is a few minutes on one modern GPU.
"""
import argparse, sys, time

import torch

from mcr_nb.benchmarks import BENCHMARKS, build_benchmark_model, fake_batch
from mcr_nb.losses import MCRConfig, MCRLoss

W2V_LARGE = dict(hidden_size=1024, num_hidden_layers=12, num_attention_heads=16, intermediate_size=4096, conv_bias=True,
                 feat_extract_norm='layer', do_stable_layer_norm=True)  # wav2vec2-large-robust's shape, first 12 layers, random weights
W2V_TINY = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, conv_dim=(8, 8),
                conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2,
                feat_extract_norm='layer', do_stable_layer_norm=True)
HUBERT_BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)  # hubert-base's shape, random weights
VIVIT_B = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, image_size=224,
               tubelet_size=[2, 16, 16])  # vivit-b-16x2's shape, random weights (built for 10 frames)
HUBERT_TINY = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, conv_dim=(8, 8),
                   conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2)
VIVIT_TINY = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, image_size=32, tubelet_size=[2, 16, 16])
TINY_SHAPES = {'audio': lambda s: (s[0] // 4, s[1] // 4), 'video': lambda s: (3, s[1], 32, 32),
               'rgb': lambda s: (3, 4, 32, 32), 'flow': lambda s: (3, 4, 32, 32)}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='auto', help="'auto' (CUDA when present), 'cuda', 'cpu'")
    p.add_argument('--tiny', action='store_true', help='tiny shapes and widths (a CPU check of the script itself)')
    p.add_argument('--steps', type=int, default=None, help='timed steps per benchmark (default 5 on CUDA, 1 with --tiny)')
    p.add_argument('--warmup', type=int, default=None, help='untimed steps first (default 2 on CUDA, 1 with --tiny)')
    p.add_argument('--only', nargs='*', default=None, help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    p.add_argument('--no-amp', action='store_true', help='disable bf16 autocast on CUDA')
    return p.parse_args(argv)


def run_one(name, device, tiny, steps, warmup, amp):
    bench = BENCHMARKS[name]
    torch.manual_seed(0)
    opts = {'resnet_av': {'widths': (8, 8, 8, 8)}, 'video_2p1d': {'widths': (8, 8)}, 'seq_transformer': {'n_layers': 1},
            'conformer_av': {'n_layers': 1, 'n_heads': 2, 'kernel': 3}, 'hf_av': {'num_frames': 4},
            'video_swin': {'dim': 16, 'depths': (1, 1), 'heads': (2, 2), 'window': (2, 4, 4)}}[bench.encoder] if tiny else {}
    if bench.encoder == 'video_swin': opts = {**opts, 'random_init': True}  # Swin-T shape; random weights are fine for a speed check
    if bench.encoder == 'hf_av':
        import importlib.util
        if importlib.util.find_spec('transformers') is None: return None  # reported as skipped
        opts = {**opts, 'hubert_config': HUBERT_TINY if tiny else HUBERT_BASE, 'vivit_config': VIVIT_TINY if tiny else VIVIT_B}
    if bench.encoder == 'conformer_av':
        import importlib.util
        if importlib.util.find_spec('transformers') is None: return None  # reported as skipped
        opts = {**opts, 'wav2vec2_config': W2V_TINY if tiny else W2V_LARGE}
    model = build_benchmark_model(bench, opts).to(device)
    latent = {m: e.out_dim for m, e in model.encoders.items()}
    p = bench.mcr
    loss_fn = MCRLoss(MCRConfig(lambda_m=p['lambda_m'], mu=p['mu'], lambda_c=p['lambda_c'], lambda_b=p['lambda_b'],
                                n_perms=p['n_perms'], task=bench.task), latent, bench.n_outputs).to(device)
    params = list(model.parameters()) + list(loss_fn.parameters())
    opt = (torch.optim.AdamW if bench.optimizer == 'adamw' else torch.optim.Adam)(params, lr=bench.lr, weight_decay=bench.weight_decay)
    bs = 4 if tiny else bench.batch_size
    shapes = None
    if tiny and bench.encoder == 'conformer_av': shapes = {'audio': (8000,), 'video': (8, bench.shapes['video'][-1])}
    elif tiny and bench.encoder == 'hf_av': shapes = {'audio': (8000,), 'video': (3, 4, 32, 32)}
    elif tiny and bench.encoder != 'seq_transformer': shapes = {m: TINY_SHAPES[m](s) for m, s in bench.shapes.items()}
    x, y = fake_batch(bench, bs, shapes, device)
    use_amp = amp and device.type == 'cuda'

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            out = model(x)
            loss, terms = loss_fn(out, y)
        loss.backward()
        if bench.clip_grad: torch.nn.utils.clip_grad_norm_(params, bench.clip_grad)
        opt.step()
        return loss

    model.train()
    for _ in range(warmup): step()
    if device.type == 'cuda': torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    for _ in range(steps): loss = step()
    if device.type == 'cuda': torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == 'cuda' else float('nan')
    return {'name': name, 'batch': bs, 'samples_per_s': bs * steps / dt, 'step_s': dt / steps, 'peak_gib': peak,
            'loss': float(loss.detach()), 'params_m': sum(q.numel() for q in model.parameters()) / 1e6}


def main(argv=None):
    a = parse_args(argv)
    dev = torch.device('cuda' if a.device == 'auto' and torch.cuda.is_available() else ('cpu' if a.device == 'auto' else a.device))
    if dev.type == 'cuda' and not torch.cuda.is_available(): sys.exit("--device cuda requested but CUDA is not available")
    if dev.type == 'cuda': torch.backends.cudnn.benchmark = True
    steps = a.steps or (1 if a.tiny else 5); warmup = a.warmup if a.warmup is not None else (1 if a.tiny else 2)
    names = a.only or list(BENCHMARKS)
    bad = [n for n in names if n not in BENCHMARKS]
    if bad: sys.exit(f"unknown benchmark(s) {bad}; expected some of: {', '.join(BENCHMARKS)}")
    print(f"device={dev} ({torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'}) torch={torch.__version__} "
          f"amp={'bf16' if dev.type == 'cuda' and not a.no_amp else 'off'} tiny={a.tiny} steps={steps} warmup={warmup}")
    print(f"{'benchmark':<18}{'batch':>6}{'params(M)':>11}{'samples/s':>11}{'step(s)':>9}{'peak(GiB)':>10}{'loss':>10}")
    failed, t_all = [], time.perf_counter()
    for n in names:
        try:
            r = run_one(n, dev, a.tiny, steps, warmup, not a.no_amp)
            if r is None: print(f"{n:<18} skipped: needs the optional 'transformers' package", flush=True); continue
            ok = r['loss'] == r['loss'] and abs(r['loss']) != float('inf')
            print(f"{n:<18}{r['batch']:>6}{r['params_m']:>11.2f}{r['samples_per_s']:>11.1f}{r['step_s']:>9.3f}{r['peak_gib']:>10.2f}{r['loss']:>10.4f}"
                  + ('' if ok else '  NON-FINITE LOSS'), flush=True)
            if not ok: failed.append(n)
        except Exception as e:  # report and continue with the next benchmark
            print(f"{n:<18} FAILED: {type(e).__name__}: {e}", flush=True); failed.append(n)
        if dev.type == 'cuda': torch.cuda.empty_cache()
    print(f"total {time.perf_counter() - t_all:.1f} s; {'all passed' if not failed else 'failed: ' + ', '.join(failed)}")
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
