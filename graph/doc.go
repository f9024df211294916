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
// Layouts follow PyTorch: activations are C,H,W per sample, convolution
// weights [out][in/groups][kh][kw], linear weights [out][in].
package graph
