// Package graph is acgen's intermediate representation: the network of a
// spec with every shape inferred and every weight bound, checked and
// converted to float64.
//
// A Graph comes out of Build (spec + checkpoint) in training form, where
// each ACBlock still holds its three convolutions and three BatchNorms;
// package fuse rewrites it into inference form, where only plain
// convolutions remain; package runtime/ref executes either; the planner
// and emitters consume the fused form.
//
// Each op is a row of the op table (ops.go; one file per op, op_*.go):
// how Build infers its shape and binds its weights, its float64
// definition (Ref, which runtime/ref runs), the one convolution a
// training-time block folds to (Fold, which fuse applies), its tensors
// (which parameter counts, the conditioning check, the finiteness check
// and rounding walk) and its work. How a spec writes an op is package
// spec's; how the planner lowers it is package plan's (lower.go), whose
// tests fail for an op without a lowering, as tests/ops_test.go does for
// an op that no kernel network or fixture runs on every instruction set.
//
// Layouts follow PyTorch: activations are C,H,W per sample, convolution
// weights [out][in/groups][kh][kw], linear weights [out][in].
package graph
