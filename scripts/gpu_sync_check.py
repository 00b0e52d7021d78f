"""Does the steady-state MCR training step wait for the GPU? `torch.cuda.set_sync_debug_mode('error')` around it.

Run from the repository root on a machine with a GPU:

    PYTHONPATH=. python scripts/gpu_sync_check.py [--out results.json]

Builds the synthetic-data model (MLP encoders, late linear fusion, 2 and 3 modalities, with and without
BatchNorm) and `MCRLoss` (the default objective and the full one: game + L_Con + L_CEB; the authors' and the
literal game), runs warm-up steps (tables and caches are built once, outside the steady state), then runs
steps with the sync debug mode set to 'error', so that any operation that makes the host wait for the device
(`.item()`, `bool(tensor)`, a device-to-host copy, `nonzero`, ...) raises. Each phase of the step is checked on
its own: the model and loss forward plus backward (this package's code), then the optimizer step (fused Adam,
as the learner builds it). Prints one line per case and phase, writes the results as JSON when `--out` is
given, and exits with status 1 if the model + loss phase synchronises anywhere.
"""
import argparse, json, sys, traceback

import torch

from mcr_nb.losses import MCRConfig, MCRLoss
from mcr_nb.models import MLPModelConfig, build_mlp_model

CASES = {
    'default objective, 2 modalities': dict(n_mod=2, cfg=dict()),
    'full objective, 2 modalities': dict(n_mod=2, cfg=dict(lambda_b=1.0)),
    'full objective, 3 modalities, literal game': dict(n_mod=3, cfg=dict(lambda_b=1.0, game='literal', strategy='independent')),
    'full objective, BatchNorm encoders': dict(n_mod=2, cfg=dict(lambda_b=1.0), norm='batch'),
}


def run_case(n_mod, cfg, norm='none', dev='cuda', steps=3):
    "Return {phase: 'ok' or the error} for one case."
    torch.manual_seed(0)
    dims = {m: 32 for m in ['a', 'v', 't'][:n_mod]}
    model = build_mlp_model(MLPModelConfig(hidden=256, latent=128, norm=norm), dims, 16).to(dev)
    crit = MCRLoss(MCRConfig(**cfg), model.latent_dims, 16).to(dev)
    opt = torch.optim.Adam(list(model.parameters()) + list(crit.parameters()), lr=1e-4, fused=True)
    x = {m: torch.randn(128, d, device=dev) for m, d in dims.items()}
    y = torch.randint(0, 16, (128,), device=dev)

    def forward_backward():
        opt.zero_grad(set_to_none=True)
        loss, terms = crit(model(x), y)
        loss.backward()

    for _ in range(3): forward_backward(); opt.step()   # warm-up: caches, cuBLAS handles, allocator
    torch.cuda.synchronize()
    out = {}
    for phase, fn in (('model + loss + backward', forward_backward), ('optimizer step (fused Adam)', opt.step)):
        try:
            torch.cuda.set_sync_debug_mode('error')
            for _ in range(steps): fn()
            out[phase] = 'ok: no host-device sync'
        except RuntimeError as e:
            tb = traceback.extract_tb(e.__traceback__)
            at = next((f for f in reversed(tb) if 'mcr_nb' in f.filename), tb[-1])   # the package line that synchronised
            out[phase] = f"SYNC: {str(e).splitlines()[0]} (at {at.filename.split('/')[-1]}:{at.lineno})"
        finally:
            torch.cuda.set_sync_debug_mode('default')
        torch.cuda.synchronize()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=None, help='write the results as JSON here')
    a = ap.parse_args()
    if not torch.cuda.is_available(): sys.exit("gpu_sync_check: error: needs a CUDA device (torch.cuda.is_available() is False)")
    res = {'device': torch.cuda.get_device_name(0), 'torch': torch.__version__, 'cases': {}}
    for name, case in CASES.items():
        res['cases'][name] = r = run_case(**case)
        for phase, verdict in r.items(): print(f"{name} | {phase} | {verdict}")
    if a.out:
        with open(a.out, 'w') as f: json.dump(res, f, indent=1)
    bad = [n for n, r in res['cases'].items() if not r['model + loss + backward'].startswith('ok')]
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
