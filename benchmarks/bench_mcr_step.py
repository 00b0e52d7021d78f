"""Cost of MCR relative to multi-loss joint training, one full training step, measured in one run.

Usage: python benchmarks/bench_mcr_step.py [--repeats 30] [--threads 1] [--device cpu] [--quick] [--profile]
                                           [--big-encoder conv|resnet18] [--out DIR | --out '']

Prints, for two modalities, late linear fusion and K = 32 permutations (targets are written in words, so that each
table row holds exactly one ratio token `N.NNx`; tools read the rows labelled `MCR greedy + L_Con + L_CEB`):
  * the MLP setting (input 32, hidden 256, latent 128, 16 classes, batch 128): per-step time of
    multi-loss joint training (fused CE + unimodal CEs), of MCR's game (greedy, independent,
    collaborative), and of L_Con / L_CEB timed separately; ratios to multi-loss;
  * the same with conv encoders costing >= 20 ms forward+backward per batch (a plain conv net, or
    mcr_nb.encoders.ResNet18 on 1x128x128 spectrogram-like inputs with --big-encoder resnet18);
  * the vectorised L_MIPD (permuted contributions, one divergence per subset) against pushing K
    permuted copies through the fusion layer term by term (`mipd_reference`).
Timings are minima over interleaved rounds; on CPU they are the CPU time of this (single) thread, so
other processes on a shared machine disturb them less than wall-clock time (a quiet machine gives both).
Every table also goes, with the device's name, to `benchmarks/results/mcr_step_<device>[_quick].json` (`--out`
chooses the folder; `--out ''` writes nothing); the documentation's throughput page reads those files.
"""
import argparse, json, statistics, sys, time
from pathlib import Path
try: import resource   # Unix only: page faults per step
except ImportError: resource = None

import torch
from torch import nn

from mcr_nb.models import MultimodalModel, MLPEncoder
from mcr_nb.losses import MCRConfig, MCRLoss, mipd_fast, mipd_reference, sample_perms
from mcr_nb.losses import _PermJSD, _GameJSD, _game_plan  # the fast path's kernels, timed on their own below

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import device_name, slug, sync   # shared with bench_throughput.py


def conv_encoder(latent: int, width: int) -> nn.Module:
    "A plain conv net on 1x64x64 inputs (spectrogram-like), sized by `width`."
    def block(i, o): return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*block(1, width), nn.MaxPool2d(2), *block(width, width), *block(width, 2 * width), nn.MaxPool2d(2),
                         *block(2 * width, 2 * width), *block(2 * width, 4 * width), nn.MaxPool2d(2), *block(4 * width, 4 * width),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, latent))


def make_step(model, crit, opt, x, y, dev, perms=None):
    "One full training step: forward, loss, backward, optimizer step (`perms`: one fixed draw instead of a draw per step)."
    def step():
        opt.zero_grad(set_to_none=True)
        loss, _ = crit(model(x), y, perms=perms)
        loss.backward(); opt.step()
    return step


def time_rounds(fns: dict, repeats: int, dev, inner: int = 5) -> dict:
    "Seconds per call of each function: the minimum over interleaved rounds."
    clock = time.perf_counter if dev.type == 'cuda' else time.thread_time   # CPU: this thread's CPU time only
    for f in fns.values():
        for _ in range(3): f()
    res = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            sync(dev); t = clock()
            for _ in range(inner): f()
            sync(dev); res[k].append((clock() - t) / inner)
    # the machine may be shared: the minimum over rounds is the least disturbed estimate of each cost
    return {k: min(v) for k, v in res.items()}


def variants(model_fn, x, y, n_classes, latent, dev):
    "Training steps for multi-loss and the MCR variants, each with its own fresh model copy."
    base = dict(mu=1.0, lambda_c=0.0, lambda_b=0.0, n_perms=32)
    cfgs = {'multi-loss': MCRConfig(lambda_m=0.0, **base),
            'MCR greedy': MCRConfig(lambda_m=0.1, strategy='greedy', **base),
            'MCR independent': MCRConfig(lambda_m=0.1, strategy='independent', **base),
            'MCR collaborative': MCRConfig(lambda_m=0.1, strategy='collaborative', **base),
            'multi-loss + L_Con': MCRConfig(lambda_m=0.0, **{**base, 'lambda_c': 1.0}),
            'multi-loss + L_CEB': MCRConfig(lambda_m=0.0, **{**base, 'lambda_b': 1.0}),
            'MCR greedy + L_Con + L_CEB': MCRConfig(lambda_m=0.1, **{**base, 'lambda_c': 1.0, 'lambda_b': 1.0})}
    steps = {}
    for name, cfg in cfgs.items():
        torch.manual_seed(0)
        model = model_fn().to(dev)
        crit = MCRLoss(cfg, model.latent_dims, n_classes).to(dev)
        opt = torch.optim.Adam(list(model.parameters()) + list(crit.parameters()), lr=1e-4)
        steps[name] = make_step(model, crit, opt, x, y, dev)
    return steps


def report(title, times, ref='multi-loss', targets=None, into=None):
    "Print one table of step times and ratios; with `into` (a dict), also store it there for the JSON results."
    if into is not None:
        into[title] = {k: {'ms_per_step': round(1e3 * t, 4), 'ratio': round(t / times[ref], 4),
                           **({'target': (targets or {})[k], 'met': t / times[ref] <= (targets or {})[k]} if k in (targets or {}) else {})}
                       for k, t in times.items()}
    print(f"\n{title}")
    print(f"| variant | ms / step | ratio to {ref} |")
    print("|---|---|---|")
    for k, t in times.items():
        tgt = (targets or {}).get(k)
        r = t / times[ref]
        mark = '' if tgt is None else (f" (target {tgt} times: {'met' if r <= tgt else 'MISSED'})")   # targets in words: one ratio token per row
        print(f"| {k} | {1e3 * t:.2f} | {r:.2f}x{mark} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--repeats', type=int, default=30); ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--quick', action='store_true', help='fewer repeats, smaller conv batch')
    ap.add_argument('--profile', action='store_true', help='print a torch.profiler table of one MLP greedy step')
    ap.add_argument('--big-encoder', default='conv', choices=('conv', 'resnet18'), help='encoder of the >= 20 ms setting')
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent / 'results'), help="folder for the JSON results ('' = none)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    reps = 5 if a.quick else a.repeats
    print(f"torch {torch.__version__}, device {dev}, threads {torch.get_num_threads()}, repeats {reps}")
    res = {'device': device_name(dev), 'torch': torch.__version__, 'quick': a.quick, 'repeats': reps, 'threads': torch.get_num_threads(), 'tables': {}}

    # 1. MLP setting
    g = torch.Generator().manual_seed(0)
    bs, d_in, hidden, latent, n_cls = 128, 32, 256, 128, 16
    x = {m: torch.randn(bs, d_in, generator=g).to(dev) for m in ('a', 'b')}
    y = torch.randint(0, n_cls, (bs,), generator=g).to(dev)
    mlp = lambda: MultimodalModel({m: MLPEncoder(d_in, hidden, latent, 1) for m in ('a', 'b')}, {'a': latent, 'b': latent}, n_cls)
    t_mlp = time_rounds(variants(mlp, x, y, n_cls, latent, dev), reps, dev)
    report(f"MLP encoders (input {d_in}, hidden {hidden}, latent {latent}, {n_cls} classes, batch {bs}, K 32)", t_mlp,
           targets={'MCR greedy': 1.5, 'MCR independent': 1.5, 'MCR collaborative': 1.5, 'MCR greedy + L_Con + L_CEB': 2.0}, into=res['tables'])

    # 1b. memory behaviour: minor page faults and system time per step (the kernel allocates its 0.5 MB buffers each step)
    if resource is not None and hasattr(resource, 'RUSAGE_THREAD') and dev.type == 'cpu':
        steps = variants(mlp, x, y, n_cls, latent, dev)
        print("\n| variant | page faults / step | system ms / step |\n|---|---|---|")
        for k in ('multi-loss', 'MCR greedy'):
            for _ in range(5): steps[k]()
            r0 = resource.getrusage(resource.RUSAGE_THREAD)
            for _ in range(50): steps[k]()
            r1 = resource.getrusage(resource.RUSAGE_THREAD)
            print(f"| {k} | {(r1.ru_minflt - r0.ru_minflt) / 50:.1f} | {1e3 * (r1.ru_stime - r0.ru_stime) / 50:.3f} |")
            res.setdefault('page_faults_per_step', {})[k] = (r1.ru_minflt - r0.ru_minflt) / 50

    # 1c. drawing the K permutations inside a step: the greedy step with a draw per step against one fixed draw
    def greedy_step(perms):
        torch.manual_seed(0)
        model = mlp().to(dev)
        crit = MCRLoss(MCRConfig(lambda_m=0.1, mu=1.0, lambda_c=0.0, lambda_b=0.0, n_perms=32), model.latent_dims, n_cls).to(dev)
        return make_step(model, crit, torch.optim.Adam(model.parameters(), lr=1e-4), x, y, dev, perms)
    t_draw = time_rounds({'drawn each step': greedy_step(None), 'one fixed draw': greedy_step(sample_perms(bs, 32, dev))}, reps, dev)
    print("\nMCR greedy step (MLP setting): permutations drawn each step, and one fixed draw (what the draw costs inside a step)")
    print("| permutations | ms / step |\n|---|---|")
    for k, t in t_draw.items(): print(f"| {k} | {1e3 * t:.2f} |")
    res['permutation_draw_ms'] = {k: round(1e3 * t, 4) for k, t in t_draw.items()}

    # 2. the regulariser alone: vectorised vs K copies through the fusion layer
    model = mlp().to(dev)
    def reg(fn):
        def f():
            r, _ = fn(model(x))
            r.backward()
        return f
    def enc_only():
        out = model(x); (out.logits.sum() * 0).backward()
    t_reg = time_rounds({'forward+backward without R': enc_only,
                         'vectorised (mipd_fast)': reg(lambda o: mipd_fast(o, 'greedy', n_perms=32)),
                         'K copies through fusion (mipd_reference)': reg(lambda o: mipd_reference(o, model.fuse, 'greedy', n_perms=32))}, reps, dev)
    base = t_reg['forward+backward without R']
    fast, slow = t_reg['vectorised (mipd_fast)'] - base, t_reg['K copies through fusion (mipd_reference)'] - base
    print("\nL_MIPD (greedy, K 32) alone, MLP setting: time of forward+backward with R minus without")
    print("| path | ms for R |\n|---|---|")
    print(f"| vectorised (mipd_fast) | {1e3 * fast:.2f} |\n| K copies through fusion (mipd_reference) | {1e3 * slow:.2f} |")
    print(f"speed-up of the vectorised path: {slow / fast:.1f}x (target 5 times: {'met' if slow / fast >= 5 else 'MISSED'})")
    res['mipd_alone_ms'] = {'vectorised (mipd_fast)': round(1e3 * fast, 4), 'K copies through fusion (mipd_reference)': round(1e3 * slow, 4)}

    # 2b. where the regulariser's time goes (CPU time of this thread, minimum over rounds)
    perms = sample_perms(bs, 32)
    out0 = model(x)
    c0 = {m: v.detach() for m, v in out0.contributions.items()}
    mv, fx, bz = torch.stack(list(c0.values())), torch.stack(list(c0.values())[::-1]), out0.logits.detach().expand(2, -1, -1)
    mv.requires_grad_(); fx.requires_grad_()
    def kernel_fb():
        _PermJSD.apply(mv, fx, bz, perms).sum().backward()
    cs = mv.detach().clone().requires_grad_()
    plan = _game_plan('greedy', ('a', 'b'), True, torch.float32, dev)
    def game_fb():
        _GameJSD.apply(cs, out0.logits.detach(), perms, plan)[0].backward()
    def kernel_f():
        with torch.no_grad(): _PermJSD.apply(mv, fx, bz, perms)
    def fast_f():
        with torch.no_grad(): mipd_fast(out0, 'greedy', perms=perms)
    t_ph = time_rounds({'sample_perms(128, 32)': lambda: sample_perms(bs, 32), 'mipd_fast forward (given perms)': fast_f,
                        'of which the JSD kernel forward': kernel_f, 'JSD kernel forward+backward': kernel_fb,
                        'whole-game node (_GameJSD) forward+backward': game_fb}, reps, dev)
    print("\nWhere the time of R goes (greedy, MLP setting)")
    print("| part | ms |\n|---|---|")
    for k, t in t_ph.items(): print(f"| {k} | {1e3 * t:.2f} |")
    res['parts_ms'] = {k: round(1e3 * t, 4) for k, t in t_ph.items()}

    # 3. encoders costing >= 20 ms forward+backward per batch
    if a.big_encoder == 'resnet18':
        from mcr_nb.encoders import ResNet18
        cbs, side, big_latent = (4 if a.quick else 8), 128, 512
        make_enc = lambda: ResNet18(in_channels=1)
    else:
        cbs, side, big_latent = (16 if a.quick else 32), 64, latent
        make_enc = lambda: conv_encoder(latent, 12)
    xc = {m: torch.randn(cbs, 1, side, side, generator=g).to(dev) for m in ('a', 'b')}
    yc = torch.randint(0, n_cls, (cbs,), generator=g).to(dev)
    enc = make_enc().to(dev)
    def enc_fb():
        enc.zero_grad(set_to_none=True); enc(xc['a']).sum().backward()
    t_enc = time_rounds({'enc': enc_fb}, max(3, reps // 3), dev)['enc']
    big = lambda: MultimodalModel({m: make_enc() for m in ('a', 'b')}, {'a': big_latent, 'b': big_latent}, n_cls)
    t_big = time_rounds(variants(big, xc, yc, n_cls, big_latent, dev), max(3, reps // 3), dev, inner=1)
    report(f"{a.big_encoder} encoders (1x{side}x{side} inputs, batch {cbs}; one encoder forward+backward = {1e3 * t_enc:.1f} ms), K 32", t_big,
           targets={'MCR greedy': 1.1, 'MCR independent': 1.1, 'MCR collaborative': 1.1, 'MCR greedy + L_Con + L_CEB': 1.1}, into=res['tables'])

    if a.profile:
        from torch.profiler import profile, ProfilerActivity
        step = variants(mlp, x, y, n_cls, latent, dev)['MCR greedy']
        for _ in range(5): step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(20): step()
        print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=25))

    if a.out:
        path = Path(a.out) / f"mcr_step_{slug(res['device'])}{'_quick' if a.quick else ''}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(res, indent=1) + '\n')
        print(f"\nresults: {path}")


if __name__ == '__main__':
    main()
