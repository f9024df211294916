package templates

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/acgen/acgen/plan"
)

func TestFiles(t *testing.T) {
	for _, f := range Files() {
		if strings.Contains(f.Source, "package templates") {
			t.Errorf("%s: the package clause was not stripped", f.Name)
		}
		if strings.TrimSpace(f.Source) == "" {
			t.Errorf("%s: empty", f.Name)
		}
	}
}

// TestExampleOutput: example.go holds the Output line the generator
// replaces.
func TestExampleOutput(t *testing.T) {
	for _, f := range Files() {
		if f.Name == ExampleFile && !strings.Contains(f.Source, ExampleOutput(1)) {
			t.Errorf("%s lacks %q", f.Name, ExampleOutput(1))
		}
	}
}

// TestHelpers checks ArgMax, TopK, Normalize and FromImage on this
// package's stand-in shape (1 channel of 1x3).
func TestHelpers(t *testing.T) {
	nan := float32(math.NaN())
	if got := ArgMax([]float32{1, nan, 3, 3}); got != 2 {
		t.Errorf("ArgMax = %d, want 2 (the first of equals, NaN never)", got)
	}
	if got := ArgMax(nil); got != -1 {
		t.Errorf("ArgMax(nil) = %d", got)
	}
	if got := TopK([]float32{nan, 1, 5, 3, 5}, 4); fmt.Sprint(got) != "[2 4 3 1]" {
		t.Errorf("TopK = %v, want [2 4 3 1]", got)
	}
	if got := TopK([]float32{1, 2}, 5); len(got) != 2 {
		t.Errorf("TopK past len: %v", got)
	}
	v := []float32{1, 2, 3, 4, 5, 6} // two samples
	if err := Normalize(v, []float32{1}, []float32{2}); err != nil || fmt.Sprint(v) != "[0 0.5 1 1.5 2 2.5]" {
		t.Errorf("Normalize: %v, %v", v, err)
	}
	if err := Normalize(v, []float32{1, 2}, []float32{1, 1}); err == nil {
		t.Error("Normalize took 2 means for 1 channel")
	}
	img := image.NewGray(image.Rect(0, 0, 3, 1))
	img.Pix = []uint8{0, 255, 51}
	dst := make([]float32, InputLen)
	if err := FromImage(dst, img); err != nil || dst[0] != 0 || dst[1] != 1 || math.Abs(float64(dst[2])-0.2) > 1e-6 {
		t.Errorf("FromImage: %v, %v", dst, err)
	}
	if err := FromImage(dst, image.NewGray(image.Rect(0, 0, 4, 4))); err == nil || !strings.Contains(err.Error(), "resize it first") {
		t.Errorf("FromImage of the wrong size: %v", err)
	}
}

// TestTransformsMatchPlan checks the scheduled Winograd transforms
// against the matrices the planner transforms the weights with.
func TestTransformsMatchPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []int{2, 4} {
		wm := plan.WinogradTransforms(m)
		a := wm.A
		for trial := 0; trial < 20; trial++ {
			var d, orig [36]float32
			for i := 0; i < a*a; i++ {
				d[i] = float32(rng.NormFloat64())
			}
			orig = d
			// Input: B^T d B.
			if m == 4 {
				inputF4(&d)
			} else {
				inputF2(&d)
			}
			want := sandwich(wm.BT, orig[:a*a], a, a)
			for i := range want {
				if math.Abs(float64(d[i])-want[i]) > 1e-4*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("F(%d) input transform element %d: %v, want %v", m, i, d[i], want[i])
				}
			}
			// Output: A^T m A.
			var y [16]float32
			d = orig
			if m == 4 {
				outputF4(&d, &y)
			} else {
				outputF2(&d, &y)
			}
			want = sandwich(wm.AT, orig[:a*a], m, a)
			for i := range want {
				if math.Abs(float64(y[i])-want[i]) > 1e-4*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("F(%d) output transform element %d: %v, want %v", m, i, y[i], want[i])
				}
			}
		}
	}
}

// TestKernelTransformsMatchPlan checks the weight transforms the
// packages run when they load against the planner's G: G g G^T.
func TestKernelTransformsMatchPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{2, 4} {
		wm := plan.WinogradTransforms(m)
		a := wm.A
		for trial := 0; trial < 20; trial++ {
			var g [9]float64
			var g32 [9]float32
			for i := range g {
				g32[i] = float32(rng.NormFloat64())
				g[i] = float64(g32[i])
			}
			var u [36]float64
			if m == 4 {
				kernelF4(&g, &u)
			} else {
				kernelF2(&g, &u)
			}
			want := sandwich(wm.G, g32[:], a, 3)
			for i := range want {
				if math.Abs(u[i]-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("F(%d) kernel transform element %d: %v, want %v", m, i, u[i], want[i])
				}
			}
		}
	}
}

// sandwich computes T x T^T for T r x a and x a x a, in float64.
func sandwich(T [][]float64, x []float32, r, a int) []float64 {
	out := make([]float64, r*r)
	for i := 0; i < r; i++ {
		for j := 0; j < r; j++ {
			var s float64
			for k := 0; k < a; k++ {
				for l := 0; l < a; l++ {
					s += T[i][k] * float64(x[k*a+l]) * T[j][l]
				}
			}
			out[i*r+j] = s
		}
	}
	return out
}

func TestLayout(t *testing.T) {
	l := layout{off: 100, c: 11, h: 3, w: 5, halo: 2, b: 8}
	if l.cb() != 2 || l.row() != (5+4)*8 || l.plane() != (3+4)*l.row() {
		t.Fatalf("layout geometry: cb %d row %d plane %d", l.cb(), l.row(), l.plane())
	}
	if got, want := l.at(10, 1, 2), 100+1*l.plane()+(1+2)*l.row()+(2+2)*8+2; got != want {
		t.Errorf("at(10,1,2) = %d, want %d", got, want)
	}
	for _, b := range []int{8, 16} {
		l.b = b
		p := plan.Layout{C: 11, H: 3, W: 5, Halo: 2, Block: b}
		for _, c := range [][3]int{{10, 1, 2}, {0, -2, -2}, {3, 2, 4}} {
			if got, want := l.at(c[0], c[1], c[2])-100, p.Index(c[0], c[1], c[2]); got != want {
				t.Errorf("block %d: templates and plan disagree on the layout at %v: %d vs %d", b, c, got, want)
			}
		}
	}
}

// TestTransformWeights checks transformWeights' layout,
// [xi][tile][ic][lanes], with tiles of uneven channel counts, and that the
// lanes past the last output channel stay zero.
func TestTransformWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const in, out = 11, 21
	for _, m := range []int{2, 4} {
		wm := plan.WinogradTransforms(m)
		aa := wm.A * wm.A
		tiles := []convTile{{block0: 0, blocks: 2}, {block0: 2, blocks: 1}}
		const group = 16
		groups := (out + group - 1) / group
		w := make([]float32, 32+groups*in*9*group)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		c := &winogradConv{m: m, in: layout{c: in, b: 8}, out: layout{c: out, b: 8}, bias: 0, biasSrc: 0, kernels: 32, group: group, tiles: tiles}
		// The kernel of (oc, ic) as the packed weights hold it:
		// [oc/group][ic][3][3][group].
		kernel := func(oc, ic int) []float32 {
			k := make([]float32, 9)
			for i := range k {
				k[i] = w[32+(oc/group)*in*9*group+(ic*9+i)*group+oc%group]
			}
			return k
		}
		off := 24 // after the bias, padded
		for i := range tiles {
			tiles[i].wOff = off
			off += in * tiles[i].blocks * 8
		}
		c.xi = off - 24
		u := make([]float32, 24+aa*c.xi)
		c.transformWeights(u, w)
		for oc := 0; oc < out; oc++ {
			if u[oc] != w[oc] {
				t.Fatalf("F(%d) bias %d: %v, want %v", m, oc, u[oc], w[oc])
			}
		}
		for _, tile := range tiles {
			lanes := tile.blocks * 8
			for ch := 0; ch < in; ch++ {
				for l := 0; l < lanes; l++ {
					oc := tile.block0*8 + l
					var want []float64
					if oc < out {
						want = sandwich(wm.G, kernel(oc, ch), wm.A, 3)
					}
					for xi := 0; xi < aa; xi++ {
						got := u[tile.wOff+xi*c.xi+ch*lanes+l]
						switch {
						case oc >= out && got != 0:
							t.Fatalf("F(%d) padded lane %d (tile %d, ic %d, xi %d) holds %v", m, l, tile.block0, ch, xi, got)
						case oc < out && math.Abs(float64(got)-want[xi]) > 1e-6*math.Max(1, math.Abs(want[xi])):
							t.Fatalf("F(%d) oc %d ic %d xi %d: %v, want %v", m, oc, ch, xi, got, want[xi])
						}
					}
				}
			}
		}
	}
}

// TestPhaseKinds: the runtime's phase kinds are plan's, which the
// generated phase tables hold as numbers.
func TestPhaseKinds(t *testing.T) {
	for _, k := range []struct {
		runtime int
		plan    plan.PhaseKind
	}{
		{wholeStep, plan.WholeStep}, {winogradIn, plan.WinogradIn}, {winogradGemm, plan.WinogradGemm},
		{winogradOut, plan.WinogradOut}, {winogradRows, plan.WinogradRows}, {winogradChannels, plan.WinogradChannels},
	} {
		if k.runtime != int(k.plan) {
			t.Errorf("runtime phase kind %d is plan's %d", k.runtime, k.plan)
		}
	}
}

// TestLineRange: a range of units numbered n to a line, as positions of
// one line.
func TestLineRange(t *testing.T) {
	for _, c := range []struct {
		lo, hi, i, n int
		r0, r1       int
	}{{1, 6, 0, 4, 1, 4}, {1, 6, 1, 4, 0, 2}, {1, 3, 1, 4, 0, -1}, {4, 8, 1, 4, 0, 4}, {0, 56, 3, 14, 0, 14}, {20, 30, 1, 14, 6, 14}} {
		if r0, r1 := lineRange(c.lo, c.hi, c.i, c.n); r0 != c.r0 || r1 != c.r1 {
			t.Errorf("lineRange(%d, %d, %d, %d) = %d, %d, want %d, %d", c.lo, c.hi, c.i, c.n, r0, r1, c.r0, c.r1)
		}
	}
}

// TestWinogradChain: the portable Winograd kernel sums its products in
// the chains the planner's accuracy model and the assembly assume.
func TestWinogradChain(t *testing.T) {
	if winogradChain != plan.WinogradChain {
		t.Errorf("templates' winogradChain is %d, plan.WinogradChain %d", winogradChain, plan.WinogradChain)
	}
}
