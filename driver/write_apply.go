package driver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/acgen/acgen/gen"
)

// The names WriteDir keeps inside -out while it works: hidden, so the go
// command ignores them, and starting with ".acgen", which validName
// refuses to a generated file.
const (
	lockName    = ".acgen.lock"   // the lock (lock_*.go)
	stagePrefix = ".acgen-stage-" // a run's staging directory: new/, old/, journal
	keptPrefix  = ".acgen-kept-"  // a staging directory kept after a failed undo
)

// writeStep runs before each step that stages a file or changes dir; the
// SIGKILL tests slow the steps down through ACGEN_TEST_WRITE_STEP_DELAY
// (or, in the driver's tests, kill the process at a chosen step), so
// that their kills land while the package is being written.
var writeStep = func() {}

func init() {
	if d, err := time.ParseDuration(os.Getenv("ACGEN_TEST_WRITE_STEP_DELAY")); err == nil && d > 0 {
		writeStep = func() { time.Sleep(d) }
	}
}

// rename and remove are os.Rename and os.Remove for the steps that change
// dir and for undoing them; tests replace them to fail midway.
var (
	rename = os.Rename
	remove = os.Remove
)

// apply carries out the plan in three phases:
//
//  1. stage: each changed file is written (and fsynced) under
//     dir/.acgen-stage-XXXX/new, and each file it replaces or removes is
//     hard linked (else copied) under .../old, for undoing a failure;
//  2. commit: the journal naming every move and removal is written to
//     journal.tmp, fsynced and renamed to journal: from here on the swap
//     is decided, and recovery finishes it;
//  3. swap: the files are moved in (rename replaces each path in one
//     step: a file is always the old one or the new one, never absent or
//     half written), the stale ones removed, dir fsynced, then the
//     journal removed, then the staging directory.
//
// Killed in phase 1 or 2 (no journal), dir is untouched and recovery
// removes the staging directory; killed in phase 3, recovery finishes
// the swap. A step that fails in phase 3 is undone, in reverse order,
// from old/.
func (w *dirWrite) apply() (rep WriteReport, err error) {
	rep = w.rep
	if len(w.changed) == 0 && len(w.stale) == 0 {
		return rep, nil
	}
	stage, err := os.MkdirTemp(w.dir, stagePrefix)
	if err != nil {
		return rep, err
	}
	stage = filepath.Clean(stage)
	j := &journal{removes: w.stale}
	if err := w.stageFiles(stage, j); err != nil {
		os.RemoveAll(stage)
		return rep, err
	}
	// The journal, and the staging directory's own name in dir, are on
	// disk before the first rename. Past the commit the journal may be
	// in place, so giving up goes through undoSwap, which removes it
	// before the staged files.
	if err := j.commit(stage); err != nil {
		return rep, undoSwap(w.dir, stage, nil, err)
	}
	if err := syncDir(w.dir); err != nil {
		return rep, undoSwap(w.dir, stage, nil, err)
	}
	undo, err := forward(w.dir, stage, j)
	if err != nil {
		return rep, undoSwap(w.dir, stage, undo, err)
	}
	finish(w.dir, stage)
	rep.Written = append(rep.Written, j.renames...)
	rep.Removed = append(rep.Removed, j.removes...)
	return rep, nil
}

// stageFiles is phase 1: the changed files under stage/new, and what
// they replace or remove kept under stage/old.
func (w *dirWrite) stageFiles(stage string, j *journal) error {
	if err := os.Mkdir(filepath.Join(stage, "new"), 0o755); err != nil {
		return err
	}
	synced := map[string]bool{"new": true}
	for _, f := range w.changed {
		writeStep()
		p := filepath.Join(stage, "new", filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeFileSync(p, f.Data); err != nil {
			return err
		}
		for d := path.Dir(f.Name); d != "."; d = path.Dir(d) {
			synced[path.Join("new", d)] = true
		}
		if err := keepOld(w.dir, stage, f.Name); err != nil {
			return err
		}
		j.renames = append(j.renames, f.Name)
	}
	for _, name := range w.stale {
		if err := keepOld(w.dir, stage, name); err != nil {
			return err
		}
	}
	// The staged files' names must be on disk before the journal that
	// sends recovery looking for them.
	for d := range synced {
		if err := syncDir(filepath.Join(stage, filepath.FromSlash(d))); err != nil {
			return err
		}
	}
	return nil
}

// keepOld hard links dir's file name (if there is one) under stage/old,
// or copies it where links are not possible: undoing a step puts back
// the same bytes, mode and times.
func keepOld(dir, stage, name string) error {
	src := filepath.Join(dir, filepath.FromSlash(name))
	if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	dst := filepath.Join(stage, "old", filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return copyFile(src, dst)
}

// forward is phase 3, the journal's changes to dir: each staged file
// moved in, then each stale file removed, then dir fsynced. It is also
// recovery's roll forward, so a step found done (its staged file moved
// already, its stale file gone) is skipped, and it repeats safely from
// the top after a crash midway. It checks again what planWrite checked,
// since a crash may leave time for a user to put a file in the way: a
// file without gen.Header is neither replaced nor removed, and no link
// inside dir is followed. undo holds the inverse of each step taken, for
// undoSwap.
func forward(dir, stage string, j *journal) (undo []func() error, err error) {
	for _, name := range j.renames {
		src := filepath.Join(stage, "new", filepath.FromSlash(name))
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			continue // moved in before a crash
		}
		writeStep()
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := noLinkedDirs(dir, name); err != nil {
			return undo, err
		}
		made, err := mkdirs(dir, name)
		for _, d := range made {
			undo = append(undo, func() error { return os.Remove(d) })
		}
		if err != nil {
			return undo, err
		}
		if old, err := readIfExists(target); err != nil {
			return undo, err
		} else if old != nil && !bytes.HasPrefix(old, []byte(gen.Header)) {
			return undo, notGenerated(target)
		}
		if err := rename(src, target); err != nil {
			return undo, err
		}
		old := filepath.Join(stage, "old", filepath.FromSlash(name))
		undo = append(undo, func() error {
			if _, err := os.Lstat(old); err == nil {
				return rename(old, target)
			}
			return remove(target)
		})
	}
	for _, name := range j.removes {
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := noLinkedDirs(dir, name); err != nil {
			return undo, err
		}
		st, err := os.Lstat(target)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed before a crash
		}
		if err != nil {
			return undo, err
		}
		if !st.Mode().IsRegular() {
			continue // not acgen's any more: left alone
		}
		if ok, err := hasHeader(target); err != nil || !ok {
			continue
		}
		writeStep()
		if err := remove(target); err != nil {
			return undo, err
		}
		old := filepath.Join(stage, "old", filepath.FromSlash(name))
		undo = append(undo, func() error { return rename(old, target) })
	}
	return undo, syncDirs(dir, j)
}

// mkdirs makes the missing directories of dir that name lies in, and
// returns those it made.
func mkdirs(dir, name string) (made []string, err error) {
	p := dir
	parts := strings.Split(name, "/")
	for _, part := range parts[:len(parts)-1] {
		p = filepath.Join(p, part)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			return made, err
		}
		made = append(made, p)
	}
	return made, nil
}

// syncDirs fsyncs dir and each of its directories that the journal's
// steps changed: the moves and removals are on disk before the journal
// that decided them goes.
func syncDirs(dir string, j *journal) error {
	dirs := map[string]bool{".": true}
	for _, name := range append(append([]string(nil), j.renames...), j.removes...) {
		dirs[path.Dir(name)] = true
	}
	for d := range dirs {
		if err := syncDir(filepath.Join(dir, filepath.FromSlash(d))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// finish ends a swap that is complete in dir: the journal goes first (and
// is known gone) so that nothing later repeats or undoes the swap, then
// the staging directory. A failure here leaves only hidden leftovers,
// which the next run removes, so it is not reported.
func finish(dir, stage string) {
	if err := os.Remove(filepath.Join(stage, journalName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return
	}
	syncDir(stage)
	writeStep()
	os.RemoveAll(stage)
	syncDir(dir)
}

// undoSwap undoes the steps of a swap that failed (not crashed) midway,
// newest first, so that dir is as it was. The journal goes first, so
// that a crash from here on is not followed by a recovery that finishes
// the swap being undone. If a step cannot be undone, the staging
// directory is kept under a name recovery leaves alone, and the error
// says where the previous files are.
func undoSwap(dir, stage string, undo []func() error, cause error) error {
	var failed error
	for i := len(undo) - 1; i >= 0; i-- {
		if err := undo[i](); err != nil && failed == nil {
			failed = err
		}
	}
	os.Remove(filepath.Join(stage, journalName))
	syncDir(stage)
	if failed == nil {
		os.RemoveAll(stage)
		return cause
	}
	kept := filepath.Join(dir, keptPrefix+strings.TrimPrefix(filepath.Base(stage), stagePrefix))
	if os.Rename(stage, kept) != nil {
		kept = stage
	}
	return fmt.Errorf("%w; restoring %s failed too, and its previous files are in %s: %v", cause, dir, filepath.Join(kept, "old"), failed)
}
