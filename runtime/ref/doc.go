// Package ref is acgen's reference runtime: a plain-Go interpreter that
// runs a graph exactly as it was trained.
//
// It runs each node's row of graph's op table (Row.Ref), so an op's
// float64 definition lives beside its other facts. Every ACBlock runs as its three convolutions and three BatchNorms, with
// the official block's crop rule; every op accumulates in float64. It is
// the oracle the rest of acgen is checked against: the fused graph, the
// generated Go, the assembly kernels. It favours being obviously right
// over being fast, though it spreads convolutions over the CPU's cores so
// that checking a large network stays practical.
package ref
