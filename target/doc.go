// Package target describes the backends a generated package can hold:
// for each, the architecture and build tag of its kernels, the emitter
// that writes them and the convolution algorithms they implement, the
// vector width they compute with, the registers they may use, the
// register tiles of the direct convolution, a check that the machine
// running acgen can run them, and the constants of the cost model the
// planner chooses algorithms with.
//
// A target is one row of the table in targets.go. The planner (package
// plan) reads nothing about the machine but a Target; the emitter a row
// names builds its kernels (package asm with avo for amd64, package
// neon with internal/a64 for arm64); the Go generator (package gen)
// writes one program per target, the files of each architecture under
// its build tag, the portable fallback, and the run-time dispatch that
// picks the best level the CPU supports, best first (on amd64 AVX-512,
// then AVX2; on arm64 NEON; then portable Go everywhere).
//
// Each program lays its activations out in channel blocks of its
// target's vector width (see package plan), but every target reads the
// same packed weights (output channels in groups of WeightGroup), so one
// weights.bin serves all of them.
package target
