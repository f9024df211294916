package a64_test

import (
	"testing"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/a64"
)

// TestHeader checks that a64 starts its files as gen does the others.
func TestHeader(t *testing.T) {
	if a64.Header != gen.Header {
		t.Errorf("a64.Header = %q, gen.Header = %q", a64.Header, gen.Header)
	}
}
