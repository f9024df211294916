package graph_test

import (
	"errors"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/spec"
)

// net1 is a small network with every kind of weight: line 3 is the
// ACBlock, 4 the conv, 5 the standalone BN, 8 the linear.
const net1 = `input: [3, 8, 8]
layers:
  - {name: conv1, op: acblock, out: 4}
  - {name: c, op: conv, out: 6, kernel: 3, padding: 1}
  - {name: b, op: bn}
  - {op: relu}
  - {op: global_avgpool}
  - {name: fc, op: linear, out: 5}
`

// badWeights lists checkpoints that do not fit net1, made by changing
// synthesized weights that do.
var badWeights = []struct {
	name   string
	change func(ck *checkpoint.File)
	kind   error
	want   []string // the lines of the error, each a substring
}{
	{
		name:   "missing key",
		change: func(ck *checkpoint.File) { rename(ck, "c.weight", "c.wieght") },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:4:5: layer "c": checkpoint key "c.weight": missing from model.pth; did you mean "c.wieght"?`},
	},
	{
		name:   "missing key, one of an ACBlock's",
		change: func(ck *checkpoint.File) { delete(ck.Tensors, "conv1.hor_bn.running_var") },
		kind:   graph.ErrWeights,
		// No suggestion: every other key is another branch's.
		want: []string{`s.yaml:3:5: layer "conv1": checkpoint key "conv1.hor_bn.running_var": missing from model.pth$`},
	},
	{
		name: "every key of a layer missing",
		change: func(ck *checkpoint.File) {
			for _, k := range ck.Keys() {
				if strings.HasPrefix(k, "conv1.") {
					rename(ck, k, "stem."+strings.TrimPrefix(k, "conv1."))
				}
			}
		},
		kind: graph.ErrWeights,
		want: []string{`s.yaml:3:5: layer "conv1": checkpoint key "conv1.square_conv.weight": missing from model.pth, as are the layer's 8 other keys under "conv1."`},
	},
	{
		name: "an ACBlock saved after switch_to_deploy",
		change: func(ck *checkpoint.File) {
			for _, k := range ck.Keys() {
				if strings.HasPrefix(k, "conv1.") {
					delete(ck.Tensors, k)
				}
			}
			add(ck, "conv1.fused_conv.weight", []int{4, 3, 3, 3}, 0.1)
			add(ck, "conv1.fused_conv.bias", []int{4}, 0)
		},
		kind: graph.ErrWeights,
		want: []string{
			`s.yaml:3:5: layer "conv1": checkpoint key "conv1.square_conv.weight": missing from model.pth, as are the layer's 8 other keys under "conv1."; it has "conv1.fused_conv.weight", a block already fused for deployment (switch_to_deploy): declare the layer ` + "`op: conv` with `prefix: conv1.fused_conv` and an explicit padding$",
		},
	},
	{
		name: "the whole network under a wrapper's name",
		change: func(ck *checkpoint.File) {
			for _, k := range ck.Keys() {
				rename(ck, k, "model."+k)
			}
		},
		kind: graph.ErrWeights,
		want: []string{
			`s.yaml:3:5: layer "conv1": checkpoint key "conv1.square_conv.weight": missing from model.pth, as are the layer's 8 other keys under "conv1."; it has "model.conv1.square_conv.weight" (set the layer's ` + "`prefix`?)",
			`s.yaml:4:5: layer "c": checkpoint key "c.weight": missing from model.pth; it has "model.c.weight"`,
			`s.yaml:5:5: layer "b": checkpoint key "b.running_mean": missing from model.pth, as is the layer's other key under "b."; it has "model.b.running_mean"`,
			`s.yaml:8:5: layer "fc": checkpoint key "fc.weight": missing from model.pth; it has "model.fc.weight"`,
		},
	},
	{
		name:   "an unused key",
		change: func(ck *checkpoint.File) { add(ck, "extra.weight", []int{3}, 0) },
		kind:   graph.ErrWeights,
		want:   []string{`model.pth: key "extra.weight" [3] is not read by any layer of s.yaml (-allow-unused-keys accepts it)`},
	},
	{
		name: "many unused keys",
		change: func(ck *checkpoint.File) {
			for _, k := range []string{"a", "b2", "c2", "d", "e"} {
				add(ck, "head."+k, []int{2, 2}, 0)
			}
		},
		kind: graph.ErrWeights,
		want: []string{`model.pth: 5 keys are not read by any layer of s.yaml: "head.a" [2 2], "head.b2" [2 2], "head.c2" [2 2], ... (-allow-unused-keys accepts them)`},
	},
	{
		name:   "mis-shaped key",
		change: func(ck *checkpoint.File) { reshape(ck, "c.weight", []int{6, 3, 3, 3}) },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:4:5: layer "c": checkpoint key "c.weight": shape [6 3 3 3], want [6 4 3 3]`},
	},
	{
		name:   "mis-shaped bias",
		change: func(ck *checkpoint.File) { add(ck, "c.bias", []int{5}, 0) },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:4:5: layer "c": checkpoint key "c.bias": shape [5], want [6]`},
	},
	{
		name:   "NaN",
		change: func(ck *checkpoint.File) { ck.Tensors["c.weight"].Data[(2*4+1)*9+5] = math.NaN() },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:4:5: layer "c": checkpoint key "c.weight": value at [2 1 1 2] is NaN`},
	},
	{
		name:   "Inf",
		change: func(ck *checkpoint.File) { ck.Tensors["conv1.ver_conv.weight"].Data[(3*3+2)*3+1] = math.Inf(-1) },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:3:5: layer "conv1": checkpoint key "conv1.ver_conv.weight": value at [3 2 1 0] is -Inf`},
	},
	{
		name:   "Inf in a BN statistic",
		change: func(ck *checkpoint.File) { ck.Tensors["b.running_mean"].Data[4] = math.Inf(1) },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:5:5: layer "b": checkpoint key "b.running_mean": value at [4] is +Inf`},
	},
	{
		name:   "negative variance",
		change: func(ck *checkpoint.File) { ck.Tensors["conv1.square_bn.running_var"].Data[3] = -0.5 },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:3:5: layer "conv1": checkpoint key "conv1.square_bn.running_var": variance at [3] is negative (-0.5)`},
	},
	{
		name:   "BN with a weight but no bias",
		change: func(ck *checkpoint.File) { delete(ck.Tensors, "b.bias") },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:5:5: layer "b": checkpoint key "b.bias": missing, though the other affine parameter of the BatchNorm is present`},
	},
	{
		name:   "BN with a bias but no weight",
		change: func(ck *checkpoint.File) { delete(ck.Tensors, "conv1.ver_bn.weight") },
		kind:   graph.ErrWeights,
		want:   []string{`s.yaml:3:5: layer "conv1": checkpoint key "conv1.ver_bn.weight": missing, though the other affine parameter`},
	},
	{
		name: "integer tensor",
		change: func(ck *checkpoint.File) {
			t := ck.Tensors["fc.bias"]
			t.DType, t.Data = "int64", nil
		},
		kind: graph.ErrWeights,
		want: []string{`s.yaml:8:5: layer "fc": checkpoint key "fc.bias": dtype int64; acgen reads float16, bfloat16, float32 and float64 weights`},
	},
	{
		name: "several problems, one line each",
		change: func(ck *checkpoint.File) {
			ck.Tensors["c.weight"].Data[0] = math.NaN()
			ck.Tensors["b.running_var"].Data[0] = -1
			reshape(ck, "fc.weight", []int{5, 7})
		},
		kind: graph.ErrWeights,
		want: []string{
			`s.yaml:4:5: layer "c": checkpoint key "c.weight": value at [0 0 0 0] is NaN`,
			`s.yaml:5:5: layer "b": checkpoint key "b.running_var": variance at [0] is negative (-1)`,
			`s.yaml:8:5: layer "fc": checkpoint key "fc.weight": shape [5 7], want [5 6]`,
		},
	},
}

func TestBadWeights(t *testing.T) {
	net := parseNet(t, net1)
	for _, c := range badWeights {
		t.Run(c.name, func(t *testing.T) {
			ck := synthFile(t, net)
			c.change(ck)
			g, err := graph.Build(net, ck, graph.Options{})
			if err == nil {
				t.Fatal("Build accepted it")
			}
			if g != nil {
				t.Error("a Graph with an error")
			}
			checkLines(t, err, c.kind, c.want)
		})
	}
}

func TestAllowUnusedKeys(t *testing.T) {
	net := parseNet(t, net1)
	ck := synthFile(t, net)
	add(ck, "extra.weight", []int{3}, 0)
	if _, err := graph.Build(net, ck, graph.Options{AllowUnusedKeys: true}); err != nil {
		t.Fatal(err)
	}
	// It allows keys no layer reads, not wrong ones.
	reshape(ck, "c.weight", []int{1})
	if _, err := graph.Build(net, ck, graph.Options{AllowUnusedKeys: true}); err == nil {
		t.Error("AllowUnusedKeys let a mis-shaped key through")
	}
}

// badShapes lists specs that parse but whose shapes do not agree.
var badShapes = []struct {
	name string
	src  string
	kind error
	want string
}{
	{
		name: "add of different shapes",
		src:  "input: [3, 8, 8]\nlayers:\n  - {name: r, op: relu}\n  - {name: c, op: conv, out: 4, kernel: 1}\n  - {name: sum, op: add, inputs: [c, r]}\n",
		kind: graph.ErrShape,
		want: `s.yaml:5:34: layer "sum": cannot add r (3x8x8) to c (4x8x8)`,
	},
	{
		name: "add of different sizes",
		src:  "input: [3, 8, 8]\nlayers:\n  - {name: r, op: relu}\n  - {name: p, op: maxpool, kernel: 2}\n  - {name: sum, op: add, inputs: [r, p]}\n",
		kind: graph.ErrShape,
		want: `s.yaml:5:34: layer "sum": cannot add p (3x4x4) to r (3x8x8)`,
	},
	{
		name: "concat of different heights and widths",
		src:  "input: [3, 8, 8]\nlayers:\n  - {name: r, op: relu}\n  - {name: p, op: avgpool, kernel: 2}\n  - {name: cat, op: concat, inputs: [r, p]}\n",
		kind: graph.ErrShape,
		want: `s.yaml:5:37: layer "cat": cannot concatenate p (3x4x4) with r (3x8x8): heights and widths differ`,
	},
	{
		name: "mul of different shapes",
		src:  "input: [3, 8, 8]\nlayers:\n  - {name: r, op: relu}\n  - {name: p, op: maxpool, kernel: 2}\n  - {name: m, op: mul, inputs: [r, p]}\n",
		kind: graph.ErrShape,
		want: `s.yaml:5:32: layer "m": cannot multiply r (3x8x8) by p (3x4x4): mul takes two inputs of one shape, or a CxHxW input and a Cx1x1 one`,
	},
	{
		name: "groups not dividing the input's channels",
		src:  "input: [3, 8, 8]\nlayers:\n  - {name: c, op: conv, out: 4, kernel: 3, groups: 2}\n",
		kind: graph.ErrShape,
		want: `s.yaml:3:52: layer "c": the input has 3 channels, not a multiple of groups 2`,
	},
	{
		name: "ACBlock groups not dividing the input's channels",
		src:  "input: [3, 8, 8]\nlayers:\n  - {name: a, op: acblock, out: 6, groups: 3}\n  - {name: b, op: acblock, out: 4, groups: 4}\n",
		kind: graph.ErrShape,
		want: `s.yaml:4:44: layer "b": the input has 6 channels, not a multiple of groups 4`,
	},
	{
		name: "kernel larger than the input",
		src:  "input: [3, 8, 8]\nlayers:\n  - {name: c, op: conv, out: 4, kernel: 9}\n",
		kind: graph.ErrShape,
		want: `s.yaml:3:41: layer "c": a 9x9 kernel (dilation 1, padding 0) does not fit the 8x8 input`,
	},
	{
		name: "dilated kernel larger than the input",
		src:  "input: [3, 8, 8]\nlayers:\n  - {name: c, op: conv, out: 4, kernel: 3, dilation: 4}\n",
		kind: graph.ErrShape,
		want: `s.yaml:3:41: layer "c": a 3x3 kernel (dilation 4, padding 0) does not fit the 8x8 input`,
	},
	{
		name: "ACBlock kernel larger than a pooled input",
		src:  "input: [3, 8, 8]\nlayers:\n  - {op: maxpool, kernel: 4}\n  - {name: a, op: acblock, out: 4, kernel: 5, padding: 0}\n",
		kind: graph.ErrShape,
		want: `s.yaml:4:44: layer "a": a 5x5 kernel (dilation 1, padding 0) does not fit the 2x2 input`,
	},
	{
		name: "pool window larger than the input",
		src:  "input: [3, 8, 8]\nlayers:\n  - {op: global_avgpool}\n  - {op: maxpool, kernel: 2}\n",
		kind: graph.ErrShape,
		want: `s.yaml:4:27: layer #1 (maxpool): a 2x2 window (dilation 1, padding 0) does not fit the 1x1 input`,
	},
	{
		name: "input larger than the activation limit",
		src:  "input: [3, 100000, 100000]\nlayers:\n  - {op: relu}\n",
		kind: graph.ErrTooBig,
		want: `s.yaml:1:8: input [3 100000 100000] is 114441 MiB for one sample, more than the limit of 1024 MiB (raise it with acgen -max-activation-mb, or Options.MaxActivationBytes, if this is meant)`,
	},
	{
		name: "activations growing past the limit",
		src:  "input: [3, 1024, 1024]\nlayers:\n  - {name: c, op: conv, out: 128, kernel: 1}\n  - {name: d, op: conv, out: 128, kernel: 1}\n",
		kind: graph.ErrTooBig,
		want: `s.yaml:4:5: layer "d": the activations of one sample reach 1036 MiB by this layer (128x1024x1024), more than the limit of 1024 MiB`,
	},
	{
		name: "padding that wraps an int",
		src:  "input: [1, 1048576, 1048576]\nlayers:\n  - {name: c, op: conv, out: 1048576, kernel: 1, padding: 1048576}\n",
		kind: graph.ErrTooBig,
		want: `s.yaml:1:8: input [1 1048576 1048576] is 4194304 MiB for one sample`,
	},
}

func TestBadShapes(t *testing.T) {
	for _, c := range badShapes {
		t.Run(c.name, func(t *testing.T) {
			net := parseNet(t, c.src)
			_, err := graph.Wants(net, graph.Options{})
			if err == nil {
				t.Fatal("Wants accepted it")
			}
			checkLines(t, err, c.kind, []string{c.want})
			// Build reports it too, among the keys missing from an
			// empty checkpoint.
			_, err = graph.Build(net, &checkpoint.File{Path: "model.pth"}, graph.Options{})
			if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build: %v", err)
			}
		})
	}
}

// TestHugeSpecsDoNotAllocate checks that a spec whose activations need
// terabytes is refused at once, without allocating anything near that,
// and that sizes that would overflow an int do not wrap around when the
// limit is raised as far as it goes.
func TestHugeSpecsDoNotAllocate(t *testing.T) {
	for _, c := range []struct {
		src    string
		tooBig bool // for the default limit
	}{
		{"input: [3, 100000, 100000]\nlayers:\n  - {op: relu}\n", true},
		{"input: [1048576, 1048576, 1048576]\nlayers:\n  - {op: flatten}\n  - {op: flatten}\n", true},
		{"input: [1, 1, 1]\nlayers:\n  - {name: c, op: conv, out: 1048576, kernel: 1, padding: 1048576}\n  - {name: d, op: conv, out: 1048576, kernel: 1, padding: 1048576}\n", true},
		{"input: [1048576, 1, 1]\nlayers:\n  - {name: a, op: relu}\n" + strings.Repeat("  - {op: concat, inputs: [a, a, a, a, a, a, a, a]}\n", 64), true},
		// Small activations, but 4 TiB of weights: no checkpoint can
		// hold them (checkpoint.Options.MaxBytes), and Wants allocates
		// nothing for them.
		{"input: [1048576, 1, 1]\nlayers:\n  - {name: a, op: flatten}\n  - {name: fc, op: linear, out: 1048576}\n  - {name: fc2, op: linear, out: 1048576}\n", false},
	} {
		src := c.src
		net := parseNet(t, src)
		for _, limit := range []int64{0, math.MaxInt64} {
			var err error
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			allocs := testing.AllocsPerRun(1, func() {
				_, err = graph.Wants(net, graph.Options{MaxActivationBytes: limit})
			})
			runtime.ReadMemStats(&after)
			if limit == 0 && c.tooBig != errors.Is(err, graph.ErrTooBig) {
				t.Errorf("%q: %v, want ErrTooBig", src, err)
			}
			if limit == math.MaxInt64 && err != nil && !errors.Is(err, graph.ErrTooBig) {
				t.Errorf("%q with no limit: %v", src, err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 || allocs > 1000 {
				t.Errorf("%q: refusing it allocated %d bytes in %.0f allocations", src, grew, allocs)
			}
		}
	}
}

// TestOverflowSaturates checks that with no limit a network larger than
// an int can count is still refused, not wrapped to a small size.
func TestOverflowSaturates(t *testing.T) {
	net := parseNet(t, "input: [1048576, 1048576, 1048576]\nlayers:\n  - {op: flatten}\n  - {op: relu}\n")
	_, err := graph.Wants(net, graph.Options{MaxActivationBytes: math.MaxInt64})
	checkLines(t, err, graph.ErrTooBig, []string{`s.yaml:3:5: layer #0 (flatten): the activations of one sample reach more than 8 EiB by this layer (1152921504606846976x1x1), more than the limit of 8796093022208 MiB`})
}

func TestRaisedLimit(t *testing.T) {
	net := parseNet(t, "input: [3, 1024, 1024]\nlayers:\n  - {name: c, op: conv, out: 256, kernel: 1}\n  - {name: d, op: conv, out: 256, kernel: 1}\n")
	if _, err := graph.Wants(net, graph.Options{MaxActivationBytes: 3 << 30}); err != nil {
		t.Errorf("with a raised limit: %v", err)
	}
	if _, err := graph.Wants(net, graph.Options{MaxActivationBytes: 1 << 20}); !errors.Is(err, graph.ErrTooBig) {
		t.Errorf("with a lowered limit: %v", err)
	}
}

// checkLines checks an error of Build or Wants: its kind, one line per
// problem, each naming where it is.
func checkLines(t *testing.T, err error, kind error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, kind) {
		t.Errorf("errors.Is(err, %v) is false: %v", kind, err)
	}
	if errors.Is(err, spec.ErrSpec) {
		t.Errorf("a shape or weight error is ErrSpec: %v", err)
	}
	errs := diag.Errors(err)
	if len(errs) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, e := range errs {
		if strings.Contains(e.Error(), "\n") {
			t.Errorf("error %q spans lines", e)
		}
		w, whole := strings.CutSuffix(want[i%len(want)], "$")
		if i < len(want) && (!strings.Contains(e.Error(), w) || whole && !strings.HasSuffix(e.Error(), w)) {
			t.Errorf("error %d:\n  %s\nwant it to hold\n  %s", i, e, want[i])
		}
	}
}

func parseNet(t *testing.T, src string) *spec.Net {
	t.Helper()
	net, err := spec.Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// synthFile is a checkpoint that fits net, as checkpoint.Load returns it.
func synthFile(t *testing.T, net *spec.Net) *checkpoint.File {
	t.Helper()
	ts, err := synth.Checkpoint(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	return synth.File("model.pth", ts)
}

func rename(ck *checkpoint.File, from, to string) {
	t := ck.Tensors[from]
	delete(ck.Tensors, from)
	t.Key = to
	ck.Tensors[to] = t
}

func reshape(ck *checkpoint.File, key string, shape []int) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	ck.Tensors[key] = &checkpoint.Tensor{Key: key, DType: "float32", Shape: shape, Data: make([]float64, n)}
}

func add(ck *checkpoint.File, key string, shape []int, v float64) {
	reshape(ck, key, shape)
	for i := range ck.Tensors[key].Data {
		ck.Tensors[key].Data[i] = v
	}
}

// TestFixtureMismatch uses a real PyTorch checkpoint with a spec that
// forgot a layer: the linear layer then reads a larger input than it was
// trained on.
func TestFixtureMismatch(t *testing.T) {
	f := fixtures.Get("cifar_small")
	ck, err := checkpoint.Load(f.Pth, checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(f.Spec)
	if err != nil {
		t.Fatal(err)
	}
	net, err := spec.Parse("net.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := graph.Build(net, ck, graph.Options{}); err != nil {
		t.Fatalf("the fixture as it is: %v", err)
	}
	noGAP := strings.Replace(string(src), "  - {name: gap, op: global_avgpool}\n", "", 1)
	net, err = spec.Parse("net.yaml", []byte(noGAP))
	if err != nil {
		t.Fatal(err)
	}
	_, err = graph.Build(net, ck, graph.Options{})
	checkLines(t, err, graph.ErrWeights, []string{
		`net.yaml:20:5: layer "linear": checkpoint key "linear.weight": shape [10 16], want [10 4096]$`,
	})
}

// TestLinearInSize is TestFixtureMismatch with a handmade checkpoint.
func TestLinearInSize(t *testing.T) {
	ck := synthFile(t, parseNet(t, net1))
	net := parseNet(t, strings.Replace(net1, "  - {op: global_avgpool}\n", "", 1))
	_, err := graph.Build(net, ck, graph.Options{})
	checkLines(t, err, graph.ErrWeights, []string{`s.yaml:7:5: layer "fc": checkpoint key "fc.weight": shape [5 6], want [5 384]$`})
}

// TestNoCheckpoint: Build needs one.
func TestNoCheckpoint(t *testing.T) {
	if _, err := graph.Build(parseNet(t, net1), nil, graph.Options{}); err == nil || !strings.Contains(err.Error(), "s.yaml: no checkpoint") {
		t.Errorf("Build(nil checkpoint): %v", err)
	}
}
