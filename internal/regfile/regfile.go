// Package regfile opens input files that must be regular files: a named
// pipe, a device or a directory given as -spec or -weights gets an error
// naming what it is, instead of a read that blocks forever or fails
// obscurely.
package regfile

import (
	"fmt"
	"io/fs"
	"os"
)

// Open opens path for reading if it is a regular file (symbolic links
// are followed, as for any input). It looks before it opens, since
// opening a named pipe blocks until a writer appears, and checks again
// after, in case the path changed in between.
func Open(path string) (*os.File, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := regular(path, st); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st2, err := f.Stat()
	if err == nil {
		err = regular(path, st2)
	}
	if err == nil && !os.SameFile(st, st2) {
		err = fmt.Errorf("%s: changed while being opened", path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st2, nil
}

func regular(path string, st fs.FileInfo) error {
	m := st.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return fmt.Errorf("%s: is a directory, not a file", path)
	case m&fs.ModeNamedPipe != 0:
		return fmt.Errorf("%s: is a named pipe (FIFO), not a regular file: acgen reads its inputs whole, from files", path)
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return fmt.Errorf("%s: is a device, not a regular file", path)
	case m&fs.ModeSocket != 0:
		return fmt.Errorf("%s: is a socket, not a regular file", path)
	}
	return fmt.Errorf("%s: not a regular file", path)
}
