package diag

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"relu1", "conv1", "stage1.0.conv1", "stage1.0.conv2", "linear"}
	for _, c := range []struct{ name, want string }{
		{"rleu1", "relu1"}, // a transposition is one edit
		{"conv3", "conv1"}, // ties go to the first in sorted order
		{"stage1.0.cnv2", "stage1.0.conv2"},
		{"Linear", "linear"},
		{"transformer", ""}, // nothing near
		{"", ""},
	} {
		if got := Closest(c.name, names); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"abc", "acb", 1}, {"ca", "abc", 3}, {"relu1", "rleu1", 1},
	} {
		if d := editDistance(c.a, c.b); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
		if d := editDistance(c.b, c.a); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.b, c.a, d, c.d)
		}
	}
}
