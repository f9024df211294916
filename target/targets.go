package target

// The targets, best first: the order in which a generated package tries
// them at run time. Adding a backend is a row here plus its kernels.
var (
	// AVX512 runs every kernel in ZMM registers: channel blocks of 16
	// floats, and 32 registers for larger tiles. The constants
	// are those of a core with two 512-bit FMA units (Intel Xeon since
	// Skylake-SP); AMD Zen 4 issues one 512-bit FMA a cycle (as two
	// 256-bit halves), so there the tiles are no slower than AVX2's but
	// the arithmetic is not twice as fast.
	AVX512 = &Target{
		Name: "avx512", Suffix: "AVX512", Title: "AVX-512", Asm: true,
		Lanes: 16, Regs: 32,
		DirectShapes: []Shape{
			{4, 6}, {3, 8}, {2, 12}, {2, 8}, {2, 6}, {2, 4}, {1, 24}, {1, 16}, {1, 12}, {1, 8}, {1, 4},
		},
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
	}
	// AVX2 is AVX2 + FMA in the 16 YMM registers (AMD Zen 3/4, Intel
	// since Haswell): two 8-wide FMAs and two loads a cycle.
	AVX2 = &Target{
		Name: "avx2", Suffix: "AVX2", Title: "AVX2/FMA", Asm: true,
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
	}
	// Go is the portable kernels: plain Go, every architecture. Its
	// program is the AVX2 one when the package holds AVX2 (the Go
	// kernels are then also the reference the assembly is tested
	// against); planned alone, it uses AVX2's tiles and costs.
	Go = &Target{
		Name: "go", Suffix: "Go", Title: "portable Go",
		Lanes: 8, Regs: 16,
		DirectShapes: AVX2.DirectShapes,
		Cost:         AVX2.Cost,
	}
)

// All is every target, best first.
var All = []*Target{AVX512, AVX2, Go}

// Default is what acgen emits unless told otherwise: every target.
var Default = All
