package templates

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Infer runs the network on one sample. src holds InputLen values in
// C,H,W order (PyTorch's NCHW layout for a batch of one); dst receives
// OutputLen values, also in C,H,W order.
//
// Infer is safe for concurrent use and allocates nothing once warm. It
// runs on the calling goroutine, or shares each step with up to
// Threads()-1 helper goroutines when SetThreads asked for that (the
// answer is the same bit for bit). It runs the kernels of the best
// instruction set this CPU supports (see ISA). The first call loads the
// weights and computes Winograd's transformed weights from them, unless
// Warm did it at startup.
// A src or dst of the wrong length is reported as a *LengthError, and a
// NaN or infinite input value as an *InputError (dst is then untouched):
// on every instruction set, a corrupt value is an error rather than a
// confident answer.
func Infer(dst, src []float32) error {
	if len(src) != InputLen {
		return &LengthError{Arg: "src", Got: len(src), Want: InputLen}
	}
	if len(dst) != OutputLen {
		return &LengthError{Arg: "dst", Got: len(dst), Want: OutputLen}
	}
	n := parallelism()
	wakeHelpers(n)
	if i := firstNonFinite(src); i >= 0 {
		return &InputError{Index: i, Value: src[i]}
	}
	run(dst, src, n)
	return nil
}

// run runs one sample on the current level over up to n goroutines
// (parallelism, read once a call).
func run(dst, src []float32, n int) {
	l := current()
	if n > 1 {
		if n = min(n, l.widest()); n > 1 {
			runParallel(l, dst, src, n)
			return
		}
	}
	w := packedWeights(l.align)
	u := l.prog.transformed(w)
	ws := l.prog.getWorkspace()
	l.run(ws, w, u, dst, src)
	l.prog.putWorkspace(ws)
}

// InferArray is Infer on fixed-size arrays, which cannot have the wrong
// length; a NaN or infinite input is an *InputError.
func InferArray(dst *Output, src *Input) error {
	n := parallelism()
	wakeHelpers(n)
	if i := firstNonFinite(src[:]); i >= 0 {
		return &InputError{Index: i, Value: src[i]}
	}
	run(dst[:], src[:], n)
	return nil
}

// InferBatch runs len(src)/InputLen samples stored one after another,
// writing OutputLen values per sample to dst. It spreads the samples over
// up to GOMAXPROCS goroutines, each sample on one of them (whatever
// SetThreads says); each sample's result is exactly what Infer gives for
// it. For throughput over many samples, InferBatch is the right call; for
// the latency of one sample on idle cores, Infer after SetThreads.
func InferBatch(dst, src []float32) error {
	return InferBatchContext(context.Background(), dst, src)
}

// InferBatchContext is InferBatch that stops early when ctx is done: no
// sample starts after that, the samples running finish (one sample takes
// milliseconds, not long enough to interrupt), and it returns ctx.Err().
// The samples finished by then hold their results in dst; the others are
// untouched. Infer has no context: one sample is one uninterruptible
// computation, as a map lookup is.
func InferBatchContext(ctx context.Context, dst, src []float32) error {
	n := len(src) / InputLen
	if len(src) != n*InputLen {
		return &LengthError{Arg: "src", Got: len(src), Want: InputLen, Batch: true}
	}
	if len(dst) != n*OutputLen {
		return &LengthError{Arg: "dst", Got: len(dst), Want: n * OutputLen, Batch: true}
	}
	if i := firstNonFinite(src); i >= 0 {
		return &InputError{Sample: i / InputLen, Index: i % InputLen, Value: src[i], Batch: true}
	}
	l := current()
	w := packedWeights(l.align)
	u := l.prog.transformed(w)
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	done := ctx.Done()
	work := func() {
		ws := l.prog.getWorkspace()
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				break
			}
			if done != nil && ctx.Err() != nil {
				break
			}
			l.run(ws, w, u, dst[i*OutputLen:(i+1)*OutputLen], src[i*InputLen:(i+1)*InputLen])
		}
		l.prog.putWorkspace(ws)
	}
	if workers <= 1 {
		work()
		return ctx.Err()
	}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// Warm does now what the first Infer would otherwise do: choose the
// instruction set, load the weights, compute Winograd's transformed
// weights and make one workspace. Call it at startup so that the first
// request is as fast as the others; Infer stays correct without it.
func Warm() {
	l := current()
	w := packedWeights(l.align)
	l.prog.transformed(w)
	l.prog.putWorkspace(l.prog.getWorkspace())
}

// LengthError reports a slice of the wrong length passed to Infer or
// InferBatch.
type LengthError struct {
	Arg   string // "src" or "dst"
	Got   int
	Want  int  // for InferBatch's src: the per-sample length it must be a multiple of
	Batch bool // from InferBatch
}

func (e *LengthError) Error() string {
	switch {
	case e.Batch && e.Arg == "src":
		return fmt.Sprintf("%s: InferBatch: src has %d values, not a multiple of %d", packageName, e.Got, e.Want)
	case e.Batch:
		return fmt.Sprintf("%s: InferBatch: dst has %d values, want %d for the samples in src", packageName, e.Got, e.Want)
	}
	return fmt.Sprintf("%s: Infer: %s has %d values, want %d", packageName, e.Arg, e.Got, e.Want)
}

// InputError reports an input value that is NaN or infinite. Networks
// turn such a value into NaN outputs at best and into a plausible but
// wrong answer at worst, so the package refuses it.
type InputError struct {
	Sample int // the sample, for InferBatch
	Index  int // the value's index within the sample, in C,H,W order
	Value  float32
	Batch  bool // from InferBatch
}

func (e *InputError) Error() string {
	c, y, x := e.Index/(InputHeight*InputWidth), e.Index/InputWidth%InputHeight, e.Index%InputWidth
	where := fmt.Sprintf("Infer: src[%d]", e.Index)
	if e.Batch {
		where = fmt.Sprintf("InferBatch: sample %d, value %d", e.Sample, e.Index)
	}
	return fmt.Sprintf("%s: %s (channel %d, y %d, x %d) is %v; inputs must be finite", packageName, where, c, y, x, e.Value)
}

// firstNonFinite is the index of the first NaN or infinite value of v, or
// -1: x-x is 0 for every finite x and NaN otherwise.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		if x-x != 0 {
			return i
		}
	}
	return -1
}
