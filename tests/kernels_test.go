package tests

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// kernelNets exercise every kernel variant at awkward sizes: channel
// counts of 1, 7, 9, 13 (not multiples of the 8-lane block), odd and
// non-square images, kernels 1 to 7, strides 1 and 2, dilation, groups
// that do and do not align with blocks, depthwise with and without a
// channel multiplier, residual adds, ReLU and ReLU6, Winograd F(2x2)
// and F(4x4) forced where they apply.
var kernelNets = []struct {
	name string
	plan plan.Options
	spec string
}{
	{"odd", plan.Options{}, `
input: [7, 13, 11]
layers:
  - {name: c1, op: conv, out: 9, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: c2, op: conv, out: 13, kernel: 5, stride: 2, padding: 2}
  - {name: c3, op: conv, out: 13, kernel: 1}
  - {name: a1, op: add, inputs: [c3, c2]}
  - {name: r2, op: relu6}
  - {name: c4, op: conv, out: 8, kernel: 7, padding: 3}
  - {name: c5, op: conv, out: 1, kernel: 3}
  - {name: c6, op: conv, out: 3, kernel: 1, stride: 2}
  - {name: fc, op: linear, out: 5}
`},
	{"groups", plan.Options{}, `
input: [16, 9, 9]
layers:
  - {name: g1, op: conv, out: 16, kernel: 3, padding: 1, groups: 2}
  - {name: g2, op: conv, out: 12, kernel: 3, padding: 1, groups: 4}
  - {name: d1, op: conv, out: 12, kernel: 3, padding: 1, groups: 12}
  - {name: r, op: relu}
  - {name: d2, op: conv, out: 12, kernel: 5, stride: 2, padding: 2, groups: 12}
  - {name: d3, op: conv, out: 24, kernel: 3, padding: 1, groups: 12}
  - {name: dil, op: conv, out: 9, kernel: 3, padding: 2, dilation: 2}
  - {name: r6, op: relu6}
  - {name: mp1, op: maxpool, kernel: 3, stride: 2, padding: 1}
  - {name: mp2, op: maxpool, kernel: 2}
  - {name: ap, op: avgpool, kernel: 3, stride: 1, padding: 1}
  - {name: mp3, op: maxpool, kernel: 3, stride: 1, padding: 1}
`},
	{"winograd4", plan.Options{ForceWinograd: true, WinogradM: 4}, `
input: [9, 16, 12]
layers:
  - {name: w1, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: w2, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w2, r1]}
  - {name: r2, op: relu6}
  - {name: w3, op: conv, out: 24, kernel: 3, padding: 1}
  - {name: w4, op: conv, out: 1, kernel: 3, padding: 1}
  - {name: w5, op: conv, out: 8, kernel: 3, padding: 2}
`},
	{"winograd_uneven", plan.Options{}, `
input: [16, 14, 7]
layers:
  - {name: w1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: w2, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w2, r1]}
  - {name: r2, op: relu}
  - {name: w3, op: conv, out: 24, kernel: 3, padding: 1}
  - {name: w4, op: conv, out: 9, kernel: 3}
`},
	{"winograd_uneven2", plan.Options{ForceWinograd: true, WinogradM: 2}, `
input: [8, 9, 5]
layers:
  - {name: w1, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: r1, op: relu6}
  - {name: w2, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w2, r1]}
`},
	{"winograd2", plan.Options{ForceWinograd: true, WinogradM: 2}, `
input: [3, 10, 6]
layers:
  - {name: w1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: w2, op: conv, out: 7, kernel: 3, padding: 1}
  - {name: w3, op: conv, out: 16, kernel: 3, padding: 2}
  - {name: w4, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w4, w3]}
`},
	// Every activation of the act table, fused into direct, depthwise and
	// lowered (1x1-input) convolutions and standalone, at channel counts
	// that do and do not fill a block (sigmoid and hardsigmoid, f(0) != 0,
	// are fused only into full blocks), with a residual, and the
	// channel-wise mul of a squeeze-and-excitation block.
	{"activations", plan.Options{}, `
input: [5, 9, 7]
layers:
  - {name: c1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: a1, op: silu}
  - {name: c2, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: a2, op: leaky_relu, slope: 0.1}
  - {name: c3, op: conv, out: 13, kernel: 3, padding: 1, groups: 13}
  - {name: a3, op: hardswish}
  - {name: c4, op: conv, out: 13, kernel: 1}
  - {name: a4, op: sigmoid}
  - {name: c5, op: conv, out: 16, kernel: 1}
  - {name: a5, op: hardsigmoid}
  - {name: c6, op: conv, out: 16, kernel: 3, padding: 1, inputs: [a1]}
  - {name: r6, op: add, inputs: [c6, a5]}
  - {name: a6, op: tanh}
  - {name: c7, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: a7, op: leaky_relu, slope: 2.5}
  - {name: dr, op: dropout, p: 0.2}
  - {name: gp, op: global_avgpool}
  - {name: se1, op: conv, out: 4, kernel: 1}
  - {name: se2, op: relu}
  - {name: se3, op: conv, out: 16, kernel: 1}
  - {name: se4, op: sigmoid}
  - {name: m, op: mul, inputs: [dr, se4]}
  - {name: s1, op: silu, inputs: [m]}
  - {name: t1, op: tanh}
  - {name: h1, op: hardsigmoid}
  - {name: l1, op: leaky_relu, slope: 0.3}
  - {name: w1, op: hardswish}
  - {name: fc, op: linear, out: 6}
  - {name: fs, op: sigmoid}
  - {name: fd, op: dropout}
`},
	{"tiny", plan.Options{}, `
input: [1, 1, 1]
layers:
  - {name: c, op: conv, out: 3, kernel: 1}
  - {name: r, op: relu6}
  - {name: fc, op: linear, out: 2}
`},
}

// harnessTest runs every level the CPU supports (each assembly target
// and the portable Go kernels) on a workspace with guard bands on both
// sides, and checks the guards, every buffer's halo and padded lanes,
// and the outputs against each other and the reference runtime's; the
// levels that share the portable program's layout must also agree with
// the Go kernels buffer by buffer.
const harnessTest = `//go:build amd64 && !purego

package PKG

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
	w := packedWeights()
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

// runParts runs level l phase by phase, each in three parts (units
// split unevenly, each part with its own scratch space), on
// a guarded workspace: what calls sharing steps between goroutines do,
// in one goroutine.
func runParts(t *testing.T, l *level, src []float32) []float32 {
	const parts = 3
	n := l.prog.workspaceLen + (parts-1)*l.prog.scratchLen
	buf := make([]float32, 2*guard+n)
	for i := range buf {
		if i < guard || i >= guard+n {
			buf[i] = sentinel
		}
	}
	ws := buf[guard : guard+n : guard+n]
	w := packedWeights()
	u := l.prog.transformed(w)
	dst := make([]float32, OutputLen)
	for i := range l.phases {
		ph := &l.phases[i]
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
		for j, v := range runParts(t, portable, in) {
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
			for j, v := range runParts(t, l, in) {
				if math.Float32bits(v) != math.Float32bits(out[j]) {
					t.Fatalf("sample %d: %s in parts: output %d is %v, whole steps give %v", i, l.name, j, v, out[j])
				}
			}
			if l.prog != portable.prog {
				continue
			}
			for _, b := range harnessBuffers[l.name] {
				n := b.cb() * b.plane()
				if e := maxRelErr(ws[b.off:b.off+n], goWS[b.off:b.off+n]); !(e <= 1e-5) {
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
`

func TestKernelVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package per kernel network")
	}
	mod := t.TempDir()
	writeFile(t, filepath.Join(mod, "go.mod"), []byte("module kernels\n\ngo "+gen.GoVersion+"\n"))
	for i, kn := range kernelNets {
		dir := filepath.Join(mod, kn.name)
		specPath := filepath.Join(mod, kn.name+".yaml")
		writeFile(t, specPath, []byte(strings.TrimSpace(kn.spec)+"\n"))
		net, err := spec.Load(specPath)
		if err != nil {
			t.Fatal(err)
		}
		tensors, err := synth.Checkpoint(net, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		weights := filepath.Join(mod, kn.name+".safetensors")
		if err := synth.WriteFile(weights, tensors); err != nil {
			t.Fatal(err)
		}
		res, err := driver.Run(&driver.Config{
			Spec: specPath, Weights: weights, Out: dir, Package: kn.name,
			Plan: kn.plan, Asm: assembler(), GoldenSamples: 3, DebugChecks: true,
		})
		if err != nil {
			t.Fatalf("%s: %v", kn.name, err)
		}
		var progs []string
		for _, p := range res.Plan.Programs {
			var lays []string
			for _, b := range p.Buffers {
				l := b.Layout
				lays = append(lays, fmt.Sprintf("{%d, %d, %d, %d, %d, %d}", b.Offset, l.C, l.H, l.W, l.Halo, l.Block))
			}
			names := []string{p.Target.Name}
			if p == res.Plan.Portable() && p.Target.Name != "go" {
				names = append(names, "go")
			}
			for _, n := range names {
				progs = append(progs, fmt.Sprintf("%q: {%s}", n, strings.Join(lays, ", ")))
			}
		}
		// The reference runtime on the harness's non-finite sample.
		in := make([]float64, len(res.Golden[0].Input))
		for j, v := range res.Golden[0].Input {
			in[j] = float64(v)
		}
		in[len(in)/3], in[2*len(in)/3], in[len(in)-1] = math.NaN(), math.Inf(1), math.Inf(-1)
		refOut, err := ref.Run(res.Unfused, in)
		if err != nil {
			t.Fatal(err)
		}
		// (For a one-pixel input the three land on one value, and a
		// ReLU6 can clamp an infinity away: then there is nothing to hide.)
		var bad []string
		for _, v := range refOut {
			bad = append(bad, fmt.Sprint(v-v != 0))
		}
		h := strings.Replace(harnessTest, "PKG", kn.name, 1) +
			"\nvar harnessBuffers = map[string][]layout{" + strings.Join(progs, ", ") + "}\n" +
			"\nvar refNonFinite = []bool{" + strings.Join(bad, ", ") + "}\n"
		writeFile(t, filepath.Join(dir, "harness_test.go"), []byte(h))
		var algos []string
		for _, p := range res.Plan.Programs {
			for _, s := range p.Steps {
				if s.Conv != nil {
					algos = append(algos, fmt.Sprintf("%s %s:%s/%d", p.Target.Name, s.Name, s.Conv.Algo, s.Conv.WinogradM))
				}
			}
		}
		t.Logf("%s: %v", kn.name, algos)
	}
	goCmd(t, mod, "vet", "./...")
	goCmd(t, mod, "test", "-count=1", "./...")
	goCmd(t, mod, "test", "-count=1", "-tags", "purego", "./...")
}

// TestKernelNetsCoverActivations: every row of the act table and the
// channel-wise mul appear in some kernel network, so the harness drives
// each through every emitter (Go and each assembly level).
func TestKernelNetsCoverActivations(t *testing.T) {
	ops := []string{"mul", "dropout"}
	for _, f := range act.Table[1:] {
		ops = append(ops, f.Name())
	}
	for _, op := range ops {
		found := false
		for _, kn := range kernelNets {
			found = found || strings.Contains(kn.spec, "op: "+op+"}") || strings.Contains(kn.spec, "op: "+op+",")
		}
		if !found {
			t.Errorf("no kernel network uses %s", op)
		}
	}
}
