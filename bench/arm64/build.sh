#!/usr/bin/env bash
# build.sh: how long ResNet-18's package takes to generate and to build
# for amd64 and for arm64, and how large it is on each, with and without
# the NEON program (-isa avx512,avx2,go, the package before NEON).
#
#   bench/arm64/build.sh            # from the repository's root
#
# Each package is built once for each GOARCH, the first time, so that the
# go command's cache holds none of it (the standard library it does).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$root"
go build -o "$dir/acgen" ./cmd/acgen
go run ./bench/synthweights -spec bench/nets/resnet18.yaml -out "$dir/r18.safetensors"
cd "$dir"
printf 'module b\n\ngo 1.21\n' >go.mod
t() { # label command...: wall and CPU seconds
	local s e
	s=$(date +%s.%N)
	/usr/bin/time -f "%U %S" -o "$dir/cpu" "${@:2}" >/dev/null
	e=$(date +%s.%N)
	awk -v l="$1" -v w="$(echo "$e - $s" | bc)" '{ printf "%-40s wall %5.1f s  cpu %5.1f s\n", l, w, $1 + $2 }' "$dir/cpu"
}
n=0
for isa in avx512,avx2,go avx512,avx2,neon,go; do
	n=$((n + 1))
	pkg=p$n
	t "generate -isa $isa" ./acgen -q -isa "$isa" -spec "$root/bench/nets/resnet18.yaml" -weights r18.safetensors -out $pkg -pkg $pkg
	printf 'package main\n\nimport "b/%s"\n\nfunc main() { %s.Warm() }\n' $pkg $pkg >main.go
	for arch in amd64 arm64; do
		# The first build of this package for this GOARCH: nothing cached.
		t "  build for $arch" env GOARCH=$arch CGO_ENABLED=0 go build -o bin.$arch.$n .
		printf '  %-38s %6.1f MB binary, %6.2f MB of assembly source\n' "" \
			"$(echo "$(stat -c %s bin.$arch.$n) / 1000000" | bc -l)" \
			"$(echo "$(cat $pkg/kernels_$arch.s 2>/dev/null | wc -c) / 1000000" | bc -l)"
	done
done
