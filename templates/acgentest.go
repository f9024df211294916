package templates

import (
	"context"
	_ "embed"
	"errors"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"
)

// This file is copied into every generated package as acgen_test.go:
// `go test` in the user's repository keeps checking the generated code
// against outputs of the reference runtime, which ran the network exactly
// as it was trained (unfused, in float64).

// goldenRaw holds samples and their reference outputs: float32,
// little-endian, after the 64-byte header; all inputs, then all outputs.
//
//go:embed testdata/golden.bin
var goldenRaw string

// goldenTolerance bounds |got-want| / max(1, |want|) for every output;
// isaTolerance bounds how far two instruction sets' outputs may be apart
// (float32 rounding in different summation orders: a deep plain network
// of 22 RepVGG layers gathers 1e-5 of it per order). acgen raises both
// for a network whose outputs float32 rounding itself moves further.
const goldenTolerance, isaTolerance = 1e-4, 5e-5

func goldenSamples(t testing.TB) (inputs, outputs [][]float32) {
	raw := goldenRaw[64:]
	var all []float32
	for i := 0; i+4 <= len(raw); i += 4 {
		all = append(all, math.Float32frombits(uint32(raw[i])|uint32(raw[i+1])<<8|uint32(raw[i+2])<<16|uint32(raw[i+3])<<24))
	}
	n := len(all) / (InputLen + OutputLen)
	if n == 0 || n*(InputLen+OutputLen) != len(all) {
		t.Fatalf("testdata/golden.bin holds %d floats, not whole samples", len(all))
	}
	for i := 0; i < n; i++ {
		inputs = append(inputs, all[i*InputLen:(i+1)*InputLen])
		outputs = append(outputs, all[n*InputLen+i*OutputLen:n*InputLen+(i+1)*OutputLen])
	}
	return inputs, outputs
}

func maxRelErr(got, want []float32) float64 {
	var worst float64
	for i := range want {
		d := math.Abs(float64(got[i])-float64(want[i])) / math.Max(1, math.Abs(float64(want[i])))
		if d > worst || d != d {
			worst = d
		}
	}
	return worst
}

func TestGolden(t *testing.T) {
	inputs, outputs := goldenSamples(t)
	got := make([]float32, OutputLen)
	for i := range inputs {
		if err := Infer(got, inputs[i]); err != nil {
			t.Fatal(err)
		}
		if e := maxRelErr(got, outputs[i]); !(e <= goldenTolerance) {
			t.Errorf("sample %d: max relative error %.3g, want <= %g", i, e, goldenTolerance)
		}
	}
}

// TestEveryISA runs the golden samples through every instruction set
// this CPU supports (the assembly levels and the portable Go kernels):
// each must match the reference outputs, and the others' answers to
// within isaTolerance.
func TestEveryISA(t *testing.T) {
	inputs, outputs := goldenSamples(t)
	was := ISA()
	defer SetISA(was)
	results := map[string][][]float32{}
	for _, isa := range ISAs() {
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		if got := ISA(); got != isa {
			t.Fatalf("after SetISA(%q), ISA() = %q", isa, got)
		}
		for i, in := range inputs {
			got := make([]float32, OutputLen)
			if err := Infer(got, in); err != nil {
				t.Fatal(err)
			}
			if e := maxRelErr(got, outputs[i]); !(e <= goldenTolerance) {
				t.Errorf("%s: sample %d: max relative error %.3g, want <= %g", isa, i, e, goldenTolerance)
			}
			results[isa] = append(results[isa], got)
		}
	}
	base := ISAs()[len(ISAs())-1]
	for isa, outs := range results {
		for i := range outs {
			if e := maxRelErr(outs[i], results[base][i]); !(e <= isaTolerance) {
				t.Errorf("sample %d: %s and %s differ by %.3g", i, isa, base, e)
			}
		}
	}
	if err := SetISA("no-such-isa"); err == nil {
		t.Error("SetISA of an unknown name succeeded")
	}
}

// TestThreads: on every instruction set, a call shared between
// goroutines (SetThreads) gives bit for bit what one goroutine gives,
// also with more goroutines than cores or with the helpers held back, and
// many such calls at once do too.
func TestThreads(t *testing.T) {
	inputs, _ := goldenSamples(t)
	was, threadsWas := ISA(), SetThreads(1)
	defer SetISA(was)
	defer SetThreads(threadsWas)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0))))
	for _, isa := range ISAs() {
		SetISA(isa)
		SetThreads(1)
		want := make([][]float32, len(inputs))
		for i, in := range inputs {
			want[i] = make([]float32, OutputLen)
			if err := Infer(want[i], in); err != nil {
				t.Fatal(err)
			}
		}
		same := func(a, b []float32) bool {
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					return false
				}
			}
			return true
		}
		for _, n := range []int{2, 3, 4} {
			SetThreads(n)
			got := make([]float32, OutputLen)
			for i, in := range inputs {
				if err := Infer(got, in); err != nil {
					t.Fatal(err)
				}
				if !same(got, want[i]) {
					t.Errorf("%s, %d threads: sample %d differs from one thread's", isa, n, i)
				}
			}
		}
		// Helpers that never come: the caller runs every part of every
		// phase, its own scratch space standing in for theirs.
		SetThreads(2)
		holdHelpers.Store(true)
		got := make([]float32, OutputLen)
		for i, in := range inputs {
			if err := Infer(got, in); err != nil {
				t.Fatal(err)
			}
			if !same(got, want[i]) {
				t.Errorf("%s, 2 threads, the helper held back: sample %d differs from one thread's", isa, i)
			}
		}
		holdHelpers.Store(false)
		SetThreads(3)
		var wg sync.WaitGroup
		bad := make(chan int, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				got := make([]float32, OutputLen)
				for r := 0; r < 3; r++ {
					i := (g + r) % len(inputs)
					if err := Infer(got, inputs[i]); err != nil || !same(got, want[i]) {
						bad <- i
						return
					}
				}
			}(g)
		}
		wg.Wait()
		close(bad)
		for i := range bad {
			t.Errorf("%s: concurrent calls over 3 threads: sample %d differs", isa, i)
		}
		SetThreads(2)
		dst := make([]float32, OutputLen)
		Infer(dst, inputs[0])
		if allocs := testing.AllocsPerRun(10, func() { Infer(dst, inputs[0]) }); allocs != 0 {
			t.Errorf("%s: Infer over 2 threads allocates %v times per call", isa, allocs)
		}
	}
}

func TestInferArrayAndBatchAgree(t *testing.T) {
	inputs, _ := goldenSamples(t)
	var src []float32
	var want []float32
	for _, in := range inputs {
		out := make([]float32, OutputLen)
		if err := Infer(out, in); err != nil {
			t.Fatal(err)
		}
		want = append(want, out...)
		src = append(src, in...)

		var a Input
		var b Output
		copy(a[:], in)
		InferArray(&b, &a)
		if e := maxRelErr(b[:], out); e != 0 {
			t.Errorf("InferArray differs from Infer by %g", e)
		}
	}
	got := make([]float32, len(want))
	if err := InferBatch(got, src); err != nil {
		t.Fatal(err)
	}
	if e := maxRelErr(got, want); e != 0 {
		t.Errorf("InferBatch differs from Infer by %g", e)
	}
	got = make([]float32, len(want))
	if err := InferBatchContext(context.Background(), got, src); err != nil || maxRelErr(got, want) != 0 {
		t.Errorf("InferBatchContext differs from Infer (%v)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got = make([]float32, len(want))
	if err := InferBatchContext(ctx, got, src); err != context.Canceled {
		t.Errorf("InferBatchContext with a cancelled context: %v, want context.Canceled", err)
	}
	for i, v := range got {
		if v != 0 {
			t.Fatalf("InferBatchContext with a cancelled context wrote dst[%d]", i)
		}
	}
}

// TestWeightsAligned: every level reads the packed weights from a
// multiple of its vector bytes (in place where the embedded file is so
// aligned, else a copy), the same floats either way; and the copy
// starts where it should from any start.
func TestWeightsAligned(t *testing.T) {
	base := packedWeights(0)
	for _, l := range levels {
		w := packedWeights(l.align)
		if !isAligned(w, l.align) {
			t.Errorf("%s: weights not aligned to %d bytes", l.name, l.align)
		}
		sameFloats(t, l.name, w, base)
	}
	if len(base) > 1 {
		c := alignedCopy(base[1:], 64)
		if !isAligned(c, 64) {
			t.Errorf("alignedCopy: not aligned to 64 bytes")
		}
		sameFloats(t, "alignedCopy", c, base[1:])
	}
}

func sameFloats(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d weights, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: weight %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestNoAllocations(t *testing.T) {
	inputs, _ := goldenSamples(t)
	dst := make([]float32, OutputLen)
	allocs := testing.AllocsPerRun(20, func() {
		if err := Infer(dst, inputs[0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Infer allocates %v times per call, want 0", allocs)
	}
	// Sharing each call between goroutines: AllocsPerRun runs with
	// GOMAXPROCS 1, where calls do not share, so count by hand.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	defer SetThreads(SetThreads(2))
	for i := 0; i < 3; i++ { // warm: the helper goroutines and workspaces exist
		if err := Infer(dst, inputs[0]); err != nil {
			t.Fatal(err)
		}
	}
	// The count is the whole program's; helpers that park between calls
	// may allocate in the runtime, not in a call, so they poll meanwhile
	// (see helpersPoll).
	helpersPoll.Store(true)
	defer helpersPoll.Store(false)
	// Still, a stray allocation elsewhere in the process (6 in 20 calls,
	// in two of some 25 runs of the fixtures' tests, once on an idle
	// machine, in no rerun) is not the calls': count three windows, and
	// fail when each of them allocates, as calls that allocate would.
	const calls, windows = 20, 3
	var before, after runtime.MemStats
	var counts []uint64
	for len(counts) < windows {
		runtime.ReadMemStats(&before)
		for i := 0; i < calls; i++ {
			if err := Infer(dst, inputs[0]); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		n := after.Mallocs - before.Mallocs
		if n == 0 {
			return
		}
		counts = append(counts, n)
	}
	t.Errorf("Infer over 2 goroutines allocates in every window of %d calls: %v times, want 0", calls, counts)
}

// TestConcurrent runs Infer from many goroutines at once; every result
// must equal the serial one bit for bit (run it with -race too).
func TestConcurrent(t *testing.T) {
	inputs, _ := goldenSamples(t)
	want := make([][]float32, len(inputs))
	for i, in := range inputs {
		want[i] = make([]float32, OutputLen)
		if err := Infer(want[i], in); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			got := make([]float32, OutputLen)
			for r := 0; r < 4; r++ {
				i := (g + r) % len(inputs)
				if err := Infer(got, inputs[i]); err != nil {
					errs <- err
					return
				}
				if maxRelErr(got, want[i]) != 0 {
					errs <- errors.New("a concurrent call gave a different result")
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNonFiniteInput: a NaN or infinite input value is an *InputError
// naming it, on every instruction set, and dst is left alone.
func TestNonFiniteInput(t *testing.T) {
	inputs, _ := goldenSamples(t)
	was := ISA()
	defer SetISA(was)
	for _, isa := range ISAs() {
		SetISA(isa)
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			src := append([]float32(nil), inputs[0]...)
			i := len(src) / 3
			src[i] = bad
			dst := make([]float32, OutputLen)
			dst[0] = 42
			var ie *InputError
			if err := Infer(dst, src); !errors.As(err, &ie) || ie.Index != i || dst[0] != 42 {
				t.Errorf("%s: Infer with src[%d] = %v: %v (dst[0] %v)", isa, i, bad, err, dst[0])
			}
			var a Input
			var b Output
			copy(a[:], src)
			if err := InferArray(&b, &a); !errors.As(err, &ie) || ie.Index != i {
				t.Errorf("%s: InferArray with src[%d] = %v: %v", isa, i, bad, err)
			}
			batch := append(append([]float32(nil), inputs[0]...), src...)
			if err := InferBatch(make([]float32, 2*OutputLen), batch); !errors.As(err, &ie) || ie.Sample != 1 || ie.Index != i {
				t.Errorf("%s: InferBatch with sample 1's value %d = %v: %v", isa, i, bad, err)
			}
		}
	}
}

func TestWrongLengths(t *testing.T) {
	for _, c := range []struct {
		dst, src int
	}{{OutputLen, 0}, {OutputLen, InputLen - 1}, {OutputLen, InputLen + 1}, {0, InputLen}, {OutputLen + 1, InputLen}} {
		err := Infer(make([]float32, c.dst), make([]float32, c.src))
		var le *LengthError
		if !errors.As(err, &le) {
			t.Errorf("Infer(dst[%d], src[%d]) = %v, want a *LengthError", c.dst, c.src, err)
		}
	}
	if err := Infer(nil, nil); err == nil {
		t.Error("Infer(nil, nil) succeeded")
	}
	if err := InferBatch(make([]float32, OutputLen), make([]float32, InputLen+1)); err == nil {
		t.Error("InferBatch with a partial sample succeeded")
	}
	if err := InferBatch(make([]float32, OutputLen), make([]float32, 2*InputLen)); err == nil {
		t.Error("InferBatch with a short dst succeeded")
	}
	if err := InferBatch(nil, nil); err != nil {
		t.Errorf("InferBatch of no samples: %v", err)
	}
}

func BenchmarkInfer(b *testing.B) {
	inputs, _ := goldenSamples(b)
	dst := make([]float32, OutputLen)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := Infer(dst, inputs[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(FLOPs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkInferThreads runs one sample at a time over GOMAXPROCS
// goroutines (SetThreads(0)): compare its ns/op across -cpu 1,2,... for
// how one call's latency scales with cores.
func BenchmarkInferThreads(b *testing.B) {
	defer SetThreads(SetThreads(0))
	inputs, _ := goldenSamples(b)
	dst := make([]float32, OutputLen)
	if err := Infer(dst, inputs[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Infer(dst, inputs[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(FLOPs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkThreadsSpeedup measures what SetThreads(GOMAXPROCS) gains
// over one goroutine (run it with -cpu 2 or more): it alternates runs of
// calls with either setting, so that both meet the same machine (a
// shared machine's slow spells last seconds, longer than a run), and
// reports each setting's mean latency (ns/op-1 and ns/op-n) and their
// ratio (speedup). The first call of each run is not timed: it pays for
// the switch (helpers waking, caches refilling), which a program that
// keeps one setting never does.
func BenchmarkThreadsSpeedup(b *testing.B) {
	n := runtime.GOMAXPROCS(0)
	if n < 2 {
		b.Skip("needs GOMAXPROCS of 2 or more (-cpu 2)")
	}
	defer SetThreads(SetThreads(1))
	inputs, _ := goldenSamples(b)
	dst := make([]float32, OutputLen)
	const run = 5 // calls with one setting before switching
	var spent [2]time.Duration
	var timed [2]int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i / run % 2
		if i%run == 0 {
			SetThreads([2]int{1, n}[k])
		}
		start := time.Now()
		if err := Infer(dst, inputs[0]); err != nil {
			b.Fatal(err)
		}
		if i%run != 0 {
			spent[k] += time.Since(start)
			timed[k]++
		}
	}
	if timed[0] == 0 || timed[1] == 0 {
		return // b.N too small for both settings: the first rounds of b.N
	}
	one, many := float64(spent[0])/float64(timed[0]), float64(spent[1])/float64(timed[1])
	b.ReportMetric(one, "ns/op-1")
	b.ReportMetric(many, "ns/op-n")
	b.ReportMetric(one/many, "speedup")
}

// BenchmarkInferBatch runs batches of 8 samples per GOMAXPROCS through
// InferBatch; compare its samples/s across -cpu values to see how the
// batch call scales.
func BenchmarkInferBatch(b *testing.B) {
	inputs, _ := goldenSamples(b)
	n := 8 * runtime.GOMAXPROCS(0)
	src := make([]float32, 0, n*InputLen)
	for i := 0; i < n; i++ {
		src = append(src, inputs[i%len(inputs)]...)
	}
	dst := make([]float32, n*OutputLen)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := InferBatch(dst, src); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
