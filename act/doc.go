// Package act is the table of activations: one row each, with what every
// stage of the pipeline needs to know about it. spec parses the op names
// listed here, graph gives them their input's shape, the reference
// runtime and the fused graph run Ref in float64, plan fuses them into
// the step before them, gen writes the Go expression into the generated
// package, and asm emits each row's vector code (asm/act.go, keyed by the
// same row). Adding an activation is one row here plus its kernel there;
// TestTable checks every row against float64, and the kernel harness
// (tests/kernels_test.go) runs every row through every emitter.
package act
