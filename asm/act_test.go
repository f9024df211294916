package asm

import (
	"testing"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/plan"
)

// TestActCodes: every activation of the act table that is not a clamp
// has vector code, and its constants fit the registers an AVX2 kernel's
// second pass has (16, four of them temporaries).
func TestActCodes(t *testing.T) {
	for _, f := range act.Table {
		a := plan.Act{F: f, Param: 0.5}
		if a.Clamp() {
			continue
		}
		code, ok := actCodes[f.Op]
		if !ok {
			t.Errorf("activation %s has no vector code in actCodes", f.Name())
			continue
		}
		if n := len(code.consts(a.Param)); n > 12 {
			t.Errorf("activation %s needs %d constants; an AVX2 second pass has 12 registers for them", f.Name(), n)
		}
	}
}
