package target

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// The targets, best first: the order in which a generated package tries
// those of its GOARCH at run time. Adding a backend is a row here plus
// its kernels (an emitter that gen.Generate is given; the tests check
// that it has a kernel for every algorithm and kind of step the planner
// gives the row).
var (
	// AVX512 runs every kernel in ZMM registers: channel blocks of 16
	// floats, and 32 registers for larger tiles. The constants
	// are those of a core with two 512-bit FMA units (Intel Xeon since
	// Skylake-SP); AMD Zen 4 issues one 512-bit FMA a cycle (as two
	// 256-bit halves), so there the tiles are no slower than AVX2's but
	// the arithmetic is not twice as fast.
	AVX512 = &Target{
		Name: "avx512", Suffix: "AVX512", Title: "AVX-512",
		GOARCH: "amd64", Emitter: "avo", Algos: AllAlgos,
		Lanes: 16, Regs: 32,
		DirectShapes: []Shape{
			{4, 6}, {3, 8}, {2, 12}, {2, 8}, {2, 6}, {2, 4}, {1, 24}, {1, 16}, {1, 12}, {1, 8}, {1, 4},
		},
		// Maps of 7, 14 and 28 pixels a row: whole rows a tile, 28
		// accumulators.
		RowShapes: []Shape{{2, 14}, {1, 28}},
		Cost: Cost{
			FMAsPerCycle: 2, LoadsPerCycle: 2, FMALatency: 4, Efficiency: 0.85,
			CacheBytesPerCycle: 16, MemoryBytesPerCycle: 6,
			// The smallest caches of the cores with AVX-512 (Skylake-SP,
			// Zen 4; Ice Lake and later have 48 KB and 1.25-2 MB). A
			// direct convolution's weight panel that outgrows L1 reaches
			// the FMAs at about 28 bytes a cycle from L2 (a panel within
			// an eighth of it) and 16 beyond, beside the kernel's own
			// loads: on an Ice Lake Xeon, 1x1 layers at 56x56 and 14x14
			// whose rows of 5-6 pixel tiles ask 23-27 bytes a cycle of a
			// 64-96 KB panel ran at 85-93% of the FMA peak in one pass;
			// those of 128-512 KB panels at 7x7-14x14 (4+3 or 6+6+2
			// pixel tiles, 27-37 bytes a cycle) 1.25-1.4x faster in
			// passes of 64-128 channels than in one, and the 3x3/2 layer
			// of 512 channels 1.65x faster in passes of 16 than in one
			// of 1.2 MB.
			StoresPerCycle: 1, L1Bytes: 32 << 10, L2Bytes: 1 << 20, L2BytesPerCycle: 28,
			// The transforms are bound by loads and stores, not FMAs:
			// cycles measured on Zen 4 (per tile and channel block, the
			// phase kernels timed alone, ResNet-18's and ResNet-20's
			// layers; more where V and M outgrow L2).
			WinogradIn2: 200, WinogradOut2: 100, WinogradIn4: 350, WinogradOut4: 200,
			// A spinning barrier between two cores took 600 cycles
			// there; the rest is the parts' imbalance.
			SyncCycles: 1000,
		},
		Features: []string{"avx512f", "avx2", "fma"},
		Host:     func() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA },
	}
	// AVX2 is AVX2 + FMA in the 16 YMM registers (AMD Zen 3/4, Intel
	// since Haswell): two 8-wide FMAs and two loads a cycle.
	AVX2 = &Target{
		Name: "avx2", Suffix: "AVX2", Title: "AVX2/FMA",
		GOARCH: "amd64", Emitter: "avo", Algos: AllAlgos,
		Lanes: 8, Regs: 16,
		// Direct convolutions take only tiles of whole weight groups (an
		// even number of blocks), or a single tile, so that every tile of
		// a layer reads its weights with the same pattern; Winograd's
		// products take any (see plan.chooseTiles).
		DirectShapes: []Shape{{4, 2}, {3, 4}, {2, 6}, {2, 5}, {2, 4}, {1, 14}, {1, 12}, {1, 8}, {1, 6}, {1, 4}},
		Cost: Cost{
			FMAsPerCycle: 2, LoadsPerCycle: 2, FMALatency: 4, Efficiency: 0.85,
			CacheBytesPerCycle: 24, MemoryBytesPerCycle: 6,
			StoresPerCycle: 1, L1Bytes: 32 << 10, L2Bytes: 512 << 10, L2BytesPerCycle: 28,
			WinogradIn2: 130, WinogradOut2: 70, WinogradIn4: 200, WinogradOut4: 150,
			SyncCycles: 1000,
		},
		Features: []string{"avx2", "fma"},
		Host:     func() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA },
	}
	// NEON is arm64's Advanced SIMD (ASIMD), which every arm64 CPU Go
	// runs on has: 4-float vectors in 32 registers. The constants are
	// those of a core with two 128-bit FMA pipes, Arm Neoverse N1 (AWS
	// Graviton2, Ampere Altra): two FMAs and two loads a cycle, an FMA
	// latency of 4, so 8 accumulators keep the pipes busy. Wider cores
	// (Neoverse V1/V2, Apple M1 and later: four 128-bit pipes) run the
	// same kernels, whose tiles hold 16 or more accumulators for them.
	//
	// A direct tile keeps one input vector per pixel (4 input channels)
	// and multiplies each lane into the accumulators with FMLA by element,
	// so it takes V*P accumulators, V weight vectors and P inputs; tiles
	// of 4, 2 or 1 blocks never straddle a 16-channel weight group.
	NEON = &Target{
		Name: "neon", Suffix: "NEON", Title: "NEON (ASIMD)",
		GOARCH: "arm64", Emitter: "neon", Algos: AllAlgos,
		Lanes: 4, Regs: 32, PixelRegs: 1,
		DirectShapes: []Shape{{4, 5}, {4, 4}, {2, 10}, {2, 8}, {2, 6}, {2, 4}, {1, 15}, {1, 12}, {1, 8}, {1, 4}},
		Cost: Cost{
			FMAsPerCycle: 2, LoadsPerCycle: 2, FMALatency: 4, Efficiency: 0.85,
			// Graviton2's 1 MB L2 a core and 32 MB system cache; about 20
			// GB/s of memory a core at 2.5 GHz.
			CacheBytesPerCycle: 16, MemoryBytesPerCycle: 8,
			// Neoverse N1's 64 KB L1D and 1 MB L2 a core (Graviton2,
			// Altra); its L2 is taken to feed half a 64-byte line a
			// cycle, an assumption not yet measured on an arm64 machine.
			StoresPerCycle: 1, L1Bytes: 64 << 10, L2Bytes: 1 << 20, L2BytesPerCycle: 32,
			// Per tile and 4-channel block: llvm-mca's Neoverse N1
			// cycles for the transform kernels' tile loops (48, 28, 168
			// and 119; bench/arm64), a fifth more for the caches, which
			// the model takes to hit L1 always.
			WinogradIn2: 60, WinogradOut2: 35, WinogradIn4: 200, WinogradOut4: 140,
			SyncCycles: 1000,
		},
		Baseline: true,
		Host:     func() bool { return runtime.GOARCH == "arm64" },
	}
	// Go is the portable kernels: plain Go, every architecture. Its
	// program is the AVX2 one when the package holds AVX2 (the Go
	// kernels are then also the reference the assembly is tested
	// against); planned alone, it uses AVX2's tiles and costs.
	Go = &Target{
		Name: "go", Suffix: "Go", Title: "portable Go",
		Algos: AllAlgos,
		Lanes: 8, Regs: 16,
		DirectShapes: AVX2.DirectShapes,
		Cost:         AVX2.Cost,
		Shares:       AVX2,
	}
)

// All is every target, best first.
var All = []*Target{AVX512, AVX2, NEON, Go}

// Default is what acgen emits unless told otherwise: every target.
var Default = All
