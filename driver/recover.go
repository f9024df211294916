package driver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RecoverReport says what a recovery found in -out of writes that were
// killed midway (see WriteDir).
type RecoverReport struct {
	Finished   int // swaps finished from their complete journal (rolled forward)
	RolledBack int // staging directories removed, their journal never completed (nothing had reached -out)
}

// RecoverDir makes dir whole after an acgen run was killed while writing
// it: `acgen -recover -out DIR`. Every run into dir does the same first,
// so it is only needed to heal dir without generating. It takes dir's
// lock, so it fails while another run is writing.
func RecoverDir(dir string) (RecoverReport, error) {
	st, err := os.Stat(dir)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return RecoverReport{}, fmt.Errorf("%s: %w", dir, pe.Err)
	} else if err != nil {
		return RecoverReport{}, err
	}
	if !st.IsDir() {
		return RecoverReport{}, fmt.Errorf("%s: exists and is not a directory", dir)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return RecoverReport{}, err
	}
	defer unlock()
	return recoverDir(dir)
}

// recoverDir handles each staging directory in dir; the caller holds the
// lock, so each is a dead run's. One with a complete journal is rolled
// forward (forward skips the steps already done, so this repeats safely
// if recovery itself is killed), one without a journal is removed. A
// journal that is there but damaged (storage, or a hand edit: a journal
// is only ever put in place whole) stops recovery, since how far its swap
// got cannot be told; the error says where the old and new files are.
func recoverDir(dir string) (rep RecoverReport, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return rep, err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), stagePrefix) || !e.IsDir() {
			continue
		}
		stage := filepath.Join(dir, e.Name())
		j, err := readJournal(stage)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.RemoveAll(stage); err != nil {
				return rep, err
			}
			rep.RolledBack++
		case err != nil:
			return rep, fmt.Errorf("%w; acgen cannot tell how far that interrupted write got: the previous files are in %s, the new ones in %s; put back what you need and remove %s",
				err, filepath.Join(stage, "old"), filepath.Join(stage, "new"), stage)
		default:
			if _, err := forward(dir, stage, j); err != nil {
				return rep, fmt.Errorf("finishing the interrupted write of %s: %w", filepath.Join(stage, journalName), err)
			}
			finish(dir, stage)
			rep.Finished++
		}
	}
	return rep, nil
}
