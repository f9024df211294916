#!/usr/bin/env bash
# mca.sh: throughput of an arm64 function's inner loop on paper, with llvm-mca.
#
#   bench/arm64/mca.sh [-l N] [-c "cpu ..."] [-v] BINARY FUNCTION
#   bench/arm64/mca.sh -demo        # internal/a64's end-to-end kernels
#
# It disassembles FUNCTION (its ABI0 body, FUNCTION.abi0, if the binary has
# one) from BINARY, an arm64 ELF file such as `GOARCH=arm64 go test -c`
# writes, takes a loop -- the innermost (the backward branch of shortest
# span), or with -l N the Nth backward branch by address -- from the
# branch's target to the branch, and runs llvm-mca on it for each CPU
# (default: neoverse-n1 neoverse-v1 apple-m1). For each it prints cycles per
# iteration, IPC, the loop's FMAs (fmla, fmls, fmadd, fmsub) per cycle, and
# the peak FMA rate of the same model (measured by llvm-mca on 24
# independent FMLAs), so "share of peak" is the model's own ratio. The
# model column names the scheduling model's resources: LLVM 14 accepts
# the Neoverse names but schedules them with Cortex-A57's model (A57Unit),
# so the script prefers the newest llvm-mca-NN it finds (19 has N1Unit and
# V1Unit models); set MCA and OBJDUMP to choose. apple-m1 is Cyclone's
# model (CyUnit) in every LLVM up to 19. These are estimates from models,
# not measurements.
set -euo pipefail

cpus="neoverse-n1 neoverse-v1 apple-m1"
loopn=0
verbose=0
pick() { # the newest of the llvm tool $1-NN on PATH, else $1
	for v in 22 21 20 19 18 17 16 15 14; do
		command -v "$1-$v" >/dev/null && { echo "$1-$v"; return; }
	done
	echo "$1"
}
MCA=${MCA:-$(pick llvm-mca)}
OBJDUMP=${OBJDUMP:-$(pick llvm-objdump)}

if [[ ${1:-} == -demo ]]; then
	root=$(cd "$(dirname "$0")/../.." && pwd)
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
	(cd "$root" && A64_E2E_DIR="$dir" go test -count=1 -run '^TestEndToEnd$' ./internal/a64/ >/dev/null)
	for fn in fmaRelu gemm4 expv; do
		"$0" "$dir/k.test" "k.$fn"
		echo
	done
	exit 0
fi
while getopts "l:c:v" o; do
	case $o in
	l) loopn=$OPTARG ;;
	c) cpus=$OPTARG ;;
	v) verbose=1 ;;
	*) sed -n '2,6p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[[ $# == 2 ]] || { sed -n '2,6p' "$0" >&2; exit 2; }
bin=$1 fn=$2

dis=$("$OBJDUMP" -d --no-show-raw-insn --disassemble-symbols="$fn.abi0" "$bin" 2>/dev/null | grep -E '^ *[0-9a-f]+:' || true)
[[ -n $dis ]] || dis=$("$OBJDUMP" -d --no-show-raw-insn --disassemble-symbols="$fn" "$bin" | grep -E '^ *[0-9a-f]+:' || true)
[[ -n $dis ]] || { echo "mca.sh: no function $fn in $bin" >&2; exit 1; }

# The loop: instructions from a backward branch's target to the branch,
# the branch retargeted to a label llvm-mca can assemble.
loop=$(awk -v want="$loopn" '
	function hex(s,  v, i) { # mawk has no strtonum
		sub(/^0x/, "", s); v = 0
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	{
		addr = hex(substr($1, 1, length($1) - 1))
		sub(/^ *[0-9a-f]+:[ \t]*/, "")
		a[n] = addr; text[n] = $0; n++
		split($0, f, /[ \t]+/)
		if (f[1] ~ /^(b|b\.[a-z]+|cbn?z|tbn?z)$/ && match($0, /0x[0-9a-f]+/)) {
			t = hex(substr($0, RSTART, RLENGTH))
			if (t <= addr) { nb++; from[nb] = t; to[nb] = n - 1 }
		}
	}
	END {
		if (nb == 0) { print "mca.sh: no loop" > "/dev/stderr"; exit 1 }
		k = want
		if (k == 0) { k = 1; for (i = 2; i <= nb; i++) if (a[to[i]] - from[i] < a[to[k]] - from[k]) k = i }
		if (k > nb) { print "mca.sh: only " nb " loops" > "/dev/stderr"; exit 1 }
		printf "# loop %#x-%#x\n.Lloop:\n", from[k], a[to[k]]
		for (i = 0; i < n; i++) if (a[i] >= from[k] && i <= to[k]) {
			s = text[i]
			if (i == to[k]) sub(/0x[0-9a-f]+.*/, ".Lloop", s)
			print "\t" s
		}
	}' <<<"$dis")
count=$(grep -cE '^\s(fmla|fmls|fmadd|fmsub)\s' <<<"$loop" || true)
insts=$(grep -c $'^\t' <<<"$loop")
echo "$fn, $(head -1 <<<"$loop" | cut -c3-): $insts instructions, $count FMA; $MCA"
if [[ $verbose == 1 ]]; then grep $'^\t' <<<"$loop"; fi

peak=$(for i in $(seq 0 23); do printf '\tfmla v%d.4s, v30.4s, v31.4s\n' "$i"; done)
mca() { "$MCA" -mtriple=aarch64 -mcpu="$1" -iterations=1000 2>/dev/null; }
field() { awk -v k="$1" -F: '$1 == k { gsub(/ /, "", $2); print $2 }'; }
printf '%-12s %-8s %12s %6s %10s %10s %8s\n' cpu model cycles/iter IPC FMA/cycle peak/cycle of-peak
for cpu in $cpus; do
	out=$(mca "$cpu" <<<"$loop")
	cyc=$(field "Total Cycles" <<<"$out")
	ipc=$(field IPC <<<"$out")
	model=$(sed -n '/^Resources:/{n;p;q}' <<<"$out" | awk '{print $3}' | sed 's/Unit.*/Unit/')
	pcyc=$(mca "$cpu" <<<"$peak" | field "Total Cycles")
	awk -v c="$cpu" -v m="$model" -v cyc="$cyc" -v ipc="$ipc" -v n="$count" -v pc="$pcyc" 'BEGIN {
		it = cyc / 1000; rate = n / it; peak = 24 * 1000 / pc
		printf "%-12s %-8s %12.2f %6s %10.2f %10.2f %7.0f%%\n", c, m, it, ipc, rate, peak, 100 * rate / peak
	}'
	if [[ $verbose == 1 ]]; then sed -n '/^Resource pressure per iteration/,/^$/p' <<<"$out"; fi
done
