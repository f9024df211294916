package plan

import (
	"math"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/target"
)

// stack is a program of n 3x3 stride-1 convolutions of ch channels
// over h x h images, one after another (ReLU-free, so each may take
// Winograd).
func stack(tg *target.Target, n, ch, h int, opt Options) *planner {
	p := &planner{target: tg, opt: opt, prog: &Program{Target: tg}}
	for i := 0; i < n; i++ {
		c := &ConvStep{Conv: graph.Conv{In: ch, Out: ch, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1}, Block: tg.Lanes}
		c.OutH, c.OutW = c.Conv.OutSize(h, h)
		p.prog.Steps = append(p.prog.Steps, &Step{Kind: Conv, Conv: c})
	}
	return p
}

// modelled recomputes the accuracy model's error of the algorithms
// chosen, from the model's definition.
func modelled(steps []*Step, chosen map[*Step]int) float64 {
	e := directError * directError
	for i, s := range steps {
		e += errorGrowth * winogradExcess(s.Conv, chosen[s]) * float64(len(steps)-1-i) // a plain stack: g(n) = n
	}
	return math.Sqrt(e)
}

// TestErrorBudget: a stack of 3x3 layers deep enough that Winograd in
// every one (which the cost model alone picks) exceeds the accuracy
// budget. The plan keeps within it by moving the earliest layers, whose
// errors grow through the most layers after them, to more accurate
// algorithms, and keeps Winograd in the rest; the error it reports is
// the model's for the algorithms it chose. A stack short enough for the
// budget keeps Winograd everywhere.
func TestErrorBudget(t *testing.T) {
	for _, tg := range []*target.Target{target.AVX2, target.AVX512} {
		for _, ch := range []int{16, 64} {
			fast := stack(tg, 40, ch, 32, Options{NoErrorBudget: true})
			fm := fast.chooseWinograd()
			for i, s := range fast.prog.Steps {
				if fm[s] == 0 {
					t.Fatalf("%s, %d channels: layer %d direct for speed alone; the test wants Winograd everywhere", tg.Name, ch, i)
				}
			}
			if e := fast.prog.ModelledError; e <= ErrorBudget || math.Abs(e-modelled(fast.prog.Steps, fm)) > 1e-9 {
				t.Errorf("%s, %d channels: modelled error %.3gx for speed alone, want %.3gx, over the budget %.3gx",
					tg.Name, ch, e, modelled(fast.prog.Steps, fm), ErrorBudget)
			}

			p := stack(tg, 40, ch, 32, Options{})
			chosen := p.chooseWinograd()
			e := p.prog.ModelledError
			if e > ErrorBudget || math.Abs(e-modelled(p.prog.Steps, chosen)) > 1e-9 {
				t.Errorf("%s, %d channels: modelled error %.3gx, recomputed %.3gx, want both within %.3gx",
					tg.Name, ch, e, modelled(p.prog.Steps, chosen), ErrorBudget)
			}
			same, prev := 0, -1.0
			for i, s := range p.prog.Steps {
				if chosen[s] == fm[fast.prog.Steps[i]] {
					same++
				}
				// Equal layers: the later a layer, the less its error
				// grows, so excesses never decrease along the stack.
				x := winogradExcess(s.Conv, chosen[s])
				if x < prev {
					t.Errorf("%s, %d channels: layer %d takes F(%d) (excess %g) after a layer of excess %g", tg.Name, ch, i, chosen[s], x, prev)
				}
				prev = x
			}
			if same == 0 || same == len(p.prog.Steps) {
				t.Errorf("%s, %d channels: %d of %d layers as for speed alone, want some but not all", tg.Name, ch, same, len(p.prog.Steps))
			}

			short := stack(tg, 3, ch, 32, Options{})
			for i, s := range short.prog.Steps {
				if m := short.chooseWinograd()[s]; m != fm[fast.prog.Steps[0]] {
					t.Errorf("%s, %d channels: layer %d of 3 takes F(%d) within the budget, want F(%d) as for speed alone", tg.Name, ch, i, m, fm[fast.prog.Steps[0]])
				}
			}
		}
	}
}

// TestResidualBranch: in stem -> a -> b (+ stem's output) -> c -> d
// (+ c's output, as a separate Add) -> e, a and b lie on a residual
// branch, as does d; stem, c and e lie on the main path, whose errors
// the model grows by n rather than sqrt(n).
func TestResidualBranch(t *testing.T) {
	v := func(name string) *Value { return &Value{Name: name} }
	in, x, ya, yb, yc, yd, sum, ye := v("in"), v("x"), v("a"), v("b"), v("c"), v("d"), v("sum"), v("e")
	conv := func(name string, out *Value, ins ...*Value) *Step {
		return &Step{Name: name, Kind: Conv, In: ins, Out: out, Conv: &ConvStep{}}
	}
	stem, a, b, c := conv("stem", x, in), conv("a", ya, x), conv("b", yb, ya, x), conv("c", yc, yb)
	d := conv("d", yd, yc)
	add := &Step{Name: "add", Kind: Add, In: []*Value{yd, yc}, Out: sum}
	e := conv("e", ye, sum)
	got := onResidualBranch([]*Step{stem, a, b, c, d, add, e})
	for _, s := range []*Step{stem, a, b, c, d, e} {
		want := s == a || s == b || s == d
		if got[s] != want {
			t.Errorf("%s: on a residual branch %v, want %v", s.Name, got[s], want)
		}
	}
	if errorReach(16, true) != 4 || errorReach(16, false) != 16 {
		t.Errorf("errorReach(16): %g on a branch, %g on the main path; want 4 and 16", errorReach(16, true), errorReach(16, false))
	}
}
