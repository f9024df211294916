package gen

import (
	"testing"

	"github.com/acgen/acgen/plan"
)

// TestGoCalls: every kind of step has a Go call, so that the portable
// program can run any plan.
func TestGoCalls(t *testing.T) {
	for _, k := range plan.Kinds() {
		if goCalls[k] == nil {
			t.Errorf("kind %v has no Go call", k)
		}
	}
}
