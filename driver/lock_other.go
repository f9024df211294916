//go:build !unix

package driver

// lockDir does not lock where flock is missing.
func lockDir(dir string) (unlock func(), err error) { return func() {}, nil }
