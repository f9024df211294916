package spec

// checkValues applies the per-layer rules that need no other layer.
// Fields in reported were already reported as wrong or missing, and are
// not checked again.
func (p *parseState) checkValues(l *Layer, reported map[string]bool) {
	bad := func(field, format string, args ...any) {
		p.errs.Add(specError(l.FieldPos(field), l, format, args...))
		reported[field] = true
	}
	info := ops[l.Op]
	for _, f := range []string{"out", "groups"} {
		if info.takes(f) && !reported[f] && *l.intField(f) < 1 {
			bad(f, "%s must be at least 1", f)
		}
	}
	for _, f := range []string{"kernel", "stride", "dilation", "size"} {
		if reported[f] || f == "stride" && !l.Has(f) && reported["kernel"] {
			continue // a pool's default stride is its kernel, already reported
		}
		if v := *l.hwField(f); info.takes(f) && (v.H < 1 || v.W < 1) {
			bad(f, "%s must be at least 1", f)
		}
	}
	switch l.Op {
	case ACBlock, RepVGG, DBB:
		p.checkSquare(l, reported)
	}
	k, pad := l.Kernel.H, l.Padding.H // square in blocks, checked above
	switch l.Op {
	case ACBlock:
		if k%2 == 0 && !reported["kernel"] {
			bad("kernel", "kernel %d is even; an ACBlock adds its 1xK and Kx1 kernels into the centre row and column of the KxK one, so K must be odd", k)
		}
		if l.Dilation.H != 1 && !reported["dilation"] {
			bad("dilation", "dilation %d: ACNet pads the 1xK and Kx1 branches for dilation 1, so with dilation they do not line up with the KxK kernel's centre row and column and the trained block is not one convolution; use dilation 1 or plain conv layers", l.Dilation.H)
		}
	case RepVGG:
		if k%2 == 0 && !reported["kernel"] {
			bad("kernel", "kernel %d is even; a RepVGG block adds its 1x1 kernel into the centre of the KxK one, so K must be odd", k)
		}
		if k >= 1 && pad < k/2 && !reported["padding"] && !reported["kernel"] {
			bad("padding", "padding %d is less than kernel/2 (%d): the 1x1 branch would need a negative padding (p - K/2), which the official block cannot build either", pad, k/2)
		}
	case DBB:
		if k%2 == 0 && !reported["kernel"] {
			bad("kernel", "kernel %d is even; a DBB adds its branches into the centre of the KxK kernel, so K must be odd", k)
		}
		if pad != k/2 && !reported["padding"] && !reported["kernel"] {
			bad("padding", "padding %d: a DBB pads by kernel/2 (%d), the only padding the official block takes", pad, k/2)
		}
		if l.Has("internal") && (l.Internal < 1 || l.Internal > MaxDim) && !reported["internal"] {
			bad("internal", "internal must be at least 1")
		}
	case MaxPool, AvgPool:
		for _, a := range axes(l.Kernel, l.Padding) {
			if !reported["kernel"] && !reported["padding"] && 2*a.y > a.x {
				bad("padding", "padding %s is more than half the kernel%s (%d), which PyTorch refuses too", l.Padding, a.name, a.x)
			}
		}
	}
	if l.Groups >= 1 && l.Out >= 1 && l.Out%l.Groups != 0 && !reported["out"] && !reported["groups"] {
		bad("groups", "out %d is not a multiple of groups %d", l.Out, l.Groups)
	}
}

// checkSquare refuses a training-time block's [h, w] fields with two
// values: the blocks' branches (an ACBlock's 1xK and Kx1 kernels added
// into the KxK one's centre row and column, RepVGG's and DBB's 1x1
// kernels added into its centre) are defined for square kernels,
// strides and paddings.
func (p *parseState) checkSquare(l *Layer, reported map[string]bool) {
	for _, f := range []string{"kernel", "stride", "padding", "dilation"} {
		if v := *l.hwField(f); l.Has(f) && !reported[f] && !v.Square() {
			p.errs.Add(specError(l.FieldPos(f), l, "%s %s: an op %s block is square (its branches add into the centre row, column or tap of the KxK kernel); write one number", f, v, l.Op))
			reported[f] = true
		}
	}
}

// axis is one axis of two [h, w] fields x and y, named for messages: ""
// when both fields are square, else " height" or " width".
type axis struct {
	name string
	x, y int
}

func axes(x, y HW) []axis {
	if x.Square() && y.Square() {
		return []axis{{"", x.H, y.H}}
	}
	return []axis{{" height", x.H, y.H}, {" width", x.W, y.W}}
}
