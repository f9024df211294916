package spec_test

import (
	"testing"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/spec"
)

func TestFixturesParse(t *testing.T) {
	for _, f := range fixtures.All() {
		net, err := spec.Load(f.Spec)
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		if err := invariants(net); err != "" {
			t.Errorf("%s: %s", f.Name, err)
		}
	}
}

// TestDefaults checks that what a spec leaves out is what PyTorch's
// constructors default to.
func TestDefaults(t *testing.T) {
	net := parse(t, head+`  - {name: a3, op: acblock, out: 8}
  - {name: a5, op: acblock, out: 8, kernel: 5}
  - {name: a5p0, op: acblock, out: 8, kernel: 5, padding: 0, stride: 2, groups: 2, eps: 0.001}
  - {name: c, op: conv, out: 8, kernel: 3}
  - {name: mp, op: maxpool, kernel: 2}
  - {name: ap, op: avgpool, kernel: 3, stride: 1, padding: 1}
  - {name: bn, op: bn}
  - {name: bn2, op: bn, eps: "1e-3"}
  - {name: bn3, op: bn, eps: 1e-3}
  - {name: fc, op: linear, out: 10}
`)
	type hp struct {
		kernel, stride, padding spec.HW
		groups                  int
		dilation                spec.HW
		eps                     float64
	}
	sq := func(v int) spec.HW { return spec.HW{H: v, W: v} }
	want := map[string]hp{
		"a3":   {sq(3), sq(1), sq(1), 1, sq(1), 1e-5}, // ACBlock: padding kernel/2 (same size), as ACNet builds it
		"a5":   {sq(5), sq(1), sq(2), 1, sq(1), 1e-5},
		"a5p0": {sq(5), sq(2), sq(0), 2, sq(1), 0.001},
		"c":    {sq(3), sq(1), sq(0), 1, sq(1), 1e-5}, // nn.Conv2d: padding 0
		"mp":   {sq(2), sq(2), sq(0), 1, sq(1), 1e-5}, // nn.MaxPool2d: stride = kernel
		"ap":   {sq(3), sq(1), sq(1), 1, sq(1), 1e-5},
		"bn":   {sq(0), sq(1), sq(0), 1, sq(1), 1e-5}, // nn.BatchNorm2d: eps 1e-5
		"bn2":  {sq(0), sq(1), sq(0), 1, sq(1), 1e-3}, // YAML 1.2 reads 1e-3 as a string; it is taken
		"bn3":  {sq(0), sq(1), sq(0), 1, sq(1), 1e-3},
		"fc":   {sq(0), sq(1), sq(0), 1, sq(1), 1e-5},
	}
	for _, l := range net.Layers {
		got := hp{l.Kernel, l.Stride, l.Padding, l.Groups, l.Dilation, l.Eps}
		if got != want[l.Name] {
			t.Errorf("layer %s: %+v, want %+v", l.Name, got, want[l.Name])
		}
		if !l.CountIncludePad || l.CeilMode {
			t.Errorf("layer %s: count_include_pad %v ceil_mode %v, want PyTorch's true and false", l.Name, l.CountIncludePad, l.CeilMode)
		}
		if l.Prefix != l.Name {
			t.Errorf("layer %s: prefix %q, want its name", l.Name, l.Prefix)
		}
	}
	if net.Output != net.Layers[len(net.Layers)-1] {
		t.Errorf("output %v, want the last layer", net.Output)
	}
	if net.Layers[0].Has("padding") || !net.Layers[2].Has("padding") {
		t.Errorf("Has does not tell written fields from defaults")
	}
	if p := net.Layers[0].FieldPos("padding"); p != net.Layers[0].Pos {
		t.Errorf("a defaulted field is at %v, want the layer's %v", p, net.Layers[0].Pos)
	}
	if p := net.Layers[2].FieldPos("padding").String(); p != "s.yaml:5:59" {
		t.Errorf("padding of a5p0 at %s", p)
	}
}

// TestPerAxis: kernel, stride, padding and dilation take [h, w], a pool's
// stride defaults to its kernel per axis, and the pools' flags are read.
func TestPerAxis(t *testing.T) {
	net := parse(t, head+`  - {name: c, op: conv, out: 8, kernel: [1, 7], padding: [0, 3], stride: [2, 1], dilation: [1, 2]}
  - {name: mp, op: maxpool, kernel: [3, 2], ceil_mode: true, dilation: [2, 1]}
  - {name: ap, op: avgpool, kernel: 2, stride: [1, 2], padding: [1, 0], ceil_mode: true, count_include_pad: false}
  - {name: a, op: acblock, out: 8, kernel: [3, 3], padding: 1}
  - {name: aap, op: adaptive_avgpool, size: [6, 1]}
  - {name: aap2, op: adaptive_avgpool, size: 7}
  - {name: g, op: gelu}
  - {name: gt, op: gelu, approximate: tanh}
`)
	hw := func(h, w int) spec.HW { return spec.HW{H: h, W: w} }
	c, mp, ap, a := net.Layers[0], net.Layers[1], net.Layers[2], net.Layers[3]
	if c.Kernel != hw(1, 7) || c.Padding != hw(0, 3) || c.Stride != hw(2, 1) || c.Dilation != hw(1, 2) {
		t.Errorf("conv: kernel %v padding %v stride %v dilation %v", c.Kernel, c.Padding, c.Stride, c.Dilation)
	}
	if mp.Stride != hw(3, 2) || !mp.CeilMode || mp.Dilation != hw(2, 1) {
		t.Errorf("maxpool: stride %v ceil_mode %v dilation %v", mp.Stride, mp.CeilMode, mp.Dilation)
	}
	if ap.Stride != hw(1, 2) || ap.Padding != hw(1, 0) || !ap.CeilMode || ap.CountIncludePad {
		t.Errorf("avgpool: stride %v padding %v ceil_mode %v count_include_pad %v", ap.Stride, ap.Padding, ap.CeilMode, ap.CountIncludePad)
	}
	if a.Kernel != hw(3, 3) {
		t.Errorf("acblock: kernel %v", a.Kernel)
	}
	if s1, s2 := net.Layers[4].Size, net.Layers[5].Size; s1 != hw(6, 1) || s2 != hw(7, 7) {
		t.Errorf("adaptive_avgpool sizes %v %v", s1, s2)
	}
	if g, gt := net.Layers[6], net.Layers[7]; g.Approximate != "none" || gt.Approximate != "tanh" || gt.FieldValue("approximate") != "tanh" {
		t.Errorf("gelu approximate %q %q", g.Approximate, gt.Approximate)
	}
	for l, want := range map[*spec.Layer]map[string]string{
		c:  {"kernel": "[1, 7]", "stride": "[2, 1]", "groups": "1"},
		mp: {"kernel": "[3, 2]", "ceil_mode": "true", "padding": "0"},
		ap: {"count_include_pad": "false", "stride": "[1, 2]"},
		a:  {"kernel": "3", "eps": "1e-05"},
	} {
		for f, v := range want {
			if got := l.FieldValue(f); got != v {
				t.Errorf("%s: FieldValue(%s) = %q, want %q", l, f, got, v)
			}
		}
	}
	if p := mp.FieldPos("ceil_mode").String(); p != "s.yaml:4:56" {
		t.Errorf("ceil_mode at %s", p)
	}
}

// TestSplitPorts: readers name a split's outputs "NAME:i"; a layer
// whose own name holds a colon is found by it.
func TestSplitPorts(t *testing.T) {
	net := parse(t, head+`  - {name: s, op: split, sizes: [1, 2]}
  - {name: "a:1", op: relu, inputs: ["s:1"]}
  - {name: c, op: concat, inputs: [s:1, s:0, "a:1"]}
  - {name: sh, op: channel_shuffle, groups: 5}
output: "s:0"
`)
	s, a, c := net.Layers[0], net.Layers[1], net.Layers[2]
	if s.Outputs() != 2 || a.Outputs() != 1 || s.FieldValue("sizes") != "[1, 2]" || net.Layers[3].Groups != 5 {
		t.Errorf("outputs %d, %d; sizes %q; groups %d", s.Outputs(), a.Outputs(), s.FieldValue("sizes"), net.Layers[3].Groups)
	}
	if len(a.Inputs) != 1 || a.Inputs[0] != s || a.InputPorts[0] != 1 {
		t.Errorf("a:1 reads %v %v", a.Inputs, a.InputPorts)
	}
	if len(c.Inputs) != 3 || c.Inputs[0] != s || c.Inputs[1] != s || c.Inputs[2] != a ||
		c.InputPorts[0] != 1 || c.InputPorts[1] != 0 || c.InputPorts[2] != 0 {
		t.Errorf("c reads %v %v", c.Inputs, c.InputPorts)
	}
	if p := net.Layers[3].InputPorts; len(p) != 1 || p[0] != 0 {
		t.Errorf("the default input's port is %v", p)
	}
	if net.Output != s || net.OutputPort != 0 {
		t.Errorf("output %v:%d", net.Output, net.OutputPort)
	}
}

func TestPrefixAndNames(t *testing.T) {
	net := parse(t, `name: my-net
input: [1, 4, 4]
layers:
  - {name: 0, op: conv, out: 2, kernel: 1}
  - {name: 1, op: bn}
  - {name: 2.0, op: relu, inputs: [1]}
  - {op: conv, out: 2, kernel: 1, prefix: features.3}
  - {name: head, op: conv, out: 2, kernel: 1, prefix: module.classifier.0, inputs: 0}
  - {op: relu6}
  - {name: "a\"b", op: add, inputs: ["2.0", head]}
  - name: block
    op: concat
    inputs:
      - "a\"b"
      - 0
output: 2.0
`)
	l := net.Layers
	if net.Name != "my-net" {
		t.Errorf("name %q", net.Name)
	}
	for i, want := range []struct{ name, prefix string }{
		{"0", "0"}, {"1", "1"}, {"2.0", ""}, {"", "features.3"}, {"head", "module.classifier.0"}, {"", ""}, {`a"b`, ""}, {"block", ""},
	} {
		if l[i].Name != want.name || (want.prefix != "" && l[i].Prefix != want.prefix) {
			t.Errorf("layer %d: name %q prefix %q, want %q %q", i, l[i].Name, l[i].Prefix, want.name, want.prefix)
		}
	}
	if len(l[0].Inputs) != 0 || l[1].Inputs[0] != l[0] || l[2].Inputs[0] != l[1] || l[3].Inputs[0] != l[2] || l[4].Inputs[0] != l[0] {
		t.Errorf("inputs not linked as written")
	}
	if in := l[6].Inputs; len(in) != 2 || in[0] != l[2] || in[1] != l[4] {
		t.Errorf("add inputs %v", in)
	}
	if in := l[7].Inputs; len(in) != 2 || in[0] != l[6] || in[1] != l[0] {
		t.Errorf("concat inputs %v", in)
	}
	if net.Output != l[2] || net.OutputPos.String() != "s.yaml:16:9" {
		t.Errorf("output %v at %v, want layer \"2.0\" at s.yaml:16:9", net.Output, net.OutputPos)
	}
	if s := l[3].String(); s != "#3 (conv)" {
		t.Errorf("an unnamed layer prints as %q", s)
	}
	if s := l[6].String(); s != `"a\"b"` {
		t.Errorf("a named layer prints as %s", s)
	}
	if l[7].Pos.String() != "s.yaml:11:5" {
		t.Errorf("a block-style layer is at %v, want its first key", l[7].Pos)
	}
	if err := invariants(net); err != "" {
		t.Error(err)
	}
}

// TestFieldValues: every field of every op has a value to show (acgen
// -dump spec prints them), as a spec would write it.
func TestFieldValues(t *testing.T) {
	net := parse(t, head+`  - {name: s, op: split, sizes: [1, 2]}
  - {name: g, op: gelu, approximate: tanh, inputs: [s:1]}
  - {name: a, op: adaptive_avgpool, size: [2, 3]}
  - {name: l, op: layernorm, eps: 0.001}
  - {name: m, op: maxpool, kernel: [2, 3], ceil_mode: true}
  - {name: v, op: avgpool, kernel: 2, count_include_pad: false}
  - {name: c, op: conv, out: 4, kernel: 1}
`)
	want := map[string]string{"s.sizes": "[1, 2]", "g.approximate": "tanh", "a.size": "[2, 3]", "l.eps": "0.001",
		"m.kernel": "[2, 3]", "m.stride": "[2, 3]", "m.ceil_mode": "true", "m.dilation": "1", "v.count_include_pad": "false", "v.ceil_mode": "false", "c.padding": "0"}
	for _, l := range net.Layers {
		for _, f := range l.Op.Fields() {
			v := l.FieldValue(f)
			if w, ok := want[l.Name+"."+f]; ok && v != w {
				t.Errorf("%s.%s = %q, want %q", l.Name, f, v, w)
			}
			delete(want, l.Name+"."+f)
		}
	}
	if len(want) > 0 {
		t.Errorf("fields not listed: %v", want)
	}
	for _, o := range spec.KnownOps() {
		for _, f := range spec.Op(o).Fields() {
			(&spec.Layer{Op: spec.Op(o)}).FieldValue(f) // no field without a kind
		}
	}
}

func TestKnownOps(t *testing.T) {
	for _, o := range spec.KnownOps() {
		if !spec.Op(o).Known() {
			t.Errorf("%s is listed but not known", o)
		}
	}
	if spec.Op("conv2d").Known() {
		t.Error("conv2d is known")
	}
	if !spec.ACBlock.HasWeights() || spec.ReLU.HasWeights() {
		t.Error("HasWeights")
	}
}

// TestLayerErrorf checks the errors later stages position in the spec:
// not ErrSpec (the spec is well-formed), but with the layer's position.
func TestLayerErrorf(t *testing.T) {
	net := parse(t, head+"  - {name: c, op: conv, out: 4, kernel: 3}\n")
	l := net.Layers[0]
	if err := l.FieldErrorf("kernel", "too big for %s", "it"); err.Error() != `s.yaml:3:41: layer "c": too big for it` {
		t.Errorf("FieldErrorf: %v", err)
	}
	err := l.Errorf("no weights")
	if err.Error() != `s.yaml:3:5: layer "c": no weights` {
		t.Errorf("Errorf: %v", err)
	}
	if isSpec(err) {
		t.Errorf("a later stage's error is ErrSpec")
	}
}

func parse(t *testing.T, src string) *spec.Net {
	t.Helper()
	net, err := spec.Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestByteOrderMark: a spec saved with a UTF-8 byte order mark parses,
// and positions are still those of its lines.
func TestByteOrderMark(t *testing.T) {
	src := "\xef\xbb\xbfinput: [3, 8, 8]\nlayers:\n  - {name: c, op: conv, out: 4, kernel: 3}\n"
	net, err := spec.Parse("bom.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if l := net.Layers[0]; l.Pos.Line != 3 {
		t.Errorf("layer at %v, want line 3", l.Pos)
	}
}
