package fuse

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

var writeCorpus = flag.Bool("writecorpus", false, "rewrite testdata/fuzz/FuzzFuse")

// FuzzFuse checks fusion against the network as trained, over small
// random networks: the fuzz input is decoded into a spec (randomSpec),
// weights are synthesized for it, and the reference runtime must give the
// same outputs for the fused and the unfused graph:
//
//   - to 1e-9 of max(1, |output|) before the fused parameters are rounded
//     to float32: any mistake of fusion's shows here, whatever the
//     weights;
//   - to 1e-5 after, as the generated code runs, when the BatchNorm
//     statistics are those of a trained network. With variances a hundred
//     times smaller, the rounding of the folded weights is amplified by
//     every layer, and that check is left out.
//
// Specs the decoder gets wrong (shapes that do not agree) are skipped.
func FuzzFuse(f *testing.F) {
	for _, s := range fuseSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, opts := randomSpec(data)
		net, err := spec.Parse("fuzz.yaml", []byte(src))
		if err != nil {
			t.Skip(err)
		}
		if _, err := graph.Wants(net, graph.Options{}); err != nil {
			t.Skip(err)
		}
		ck := synthCheckpoint(t, net, opts)
		g, err := graph.Build(net, ck, graph.Options{})
		if err != nil {
			t.Fatalf("synthesized weights do not fit the spec: %v\n%s", err, src)
		}
		in := make([]float64, g.Input.Len())
		rng := rand.New(rand.NewPCG(opts.seed, 1))
		for i := range in {
			in[i] = float64(float32(rng.NormFloat64()))
		}
		want, err := ref.Run(g, in)
		if err != nil {
			t.Fatalf("unfused: %v\n%s", err, src)
		}
		for _, round := range []bool{false, true} {
			fused, rep := fuse(g, round)
			for _, n := range fused.Nodes {
				if !n.Row().Deployed() {
					t.Fatalf("fused graph still holds %s\n%s", n, src)
				}
			}
			if err := Finite(fused); round && err != nil {
				t.Errorf("synthesized weights fold past float32: %v\n%s", err, src)
			}
			if rep.ACBlocks != strings.Count(src, "op: acblock") {
				t.Errorf("fused %d ACBlocks\n%s", rep.ACBlocks, src)
			}
			got, err := ref.Run(fused, in)
			if err != nil {
				t.Fatalf("fused: %v\n%s", err, src)
			}
			tol := 1e-9
			if round {
				tol = 1e-5
				if opts.varScale < 1 {
					continue
				}
			}
			if e := fixtures.MaxRelErr(got, want); !(e <= tol) {
				t.Fatalf("fused (rounded to float32: %v) differs from unfused by %.3g (relative), more than %g\n%s\noptions %+v", round, e, tol, src, opts)
			}
		}
		again, _ := ref.Run(g, in)
		if e := fixtures.MaxRelErr(again, want); e != 0 {
			t.Fatalf("Fuse changed the graph it fused\n%s", src)
		}
	})
}

// weightOptions say how to vary synthesized weights.
type weightOptions struct {
	seed     uint64
	noBias   bool    // drop every optional conv and linear bias
	noAffine bool    // drop standalone BNs' gamma and beta (affine=False)
	varScale float64 // running_var scale: small variances amplify rounding
}

// reader hands out the fuzz input's bytes, then zeros.
type reader struct{ b []byte }

func (r *reader) next() int {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return int(v)
}

// pick returns one of n choices.
func (r *reader) pick(n int) int { return r.next() % n }

type shape struct{ c, h, w int }

// randomSpec decodes data into a spec of up to 8 layers with small
// hyper-parameters, tracking shapes so that most specs are valid.
func randomSpec(data []byte) (string, weightOptions) {
	r := &reader{b: data}
	var opts weightOptions
	opts.seed = uint64(r.next())<<8 | uint64(r.next())
	flags := r.next()
	opts.noBias, opts.noAffine = flags&1 != 0, flags&2 != 0
	opts.varScale = []float64{1, 1, 0.01, 30}[flags>>2&3]

	in := shape{1 + r.pick(4), 1 + r.pick(9), 1 + r.pick(9)}
	var b strings.Builder
	fmt.Fprintf(&b, "input: [%d, %d, %d]\nlayers:\n", in.c, in.h, in.w)
	var shapes []shape
	var refs []string // how later layers name each layer's output (a split's one of them)
	n := 1 + r.pick(8)
	for i := 0; i < n; i++ {
		cur := in
		src := -1 // the layer read; -1: the previous one (or the input)
		if i > 0 {
			src = i - 1
			if r.pick(4) == 0 {
				src = r.pick(i)
			}
			cur = shapes[src]
		}
		fields := ""
		out := cur
		ref := fmt.Sprintf("l%d", i)
		ops := []string{"acblock", "conv", "bn", "relu", "relu6", "maxpool", "avgpool", "add", "concat", "global_avgpool", "flatten", "linear",
			"leaky_relu", "hardswish", "hardsigmoid", "sigmoid", "silu", "tanh", "mul", "dropout", "repvgg", "dbb",
			"adaptive_avgpool", "split", "channel_shuffle", "gelu", "scale", "layernorm",
			"mobileone", "qarepvgg", "repvggdw", "dilated_reparam", "repconv", "linear_sum", "grn"}
		op := ops[r.pick(len(ops))]
		if i == 0 && (op == "add" || op == "concat" || op == "dropout") || op == "split" && cur.c < 2 {
			op = "acblock"
		}
		switch op {
		case "acblock", "conv":
			k := []int{1, 3, 5, 2, 4}[r.pick(5)]
			if op == "acblock" {
				k = []int{1, 3, 5}[r.pick(3)]
			}
			stride, pad, dil := 1+r.pick(2), r.pick(k+1), 1
			if op == "conv" {
				dil = 1 + r.pick(2)
			}
			g := divisor(cur.c, r.next())
			o := g * (1 + r.pick(max(1, 8/g)))
			fields = fmt.Sprintf(", out: %d, kernel: %d, stride: %d, padding: %d, groups: %d", o, k, stride, pad, g)
			if op == "conv" {
				fields += fmt.Sprintf(", dilation: %d", dil)
			}
			if op == "acblock" && r.pick(3) == 0 {
				fields += ", eps: 0.001"
			}
			out = shape{o, convOut(cur.h, k, stride, pad, dil), convOut(cur.w, k, stride, pad, dil)}
		case "dbb":
			k := []int{1, 3, 5}[r.pick(3)]
			stride := 1 + r.pick(2)
			g := divisor(cur.c, r.next())
			o := g * (1 + r.pick(max(1, 8/g)))
			if r.pick(3) == 0 {
				o, g = cur.c, cur.c // depthwise: the average-pool-only branch
			}
			fields = fmt.Sprintf(", out: %d, kernel: %d, stride: %d, padding: %d, groups: %d", o, k, stride, k/2, g)
			if r.pick(3) == 0 {
				fields += fmt.Sprintf(", internal: %d", g*(1+r.pick(3)))
			}
			out = shape{o, convOut(cur.h, k, stride, k/2, 1), convOut(cur.w, k, stride, k/2, 1)}
		case "repvgg":
			k := []int{1, 3, 5}[r.pick(3)]
			stride, pad := 1+r.pick(2), k/2+r.pick(2)
			g := divisor(cur.c, r.next())
			o := g * (1 + r.pick(max(1, 8/g)))
			if r.pick(2) == 0 {
				o, stride, pad = cur.c, 1, k/2 // with the identity branch
			}
			fields = fmt.Sprintf(", out: %d, kernel: %d, stride: %d, padding: %d, groups: %d", o, k, stride, pad, g)
			out = shape{o, convOut(cur.h, k, stride, pad, 1), convOut(cur.w, k, stride, pad, 1)}
		case "mobileone", "qarepvgg", "repconv", "repvggdw", "dilated_reparam", "linear_sum":
			fields, out = reparamFields(r, op, cur)
		case "bn":
			if r.pick(2) == 0 {
				fields = ", eps: 0.001"
			}
		case "maxpool", "avgpool":
			k := 1 + r.pick(3)
			stride, pad := 1+r.pick(3), r.pick(k/2+1)
			fields = fmt.Sprintf(", kernel: %d, stride: %d, padding: %d", k, stride, pad)
			out = shape{cur.c, convOut(cur.h, k, stride, pad, 1), convOut(cur.w, k, stride, pad, 1)}
		case "global_avgpool":
			out = shape{cur.c, 1, 1}
		case "split":
			// Two outputs; later layers read one of them.
			a := 1 + r.pick(cur.c-1)
			fields = fmt.Sprintf(", sizes: [%d, %d]", a, cur.c-a)
			port := r.pick(2)
			out.c = []int{a, cur.c - a}[port]
			ref = fmt.Sprintf("l%d:%d", i, port)
		case "channel_shuffle":
			fields = fmt.Sprintf(", groups: %d", divisor(cur.c, r.next()))
		case "adaptive_avgpool":
			out = shape{cur.c, 1 + r.pick(4), 1 + r.pick(4)}
			fields = fmt.Sprintf(", size: [%d, %d]", out.h, out.w)
		case "gelu":
			fields = []string{"", ", approximate: tanh"}[r.pick(2)]
		case "leaky_relu":
			fields = fmt.Sprintf(", slope: %g", []float64{0.01, 0.2, 1.5}[r.pick(3)])
		case "mul":
			var scales []int // earlier layers of shape C x 1 x 1, or of the read one's, for the other
			for j, s := range shapes {
				if s == (shape{cur.c, 1, 1}) || s == cur {
					scales = append(scales, j)
				}
			}
			if src < 0 || len(scales) == 0 {
				op = "sigmoid"
				break
			}
			fields = fmt.Sprintf(", inputs: [%s, %s]", refs[src], refs[scales[r.pick(len(scales))]])
			src = -1
		case "flatten":
			out = shape{cur.c * cur.h * cur.w, 1, 1}
		case "linear":
			out = shape{1 + r.pick(6), 1, 1}
			fields = fmt.Sprintf(", out: %d", out.c)
		case "add", "concat":
			var same []int // earlier layers that fit the one read
			for j, s := range shapes {
				if s == cur || op == "concat" && s.h == cur.h && s.w == cur.w {
					same = append(same, j)
				}
			}
			ins := []int{src}
			for k := 1 + r.pick(2); k > 0; k-- {
				ins = append(ins, same[r.pick(len(same))])
			}
			var names []string
			out.c = 0
			for _, j := range ins {
				names = append(names, refs[j])
				out.c += shapes[j].c
			}
			if op == "add" {
				out.c = cur.c
			}
			fields = ", inputs: [" + strings.Join(names, ", ") + "]"
			src = -1
		}
		if src >= 0 && (src != i-1 || refs[src] != fmt.Sprintf("l%d", src)) {
			fields += fmt.Sprintf(", inputs: [%s]", refs[src])
		}
		fmt.Fprintf(&b, "  - {name: l%d, op: %s%s}\n", i, op, fields)
		shapes = append(shapes, out)
		refs = append(refs, ref)
	}
	if r.pick(5) == 0 || strings.Contains(refs[n-1], ":") {
		fmt.Fprintf(&b, "output: %s\n", refs[r.pick(n)])
	}
	return b.String(), opts
}

// divisor returns a divisor of c chosen by v (1 for a c < 1, which a
// spec already invalid can give).
func divisor(c, v int) int {
	if c < 1 {
		return 1
	}
	var ds []int
	for d := 1; d <= c; d++ {
		if c%d == 0 {
			ds = append(ds, d)
		}
	}
	return ds[v%len(ds)]
}

func convOut(in, k, stride, pad, dil int) int {
	span := in + 2*pad - dil*(k-1) - 1
	if span < 0 {
		return 0
	}
	return span/stride + 1
}

// isBNKey reports whether k is a BatchNorm's: it has running statistics.
func isBNKey(ts map[string]synth.Tensor, k string) bool {
	_, ok := ts[strings.TrimSuffix(k, "bias")+"running_mean"]
	return ok
}

// synthCheckpoint is synth's checkpoint for net as checkpoint.Load would
// return it, varied by opts.
func synthCheckpoint(t *testing.T, net *spec.Net, opts weightOptions) *checkpoint.File {
	ts, err := synth.Checkpoint(net, opts.seed)
	if err != nil {
		t.Fatal(err)
	}
	bns := map[string]bool{}
	for _, l := range net.Layers {
		if l.Op == spec.BN {
			bns[l.Prefix+".weight"], bns[l.Prefix+".bias"] = true, true
		}
	}
	ck := &checkpoint.File{Path: "fuzz.safetensors", Format: "safetensors", Tensors: map[string]*checkpoint.Tensor{}}
	for k, v := range ts {
		switch {
		case opts.noAffine && bns[k]:
			continue
		case opts.noBias && !bns[k] && strings.HasSuffix(k, ".bias") && !isBNKey(ts, k):
			continue
		}
		data := make([]float64, len(v.Data))
		for i, x := range v.Data {
			if strings.HasSuffix(k, "running_var") {
				x = float32(float64(x) * opts.varScale)
			}
			data[i] = float64(x)
		}
		ck.Tensors[k] = &checkpoint.Tensor{Key: k, DType: "float32", Shape: v.Shape, Data: data}
	}
	return ck
}

// fuseSeeds are inputs that decode into networks using every op and
// option; the committed corpus holds them too.
func fuseSeeds() [][]byte {
	rng := rand.New(rand.NewPCG(5, 5))
	var out [][]byte
	for len(out) < 64 {
		b := make([]byte, 64)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		src, _ := randomSpec(b)
		net, err := spec.Parse("fuzz.yaml", []byte(src))
		if err != nil {
			continue
		}
		if _, err := graph.Wants(net, graph.Options{}); err != nil {
			continue
		}
		out = append(out, b)
	}
	return out
}

// TestFuseSeeds runs FuzzFuse's seeds as a plain test, and checks that
// between them they use every op.
func TestFuseSeeds(t *testing.T) {
	used := map[string]bool{}
	for _, s := range fuseSeeds() {
		src, _ := randomSpec(s)
		for _, o := range spec.KnownOps() {
			if strings.Contains(src, "op: "+o+",") || strings.Contains(src, "op: "+o+"}") {
				used[o] = true
			}
		}
	}
	for _, o := range spec.KnownOps() {
		if !used[o] {
			t.Errorf("no seed uses %s", o)
		}
	}
}

// TestWriteCorpus rewrites the committed seed corpus when asked:
//
//	go test ./fuse -run TestWriteCorpus -writecorpus
func TestWriteCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("-writecorpus not set")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzFuse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range fuseSeeds() {
		name := fmt.Sprintf("seed-%x", sha256.Sum256(s))[:21]
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
