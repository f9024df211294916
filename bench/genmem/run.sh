#!/usr/bin/env bash
# What generating a package costs: acgen's peak RSS and wall time on
# torchvision ResNet-18, ResNet-50 and VGG-16, and where the memory goes
# stage by stage (see main.go's doc comment).
#
#   bench/genmem/run.sh                 # RUNS=3
#   RUNS=1 NETS="vgg16" bench/genmem/run.sh
#   ARGS="-max-other 0 -stages=false" bench/genmem/run.sh   # flags of go run ./bench/genmem
#
# Exports the networks (seeded random weights, BatchNorm randomised; VGG-16
# without its adaptive pool, the identity at 224x224: bench/imagenet/tvnets.py)
# into bench/work/genmem with bench/imagenet/export.py, builds acgen from
# this checkout, and prints the table and the per-stage breakdown, also
# kept in bench/work/genmem/genmem.txt. Needs Debian's /usr/bin/python3
# (torch, torchvision, PyYAML), GNU time (/usr/bin/time) and Go.
set -euo pipefail
# BOOST=1: on a machine other sessions keep busy, give this run's processes
# priority over theirs: a session of its own whose autogroup (Linux's
# per-session scheduling group, which nice alone does not cross) has nice
# -20. Needs root; the results then say "autogroup nice -20".
if [[ -n "${BOOST:-}" && -z "${BOOSTED:-}" ]]; then
	exec setsid --wait env BOOSTED=1 bash -c 'echo -20 >/proc/self/autogroup && exec "$0" "$@"' "$0" "$@"
fi
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
NETS=${NETS:-"resnet18 resnet50 vgg16"}
DIR=bench/work/genmem
PY=${PYTHON:-/usr/bin/python3}
[ -x /usr/bin/time ] || { echo "genmem: needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2; exit 1; }
# shellcheck disable=SC2086
"$PY" bench/imagenet/export.py --keep --no-onnx --out "$DIR" --specs bench/nets $NETS >&2
go build -o "$DIR/acgen" ./cmd/acgen
nets=$(printf 'tv_%s,' $NETS)
# shellcheck disable=SC2086
go run ./bench/genmem -dir "$DIR" -acgen "$DIR/acgen" -runs "$RUNS" -nets "${nets%,}" ${ARGS:-} | tee "$DIR/genmem.txt"
