package checkpoint

import (
	"path/filepath"
	"strings"
	"testing"
)

// fixtureDir is the repository's fixtures directory (package fixtures
// imports this one).
var fixtureDir = filepath.Join("..", "fixtures")

// TestTrainerCheckpoints reads what fixtures/make_trainer_fixtures.py
// saved with real torch: a trainer's checkpoint dict (the state_dict
// under model_state_dict beside an optimizer's state, an argparse
// Namespace, numpy values and a torch.Size) and a legacy-format file
// written with pickle protocol 4, the official ACNet engine's checkpoint
// and its final HDF5 file all hold exactly cifar_small's weights (the
// HDF5 file's "deps" widths left out);
// a whole model saved with torch.save(model) is refused with what to do.
func TestTrainerCheckpoints(t *testing.T) {
	want, err := Load(filepath.Join(fixtureDir, "cifar_small", "model.pth"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(fixtureDir, "trainer")
	for _, name := range []string{"checkpoint.pth", "legacy_p4.pth", "engine.pth", "finish.hdf5"} {
		got, err := Load(filepath.Join(dir, name), Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if describe(got) != describe(want) {
			t.Errorf("%s: tensors differ from cifar_small's", name)
		}
	}
	_, err = Load(filepath.Join(dir, "whole_model.pth"), Options{})
	if err == nil || !strings.Contains(err.Error(), "a whole model saved with torch.save(model)? save its weights instead: torch.save(model.state_dict(), path)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("whole_model.pth: %v", err)
	}
}
