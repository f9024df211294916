package templates

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Infer runs the network on one sample. src holds InputLen values in
// C,H,W order (PyTorch's NCHW layout for a batch of one); dst receives
// OutputLen values, also in C,H,W order.
//
// Infer is safe for concurrent use, runs on the calling goroutine only,
// and allocates nothing once warm. It runs the kernels of the best
// instruction set this CPU supports (see ISA). The first call loads the
// weights and computes Winograd's transformed weights from them: call
// Infer once at startup to pay that there.
// A src or dst of the wrong length is reported as a *LengthError.
func Infer(dst, src []float32) error {
	if len(src) != InputLen {
		return &LengthError{Arg: "src", Got: len(src), Want: InputLen}
	}
	if len(dst) != OutputLen {
		return &LengthError{Arg: "dst", Got: len(dst), Want: OutputLen}
	}
	run(dst, src)
	return nil
}

// run runs one sample on the current level.
func run(dst, src []float32) {
	l := current()
	w := packedWeights()
	u := l.prog.transformed(w)
	ws := l.prog.getWorkspace()
	l.run(ws, w, u, dst, src)
	l.prog.putWorkspace(ws)
}

// InferArray is Infer on fixed-size arrays, which cannot have the wrong
// length.
func InferArray(dst *Output, src *Input) {
	run(dst[:], src[:])
}

// InferBatch runs len(src)/InputLen samples stored one after another,
// writing OutputLen values per sample to dst. It spreads the samples over
// up to GOMAXPROCS goroutines; each sample's result is exactly what Infer
// gives for it.
func InferBatch(dst, src []float32) error {
	n := len(src) / InputLen
	if len(src) != n*InputLen {
		return &LengthError{Arg: "src", Got: len(src), Want: InputLen, Batch: true}
	}
	if len(dst) != n*OutputLen {
		return &LengthError{Arg: "dst", Got: len(dst), Want: n * OutputLen, Batch: true}
	}
	l := current()
	w := packedWeights()
	u := l.prog.transformed(w)
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	work := func() {
		ws := l.prog.getWorkspace()
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				break
			}
			l.run(ws, w, u, dst[i*OutputLen:(i+1)*OutputLen], src[i*InputLen:(i+1)*InputLen])
		}
		l.prog.putWorkspace(ws)
	}
	if workers <= 1 {
		work()
		return nil
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
	return nil
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
