// Package target describes the backends a generated package can hold:
// for each, the vector width its kernels compute with, the registers
// they may use, the register tiles of the direct convolution, and the
// constants of the cost model the planner chooses algorithms with.
//
// A target is one row of the table in targets.go. The planner (package
// plan) reads nothing about the machine but a Target; the assembly
// generator (package asm) builds each target's kernels from the same
// parameterised builders; the Go generator (package gen) writes one
// program per target and the run-time dispatch that picks the best one
// the CPU supports, best first (AVX-512, then AVX2, then portable Go).
//
// Each program lays its activations out in channel blocks of its
// target's vector width (see package plan), but every target reads the
// same packed weights (output channels in groups of WeightGroup), so one
// weights.bin serves all of them.
package target
