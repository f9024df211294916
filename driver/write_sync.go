package driver

import (
	"errors"
	"os"
	"runtime"
	"syscall"
)

// writeFileSync writes a new file and fsyncs it: its bytes are on disk
// before anything (a journal) points at it.
func writeFileSync(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory, so that the names made or removed in it
// are on disk. Windows has no such call (its file systems journal names
// themselves), and some file systems refuse it (EINVAL): there it is a
// no-op.
func syncDir(p string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// copyFile copies a file, keeping its mode and times, where hard links
// are not possible.
func copyFile(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
		return err
	}
	return os.Chtimes(dst, st.ModTime(), st.ModTime())
}
