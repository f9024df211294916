#!/usr/bin/env bash
# Peer benchmarks: ONNX Runtime and PyTorch on the fused acgen networks, one core.
#
#   bench/peers/run.sh                 # everything, results in bench/peers/out/peers.txt
#   COUNT=5 ROUNDS=2 bench/peers/run.sh
#
# Steps: installs onnxruntime-node into bench/peers/node_modules if missing
# (npm install --ignore-scripts), exports the networks with export.py into
# $OUT (net.yaml, model.pth, fused model.onnx, ...), then runs ROUNDS rounds;
# each round times, for every network in turn, ORT (ort_bench.js) and the
# PyTorch modes (torch_bench.py), COUNT repetitions of BENCHTIME each.
# Interleaving rounds spreads the machine's slow phases over all benchmarks.
#
# Go-benchmark-format lines (BenchmarkORT/resnet20 ... ns/op) go to $RESULTS,
# for benchstat; the human-readable statistics (median/mean/min per
# benchmark, reference checks) to $OUT/peers.log. A summary table
# (summary.py) is printed at the end.
#
# Environment (defaults):
#   COUNT=5 ROUNDS=2 BENCHTIME=1s WARMUP=1s
#   NETS="resnet20 resnet56 resnet18"
#   MODES=eager-fused,eager-unfused,jit-fused,ofi-fused   (torch_bench.py --modes)
#   PYTHON=/usr/bin/python3   (needs torch 1.13 + onnx)
#   OUT=bench/peers/out  RESULTS=$OUT/peers.txt  LOG=${RESULTS%.txt}.log
#   CPU=                      (a CPU number: pin every benchmark with taskset -c)
#   SKIP_EXPORT=              (1: reuse $OUT from an earlier run)
#   SKIP_TORCH= SKIP_ORT=     (1: leave that peer out)
#   EXTRA_CMD=                (a shell command run from the repository root
#                              once per round, after the peers, its stdout
#                              appended to $RESULTS: put the Go benchmarks
#                              here to interleave them with the peers, e.g.
#                              EXTRA_CMD='go test -run "^$" -bench . -count 5 ./some/pkg')
#   IDLE_MAX=15 IDLE_WAIT=300 (before each benchmark program, wait until the
#                              machine was at most IDLE_MAX% busy over one
#                              second, for at most IDLE_WAIT s; IDLE_MAX= to skip)
#   MAX_OTHER=0.15 MAX_RETRIES=20
#                             (each repetition during which other processes used
#                              more than MAX_OTHER CPUs is discarded and redone,
#                              at most MAX_RETRIES times; see ort_bench.js.
#                              A busy neighbour vCPU slows a single thread down.)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
export PYTHONDONTWRITEBYTECODE=1

PY=${PYTHON:-/usr/bin/python3}
COUNT=${COUNT:-5}
ROUNDS=${ROUNDS:-2}
BENCHTIME=${BENCHTIME:-1s}
WARMUP=${WARMUP:-1s}
NETS=${NETS:-"resnet20 resnet56 resnet18"}
MODES=${MODES:-eager-fused,eager-unfused,jit-fused,ofi-fused}
OUT=${OUT:-$HERE/out}
RESULTS=${RESULTS:-$OUT/peers.txt}
LOG=${LOG:-${RESULTS%.txt}.log}

IDLE_MAX=${IDLE_MAX-15}
IDLE_WAIT=${IDLE_WAIT:-300}
MAX_OTHER=${MAX_OTHER:-0.15}
MAX_RETRIES=${MAX_RETRIES:-20}

# busy%: the share of all CPUs' time over the last second that was not idle
busy_pct() {
  local c u n s i w q sq st t1 i1
  read -r c u n s i w q sq st _ </proc/stat
  t1=$((u + n + s + i + w + q + sq + st)) i1=$((i + w))
  sleep 1
  read -r c u n s i w q sq st _ </proc/stat
  local dt=$((u + n + s + i + w + q + sq + st - t1)) di=$((i + w - i1))
  echo $((dt > 0 ? 100 * (dt - di) / dt : 0))
}

# Waits for a quiet machine (others share it), and notes in the log how busy it was.
wait_idle() {
  [[ -z "$IDLE_MAX" ]] && return 0
  local start=$SECONDS b
  b=$(busy_pct)
  while ((b > IDLE_MAX && SECONDS - start < IDLE_WAIT)); do
    sleep 2
    b=$(busy_pct)
  done
  if ((b > IDLE_MAX)); then
    echo "# machine still ${b}% busy after ${IDLE_WAIT}s; measuring anyway ($*)" >>"$LOG"
  elif ((SECONDS - start > 2)); then
    echo "# waited $((SECONDS - start))s for an idle machine ($*)" >>"$LOG"
  fi
}

PIN=()
if [[ -n "${CPU:-}" ]]; then PIN=(taskset -c "$CPU"); fi

if ! node -e "require('onnxruntime-node')" >/dev/null 2>&1; then
  echo "installing onnxruntime-node into $HERE/node_modules" >&2
  npm install --ignore-scripts --no-audit --no-fund --no-package-lock >&2
fi
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
  echo "run.sh: $PY lacks torch or onnx; set PYTHON (Debian's /usr/bin/python3 has both)" >&2
  exit 1
fi

mkdir -p "$OUT"
if [[ -z "${SKIP_EXPORT:-}" ]]; then
  echo "exporting $NETS into $OUT" >&2
  # shellcheck disable=SC2086
  "$PY" export.py --out "$OUT" $NETS >&2
fi

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
flags=$(grep -m1 -o -w -E 'avx2|fma|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ' || true)
{
  echo "goos: linux"
  echo "goarch: amd64"
  echo "pkg: github.com/acgen/acgen/bench/peers"
  echo "cpu: $cpu"
} >"$RESULTS"
{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -n) cpu: $cpu ($(nproc) CPUs; ${flags% })"
  echo "# load: $(cat /proc/loadavg)"
  echo "# COUNT=$COUNT ROUNDS=$ROUNDS BENCHTIME=$BENCHTIME NETS=\"$NETS\" MODES=$MODES CPU=${CPU:-} MAX_OTHER=$MAX_OTHER"
} | tee "$LOG" >&2

for ((r = 1; r <= ROUNDS; r++)); do
  echo "# round $r/$ROUNDS, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG" >&2
  if [[ -z "${SKIP_ORT:-}" ]]; then
    wait_idle noop
    "${PIN[@]}" node ort_bench.js -count "$COUNT" -benchtime "$BENCHTIME" -warmup "$WARMUP" \
      -max-other "$MAX_OTHER" -max-retries "$MAX_RETRIES" "$OUT/noop/model.onnx" >>"$RESULTS" 2>>"$LOG"
  fi
  for net in $NETS; do
    n0=$(wc -l <"$LOG")
    if [[ -z "${SKIP_ORT:-}" ]]; then
      wait_idle "ORT $net"
      "${PIN[@]}" node ort_bench.js -count "$COUNT" -benchtime "$BENCHTIME" -warmup "$WARMUP" \
        -max-other "$MAX_OTHER" -max-retries "$MAX_RETRIES" "$OUT/$net/model.onnx" >>"$RESULTS" 2>>"$LOG"
    fi
    if [[ -z "${SKIP_TORCH:-}" ]]; then
      wait_idle "torch $net"
      "${PIN[@]}" "$PY" torch_bench.py --dir "$OUT" --modes "$MODES" --count "$COUNT" \
        --benchtime "$BENCHTIME" --warmup "$WARMUP" --max-other "$MAX_OTHER" \
        --max-retries "$MAX_RETRIES" "$net" >>"$RESULTS" 2>>"$LOG"
    fi
    tail -n +$((n0 + 1)) "$LOG" | grep -E '^# (Benchmark|machine|waited)|kept although' | sed 's/^# /  /' >&2 || true
  done
  if [[ -n "${EXTRA_CMD:-}" ]]; then
    wait_idle "EXTRA_CMD"
    echo "# EXTRA_CMD: $EXTRA_CMD" | tee -a "$LOG" >&2
    (cd "$HERE/../.." && "${PIN[@]}" bash -c "$EXTRA_CMD") >>"$RESULTS" 2>>"$LOG"
    # the Go output sets its own pkg:, give the following peer lines theirs back
    echo "pkg: github.com/acgen/acgen/bench/peers" >>"$RESULTS"
  fi
done

echo "# done $(date -u +%Y-%m-%dT%H:%M:%SZ); results: $RESULTS, log: $LOG" | tee -a "$LOG" >&2
"$PY" summary.py --out "$OUT" "$RESULTS" | tee -a "$LOG"
