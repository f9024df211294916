// Package neon generates the arm64 side of a generated package: one NEON
// (ASIMD) kernel per convolution, windowed max pooling and LayerNorm
// step of each arm64 program, specialised to the step as package asm's
// amd64 kernels are (shapes, strides, offsets and channel counts
// immediates; kernel taps and register tiles unrolled; loops in assembly
// over the rest), written with internal/a64, acgen's own Plan 9 arm64
// emitter (avo has no arm64). The kernels keep the amd64 kernels'
// contracts: the same signatures (package gen's), the same plan (tiles,
// pixel tiles, blocks of Winograd tile rows, scratch sizes, units lo to
// hi), the same epilogues (bias, residual, clamps in registers; the
// other activations, the sigmoid family's exp among them, in a second
// pass over the stored outputs), and the same arithmetic, FMA for FMA,
// so that one plan drives both.
//
// Where NEON differs, the kernels follow it:
//
//   - The direct convolution loads each pixel's input vector (one block
//     of 4 channels) and multiplies its lanes into the accumulators with
//     FMLA by element, where x86 broadcasts every input value: one load
//     serves four channels, and a register tile takes V*P accumulators,
//     V weight vectors and P input vectors of the 32 (target.NEON's
//     tiles, up to 20 accumulators: enough to keep the four FMA pipes of
//     a Neoverse V1 busy at a latency of 4).
//   - Loads and stores take immediate offsets up to 64 KB (scaled by
//     16); kernels keep pointers a kernel row, a tile or a channel block
//     apart so that the inner loops stay within them, and the assembler
//     splits the rare larger offset of an epilogue.
//   - Winograd's V and M are ordered tile by tile (see winogradKernel).
//   - LayerNorm sums a pixel's lanes with two pairwise adds (FADDP),
//     where x86 extracts halves and shuffles, and normalises 14 pixels a
//     pass (two registers each of the 32; AVX2 has room for 6).
//   - Every arm64 CPU Go runs on has ASIMD, so a package runs its NEON
//     level unconditionally (ISA() == "neon"); ACGEN_ISA=go and SetISA
//     still select the portable kernels.
//
// SVE (Neoverse V1/V2/N2, Graviton 3 and 4) would be another target row
// and emitter: see docs/arm64.md.
package neon
