package graph_test

import (
	"math"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
)

// TestGRN: the reference runtime's GRN against PyTorch's float64 values
// of the official formula on a channels-last tensor (torch.norm over the
// image, its mean over channels plus 1e-6, (gamma*N + 1)*x + beta), for
// the same input, gamma and beta; and without beta, the same less beta.
func TestGRN(t *testing.T) {
	net := parseNet(t, "input: [5, 3, 4]\nlayers:\n  - {name: grn, op: grn}\n")
	ck := synthFile(t, net)
	in := make([]float64, 60)
	for i := range in {
		in[i] = math.Sin(float64(i)*0.7)*3 + 1
	}
	gamma, beta := ck.Tensors["grn.gamma"], ck.Tensors["grn.beta"]
	for c := range 5 {
		gamma.Data[c] = 0.5 * math.Cos(float64(c))
		beta.Data[c] = 0.1*float64(c) - 0.2
	}
	want := map[int]float64{0: 1.3270692343026476, 7: -3.1737502423939783, 13: 2.3798771749502423,
		29: 3.2209657412131873, 40: 0.9570949898021497, 59: -0.024525966917053582}
	for _, withBeta := range []bool{true, false} {
		if !withBeta {
			delete(ck.Tensors, "grn.beta")
		}
		g, err := graph.Build(net, ck, graph.Options{})
		if err != nil {
			t.Fatal(err)
		}
		y, err := ref.Run(g, in)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			if !withBeta {
				w -= beta.Data[i/12]
			}
			if math.Abs(y[i]-w) > 1e-14 {
				t.Errorf("beta %v: value %d is %.17g, want %.17g", withBeta, i, y[i], w)
			}
		}
	}
}
