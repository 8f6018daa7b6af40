#!/usr/bin/env bash
# A fresh clone's `npm install && npm start`, timed, per git ref: what a new user waits for.
# Each ref is cloned into its own folder under $TMPDIR (own node_modules, empty .creditflow cache),
# installed, and its demo run on ports of its own; load and CPU model are printed beside each time.
#
#   bench/fresh-clone.sh [repo] [ref ...]      (default: this repository, HEAD)
set -u
repo=${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}
shift || true
refs=("${@:-HEAD}")
load() { cut -d' ' -f1-3 /proc/loadavg; }
for ref in "${refs[@]}"; do
  dir=$(mktemp -d "${TMPDIR:-/tmp}/creditflow-fresh-XXXXXX")
  git clone -q "$repo" "$dir" && git -C "$dir" checkout -q "$ref" || exit 1
  cd "$dir" || exit 1
  echo "== $ref ($dir) $(date -u +%H:%M:%S) load $(load); CPU$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) cores"
  s=$(date +%s.%N)
  npm install --no-audit --no-fund > install.log 2>&1; echo "install exit $?"
  m=$(date +%s.%N)
  echo "install $(echo "$m - $s" | bc) s, load $(load)"
  grep '^native' install.log
  npm start -- --port "17$((RANDOM % 900 + 100))" --ui-port "18$((RANDOM % 900 + 100))" > start.log 2>&1; echo "start exit $?"
  e=$(date +%s.%N)
  echo "start $(echo "$e - $m" | bc) s, total $(echo "$e - $s" | bc) s, load $(load)"
  grep -E "compute backend|wall time|accuracy" start.log
done
