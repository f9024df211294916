package tests

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// deployKeys says, for each block op, where its family's own deploy form
// keeps the one convolution: the keys' suffix after the layer's prefix,
// and the BatchNorm that form keeps after it (QARepVGG's, kept for
// quantization-aware training), which acgen folds.
var deployKeys = map[spec.Op]struct{ conv, bn string }{
	spec.RepVGG:         {".rbr_reparam.", ""},
	spec.DBB:            {".dbb_reparam.", ""},
	spec.MobileOne:      {".reparam_conv.", ""},
	spec.QARepVGG:       {".rbr_reparam.", ".bn."},
	spec.RepVGGDW:       {".", ""}, // RepViT's fuse() replaces the module by the conv
	spec.DilatedReparam: {".lk_origin.", ""},
	spec.RepConv:        {".conv.", ""},
	spec.LinearSum:      {".fused.", ""}, // the user block's own fuse()
}

// TestReparamMatchesSwitchToDeploy: for the fixtures of
// fixtures/make_reparam_fixtures.py (RepVGG, DBB, and the blocks after
// them: MobileOne, QARepVGG and its V2, RepViT's RepVGGDW, UniRepLKNet's
// DilatedReparamBlock, the YOLO RepConv, a user's own block), every block
// acgen fuses holds the kernel and bias that its family's own deploy
// transform computed in PyTorch (deploy.safetensors: switch_to_deploy,
// reparameterize, fuse, merge_dilated_branches, fuse_convs), to float32
// rounding, with as many parameters as that form's convolution; the fused
// network has no more parameters than the deployed one. (TestFixtures
// checks their generated packages against PyTorch's outputs, like every
// fixture's.) torch2spec's spec of the deploy form runs too.
func TestReparamMatchesSwitchToDeploy(t *testing.T) {
	for _, name := range []string{"repvgg_cifar", "repvgg_g2", "repvgg_se", "dbb_resnet18", "dbb_mobilenet",
		"mobileone", "qarepvgg", "qarepvgg_v2", "repvit", "unireplknet", "unireplknet_official", "repconv", "user_reparam"} {
		f := fixtures.Get(name)
		g := buildGraph(t, f.Spec, f.Pth)
		deploy, err := checkpoint.Load(filepath.Join(f.Dir, "deploy.safetensors"), checkpoint.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fused, rep := fuse.Fuse(g)
		blocks := 0
		for i, n := range g.Nodes {
			keys, ok := deployKeys[n.Op]
			if !ok {
				continue
			}
			blocks++
			var conv *graph.Conv
			for _, m := range fused.Nodes {
				if m.From[0] == n {
					conv = m.Conv
				}
			}
			if conv == nil {
				t.Fatalf("%s: node %d (%s) has no fused convolution", name, i, n.Name)
			}
			want := map[string][]float64{}
			for _, k := range []string{"weight", "bias"} {
				w := deploy.Tensors[n.Layer.Prefix+keys.conv+k]
				if w == nil {
					t.Fatalf("%s: deploy.safetensors has no %s", name, n.Layer.Prefix+keys.conv+k)
				}
				want[k] = w.Data
			}
			if keys.bn != "" {
				want["weight"], want["bias"] = foldDeployBN(t, deploy, n.Layer.Prefix+keys.bn, want["weight"], want["bias"])
			}
			for _, c := range []struct {
				key string
				got []float64
			}{{"weight", conv.Weight}, {"bias", conv.Bias}} {
				if e := relErr(c.got, want[c.key]); !(e <= 2e-5) {
					t.Errorf("%s: %s %s: acgen's fusion and the family's deploy form differ by %.3g (relative to the largest value)", name, n.Name, c.key, e)
				}
			}
		}
		if blocks == 0 || rep.RepBlocks != blocks {
			t.Errorf("%s: %d blocks, %d fused", name, blocks, rep.RepBlocks)
		}
		deployed := 0
		for k, v := range deploy.Tensors {
			if !strings.HasSuffix(k, "running_mean") && !strings.HasSuffix(k, "running_var") {
				deployed += len(v.Data)
			}
		}
		if rep.ParamsOut > deployed {
			t.Errorf("%s: fused, %d parameters; the deployed form has %d", name, rep.ParamsOut, deployed)
		}
		t.Logf("%s: %d parameters as trained, %d fused, %d deployed by the family's own code", name, rep.ParamsIn, rep.ParamsOut, deployed)
		// torch2spec's spec of the deploy form (its blocks as conv
		// layers) on the deployed weights gives PyTorch's outputs of the
		// training form.
		dg := buildGraph(t, filepath.Join(f.Dir, "net_deploy.yaml"), filepath.Join(f.Dir, "deploy.safetensors"))
		s, err := f.LoadSamples()
		if err != nil {
			t.Fatal(err)
		}
		for i, in := range s.Input {
			got, err := ref.Run(dg, in)
			if err != nil {
				t.Fatal(err)
			}
			if e := fixtures.MaxRelErr(got, s.Output[i]); !(e <= 1e-4) {
				t.Errorf("%s: sample %d: the deploy form's spec vs PyTorch: %.3g", name, i, e)
			}
		}
	}
}

// foldDeployBN folds the BatchNorm a deploy form keeps after its
// convolution (keys under prefix) into the convolution's weight and bias.
func foldDeployBN(t *testing.T, ck *checkpoint.File, prefix string, w, b []float64) ([]float64, []float64) {
	t.Helper()
	get := func(k string) []float64 {
		v := ck.Tensors[prefix+k]
		if v == nil {
			t.Fatalf("deploy.safetensors has no %s", prefix+k)
		}
		return v.Data
	}
	gamma, beta, mean, variance := get("weight"), get("bias"), get("running_mean"), get("running_var")
	w, b = append([]float64(nil), w...), append([]float64(nil), b...)
	per := len(w) / len(b)
	for o := range b {
		s := gamma[o] / math.Sqrt(variance[o]+1e-5)
		for i := o * per; i < (o+1)*per; i++ {
			w[i] *= s
		}
		b[o] = (b[o]-mean[o])*s + beta[o]
	}
	return w, b
}

// buildGraph is the training-form graph of a spec with a checkpoint.
func buildGraph(t *testing.T, specPath, weights string) *graph.Graph {
	t.Helper()
	net, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Load(weights, checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatalf("%s with %s: %v", specPath, weights, err)
	}
	return g
}

// relErr is max |a-b| over max |b|, or +Inf for different lengths.
func relErr(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
		m = max(m, math.Abs(b[i]))
	}
	return d / max(m, 1e-30)
}
