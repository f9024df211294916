package neon

import (
	"testing"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/plan"
)

// TestActCodes: every activation of the act table that is not a clamp
// has vector code, and its constants fit the registers the second pass
// leaves for them (26: six are temporaries).
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
		if n := len(code.consts(a.Param)); n > 26 {
			t.Errorf("activation %s needs %d constants; the second pass has 26 registers for them", f.Name(), n)
		}
	}
}
