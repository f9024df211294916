#!/usr/bin/env bash
# One sample over one and two cores, acgen against ONNX Runtime, side by
# side: ROUNDS rounds, each timing, network by network, the generated
# package's BenchmarkInferThreads with GOMAXPROCS 1 and 2 (SetThreads(0):
# one goroutine, then two) and ONNX Runtime with 1 and 2 intra-op threads
# on the same fused network, so that slow phases of a shared machine
# spread over all four; then the package's BenchmarkThreadsSpeedup, which
# alternates runs of calls on one goroutine and on two within one
# process, so that both settings meet the same machine. Writes the raw
# lines to bench/work/threads.txt and bench/work/speedup.txt (benchstat
# input) and prints benchstat's tables.
#
#   bench/peers/run.sh            # once: onnxruntime-node and the exported networks
#   bench/scaling/run.sh          # ROUNDS=8 NETS="resnet20 resnet18" by default
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-8}
NETS=${NETS:-"resnet20 resnet18"}
BENCHTIME=${BENCHTIME:-1s}
SPEEDUPTIME=${SPEEDUPTIME:-3s}
work=bench/work/threads
out=bench/work/threads.txt
speedup=bench/work/speedup.txt
mkdir -p "$work"
go build -o "$work/acgen" ./cmd/acgen
for n in $NETS; do
	peer=bench/peers/out/$n
	[ -f "$peer/model.onnx" ] || { echo "run bench/peers/run.sh first: no $peer/model.onnx" >&2; exit 1; }
	"$work/acgen" -q -spec "$peer/net.yaml" -weights "$peer/model.pth" -out "$work/$n" -gomod "example.com/threads/$n"
	(cd "$work/$n" && go test -c -o "../$n.test" .)
done
: >"$out"
: >"$speedup"
for r in $(seq "$ROUNDS"); do
	echo "round $r/$ROUNDS" >&2
	for n in $NETS; do
		"$work/$n.test" -test.run '^$' -test.bench '^BenchmarkInferThreads$' -test.cpu 1,2 -test.benchtime "$BENCHTIME" |
			sed -n -E "s|^BenchmarkInferThreads(-2)?( +)|BenchmarkThreads/net=$n/impl=acgen/threads=\1\2|p" |
			sed -E 's|threads=-2|threads=2|; s|threads=( )|threads=1\1|' >>"$out"
		"$work/$n.test" -test.run '^$' -test.bench '^BenchmarkThreadsSpeedup$' -test.cpu 2 -test.benchtime "$SPEEDUPTIME" |
			sed -n -E "s|^BenchmarkThreadsSpeedup-2( +)|BenchmarkThreadsSpeedup/net=$n\1|p" >>"$speedup"
		for t in 1 2; do
			node bench/peers/ort_bench.js -prefix BenchmarkThreads -name "net=$n/impl=ort/threads=$t" -threads "$t" \
				-count 1 -benchtime "$BENCHTIME" -warmup 1s -max-other 0 "bench/peers/out/$n/model.onnx" 2>/dev/null >>"$out"
		done
	done
done
benchstat -col /impl,/threads "$out" | awk '/^$/ { exit } { print }' # the sec/op table
benchstat "$speedup" # one process, the settings alternating
