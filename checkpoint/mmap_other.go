//go:build !unix

package checkpoint

import "os"

func mapFile(f *os.File, size int64) ([]byte, func(), error) { return readFile(f, size) }

// dropPages does nothing where the file is read, not mapped.
func (f *File) dropPages() {}

// dropRange does nothing where the file is read, not mapped.
func (f *File) dropRange([]byte) {}
