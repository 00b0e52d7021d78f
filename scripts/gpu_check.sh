#!/usr/bin/env bash
# GPU checks of the training step (the parts' time limits add up to 300 s); results (JSON and logs) go to the folder given as argument.
#
#   scripts/gpu_check.sh OUT_DIR        (from anywhere; uses $PYTHON, else .venv/bin/python, else python)
#
# 1. gpu_sync_check.py: torch.cuda.set_sync_debug_mode('error') around the steady-state model + loss + backward
#    and the optimizer step (does the step make the host wait for the GPU?)      -> OUT_DIR/sync_check.json
# 1b. tests/test_learner_syncs.py -k cuda (needs pytest): the learner's whole step, every registered method, under
#    the same sync debug mode                                                     -> OUT_DIR/learner_syncs.txt
# 2. benchmarks/bench_mcr_step.py --device cuda --quick: MCR's cost against multi-loss on the GPU
#                                                             -> OUT_DIR/bench_mcr_step.txt, OUT_DIR/mcr_step_*_quick.json
# 3. benchmarks/bench_throughput.py --quick --device cuda: loader, step and loop samples/s per Table-1 config
#                                                                                  -> OUT_DIR/throughput_*_quick.json
# 4. scripts/gpu_smoke.py: one real-shape bf16 step per benchmark, samples/s and peak memory
#                                                                                  -> OUT_DIR/gpu_smoke.txt
# Installs nothing: a part whose dependencies are missing is skipped, and the summary says which module it needs.
# OUT_DIR/gpu_check.json summarises every part (status, exit code, seconds, device).
set -u
OUT=${1:?usage: scripts/gpu_check.sh OUT_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
cd "$ROOT"
PY=${PYTHON:-}
if [ -z "$PY" ]; then if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python; fi; fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
SUMMARY="$OUT/gpu_check.parts"; : > "$SUMMARY"

note() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$SUMMARY"; echo "[gpu_check] $1: $2 ($4)"; }

missing() {   # prints the first of the given Python modules that cannot be imported
    for m in "$@"; do "$PY" -c "import $m" >/dev/null 2>&1 || { echo "$m"; return; }; done
}

part() {   # part NAME TIMEOUT_S LOG -- command...: run it, record status, exit code and seconds
    local name=$1 limit=$2 log=$3; shift 4
    local t0=$(date +%s); timeout "$limit" "$@" > "$log" 2>&1; local rc=$?; local dt=$(( $(date +%s) - t0 ))
    if [ $rc -eq 0 ]; then note "$name" ok "$rc" "${dt} s"
    elif [ $rc -eq 124 ]; then note "$name" "timed out after ${limit} s" "$rc" "${dt} s"
    else note "$name" "failed (see $(basename "$log"))" "$rc" "${dt} s"; fi
}

need=$(missing torch numpy yaml)
if [ -n "$need" ]; then echo "[gpu_check] cannot run anything: Python module '$need' is missing for $PY"; exit 2; fi
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "[gpu_check] no CUDA device is visible to $PY (torch.cuda.is_available() is False)"; exit 2
fi
DEVICE=$("$PY" -c "import torch; print(torch.cuda.get_device_name(0))")
echo "[gpu_check] device: $DEVICE; results in $OUT"

part sync_check 45 "$OUT/sync_check.txt" -- "$PY" scripts/gpu_sync_check.py --out "$OUT/sync_check.json"
need=$(missing pytest)
if [ -n "$need" ]; then note learner_syncs "skipped: needs Python module '$need'" 0 "0 s"
else part learner_syncs 45 "$OUT/learner_syncs.txt" -- "$PY" -m pytest -q -p no:cacheprovider tests/test_learner_syncs.py -k cuda -rs; fi
part bench_mcr_step 60 "$OUT/bench_mcr_step.txt" -- "$PY" benchmarks/bench_mcr_step.py --device cuda --quick --out "$OUT"
part bench_throughput 75 "$OUT/bench_throughput.txt" -- "$PY" benchmarks/bench_throughput.py --quick --device cuda --out "$OUT"
need=$(missing transformers)
[ -n "$need" ] && echo "[gpu_check] gpu_smoke: the ave-hubert-vivit and cremad-conformer lines need '$need' (missing); gpu_smoke.py skips them"
part gpu_smoke 75 "$OUT/gpu_smoke.txt" -- "$PY" scripts/gpu_smoke.py --device cuda

"$PY" - "$SUMMARY" "$OUT/gpu_check.json" "$DEVICE" <<'PYEOF'
import json, sys
parts = {}
for line in open(sys.argv[1]):
    name, status, rc, secs = line.rstrip('\n').split('\t')
    parts[name] = {'status': status, 'exit_code': int(rc), 'seconds': secs}
json.dump({'device': sys.argv[3], 'parts': parts}, open(sys.argv[2], 'w'), indent=1)
print(f"[gpu_check] summary: {sys.argv[2]}")
PYEOF
rm -f "$SUMMARY"
grep -q . "$OUT/gpu_check.json" && ! grep -q '"exit_code": [1-9]' "$OUT/gpu_check.json"
