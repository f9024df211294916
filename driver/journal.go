package driver

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A journal names one swap of WriteDir: the files staged under
// .acgen-stage-XXXX/new to move into dir, in order, and the stale
// generated files to remove from dir after them. It is written once
// every staged file is on disk, and its presence decides a crash's
// outcome: with a complete journal the swap is finished (rolled
// forward), without one the staging directory is removed (rolled back).
type journal struct {
	renames []string
	removes []string
}

const (
	journalName = "journal"
	// journalHead is the journal's first line: its format, versioned so
	// that a later acgen can tell an older journal from a damaged one.
	journalHead = "acgen write journal 1"
)

// encode lays the journal out one step a line, names quoted (a name
// cannot break a line), and a last line holding the SHA-256 of the lines
// before it: a journal cut short or damaged does not pass for a whole one.
func (j *journal) encode() []byte {
	var b bytes.Buffer
	b.WriteString(journalHead + "\n")
	for _, name := range j.renames {
		fmt.Fprintf(&b, "rename %s\n", strconv.Quote(name))
	}
	for _, name := range j.removes {
		fmt.Fprintf(&b, "remove %s\n", strconv.Quote(name))
	}
	fmt.Fprintf(&b, "sha256 %x\n", sha256.Sum256(b.Bytes()))
	return b.Bytes()
}

func decodeJournal(data []byte) (*journal, error) {
	body, last, ok := cutLastLine(data)
	if !ok {
		return nil, errors.New("cut short or damaged (no checksum line)")
	}
	if want := fmt.Sprintf("sha256 %x", sha256.Sum256(body)); last != want {
		return nil, errors.New("cut short or damaged (its checksum does not match)")
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if lines[0] != journalHead {
		return nil, fmt.Errorf("first line %q, want %q", lines[0], journalHead)
	}
	j := &journal{}
	for i, line := range lines[1:] {
		op, quoted, _ := strings.Cut(line, " ")
		name, err := strconv.Unquote(quoted)
		if err != nil || !validName(name) {
			return nil, fmt.Errorf("line %d: bad file name %s", i+2, quoted)
		}
		switch {
		case op == "rename" && len(j.removes) == 0:
			j.renames = append(j.renames, name)
		case op == "remove":
			j.removes = append(j.removes, name)
		default:
			return nil, fmt.Errorf("line %d: unknown step %q", i+2, op)
		}
	}
	return j, nil
}

// cutLastLine splits data, which must end in a newline, before its last
// line.
func cutLastLine(data []byte) (body []byte, last string, ok bool) {
	if !bytes.HasSuffix(data, []byte("\n")) {
		return nil, "", false
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	if i < 0 {
		return nil, "", false
	}
	return data[:i+1], string(data[i+1 : len(data)-1]), true
}

// commit writes the journal into stage in one step: to journal.tmp,
// fsynced, renamed to journal, the directory fsynced. A crash before the
// rename leaves no journal (at most a journal.tmp, which recovery ignores);
// after the fsync the journal is whole on disk.
func (j *journal) commit(stage string) error {
	tmp := filepath.Join(stage, journalName+".tmp")
	if err := writeFileSync(tmp, j.encode()); err != nil {
		return err
	}
	writeStep()
	if err := os.Rename(tmp, filepath.Join(stage, journalName)); err != nil {
		return err
	}
	return syncDir(stage)
}

// readJournal reads stage's journal: an error wrapping fs.ErrNotExist if
// there is none (the run died before committing), another error if it is
// there but damaged.
func readJournal(stage string) (*journal, error) {
	p := filepath.Join(stage, journalName)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	j, err := decodeJournal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return j, nil
}
