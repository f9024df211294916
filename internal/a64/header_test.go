package a64_test

import (
	"testing"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/target"
)

// TestHeader checks that a64 starts its files as gen does the others,
// under the NEON target's build tag.
func TestHeader(t *testing.T) {
	if a64.Header != gen.Header {
		t.Errorf("a64.Header = %q, gen.Header = %q", a64.Header, gen.Header)
	}
	if a64.BuildTag != target.NEON.BuildTag() {
		t.Errorf("a64.BuildTag = %q, the NEON target's is %q", a64.BuildTag, target.NEON.BuildTag())
	}
}
