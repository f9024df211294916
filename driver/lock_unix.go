//go:build unix

package driver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive lock on dir/.acgen.lock (flock), so that two
// acgen runs into one -out take turns instead of mixing their files; a
// second run fails at once with a message. The lock goes with the
// process, so a killed run holds it no longer.
//
// The lock file is removed when the lock is let go, so that a run leaves
// nothing in dir; a run that locked a file just removed (the path now
// names another) tries again.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, lockName)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("%s: another acgen run is writing it (it holds %s); run again when it has finished", dir, path)
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return func() {
				os.Remove(path)
				f.Close()
			}, nil
		}
		f.Close()
	}
}
