package spec

import (
	"slices"
	"strings"
)

// The re-parameterisation blocks that came after RepVGG (MobileOne,
// QARepVGG, RepViT's RepVGGDW, UniRepLKNet's DilatedReparamBlock, the YOLO
// RepConv) and the general sum of linear branches keep their rows, fields,
// defaults and rules here, beside the ops of ops.go, so that they read as
// one concept.
var reparamOps = map[Op]opInfo{
	MobileOne:      {fields: []string{"out", "kernel", "stride", "padding", "groups", "conv_branches", "eps"}, required: []string{"out"}, weights: true, minInputs: 1, maxInputs: 1},
	QARepVGG:       {fields: []string{"out", "kernel", "stride", "padding", "groups", "version", "eps"}, required: []string{"out"}, weights: true, minInputs: 1, maxInputs: 1},
	RepVGGDW:       {fields: []string{"eps"}, weights: true, minInputs: 1, maxInputs: 1},
	DilatedReparam: {fields: []string{"kernel", "kernels", "dilations", "eps"}, required: []string{"kernel"}, weights: true, minInputs: 1, maxInputs: 1},
	RepConv:        {fields: []string{"out", "kernel", "stride", "padding", "groups", "identity", "eps"}, required: []string{"out"}, weights: true, minInputs: 1, maxInputs: 1},
	LinearSum:      {fields: []string{"out", "branches", "eps"}, required: []string{"out", "branches"}, weights: true, minInputs: 1, maxInputs: 1},
}

func init() {
	for op, info := range reparamOps {
		ops[op] = info
	}
}

// Reparam holds the fields only these blocks take.
type Reparam struct {
	ConvBranches int // mobileone: the KxK conv-BN branches (num_conv_branches)
	Version      int // qarepvgg: 1 (QARepVGGBlock) or 2 (QARepVGGBlockV2)
	Identity     int // repconv: 1 when the block has the identity BatchNorm (bn=True)

	// dilated_reparam: the small branches' kernel sizes and dilations.
	Kernels, Dilations []int

	// linear_sum: each branch a chain of steps applied to the input in
	// order; an empty branch is the input itself.
	Branches [][]Step
}

// officialDilated are UniRepLKNet's small branches (kernels, dilations) for
// each large kernel size, as its DilatedReparamBlock builds them.
var officialDilated = map[int][2][]int{
	5:  {{3, 3}, {1, 2}},
	7:  {{5, 3, 3}, {1, 2, 3}},
	9:  {{5, 5, 3, 3}, {1, 2, 3, 4}},
	11: {{5, 5, 3, 3, 3}, {1, 2, 3, 4, 5}},
	13: {{5, 7, 3, 3, 3}, {1, 2, 3, 4, 5}},
	15: {{5, 7, 3, 3, 3}, {1, 2, 3, 5, 7}},
	17: {{5, 9, 3, 3, 3}, {1, 2, 4, 5, 7}},
}

// OfficialDilated returns UniRepLKNet's branches for a large kernel of
// size k, and whether it has some.
func OfficialDilated(k int) (kernels, dilations []int, ok bool) {
	b, ok := officialDilated[k]
	return slices.Clone(b[0]), slices.Clone(b[1]), ok
}

// reparamDefaults fills these blocks' fields the spec left out.
func reparamDefaults(l *Layer) {
	if !l.Has("conv_branches") {
		l.ConvBranches = 1
	}
	if !l.Has("version") {
		l.Version = 1
	}
	if l.Op == DilatedReparam && !l.Has("kernels") && !l.Has("dilations") {
		l.Kernels, l.Dilations, _ = OfficialDilated(l.Kernel.H)
	}
	for _, b := range l.Branches {
		for i := range b {
			s := &b[i]
			def := func(field string, v *int, d int) {
				if !s.has[field] {
					*v = d
				}
			}
			def("out", &s.Out, l.Out)
			def("stride", &s.Stride, 1)
			if s.Op == AvgPool {
				def("stride", &s.Stride, s.Kernel)
			}
			def("groups", &s.Groups, 1)
			def("dilation", &s.Dilation, 1)
			if s.Op == Pad {
				s.Kernel = 1
			}
			if !s.has["eps"] {
				s.Eps = l.Eps
			}
		}
	}
}

// checkReparam applies these blocks' rules that need no other layer.
func (p *parseState) checkReparam(l *Layer, reported map[string]bool) {
	bad := func(field, format string, args ...any) {
		p.errs.Add(specError(l.FieldPos(field), l, format, args...))
		reported[field] = true
	}
	k, pad := l.Kernel.H, l.Padding.H // square, checked before
	oddKernel := func(why string) {
		if k%2 == 0 && !reported["kernel"] {
			bad("kernel", "kernel %d is even; %s, so K must be odd", k, why)
		}
	}
	onlyHalf := func(block string) {
		if pad != k/2 && !reported["padding"] && !reported["kernel"] {
			bad("padding", "padding %d: %s pads by kernel/2 (%d), the only padding its branches line up with", pad, block, k/2)
		}
	}
	switch l.Op {
	case MobileOne:
		oddKernel("a MobileOne block adds its 1x1 kernel and identity into the centre of the KxK one")
		onlyHalf("a MobileOne block")
		if (l.ConvBranches < 1 || l.ConvBranches > 64) && !reported["conv_branches"] {
			bad("conv_branches", "conv_branches %d: a MobileOne block has 1 to 64 KxK branches", l.ConvBranches)
		}
	case QARepVGG:
		oddKernel("a QARepVGG block adds its 1x1 kernel and identity into the centre of the KxK one")
		onlyHalf("a QARepVGG block")
		if l.Version != 1 && l.Version != 2 && !reported["version"] {
			bad("version", "version %d: 1 is YOLOv6's QARepVGGBlock, 2 its QARepVGGBlockV2", l.Version)
		}
	case RepConv:
		oddKernel("a RepConv adds its 1x1 kernel into the centre of the KxK one")
		if k >= 1 && pad < k/2 && !reported["padding"] {
			bad("padding", "padding %d is less than kernel/2 (%d): the 1x1 branch would need a negative padding (p - K/2)", pad, k/2)
		}
		if l.Identity != 0 && l.Identity != 1 && !reported["identity"] {
			bad("identity", "identity %d: 1 when the block has its identity BatchNorm (bn=True), else 0", l.Identity)
		}
	case DilatedReparam:
		p.checkDilated(l, reported, bad)
	case LinearSum:
		p.checkBranches(l)
	}
}

func (p *parseState) checkDilated(l *Layer, reported map[string]bool, bad func(field, format string, args ...any)) {
	if reported["kernel"] {
		return
	}
	k := l.Kernel.H // square, checked before
	if k%2 == 0 {
		bad("kernel", "kernel %d is even; the dilated branches add into the centre of the large kernel, so it must be odd", k)
		return
	}
	if !l.Has("kernels") && !l.Has("dilations") && l.Kernels == nil {
		bad("kernel", "kernel %d: UniRepLKNet has branches for kernels 5 to 17 only; give `kernels` and `dilations`", k)
		return
	}
	if reported["kernels"] || reported["dilations"] {
		return
	}
	if len(l.Kernels) != len(l.Dilations) || len(l.Kernels) == 0 {
		bad("dilations", "kernels has %d sizes and dilations %d; a branch needs one of each, and the block at least one", len(l.Kernels), len(l.Dilations))
		return
	}
	seen := map[[2]int]bool{}
	for i, k := range l.Kernels {
		r := l.Dilations[i]
		switch span := r*(k-1) + 1; {
		case k < 1 || r < 1:
			bad("kernels", "branch %d: kernel %d, dilation %d: both must be at least 1", i, k, r)
		case k%2 == 0:
			bad("kernels", "branch %d: kernel %d is even; it must be odd to centre in the large kernel", i, k)
		case span > l.Kernel.H:
			bad("dilations", "branch %d: a %dx%d kernel of dilation %d spans %d, more than the large kernel's %d", i, k, k, r, span, l.Kernel.H)
		case seen[[2]int{k, r}]:
			bad("kernels", "branch %d: kernel %d with dilation %d twice (their checkpoint keys would be the same)", i, k, r)
		}
		seen[[2]int{k, r}] = true
	}
}

// branchesValue writes a linear_sum's branches as a spec would.
func (l *Layer) branchesValue() string {
	var bs []string
	for _, b := range l.Branches {
		var ss []string
		for _, s := range b {
			ss = append(ss, s.String())
		}
		bs = append(bs, "["+strings.Join(ss, ", ")+"]")
	}
	return "[" + strings.Join(bs, ", ") + "]"
}
