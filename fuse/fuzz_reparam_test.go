package fuse

import (
	"fmt"
	"strings"
)

// reparamFields decodes the fields of a block after RepVGG, or of a
// linear_sum, for an input of shape cur: each op's options (strides,
// groups, depthwise, identity branches, versions, kernels and
// dilations), and for linear_sum branches drawn from the patterns a
// user's own re-parameterisation block is made of (KxK and 1x1
// convolutions with or without a BN, the identity, a BN alone, average
// pooling, a 1x1 into a padded KxK, zero padding then a KxK, a KxK then
// a 1x1, a dilated KxK), all centred in a KxK window of one stride.
func reparamFields(r *reader, op string, cur shape) (string, shape) {
	k := []int{1, 3, 5}[r.pick(3)]
	stride := 1 + r.pick(2)
	g := divisor(cur.c, r.next())
	o := g * (1 + r.pick(max(1, 8/g)))
	if r.pick(2) == 0 {
		o, stride = cur.c, 1 // with the identity branch
		if r.pick(3) == 0 {
			g = cur.c // depthwise
		}
	}
	same := func(k, stride, pad int) shape {
		return shape{o, convOut(cur.h, k, stride, pad, 1), convOut(cur.w, k, stride, pad, 1)}
	}
	switch op {
	case "mobileone":
		return fmt.Sprintf(", out: %d, kernel: %d, stride: %d, groups: %d, conv_branches: %d", o, k, stride, g, 1+r.pick(3)), same(k, stride, k/2)
	case "qarepvgg":
		return fmt.Sprintf(", out: %d, kernel: %d, stride: %d, groups: %d, version: %d", o, k, stride, g, 1+r.pick(2)), same(k, stride, k/2)
	case "repconv":
		pad, id := k/2+r.pick(2), 0
		if o == cur.c && stride == 1 && r.pick(2) == 0 {
			pad, id = k/2, 1
		}
		return fmt.Sprintf(", out: %d, kernel: %d, stride: %d, padding: %d, groups: %d, identity: %d", o, k, stride, pad, g, id), same(k, stride, pad)
	case "repvggdw":
		return fmt.Sprintf(", eps: %g", []float64{1e-5, 1e-3}[r.pick(2)]), cur
	case "dilated_reparam":
		big := []int{5, 7, 9}[r.pick(3)]
		f := fmt.Sprintf(", kernel: %d", big)
		if r.pick(2) == 0 {
			kk, d := []int{1, 3, 5}[r.pick(3)], 1+r.pick(3)
			for d*(kk-1)+1 > big {
				d--
			}
			f += fmt.Sprintf(", kernels: [%d], dilations: [%d]", kk, d)
		}
		return f, cur
	}
	// linear_sum: up to four branches, each centred in the KxK window.
	pad := k / 2
	var branches []string
	key := 0
	next := func() string { key++; return fmt.Sprintf("k%d", key) }
	conv := func(out, k, stride, pad, dil int) string {
		return fmt.Sprintf("{op: conv, key: %s, out: %d, kernel: %d, stride: %d, padding: %d, groups: %d, dilation: %d}", next(), out, k, stride, pad, g, dil)
	}
	bn := func() string { return fmt.Sprintf("{op: bn, key: %s}", next()) }
	for n := 1 + r.pick(4); n > 0; n-- {
		var b []string
		switch p := r.pick(9); {
		case p == 0:
			b = []string{conv(o, k, stride, pad, 1)}
		case p == 1:
			b = []string{conv(o, k, stride, pad, 1), bn()}
		case p == 2:
			b = []string{conv(o, 1, stride, 0, 1), bn()}
		case p == 3 && o == cur.c && stride == 1:
			b = []string{} // the identity
		case p == 4 && o == cur.c && stride == 1:
			b = []string{bn()}
		case p == 5 && o == cur.c:
			b = []string{fmt.Sprintf("{op: avgpool, kernel: %d, stride: %d, padding: %d}", k, stride, pad), bn()}
		case p == 6:
			b = []string{conv(g*(1+r.pick(3)), 1, 1, 0, 1), conv(o, k, stride, pad, 1)}
		case p == 7:
			b = []string{fmt.Sprintf("{op: pad, padding: %d}", pad), conv(o, k, stride, 0, 1), bn()}
		case p == 8 && k > 1:
			b = []string{conv(o, 3, stride, k/2, k/2), conv(o, 1, 1, 0, 1)} // dilated to span the window
		default:
			b = []string{conv(o, k, stride, pad, 1), bn(), conv(o, 1, 1, 0, 1)}
		}
		branches = append(branches, "["+strings.Join(b, ", ")+"]")
	}
	return fmt.Sprintf(", out: %d, branches: [%s]", o, strings.Join(branches, ", ")), same(k, stride, pad)
}
