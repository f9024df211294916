package graph

import (
	"runtime"
	"sync"
)

// Tensor is one sample's activation in the reference runtime: C x H x W
// values in float64, row-major.
type Tensor struct {
	Shape
	Data []float64
}

// NewTensor is a zero tensor of shape s.
func NewTensor(s Shape) Tensor { return Tensor{Shape: s, Data: make([]float64, s.Len())} }

func (t Tensor) at(c, y, x int) float64 { return t.Data[(c*t.H+y)*t.W+x] }

// mapValues applies f to every value of x.
func mapValues(x Tensor, f func(float64) float64) Tensor {
	out := NewTensor(x.Shape)
	for i, v := range x.Data {
		out.Data[i] = f(v)
	}
	return out
}

// Parallel runs f(0..n-1) spread over the CPU's cores. Each f writes
// only its own slice of the output, so results do not depend on the
// schedule.
func Parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// ceilDiv is ceil(a/b) for b > 0.
func ceilDiv(a, b int) int {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -((-a) / b)
}
