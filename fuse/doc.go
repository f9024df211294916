// Package fuse rewrites a training-form graph into inference form.
//
// Each ACBlock becomes one convolution: every branch's BatchNorm folds
// into its convolution (W*t, beta - mean*t with t = gamma/sqrt(var+eps)),
// the 1xK kernel adds into the centre row of the KxK kernel and the Kx1
// kernel into its centre column, and the biases sum. A standalone
// BatchNorm folds into the convolution before it when nothing else reads
// that convolution. Arithmetic is float64 throughout; every parameter of
// the result is then rounded once to float32, the precision the generated
// code runs in, so that the fused graph is exactly what gets emitted.
package fuse
