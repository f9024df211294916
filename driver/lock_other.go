//go:build !unix && !windows

package driver

// lockDir does not lock where the system has no file locks (plan9,
// js/wasm, wasip1): there, runs into one -out must not overlap.
func lockDir(dir string) (unlock func(), err error) { return func() {}, nil }
