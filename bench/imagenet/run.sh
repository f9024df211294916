#!/usr/bin/env bash
# ImageNet-size networks side by side: acgen against ONNX Runtime, one
# thread and two, ROUNDS interleaved rounds (see main.go's doc comment).
#
#   bench/imagenet/run.sh                       # ROUNDS=3
#   ROUNDS=5 bench/imagenet/run.sh
#   ROUNDS=5 ARGS="-isa host -layers=false" bench/imagenet/run.sh
#
# Once: installs onnxruntime-node 1.30.0 into bench/peers/node_modules and
# exports torchvision's ResNet-18, ResNet-50 and MobileNetV2 (seeded random
# weights, BatchNorm randomised) with bench/imagenet/export.py into
# bench/peers/out/tv_* (checkpoint, torch2spec's net.yaml, the ONNX export).
# Then `go run ./bench/imagenet`: raw lines in bench/work/imagenet/results.raw.txt
# (benchstat -col /impl -row /net,/threads reads them), the summary in
# bench/work/imagenet/summary.txt. Needs Debian's /usr/bin/python3 (torch,
# torchvision, onnx, PyYAML), Node and npm, Go.
set -euo pipefail
# BOOST=1: on a machine other sessions keep busy, give this run's processes
# priority over theirs: a session of its own whose autogroup (Linux's
# per-session scheduling group, which nice alone does not cross) has nice
# -20. Needs root; the results then say "autogroup nice -20".
if [[ -n "${BOOST:-}" && -z "${BOOSTED:-}" ]]; then
	exec setsid --wait env BOOSTED=1 bash -c 'echo -20 >/proc/self/autogroup && exec "$0" "$@"' "$0" "$@"
fi
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
NETS=${NETS:-"resnet18 resnet50 mobilenet_v2"}
PY=${PYTHON:-/usr/bin/python3}
if ! (cd bench/peers && node -e "require('onnxruntime-node')") >/dev/null 2>&1; then
	echo "installing onnxruntime-node into bench/peers/node_modules" >&2
	(cd bench/peers && npm install --ignore-scripts --no-audit --no-fund --no-package-lock >&2)
fi
# shellcheck disable=SC2086
"$PY" bench/imagenet/export.py --keep --out bench/peers/out --specs bench/nets $NETS >&2
nets=$(printf 'tv_%s,' $NETS)
# shellcheck disable=SC2086
go run ./bench/imagenet -rounds "$ROUNDS" -nets "${nets%,}" ${ARGS:-}
