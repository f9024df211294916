//go:build unix

package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMappedFileShrinks: a file truncated while it is mapped makes reads
// of the lost pages fault; Load must report that, not crash.
func TestMappedFileShrinks(t *testing.T) {
	data := mustReadFile(t, "testdata/variety.pth")
	path := filepath.Join(t.TempDir(), "model.pth")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	mapped, release, err := mapFile(fh, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err = readMapped(path, mapped, Options{})
	checkErr(t, err, path, "the file changed while it was being read")
}
