package act

import (
	"math"
	"testing"

	"github.com/acgen/acgen/spec"
)

// TestTable checks every row's facts against its float64 definition:
// ZeroAtZero and NonNegative (which the planner relies on to skip
// masking and -inf padding) hold over a sweep, the op is one the spec
// knows, and Of and Index find the row.
func TestTable(t *testing.T) {
	if Table[0] != None {
		t.Fatal("row 0 must be None: generated packages number the rows")
	}
	known := map[string]bool{}
	for _, op := range spec.KnownOps() {
		known[op] = true
	}
	for i, f := range Table[1:] {
		i++
		if !known[string(f.Op)] {
			t.Errorf("row %d: op %q is not a spec op", i, f.Op)
		}
		if Of(f.Op) != f || f.Index() != i {
			t.Errorf("row %d (%s): Of or Index does not find it", i, f.Op)
		}
		if f.Go == "" || f.Doc == "" {
			t.Errorf("row %d (%s): no Go expression or Doc", i, f.Op)
		}
		p := 0.0
		if f.Param != nil {
			p = 0.1
		}
		if got := f.Ref(0, p); (got == 0) != f.ZeroAtZero {
			t.Errorf("%s: f(0) = %g but ZeroAtZero is %v", f.Op, got, f.ZeroAtZero)
		}
		negative := false
		for x := -20.0; x <= 20; x += 0.125 {
			y := f.Ref(x, p)
			negative = negative || y < 0
			if math.IsNaN(y) {
				t.Errorf("%s: f(%g) is NaN", f.Op, x)
			}
		}
		if negative == f.NonNegative {
			t.Errorf("%s: NonNegative is %v, but a negative output was seen: %v", f.Op, f.NonNegative, negative)
		}
	}
}
