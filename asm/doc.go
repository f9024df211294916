// Package asm generates the amd64 side of a generated package: one AVX2 +
// FMA kernel per convolution step, specialised to the step (every shape,
// stride, offset and channel count an immediate; the kernel taps and the
// register tile unrolled; loops in assembly over the rest), plus the
// CPUID/XGETBV check that decides at run time whether the kernels may run.
//
// It uses avo (github.com/mmcloughlin/avo) as a library: each program gets
// its own build.Context, physical registers are named directly (the
// unrolled bodies are far too large for avo's register allocator, which is
// quadratic in virtual registers), pass.Compile checks the result and
// records which ISA extensions each function uses, and the printers write
// the .s file and the Go declarations. The CPU check is derived from
// those recorded extensions.
//
// The directory is asm/ rather than avo/ so that the import of the avo
// library and of this package never share a name.
package asm
