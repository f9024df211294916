// Package tests holds acgen's end-to-end tests: PyTorch-made fixtures go
// through the whole pipeline into generated packages, which are then
// built and tested with the go command, with the race detector, and with
// the portable kernels only. They need the go command on PATH (they are
// Go tests, so it is) and nothing else.
package tests
