package checkpoint

import (
	"fmt"
	"io"
	"math"
	"os"
)

// readFile reads the whole file, for systems (or files) that cannot be
// mapped. It reads exactly the size Stat reported: a file that grows
// meanwhile is read as it was.
func readFile(f *os.File, size int64) ([]byte, func(), error) {
	if size > math.MaxInt {
		return nil, nil, fmt.Errorf("file of %d bytes is too large for this system", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, err
	}
	return b, func() {}, nil
}
