package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
)

// naiveConv is nn.Conv2d written out tap by tap, as PyTorch's
// documentation defines it, independently of the reference runtime's.
func naiveConv(x graph.Tensor, c *graph.Conv) graph.Tensor {
	oh := (x.H+2*c.PadH-c.DilH*(c.KH-1)-1)/c.StrideH + 1
	ow := (x.W+2*c.PadW-c.DilW*(c.KW-1)-1)/c.StrideW + 1
	out := graph.NewTensor(graph.Shape{C: c.Out, H: oh, W: ow})
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	for o := 0; o < c.Out; o++ {
		for y := 0; y < oh; y++ {
			for xo := 0; xo < ow; xo++ {
				s := 0.0
				if c.Bias != nil {
					s = c.Bias[o]
				}
				for ic := 0; ic < inPer; ic++ {
					for ky := 0; ky < c.KH; ky++ {
						for kx := 0; kx < c.KW; kx++ {
							iy, ix := y*c.StrideH-c.PadH+ky*c.DilH, xo*c.StrideW-c.PadW+kx*c.DilW
							if iy < 0 || iy >= x.H || ix < 0 || ix >= x.W {
								continue
							}
							ch := o/outPer*inPer + ic
							s += c.Weight[((o*inPer+ic)*c.KH+ky)*c.KW+kx] * x.Data[(ch*x.H+iy)*x.W+ix]
						}
					}
				}
				out.Data[(o*oh+y)*ow+xo] = s
			}
		}
	}
	return out
}

// TestConvPerAxis: convolutions with a kernel, stride, padding and
// dilation of their own per axis (Inception's 1x7 and 7x1) compute what
// nn.Conv2d defines, and have its output size.
func TestConvPerAxis(t *testing.T) {
	net := parseNet(t, `input: [4, 11, 9]
layers:
  - {name: a, op: conv, out: 6, kernel: [1, 7], padding: [0, 3]}
  - {name: b, op: conv, out: 6, kernel: [7, 1], padding: [3, 0], inputs: [a]}
  - {name: c, op: conv, out: 4, kernel: [1, 3], padding: [0, 1], stride: [2, 1], groups: 2, inputs: [b]}
  - {name: d, op: conv, out: 5, kernel: [3, 1], padding: [1, 0], stride: [1, 2], dilation: [2, 1], inputs: [c]}
  - {name: e, op: conv, out: 3, kernel: [2, 3], padding: [1, 2], dilation: [1, 3], inputs: [d]}
`)
	g, err := graph.Build(net, synthFile(t, net), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float64, g.Input.Len())
	for i := range in {
		in[i] = math.Sin(float64(i) * 0.7)
	}
	acts, err := ref.Trace(g, in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]graph.Shape{"a": {6, 11, 9}, "b": {6, 11, 9}, "c": {4, 6, 9}, "d": {5, 4, 5}, "e": {3, 5, 3}}
	x := graph.Tensor{Shape: g.Input, Data: in}
	for _, n := range g.Nodes {
		if n.Shape != want[n.Name] {
			t.Errorf("%s: shape %s, want %s", n.Name, n.Shape, want[n.Name])
		}
		naive := naiveConv(x, n.Conv)
		if naive.Shape != n.Shape {
			t.Errorf("%s: graph says %s, nn.Conv2d's formula %s", n.Name, n.Shape, naive.Shape)
		}
		for i, v := range acts[n].Data {
			if math.Abs(v-naive.Data[i]) > 1e-12 {
				t.Fatalf("%s: value %d is %g, want %g", n.Name, i, v, naive.Data[i])
			}
		}
		x = acts[n]
	}
}

// TestLinearWeight: a 1x1 convolution reads nn.Linear's [out, in]
// weight as well as its own [out, in, 1, 1] (a linear layer on
// channels-last values between permutes), lists it in the shape read,
// and refuses any other shape naming both.
func TestLinearWeight(t *testing.T) {
	net := parseNet(t, "input: [6, 3, 4]\nlayers:\n  - {name: pw, op: conv, out: 5, kernel: 1}\n")
	ck := synthFile(t, net)
	g4, err := graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := ck.Tensors["pw.weight"]
	w.Shape = []int{5, 6}
	g2, err := graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c2, c4 := g2.Nodes[0].Conv, g4.Nodes[0].Conv
	if !c2.LinearWeight || c4.LinearWeight || c2.KH != 1 || len(c2.Weight) != 30 {
		t.Errorf("LinearWeight %v (2-D) %v (4-D), kernel %d, %d weights", c2.LinearWeight, c4.LinearWeight, c2.KH, len(c2.Weight))
	}
	if shape := g2.Nodes[0].Tensors()[0].Shape; len(shape) != 2 {
		t.Errorf("the 2-D weight is listed as %v", shape)
	}
	in := make([]float64, g2.Input.Len())
	for i := range in {
		in[i] = float64(i%7) - 3
	}
	a, _ := ref.Run(g2, in)
	b, _ := ref.Run(g4, in)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("output %d: %g from [5 6], %g from [5 6 1 1]", i, a[i], b[i])
		}
	}
	w.Shape = []int{6, 5}
	_, err = graph.Build(net, ck, graph.Options{})
	checkLines(t, err, graph.ErrWeights, []string{`s.yaml:3:5: layer "pw": checkpoint key "pw.weight": shape [6 5], want [5 6 1 1] or [5 6]$`})
	// A 3x3 or grouped convolution has only its own shape.
	net = parseNet(t, "input: [6, 3, 4]\nlayers:\n  - {name: pw, op: conv, out: 6, kernel: 1, groups: 2}\n")
	ck = synthFile(t, net)
	ck.Tensors["pw.weight"].Shape = []int{6, 3}
	_, err = graph.Build(net, ck, graph.Options{})
	if err == nil || !strings.Contains(err.Error(), "shape [6 3], want [6 3 1 1]$") && !strings.HasSuffix(err.Error(), "shape [6 3], want [6 3 1 1]") {
		t.Errorf("grouped 1x1 with a 2-D weight: %v", err)
	}
}
