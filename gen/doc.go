// Package gen writes the Go side of a generated package: its API
// constants and doc comment, the forward pass that calls each planned
// step, the per-layer Go kernels (shapes, strides and offsets as
// constants, kernel taps unrolled), the embedded weight blob, and a test
// holding golden vectors from the reference runtime. Go source is built
// with jennifer, which gofmts it; every file starts with Header and the
// output depends only on the input, so regenerating gives the same bytes.
//
// Each assembly target's kernels come from the Emitter its row names
// (package asm for amd64, package neon for arm64), called with the
// kernel signatures of signature.go; gen writes, for every architecture
// alike, the files under its build tag, the levels the run-time dispatch
// tries and the no-assembly fallback (assembly.go).
package gen
