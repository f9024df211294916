package gen

import (
	"strings"
	"testing"

	"github.com/acgen/acgen/templates"
)

// TestTolerances: a well-conditioned network keeps the tests' fixed
// bounds; a sensitive one gets 8x its sensitivity against the reference
// and 16x between instruction sets, rounded up, in the acgen_test.go it
// generates.
func TestTolerances(t *testing.T) {
	for _, c := range []struct{ sens, golden, isa float64 }{
		{0, 1e-4, 5e-5},
		{4.6e-7, 1e-4, 5e-5},
		{1e-5, 1e-4, 1.6e-4},
		{4.45e-5, 3.6e-4, 7.2e-4},
		{9e-4, 7.2e-3, 1.5e-2},
	} {
		g, i := tolerances(c.sens)
		if !close(g, c.golden) || !close(i, c.isa) {
			t.Errorf("tolerances(%g) = %g, %g; want %g, %g", c.sens, g, i, c.golden, c.isa)
		}
		if g < 8*c.sens*(1-1e-9) || i < 16*c.sens*(1-1e-9) {
			t.Errorf("tolerances(%g) = %g, %g: below 8x and 16x", c.sens, g, i)
		}
	}
	found := false
	for _, f := range templates.Files() {
		found = found || strings.Contains(f.Source, templates.Tolerances(1e-4, 5e-5))
	}
	if !found {
		t.Error("no template declares the tolerances as templates.Tolerances(1e-4, 5e-5) renders them: gen would not raise them")
	}
}

func close(a, b float64) bool { return a > b*(1-1e-9) && a < b*(1+1e-9) }
