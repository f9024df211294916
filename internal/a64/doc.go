// Package a64 writes Go (Plan 9) assembly for arm64: the emitter of the
// NEON kernels, beside avo, which stays the amd64 one. avo has no arm64
// (mmcloughlin/avo#189 is open, no branch has it), and nothing else
// generates Go's arm64 assembly without clang or binutils at generation
// time, so acgen carries this small one.
//
// A File holds functions; File.Func starts one from a Go signature, and
// its methods emit the body: arguments loaded by name (Load, Store, laid
// out as go vet's asmdecl checks them), stack slots (Local), labels and
// counted loops (Label, NewLabel, Loop), comments, and one method per
// instruction, operands in the Go assembler's order (sources first,
// destination last). File.Asm prints the .s file (the generated-code
// Header, BuildTag, NOSPLIT functions) and File.Stubs the Go
// declarations, each with its doc comment and //go:noescape, for gen/ to
// place in a Go file (File.GoFile writes a whole one).
//
// Instructions come in two kinds. Where Go's arm64 assembler (1.26) has
// a mnemonic -- VLD1, VST1, VLD1R, VFMLA, VEOR, VDUP, VMOV, VZIP1, VEXT,
// VSHL, FMOVQ, FLDPQ, the scalar and integer instructions -- the text is
// emitted. Where it has none -- FMLA by element, vector FADD, FMUL,
// FDIV, FMAX, FMIN, FRINTN, FCVTZS, SCVTF, FCMGT, BIC, MOVI of 32-bit
// lanes... -- the instruction is encoded and emitted as WORD $0x...
// with its disassembly as the comment. Those encoders are tables, one
// per encoding class, a row per instruction (word.go); both the bits
// and the comment are computed from the operand fields. Every method
// records the GNU disassembly of what it emits, and the tests hold it to
// two independent readers: golang.org/x/arch's arm64asm decodes every
// WORD over a sweep of registers, lanes and immediates (and every
// single-bit mutation of each must be caught), and the native forms are
// assembled by Go's own assembler and disassembled from the built
// binary. An end-to-end test vets a package of such kernels and, under
// qemu-aarch64, compares them with Go loops bit for bit.
// bench/arm64/mca.sh estimates a kernel loop's throughput with llvm-mca.
//
// The registers kept from kernels are R18 (platform), R27 (the
// assembler's scratch), R28 (g), R29 (frame pointer) and R30 (link);
// all 32 vector registers are free, Go's ABI0 saving none.
//
// SVE (Graviton 3 and 4, Neoverse V1/V2/N2) would need more than rows.
// Go 1.26's assembler has no SVE, so each instruction would be a WORD of
// the SVE classes (predicated FMLA, LD1W/ST1W, WHILELT, PTRUE, on the Z
// and P register files), and arm64asm (x/arch v0.24) decodes none of
// them, so another disassembler (llvm-objdump) would have to check them;
// x/arch v0.33 carries a generator of SVE tables for Go's assembler
// (arm64/instgen), so a later Go may take the mnemonics natively. The
// kernels would be vector-length agnostic (loops stepping by CNTW, tails
// under WHILELT predicates) or specialised per length behind a run-time
// check; the target row's registers (32 Z, 16 P) and tiles change; and a
// frame cannot hold a Z register of a size known only at run time.
package a64
