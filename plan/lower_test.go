package plan

import (
	"testing"

	"github.com/acgen/acgen/graph"
)

// TestLowerings: every op that reaches the planner (graph's rows that
// fusion neither removes nor folds) has a lowering, and every lowering
// is for such an op.
func TestLowerings(t *testing.T) {
	deployed := map[string]bool{}
	for _, r := range graph.Rows() {
		if r.Deployed() {
			deployed[string(r.Op)] = true
			if !Lowers(r.Op) {
				t.Errorf("op %s reaches the planner but has no lowering", r.Op)
			}
		}
	}
	for op := range lowerings {
		if !deployed[string(op)] {
			t.Errorf("lowering for op %s, which no fused graph holds", op)
		}
	}
}

// TestKinds: every kind has a name, distinct from the others'.
func TestKinds(t *testing.T) {
	seen := map[string]Kind{}
	for _, k := range Kinds() {
		name := k.Row().Name
		if name == "" {
			t.Errorf("kind %d has no name", int(k))
		}
		if other, dup := seen[name]; dup {
			t.Errorf("kinds %d and %d are both %q", int(other), int(k), name)
		}
		seen[name] = k
	}
}
