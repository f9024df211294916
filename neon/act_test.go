package neon

import (
	"testing"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
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
		if fused := target.NEON.Fuses(f.Name()); ok != fused {
			// The row's Unfused list is exactly what has no code: the
			// planner leaves those to an activation step.
			t.Errorf("activation %s: vector code %v, but the NEON row says its kernels apply it: %v", f.Name(), ok, fused)
		}
		if !ok {
			continue
		}
		if n := len(code.consts(a.Param)); n > 26 {
			t.Errorf("activation %s needs %d constants; the second pass has 26 registers for them", f.Name(), n)
		}
	}
}
