// Package synth makes checkpoints with random weights for a spec, as a
// training run could have left them (BatchNorm statistics and affine
// parameters away from the identity, so that folding mistakes show), for
// tests and benchmarks of networks whose trained weights are not in the
// repository. It writes them as safetensors.
package synth
