package ref

import (
	"runtime"
	"sync"

	"github.com/acgen/acgen/graph"
)

// conv is nn.Conv2d: zero padding, stride, dilation, groups, optional bias.
func conv(x Tensor, c *graph.Conv) Tensor {
	oh, ow := c.OutSize(x.H, x.W)
	out := newTensor(graph.Shape{C: c.Out, H: oh, W: ow})
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	parallel(c.Out, func(o int) {
		dst := out.Data[o*oh*ow : (o+1)*oh*ow]
		if c.Bias != nil {
			for i := range dst {
				dst[i] = c.Bias[o]
			}
		}
		g := o / outPer
		for ic := 0; ic < inPer; ic++ {
			src := x.Data[(g*inPer+ic)*x.H*x.W:]
			for ky := 0; ky < c.KH; ky++ {
				for oy := 0; oy < oh; oy++ {
					iy := oy*c.StrideH - c.PadH + ky*c.DilH
					if iy < 0 || iy >= x.H {
						continue
					}
					row := src[iy*x.W : (iy+1)*x.W]
					d := dst[oy*ow : (oy+1)*ow]
					for kx := 0; kx < c.KW; kx++ {
						w := c.Weight[((o*inPer+ic)*c.KH+ky)*c.KW+kx]
						// Output columns whose tap lands inside the row:
						// ix = ox*stride + off in [0, W).
						off := kx*c.DilW - c.PadW
						lo := max(0, ceilDiv(-off, c.StrideW))
						hi := min(ow, ceilDiv(x.W-off, c.StrideW))
						if hi <= lo {
							continue
						}
						if c.StrideW == 1 {
							dd, rr := d[lo:hi], row[lo+off:hi+off]
							for i := range dd {
								dd[i] += w * rr[i]
							}
							continue
						}
						for ox := lo; ox < hi; ox++ {
							d[ox] += w * row[ox*c.StrideW+off]
						}
					}
				}
			}
		}
	})
	return out
}

// acblock runs an ACBlock in training form, eval mode: the three branches
// as the official ACNet block computes them, summed.
func acblock(x Tensor, ac *graph.ACBlock) Tensor {
	square := batchNorm(conv(x, &ac.Square), &ac.SquareBN)
	horIn, verIn := x, x
	if ac.Crop > 0 {
		// input[:, :, crop:-crop, :] for the 1xK branch and
		// input[:, :, :, crop:-crop] for the Kx1 branch.
		horIn = crop(x, ac.Crop, 0)
		verIn = crop(x, 0, ac.Crop)
	}
	hor := batchNorm(conv(horIn, &ac.Hor), &ac.HorBN)
	ver := batchNorm(conv(verIn, &ac.Ver), &ac.VerBN)
	return add([]Tensor{square, ver, hor})
}

// repvgg runs a RepVGG block as trained: its three branches, summed.
func repvgg(x Tensor, r *graph.RepVGG) Tensor {
	branches := []Tensor{
		batchNorm(conv(x, &r.Dense), &r.DenseBN),
		batchNorm(conv(x, &r.One), &r.OneBN),
	}
	if r.Identity != nil {
		branches = append(branches, batchNorm(x, r.Identity))
	}
	return add(branches)
}

// dbb runs a Diverse Branch Block as trained, its branches summed.
func dbb(x Tensor, d *graph.DBB) Tensor {
	branches := []Tensor{batchNorm(conv(x, &d.Origin), &d.OriginBN)}
	if d.One != nil {
		branches = append(branches, batchNorm(conv(x, d.One), &d.OneBN))
	}
	avgIn := x
	if d.AvgConv != nil {
		avgIn = bnAndPad(conv(x, d.AvgConv), &d.AvgPadBN, d.Pad)
	}
	branches = append(branches, batchNorm(avgPool(avgIn, &d.AvgPool), &d.AvgBN))
	mid := bnAndPad(conv(x, &d.First), &d.FirstBN, d.Pad)
	branches = append(branches, batchNorm(conv(mid, &d.Second), &d.SecondBN))
	return add(branches)
}

// bnAndPad is the official BNAndPadLayer: the BN, then p pixels of
// padding on every side holding each channel's BN of 0 (its shift), so
// that a KxK convolution after it sees what it would see had the padding
// come before the 1x1 convolution and BN.
func bnAndPad(x Tensor, bn *graph.BatchNorm, p int) Tensor {
	y := batchNorm(x, bn)
	_, shift := bn.ScaleShift()
	out := newTensor(graph.Shape{C: y.C, H: y.H + 2*p, W: y.W + 2*p})
	for c := 0; c < out.C; c++ {
		for yy := 0; yy < out.H; yy++ {
			for xx := 0; xx < out.W; xx++ {
				v := shift[c]
				if yy >= p && yy < p+y.H && xx >= p && xx < p+y.W {
					v = y.at(c, yy-p, xx-p)
				}
				out.Data[(c*out.H+yy)*out.W+xx] = v
			}
		}
	}
	return out
}

// crop removes dy rows and dx columns from each side.
func crop(x Tensor, dy, dx int) Tensor {
	out := newTensor(graph.Shape{C: x.C, H: x.H - 2*dy, W: x.W - 2*dx})
	for c := 0; c < out.C; c++ {
		for y := 0; y < out.H; y++ {
			for xx := 0; xx < out.W; xx++ {
				out.Data[(c*out.H+y)*out.W+xx] = x.at(c, y+dy, xx+dx)
			}
		}
	}
	return out
}

// parallel runs f(0..n-1) spread over the CPU's cores. Each f writes
// only its own slice of the output, so results do not depend on the
// schedule.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// ceilDiv is ceil(a/b) for b > 0.
func ceilDiv(a, b int) int {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -((-a) / b)
}
