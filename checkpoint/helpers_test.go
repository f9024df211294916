package checkpoint

import (
	"fmt"
	"runtime"
	"testing"
)

// memStorages is a storageSource over a map, for pickle-level tests.
type memStorages map[string][]byte

func (m memStorages) storage(key string, dt *dtype, numel int64) ([]byte, error) {
	b, ok := m[key]
	if !ok {
		return nil, fmt.Errorf("no storage %q", key)
	}
	if n, ok := mul64(numel, dt.size); !ok || int64(len(b)) != n {
		return nil, fmt.Errorf("storage %q holds %d bytes, not %d %s", key, len(b), numel, dt.name)
	}
	return b, nil
}

// allocated runs f and returns how many bytes it allocated.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// readSmall reads data and fails the test if that allocated more than
// 16 MiB: no hostile test input here justifies more.
func readSmall(t *testing.T, name string, data []byte, opt Options) (f *File, err error) {
	t.Helper()
	return readWithin(t, name, data, opt, 16<<20)
}

// readWithin reads data and fails the test if that allocated more than limit.
func readWithin(t *testing.T, name string, data []byte, opt Options, limit uint64) (f *File, err error) {
	t.Helper()
	n := allocated(func() { f, err = Read(name, data, opt) })
	if n > limit {
		t.Errorf("%s: reading %d bytes allocated %d MiB", name, len(data), n>>20)
	}
	return f, err
}

// expectErr reads data and wants a one-line error that names the file and
// contains want.
func expectErr(t *testing.T, name string, data []byte, want string) {
	t.Helper()
	_, err := readSmall(t, name, data, Options{})
	checkErr(t, err, name, want)
}
