// Package plan lowers a fused graph into a program for the generated
// package: a list of steps (kernel calls) over buffers in one workspace,
// and one blob of packed weights.
//
// The planner chooses everything the emitters then spell out:
//
//   - the activation layout: channels in blocks of 8 ([C/8][H][W][8],
//     one AVX2 register per pixel and block), each buffer with a zero
//     border (halo) as wide as its readers' padding, so that no kernel
//     tests bounds;
//   - which ops fuse: a convolution absorbs the bias, a residual add and
//     a ReLU/ReLU6 that follow it, so each activation is written once;
//   - the algorithm and register tile of each convolution;
//   - the packed weight layout each kernel reads in order;
//   - buffer reuse: values that are dead share memory with later values
//     of the same layout.
//
// Two invariants hold for every buffer: its halo is zero, and the lanes
// of channels beyond C in its last block are zero. Buffers start zeroed
// and every kernel writes only the interior, with zeros in padded lanes.
package plan
