//go:build windows

package driver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// lockDir takes an exclusive lock on dir/.acgen.lock (LockFileEx), so that
// two acgen runs into one -out take turns instead of mixing their files;
// a second run fails at once with a message. The lock goes with the
// process, so a killed run holds it no longer.
//
// The file is removed after the lock is let go. Windows does not remove
// a file another process holds open, so a run that has just opened it
// keeps it; a run that locked a file removed meanwhile tries again.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, lockName)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		ol := new(windows.Overlapped)
		err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
		if err != nil {
			f.Close()
			if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
				return nil, fmt.Errorf("%s: another acgen run is writing it (it holds %s); run again when it has finished", dir, path)
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return func() {
				windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
				f.Close()
				os.Remove(path)
			}, nil
		}
		f.Close()
	}
}
