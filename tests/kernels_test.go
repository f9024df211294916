package tests

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/templates"
)

// kernelNets exercise every kernel variant at awkward sizes: channel
// counts of 1, 7, 9, 13 (not multiples of the 8-lane block), odd and
// non-square images, kernels 1 to 7, strides 1 and 2, dilation, groups
// that do and do not align with blocks, depthwise with and without a
// channel multiplier, residual adds, ReLU and ReLU6, Winograd F(2x2)
// and F(4x4) forced where they apply.
var kernelNets = []struct {
	name string
	plan plan.Options
	spec string
}{
	{"odd", plan.Options{}, `
input: [7, 13, 11]
layers:
  - {name: c1, op: conv, out: 9, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: c2, op: conv, out: 13, kernel: 5, stride: 2, padding: 2}
  - {name: c3, op: conv, out: 13, kernel: 1}
  - {name: a1, op: add, inputs: [c3, c2]}
  - {name: r2, op: relu6}
  - {name: c4, op: conv, out: 8, kernel: 7, padding: 3}
  - {name: c5, op: conv, out: 1, kernel: 3}
  - {name: c6, op: conv, out: 3, kernel: 1, stride: 2}
  - {name: fc, op: linear, out: 5}
`},
	{"groups", plan.Options{}, `
input: [16, 9, 9]
layers:
  - {name: g1, op: conv, out: 16, kernel: 3, padding: 1, groups: 2}
  - {name: g2, op: conv, out: 12, kernel: 3, padding: 1, groups: 4}
  - {name: d1, op: conv, out: 12, kernel: 3, padding: 1, groups: 12}
  - {name: r, op: relu}
  - {name: d2, op: conv, out: 12, kernel: 5, stride: 2, padding: 2, groups: 12}
  - {name: d3, op: conv, out: 24, kernel: 3, padding: 1, groups: 12}
  - {name: dil, op: conv, out: 9, kernel: 3, padding: 2, dilation: 2}
  - {name: r6, op: relu6}
  - {name: mp1, op: maxpool, kernel: 3, stride: 2, padding: 1}
  - {name: mp2, op: maxpool, kernel: 2}
  - {name: ap, op: avgpool, kernel: 3, stride: 1, padding: 1}
  - {name: mp3, op: maxpool, kernel: 3, stride: 1, padding: 1}
`},
	{"winograd4", plan.Options{ForceWinograd: true, WinogradM: 4}, `
input: [9, 16, 12]
layers:
  - {name: w1, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: w2, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w2, r1]}
  - {name: r2, op: relu6}
  - {name: w3, op: conv, out: 24, kernel: 3, padding: 1}
  - {name: w4, op: conv, out: 1, kernel: 3, padding: 1}
  - {name: w5, op: conv, out: 8, kernel: 3, padding: 2}
`},
	{"winograd_uneven", plan.Options{}, `
input: [16, 14, 7]
layers:
  - {name: w1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: w2, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w2, r1]}
  - {name: r2, op: relu}
  - {name: w3, op: conv, out: 24, kernel: 3, padding: 1}
  - {name: w4, op: conv, out: 9, kernel: 3}
`},
	{"winograd_uneven2", plan.Options{ForceWinograd: true, WinogradM: 2}, `
input: [8, 9, 5]
layers:
  - {name: w1, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: r1, op: relu6}
  - {name: w2, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w2, r1]}
`},
	{"winograd2", plan.Options{ForceWinograd: true, WinogradM: 2}, `
input: [3, 10, 6]
layers:
  - {name: w1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: w2, op: conv, out: 7, kernel: 3, padding: 1}
  - {name: w3, op: conv, out: 16, kernel: 3, padding: 2}
  - {name: w4, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w4, w3]}
`},
	// Every activation of the act table, fused into direct, depthwise and
	// lowered (1x1-input) convolutions and standalone, at channel counts
	// that do and do not fill a block (sigmoid and hardsigmoid, f(0) != 0,
	// are fused only into full blocks), with a residual, the channel-wise
	// mul of a squeeze-and-excitation block and the elementwise one of
	// x * hardsigmoid(x).
	{"activations", plan.Options{}, `
input: [5, 9, 7]
layers:
  - {name: c1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: a1, op: silu}
  - {name: c2, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: a2, op: leaky_relu, slope: 0.1}
  - {name: c3, op: conv, out: 13, kernel: 3, padding: 1, groups: 13}
  - {name: a3, op: hardswish}
  - {name: c4, op: conv, out: 13, kernel: 1}
  - {name: a4, op: sigmoid}
  - {name: c5, op: conv, out: 16, kernel: 1}
  - {name: a5, op: hardsigmoid}
  - {name: c6, op: conv, out: 16, kernel: 3, padding: 1, inputs: [a1]}
  - {name: r6, op: add, inputs: [c6, a5]}
  - {name: a6, op: tanh}
  - {name: c7, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: a7, op: leaky_relu, slope: 2.5}
  - {name: dr, op: dropout, p: 0.2}
  - {name: gp, op: global_avgpool}
  - {name: se1, op: conv, out: 4, kernel: 1}
  - {name: se2, op: relu}
  - {name: se3, op: conv, out: 16, kernel: 1}
  - {name: se4, op: sigmoid}
  - {name: m, op: mul, inputs: [dr, se4]}
  - {name: s1, op: silu, inputs: [m]}
  - {name: t1, op: tanh}
  - {name: h1, op: hardsigmoid}
  - {name: hx, op: mul, inputs: [h1, t1]}
  - {name: l1, op: leaky_relu, slope: 0.3}
  - {name: w1, op: hardswish}
  - {name: fc, op: linear, out: 6}
  - {name: fs, op: sigmoid}
  - {name: fd, op: dropout}
`},
	// The elementwise kernels (plan's Activation, Add, Mul and Affine
	// steps) at 13 channels, which fill no block of any target: a
	// standalone sigmoid and an add with a hardsigmoid (f(0) != 0: the
	// lane mask), a sum of four, ReLU and ReLU6 standalone, the
	// elementwise and the channel-broadcast mul with an activation
	// (SiLU; exact GELU, exp's 24 constants on NEON), a BatchNorm kept
	// as an affine step with hardswish, tanh and leaky ReLU after a
	// LayerNorm, tanh GELU; rows of 9 pixels, two iterations of four
	// and one left.
	{"elementwise", plan.Options{}, `
input: [13, 7, 9]
layers:
  - {name: c1, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: l1, op: layernorm}
  - {name: s1, op: sigmoid}
  - {name: c2, op: conv, out: 13, kernel: 1, inputs: [l1]}
  - {name: c3, op: conv, out: 13, kernel: 1, inputs: [l1]}
  - {name: a3, op: add, inputs: [s1, c2, c3, l1]}
  - {name: h, op: hardsigmoid}
  - {name: r, op: relu, inputs: [l1]}
  - {name: r6, op: relu6, inputs: [l1]}
  - {name: m, op: mul, inputs: [r, r6]}
  - {name: ms, op: silu}
  - {name: gp, op: global_avgpool, inputs: [h]}
  - {name: se, op: conv, out: 13, kernel: 1}
  - {name: sg, op: sigmoid}
  - {name: m2, op: mul, inputs: [ms, sg]}
  - {name: m2g, op: gelu}
  - {name: b, op: bn}
  - {name: bh, op: hardswish}
  - {name: t, op: tanh, inputs: [l1]}
  - {name: lr, op: leaky_relu, slope: 0.2}
  - {name: g2, op: gelu, approximate: tanh, inputs: [c1]}
  - {name: a2, op: add, inputs: [g2, t]}
  - {name: a2r, op: relu}
  - {name: out, op: concat, inputs: [bh, lr, a2r, h]}
`},
	// Winograd steps of several output channel tiles and four tile rows,
	// whose grid of (tile row, tile) units the harness's three parts cut
	// inside rows and inside tiles (see templates/grid.go).
	{"winograd_grid4", plan.Options{ForceWinograd: true, WinogradM: 4}, `
input: [11, 16, 9]
layers:
  - {name: w1, op: conv, out: 70, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: w2, op: conv, out: 70, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [w2, r1]}
`},
	{"winograd_grid2", plan.Options{ForceWinograd: true, WinogradM: 2}, `
input: [11, 8, 9]
layers:
  - {name: w1, op: conv, out: 70, kernel: 3, padding: 1}
  - {name: r1, op: relu6}
  - {name: w2, op: conv, out: 41, kernel: 3, padding: 1}
`},
	// Small images with many channels: direct convolutions (one with a
	// residual, one strided) and a linear layer whose weights outweigh
	// their input, split by tiles (plan.ConvStep.ByTiles), with channel
	// counts whose AVX2 tiles split the 16-channel weight groups.
	{"bytiles", plan.Options{}, `
input: [13, 3, 5]
layers:
  - {name: c1, op: conv, out: 70, kernel: 3, padding: 1}
  - {name: r1, op: relu6}
  - {name: c2, op: conv, out: 70, kernel: 1}
  - {name: a, op: add, inputs: [c2, r1]}
  - {name: c3, op: conv, out: 41, kernel: 3, stride: 2, padding: 1}
  - {name: fc, op: linear, out: 37}
`},
	// Direct convolutions in passes over their input channels
	// (plan.DirectSchedule), forced at 32 channels a pass: passes whose
	// last reads part of a channel block (40 and 36 channels), a middle
	// pass in a loop (70), a stride-2 window, a residual and an
	// activation the epilogue applies in a second sweep (silu) in the
	// last pass only, a 5x5 window looped a row of taps at a time, one
	// channel a body, and a linear layer (a convolution over its whole
	// input, split by tiles) in passes.
	{"passes", plan.Options{KBlock: 32}, `
input: [40, 6, 9]
layers:
  - {name: c1, op: conv, out: 36, kernel: 3, stride: 2, padding: 1}
  - {name: r1, op: relu6}
  - {name: c2, op: conv, out: 70, kernel: 1}
  - {name: c3, op: conv, out: 70, kernel: 1}
  - {name: a, op: add, inputs: [c3, c2]}
  - {name: s, op: silu}
  - {name: c4, op: conv, out: 40, kernel: 5, padding: 2}
  - {name: fc, op: linear, out: 37}
`},
	// Steps that are not convolutions: concatenations at channel counts
	// that do and do not fill a block, a BatchNorm after an add (kept as
	// an affine step), average and global pooling over windows too large
	// to run as convolutions, and a flatten no linear layer absorbs.
	{"merge", plan.Options{}, `
input: [5, 11, 10]
layers:
  - {name: c1, op: conv, out: 7, kernel: 3, padding: 1}
  - {name: c2, op: conv, out: 9, kernel: 1}
  - {name: cat, op: concat, inputs: [c1, c2]}
  - {name: a, op: add, inputs: [cat, cat]}
  - {name: b, op: bn}
  - {name: r, op: relu}
  - {name: ap, op: avgpool, kernel: 9, stride: 1, padding: 4}
  - {name: mp, op: maxpool, kernel: 5, stride: 5, inputs: [r]}
  - {name: f, op: flatten}
  - {name: fs, op: sigmoid}
  - {name: fc, op: linear, out: 5}
  - {name: gp, op: global_avgpool, inputs: [ap]}
  - {name: fc2, op: linear, out: 3}
  - {name: cat2, op: concat, inputs: [fc, fc2]}
`},
	// Kernels, strides, paddings and dilations of their own per axis
	// (Inception's 1x7 and 7x1, with paddings [0, 3] and [3, 0]), direct
	// and depthwise, and 3x3 convolutions padded per axis by Winograd
	// F(4x4) and F(2x2), with residuals.
	{"per_axis", plan.Options{ForceWinograd: true, WinogradM: 4}, `
input: [9, 13, 12]
layers:
  - {name: a, op: conv, out: 16, kernel: [1, 7], padding: [0, 3]}
  - {name: r1, op: relu}
  - {name: b, op: conv, out: 13, kernel: [7, 1], padding: [3, 0]}
  - {name: c, op: conv, out: 16, kernel: [1, 3], padding: [0, 1], inputs: [r1]}
  - {name: d, op: conv, out: 16, kernel: [3, 1], padding: [1, 0]}
  - {name: a2, op: add, inputs: [d, r1]}
  - {name: dw, op: conv, out: 16, kernel: [1, 5], padding: [0, 2], groups: 16}
  - {name: dw2, op: conv, out: 16, kernel: [5, 3], padding: [2, 0], stride: [1, 2], groups: 16, inputs: [a2]}
  - {name: s, op: conv, out: 9, kernel: [1, 3], padding: [0, 1], stride: [2, 1], inputs: [b]}
  - {name: dl, op: conv, out: 7, kernel: [3, 2], padding: [2, 1], dilation: [2, 1]}
  - {name: w1, op: conv, out: 16, kernel: 3, padding: [1, 0], inputs: [dw]}
  - {name: w2, op: conv, out: 16, kernel: 3, padding: [0, 1], inputs: [a2]}
  - {name: w3, op: conv, out: 16, kernel: 3, padding: [2, 0], inputs: [w2]}
  - {name: a3, op: add, inputs: [w3, w1]}
`},
	{"per_axis2", plan.Options{ForceWinograd: true, WinogradM: 2}, `
input: [8, 9, 7]
layers:
  - {name: w1, op: conv, out: 8, kernel: 3, padding: [1, 0]}
  - {name: r, op: relu6}
  - {name: w2, op: conv, out: 8, kernel: 3, padding: [0, 1]}
  - {name: w3, op: conv, out: 8, kernel: 3, padding: [2, 1], inputs: [r]}
`},
	// Pooling by PyTorch's rules: ceil_mode windows that reach past the
	// input (read from a halo as wide by the assembly when a ReLU makes
	// its zeros lose every max, else by the Go kernel), windows per axis
	// with dilation, average pooling with count_include_pad false or a
	// ceil_mode overhang (the Go kernel's divisors) and without (a
	// depthwise convolution); every value reaches the output.
	{"pools", plan.Options{}, `
input: [13, 11, 10]
layers:
  - {name: c1, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: m1, op: maxpool, kernel: 3, stride: 2, ceil_mode: true}
  - {name: m2, op: maxpool, kernel: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [2, 1], ceil_mode: true, inputs: [r1]}
  - {name: m3, op: maxpool, kernel: 3, stride: 2, ceil_mode: true, inputs: [c1]}
  - {name: m4, op: maxpool, kernel: [2, 3], stride: [2, 1], dilation: [1, 2], inputs: [c1]}
  - {name: a1, op: avgpool, kernel: 3, stride: 2, ceil_mode: true, inputs: [c1]}
  - {name: a2, op: avgpool, kernel: 3, stride: 2, padding: 1, count_include_pad: false, inputs: [c1]}
  - {name: a3, op: avgpool, kernel: [2, 3], stride: [2, 1], padding: [0, 1], inputs: [c1]}
  - {name: a4, op: avgpool, kernel: [3, 2], stride: 2, ceil_mode: true, count_include_pad: false, inputs: [c1]}
  - {name: a5, op: avgpool, kernel: 2, padding: 1, ceil_mode: true, inputs: [c1]}
  - {name: f1, op: flatten, inputs: [m1]}
  - {name: f2, op: flatten, inputs: [m2]}
  - {name: f3, op: flatten, inputs: [m3]}
  - {name: f4, op: flatten, inputs: [m4]}
  - {name: f5, op: flatten, inputs: [a1]}
  - {name: f6, op: flatten, inputs: [a2]}
  - {name: f7, op: flatten, inputs: [a3]}
  - {name: f8, op: flatten, inputs: [a4]}
  - {name: f9, op: flatten, inputs: [a5]}
  - {name: all, op: concat, inputs: [f1, f2, f3, f4, f5, f6, f7, f8, f9]}
`},
	// Adaptive average pooling: to sizes that do not divide the input
	// (windows of different sizes, overlapping: the Go kernel), that do
	// (average pooling as a depthwise convolution), to 1x1 (global) and
	// beyond the input (AlexNet's 6x6 on a small image: values repeated).
	{"adaptive", plan.Options{}, `
input: [13, 12, 10]
layers:
  - {name: c1, op: conv, out: 13, kernel: 3, padding: 1}
  - {name: p1, op: adaptive_avgpool, size: [4, 3]}
  - {name: p2, op: adaptive_avgpool, size: [6, 5], inputs: [c1]}
  - {name: p3, op: adaptive_avgpool, size: 1, inputs: [c1]}
  - {name: p4, op: adaptive_avgpool, size: [3, 10], inputs: [c1]}
  - {name: mp, op: maxpool, kernel: 4, inputs: [c1]}
  - {name: p5, op: adaptive_avgpool, size: [6, 6]}
  - {name: f1, op: flatten, inputs: [p1]}
  - {name: f2, op: flatten, inputs: [p2]}
  - {name: f3, op: flatten, inputs: [p3]}
  - {name: f4, op: flatten, inputs: [p4]}
  - {name: f5, op: flatten, inputs: [p5]}
  - {name: all, op: concat, inputs: [f1, f2, f3, f4, f5]}
`},
	// ShuffleNet's blocks: channel splits and shuffles, composed (a split
	// of a shuffle is one gather), folded into the convolution that alone
	// reads a permutation, and copied where they stay (split halves, a
	// shuffle read by a max pooling that keeps its halo-free window since
	// a gather of a ReLU's output is not negative), at channel counts that
	// do and do not fill a block.
	{"gathers", plan.Options{}, `
input: [8, 9, 7]
layers:
  - {name: c0, op: conv, out: 24, kernel: 1}
  - {name: r0, op: relu}
  - {name: sp, op: split, sizes: [12, 12]}
  - {name: b1, op: conv, out: 12, kernel: 1, inputs: [sp:1]}
  - {name: b1r, op: relu}
  - {name: b2, op: conv, out: 12, kernel: 3, padding: 1, groups: 12}
  - {name: b3, op: conv, out: 12, kernel: 1}
  - {name: cat, op: concat, inputs: [sp:0, b3]}
  - {name: sh, op: channel_shuffle, groups: 2}
  - {name: sp2, op: split, sizes: [12, 12]}
  - {name: d1, op: conv, out: 12, kernel: 1, inputs: [sp2:1]}
  - {name: cat2, op: concat, inputs: [sp2:0, d1]}
  - {name: sh2, op: channel_shuffle, groups: 3}
  - {name: e, op: conv, out: 14, kernel: 3, padding: 1}
  - {name: er, op: relu}
  - {name: sh3, op: channel_shuffle, groups: 7}
  - {name: mp, op: maxpool, kernel: 3, stride: 1, padding: 1}
  - {name: sp3, op: split, sizes: [5, 9]}
  - {name: out, op: concat, inputs: [sp3:1, sp3:0]}
`},
	// GELU in both forms in the second pass of direct and depthwise
	// convolutions' epilogues (its vector code, tables of constants in
	// read-only data), at a channel count that does not fill a block, and
	// standalone (the Go helper); layer scales, one folded into the
	// convolution before it, one that cannot be (an affine step).
	{"gelu", plan.Options{}, `
input: [5, 9, 7]
layers:
  - {name: c1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: g1, op: gelu}
  - {name: c2, op: conv, out: 16, kernel: 3, padding: 1, groups: 16}
  - {name: g2, op: gelu, approximate: tanh}
  - {name: c3, op: conv, out: 13, kernel: 1}
  - {name: g3, op: gelu}
  - {name: g4, op: gelu, approximate: tanh}
  - {name: c4, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: s1, op: scale}
  - {name: a4, op: add, inputs: [s1, c4]}
  - {name: c5, op: conv, out: 8, kernel: 1}
  - {name: s2, op: scale}
`},
	// ConvNeXt's block: a depthwise 7x7 convolution, LayerNorm over
	// channels (at channel counts that do and do not fill a block, on
	// rows of 17 pixels: the LayerNorm kernels' passes of 14 (AVX-512,
	// NEON) or 6 (AVX2) pixels and a remainder), pointwise layers with
	// GELU, the layer scale folded, the residual.
	{"convnext", plan.Options{}, `
input: [12, 9, 17]
layers:
  - {name: dw, op: conv, out: 12, kernel: 7, padding: 3, groups: 12}
  - {name: ln, op: layernorm, eps: 1e-6}
  - {name: pw1, op: conv, out: 48, kernel: 1}
  - {name: act, op: gelu}
  - {name: pw2, op: conv, out: 12, kernel: 1}
  - {name: gamma, op: scale}
  - {name: res, op: add, inputs: [gamma, dw]}
  - {name: ln2, op: layernorm}
  - {name: head, op: conv, out: 17, kernel: 1}
  - {name: ln3, op: layernorm}
`},
	// UniRepLKNet's block: ConvNeXt's with GRN after the GELU, whose beta
	// folds into pw2's bias; GRN again where beta cannot fold (before a
	// padded convolution, and at the output), on rows of 17 pixels (the
	// GRN kernels' runs of 4 and a remainder) and channel counts that do
	// and do not fill a block.
	{"unirep", plan.Options{}, `
input: [12, 9, 17]
layers:
  - {name: dw, op: conv, out: 12, kernel: 7, padding: 3, groups: 12}
  - {name: ln, op: layernorm, eps: 1e-6}
  - {name: pw1, op: conv, out: 40, kernel: 1}
  - {name: act, op: gelu}
  - {name: grn, op: grn}
  - {name: pw2, op: conv, out: 12, kernel: 1}
  - {name: gamma, op: scale}
  - {name: res, op: add, inputs: [gamma, dw]}
  - {name: grn2, op: grn}
  - {name: c3, op: conv, out: 20, kernel: 3, padding: 1}
  - {name: grn3, op: grn}
`},
	// A wide image of several output channel blocks: offsets from one
	// block's plane (and Winograd's M) to the next beyond the 64 KB a NEON
	// load's immediate reaches, which its kernels add in a register.
	{"wide", plan.Options{ForceWinograd: true, WinogradM: 4}, `
input: [8, 6, 240]
layers:
  - {name: w1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: c1, op: conv, out: 16, kernel: 1}
  - {name: a1, op: add, inputs: [c1, r1]}
  - {name: s1, op: silu}
  - {name: mp, op: maxpool, kernel: 2}
`},
	// Pixel tiles of several output rows (plan.DirectSchedule.Rows), which
	// the planner gives layers whose weights outgrow L2 on narrow maps,
	// forced: 3x3 layers at 7x7 (bands of two rows and the row left, in
	// passes over the input channels, a residual, an activation the
	// epilogue applies in a second sweep) and stride-2 ones at 4x4 and
	// 2x2 (the only maps narrow enough for AVX2's tiles) of channel
	// counts that do not fill a block; the harness's parts leave bands
	// and rows of their own.
	{"bands", plan.Options{Bands: true}, `
input: [24, 7, 7]
layers:
  - {name: c1, op: conv, out: 192, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: c2, op: conv, out: 192, kernel: 3, padding: 1}
  - {name: a2, op: add, inputs: [c2, r1]}
  - {name: s2, op: silu}
  - {name: c3, op: conv, out: 70, kernel: 3, stride: 2, padding: 1}
  - {name: r3, op: relu6}
  - {name: c4, op: conv, out: 40, kernel: 3, stride: 2, padding: 1}
`},
	{"tiny", plan.Options{}, `
input: [1, 1, 1]
layers:
  - {name: c, op: conv, out: 3, kernel: 1}
  - {name: r, op: relu6}
  - {name: fc, op: linear, out: 2}
`},
}

// harnessTest runs every level the CPU supports (each assembly target
// and the portable Go kernels) on a workspace with guard bands on both
// sides, and checks the guards, every buffer's halo and padded lanes,
// and the outputs against each other and the reference runtime's; the
// levels that share the portable program's layout must also agree with
// the Go kernels buffer by buffer. Its source is templates/harness.go;
// it runs on amd64 here and on arm64 under qemu-aarch64.
var harnessTest = "//go:build (amd64 || arm64) && !purego\n\npackage PKG\n" + templates.TestSource("harness")

func TestKernelVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package per kernel network")
	}
	mod := t.TempDir()
	newModule(t, mod, "kernels")
	byTiles := map[string][]string{} // target: steps split by tiles
	grids := map[string]int{}        // target: Winograd steps of 2+ tiles and 4+ tile rows
	passes := map[string]int{}       // target: direct steps of 3+ passes over their input channels
	rowLoops := map[string]int{}     // target: direct steps that loop over their window's rows
	bands := map[string]int{}        // target: direct steps whose pixel tiles span several rows

	// A comma-separated subset of the networks, while working on some
	// kernels (the checks across all of them are then skipped).
	only := os.Getenv("ACGEN_KERNEL_NETS")
	for i, kn := range kernelNets {
		if only != "" && !slices.Contains(strings.Split(only, ","), kn.name) {
			continue
		}
		dir := filepath.Join(mod, kn.name)
		specPath := filepath.Join(mod, kn.name+".yaml")
		writeFile(t, specPath, []byte(strings.TrimSpace(kn.spec)+"\n"))
		net, err := spec.Load(specPath)
		if err != nil {
			t.Fatal(err)
		}
		tensors, err := synth.Checkpoint(net, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		weights := filepath.Join(mod, kn.name+".safetensors")
		if err := synth.WriteFile(weights, tensors); err != nil {
			t.Fatal(err)
		}
		res, err := driver.Run(&driver.Config{
			Spec: specPath, Weights: weights, Out: dir, Package: kn.name,
			Plan: kn.plan, Asm: assembler(), GoldenSamples: 3, DebugChecks: true,
			KeepWeights: true, // ref.Run below runs res.Unfused
		})
		if err != nil {
			t.Fatalf("%s: %v", kn.name, err)
		}
		checkCPUCheck(t, kn.name, filepath.Join(dir, "cpu_amd64.go"))
		var progs []string
		for _, p := range res.Plan.Programs {
			var lays []string
			for _, b := range p.Buffers {
				l := b.Layout
				lays = append(lays, fmt.Sprintf("{%d, %d, %d, %d, %d, %d}", b.Offset, l.C, l.H, l.W, l.Halo, l.Block))
			}
			names := []string{p.Target.Name}
			if p == res.Plan.Portable() && p.Target.Name != "go" {
				names = append(names, "go")
			}
			for _, n := range names {
				progs = append(progs, fmt.Sprintf("%q: {%s}", n, strings.Join(lays, ", ")))
			}
		}
		// The reference runtime on the harness's non-finite sample.
		in := make([]float64, len(res.Golden[0].Input))
		for j, v := range res.Golden[0].Input {
			in[j] = float64(v)
		}
		in[len(in)/3], in[2*len(in)/3], in[len(in)-1] = math.NaN(), math.Inf(1), math.Inf(-1)
		refOut, err := ref.Run(res.Unfused, in)
		if err != nil {
			t.Fatal(err)
		}
		// (For a one-pixel input the three land on one value, and a
		// ReLU6 can clamp an infinity away: then there is nothing to hide.)
		var bad []string
		for _, v := range refOut {
			bad = append(bad, fmt.Sprint(v-v != 0))
		}
		h := strings.Replace(harnessTest, "PKG", kn.name, 1) +
			"\nvar harnessBuffers = map[string][]layout{" + strings.Join(progs, ", ") + "}\n" +
			"\nvar refNonFinite = []bool{" + strings.Join(bad, ", ") + "}\n"
		writeFile(t, filepath.Join(dir, "harness_test.go"), []byte(h))
		var algos []string
		for _, p := range res.Plan.Programs {
			for _, s := range p.Steps {
				if s.Conv != nil {
					a := fmt.Sprintf("%s %s:%s/%d", p.Target.Name, s.Name, s.Conv.Algo, s.Conv.WinogradM)
					if r := s.Conv.Direct.Rows; r > 1 && s.Conv.Algo == plan.Direct {
						a += fmt.Sprintf(" rows %d", r)
					}
					algos = append(algos, a)
					if s.Conv.ByTiles {
						byTiles[p.Target.Name] = append(byTiles[p.Target.Name], s.Name)
					}
					if c := s.Conv; c.Algo == plan.Winograd && len(c.Tiles) >= 2 && c.TilesY >= 4 {
						grids[p.Target.Name]++
					}
					if c := s.Conv; c.Algo == plan.Direct && c.Passes() >= 3 {
						passes[p.Target.Name]++
					}
					if c := s.Conv; c.Algo == plan.Direct && c.Direct.RowLoop {
						rowLoops[p.Target.Name]++
					}
					if c := s.Conv; c.Algo == plan.Direct && c.Direct.Rows > 1 {
						bands[p.Target.Name]++
					}
				}
			}
		}
		t.Logf("%s: %v", kn.name, algos)
	}
	for _, tg := range []string{"avx512", "avx2", "neon"} {
		if only != "" {
			break
		}
		// A residual and a linear layer among them, for every emitter
		// (the portable Go kernels run the AVX2 program).
		if got := strings.Join(byTiles[tg], " "); !strings.Contains(got, "+a") || !strings.Contains(got, "fc") {
			t.Errorf("%s: the steps split by tiles are %q, want a residual add and a linear layer among them", tg, got)
		}
		if grids[tg] == 0 {
			t.Errorf("%s: no Winograd step of several tiles and tile rows, whose grid three parts cut inside rows", tg)
		}
		if passes[tg] == 0 || rowLoops[tg] == 0 {
			t.Errorf("%s: %d direct steps of 3+ passes and %d looping over window rows, want some of each", tg, passes[tg], rowLoops[tg])
		}
		if bands[tg] == 0 {
			t.Errorf("%s: no direct step of pixel tiles spanning several rows", tg)
		}
	}
	goCmd(t, mod, "vet", "./...")
	goCmd(t, mod, "test", "-count=1", "./...")
	goCmd(t, mod, "test", "-count=1", "-tags", "purego", "./...")
	// The NEON level: vetted (go vet's asmdecl checks every kernel's
	// frame and arguments), then, under qemu, the harness and the tests
	// of the kernels' numbers (TestThreads and TestConcurrent, which
	// test the Go around them, the harness's parts cover for the
	// kernels, at a fraction of their time under qemu).
	goARM64(t, mod, "vet", "./...")
	if qemuARM64() == "" {
		t.Log("no qemu-aarch64 on PATH: the NEON kernels were built and vetted, not run")
		return
	}
	goARM64(t, mod, "test", "-count=1", "-run", "KernelsDifferential|Golden|EveryISA|RequireAssembly|NonFinite", "./...")
}

// cpuCheckLine is the doc comment of a generated CPU check, which lists
// the extensions avo found the level's kernels use.
var cpuCheckLine = regexp.MustCompile(`checks the extensions the (\w+) kernels use \(\[([^\]]*)\]`)

// checkCPUCheck fails unless package file cpu's check of every assembly
// level tests the extension its kernels cannot run without: a check that
// missed a kernel would let them fault on CPUs without it.
func checkCPUCheck(t *testing.T, net, cpu string) {
	t.Helper()
	src, err := os.ReadFile(cpu)
	if err != nil {
		t.Fatal(err)
	}
	need := map[string]string{"avx512": "AVX512F", "avx2": "FMA3"}
	found := 0
	for _, m := range cpuCheckLine.FindAllStringSubmatch(string(src), -1) {
		found++
		if x := need[m[1]]; !slices.Contains(strings.Fields(m[2]), x) {
			t.Errorf("%s: the %s check tests [%s], not %s", net, m[1], m[2], x)
		}
	}
	if found != len(need) {
		t.Errorf("%s: %d CPU checks in %s, want %d", net, found, cpu, len(need))
	}
}
