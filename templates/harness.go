// This file is a test template: acgen's own tests (tests/kernels_test.go)
// write it, with the package's harnessBuffers and refNonFinite, into the
// packages of their kernel networks as harness_test.go (amd64 and arm64;
// arm64's runs under qemu-aarch64). It
// lives here, not in a string, so that acgen's build compiles and vets it
// against the names every generated package defines.

package templates

import (
	"math"
	"testing"
)

const guard = 1024

var sentinel = math.Float32frombits(0x7fc0dead)

// runGuarded runs level l with the workspace and the weights shift
// floats past a 4 KiB boundary, so that a kernel relying on alignment
// it was not promised fails.
func runGuarded(t *testing.T, l *level, src []float32, shift int) ([]float32, []float32) {
	return runGuardedLanes(t, l, src, shift, true)
}

// runGuardedLanes is runGuarded, checking the padded lanes only when
// lanes is set: from a NaN they become NaN (0 * NaN), which no kernel
// reads into a real channel.
func runGuardedLanes(t *testing.T, l *level, src []float32, shift int, lanes bool) ([]float32, []float32) {
	n := l.prog.workspaceLen
	lo := guard + shift
	buf := make([]float32, lo+n+guard)
	for i := range buf {
		if i < lo || i >= lo+n {
			buf[i] = sentinel
		}
	}
	ws := buf[lo : lo+n : lo+n]
	dst := make([]float32, OutputLen)
	w := packedWeights(0)
	u := l.prog.transformed(w)
	w, u = shifted(w, shift), shifted(u, shift)
	l.run(ws, w, u, dst, src)
	for i := range buf {
		if (i < lo || i >= lo+n) && math.Float32bits(buf[i]) != 0x7fc0dead {
			t.Fatalf("%s shift=%d: write outside the workspace at %d", l.name, shift, i-lo)
		}
	}
	for _, b := range harnessBuffers[l.name] {
		for cb := 0; cb < b.cb(); cb++ {
			for y := -b.halo; y < b.h+b.halo; y++ {
				for x := -b.halo; x < b.w+b.halo; x++ {
					for k := 0; k < b.b; k++ {
						interior := y >= 0 && y < b.h && x >= 0 && x < b.w
						inside := interior && (cb*b.b+k < b.c || !lanes)
						if v := ws[b.pixel(cb, y, x)+k]; !inside && v != 0 {
							t.Fatalf("%s: buffer at %d (%dx%dx%d+%d): halo or padded lane (block %d, y %d, x %d, lane %d) holds %v",
								l.name, b.off, b.c, b.h, b.w, b.halo, cb, y, x, k, v)
						}
					}
				}
			}
		}
	}
	return dst, ws
}

// shifted is a copy of w starting shift floats past a 4 KiB boundary.
func shifted(w []float32, shift int) []float32 {
	if len(w) == 0 {
		return w
	}
	buf := make([]float32, 1024+shift+len(w))
	return append(buf[:1024+shift], w...)[1024+shift:]
}

// runParts runs level l phase by phase, each in three parts (units split
// unevenly, each part with its own scratch space), on a guarded
// workspace: what calls sharing steps between goroutines do, in one
// goroutine. Winograd steps run by schedule (winogradRows,
// winogradChannels, or winogradIn for the shared phases), whether or not
// a goroutine count chooses it.
func runParts(t *testing.T, l *level, src []float32, schedule int) []float32 {
	const parts = 3
	n := l.prog.workspaceLen + (parts-1)*l.prog.scratchLen
	buf := make([]float32, 2*guard+n)
	for i := range buf {
		if i < guard || i >= guard+n {
			buf[i] = sentinel
		}
	}
	ws := buf[guard : guard+n : guard+n]
	w := packedWeights(0)
	u := l.prog.transformed(w)
	dst := make([]float32, OutputLen)
	for i := range l.phases {
		ph := &l.phases[i]
		switch ph.kind {
		case winogradIn, winogradGemm, winogradOut:
			if schedule != winogradIn {
				continue
			}
		case winogradRows, winogradChannels:
			if ph.kind != schedule {
				continue
			}
		}
		k := min(parts, ph.units)
		for p := k - 1; p >= 0; p-- { // backwards: no part may rely on an earlier one
			l.part(ws, w, u, dst, src, ph, ph.units*p/k, ph.units*(p+1)/k, p*l.prog.scratchLen)
		}
	}
	for i := range buf {
		if (i < guard || i >= guard+n) && math.Float32bits(buf[i]) != 0x7fc0dead {
			t.Fatalf("%s in parts: write outside the workspace at %d", l.name, i-guard)
		}
	}
	return dst
}

func TestKernelsDifferential(t *testing.T) {
	portable := levels[len(levels)-1]
	ran := 0
	inputs, outputs := goldenSamples(t)
	for i, in := range inputs {
		goOut, goWS := runGuarded(t, portable, in, 0)
		for j, v := range runParts(t, portable, in, wholeStep) {
			if math.Float32bits(v) != math.Float32bits(goOut[j]) {
				t.Fatalf("sample %d: Go kernels in parts: output %d is %v, whole steps give %v", i, j, v, goOut[j])
			}
		}
		if e := maxRelErr(goOut, outputs[i]); !(e <= goldenTolerance) {
			t.Errorf("sample %d: Go kernels vs reference: %.3g", i, e)
		}
		for _, l := range levels[:len(levels)-1] {
			if !l.supported {
				continue
			}
			ran++
			shift := []int{0, 1, 3, 7}[i%4] // the assembly's loads and stores are unaligned ones
			out, ws := runGuarded(t, l, in, shift)
			if e := maxRelErr(out, outputs[i]); !(e <= goldenTolerance) {
				t.Errorf("sample %d: %s vs reference: %.3g", i, l.name, e)
			}
			if e := maxRelErr(out, goOut); !(e <= 1e-5) {
				t.Errorf("sample %d: %s vs Go kernels: %.3g", i, l.name, e)
			}
			for _, sched := range []int{winogradRows, winogradChannels, winogradIn} {
				for j, v := range runParts(t, l, in, sched) {
					if math.Float32bits(v) != math.Float32bits(out[j]) {
						t.Fatalf("sample %d: %s in parts, Winograd schedule %d: output %d is %v, whole steps give %v", i, l.name, sched, j, v, out[j])
					}
				}
			}
			if l.prog != portable.prog {
				continue
			}
			for _, b := range harnessBuffers[l.name] {
				n := b.cb() * b.plane()
				// 2e-5: a Winograd F(4x4) buffer's transforms amplify
				// float32 rounding (coefficients up to 8), and the
				// assembly's fused multiply-adds round once where Go's
				// multiply and add round twice: 1.1e-5 has been seen
				// between two right kernels. A wrong one is off by far
				// more.
				if e := maxRelErr(ws[b.off:b.off+n], goWS[b.off:b.off+n]); !(e <= 2e-5) {
					t.Errorf("sample %d: %s: buffer at %d differs from Go's by %.3g", i, l.name, b.off, e)
				}
			}
		}
	}
	if ran == 0 {
		t.Skip("this CPU runs none of the assembly levels")
	}
	// NaN and infinities inside the network (Infer refuses them as
	// input, so forward is called directly): every level must give
	// non-finite outputs where the Go kernels of the same program do, and
	// some level's program non-finite outputs exactly where Go's has them.
	src := append([]float32(nil), inputs[0]...)
	src[len(src)/3] = float32(math.NaN())
	src[2*len(src)/3] = float32(math.Inf(1))
	src[len(src)-1] = float32(math.Inf(-1))
	goOut, _ := runGuardedLanes(t, portable, src, 0, false)
	anyBad := func(v []float32) bool {
		for _, x := range v {
			if x-x != 0 {
				return true
			}
		}
		return false
	}
	// Where the reference runtime (the network as trained, in float64)
	// gives a non-finite output, so must every level: a NaN never hides.
	// (Winograd spreads a NaN over whole tiles, so a level may have more.)
	check := func(name string, out []float32) {
		for i, bad := range refNonFinite {
			if bad && out[i]-out[i] == 0 {
				t.Errorf("non-finite input: output %d: the reference gives a NaN or Inf, %s a finite %v", i, name, out[i])
			}
		}
	}
	check("go", goOut)
	for _, l := range levels[:len(levels)-1] {
		if !l.supported {
			continue
		}
		out, _ := runGuardedLanes(t, l, src, 1, false)
		check(l.name, out)
		if anyBad(out) != anyBad(goOut) {
			t.Errorf("non-finite input: %s gives %v, Go %v", l.name, out, goOut)
		}
		if l.prog != portable.prog {
			continue
		}
		for i := range out {
			if (out[i]-out[i] != 0) != (goOut[i]-goOut[i] != 0) || (out[i] == out[i]) != (goOut[i] == goOut[i]) {
				t.Errorf("non-finite input: output %d: %s gives %v, Go %v", i, l.name, out[i], goOut[i])
			}
		}
	}
}
