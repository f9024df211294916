package driver

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

func TestJournalRoundTrip(t *testing.T) {
	j := &journal{renames: []string{"a.go", "testdata/golden.bin", "odd \"name\"\nwith a newline.go"}, removes: []string{"c.go"}}
	data := j.encode()
	got, err := decodeJournal(data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.renames, "|") != strings.Join(j.renames, "|") || strings.Join(got.removes, "|") != strings.Join(j.removes, "|") {
		t.Errorf("decoded %+v, want %+v", got, j)
	}
	// Cut short anywhere, or with any byte changed, it is not taken for
	// a journal.
	for i := 0; i < len(data); i++ {
		if _, err := decodeJournal(data[:i]); err == nil {
			t.Fatalf("the journal cut to %d of %d bytes decodes", i, len(data))
		}
		bad := []byte(string(data))
		bad[i] ^= 0x20
		if _, err := decodeJournal(bad); err == nil {
			t.Fatalf("the journal with byte %d changed decodes", i)
		}
	}
}

func TestJournalRefusesBadSteps(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{journalHead + "\nrename \"../x.go\"\n", "bad file name"},
		{journalHead + "\nrename \".acgen.lock\"\n", "bad file name"},
		{journalHead + "\nrename a.go\n", "bad file name"},
		{journalHead + "\ncopy \"a.go\"\n", `unknown step "copy"`},
		{journalHead + "\nremove \"a.go\"\nrename \"b.go\"\n", `unknown step "rename"`},
		{"acgen write journal 9\n", "first line"},
	} {
		data := []byte(fmt.Sprintf("%ssha256 %x\n", c.body, sha256.Sum256([]byte(c.body))))
		if _, err := decodeJournal(data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.body, err, c.want)
		}
	}
}
