package diag

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestList(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("an empty list has an error")
	}
	l.Add(nil)
	if l.Len() != 0 {
		t.Fatal("Add(nil) added")
	}
	one := errors.New("one")
	l.Add(one)
	if l.Err() != one {
		t.Errorf("a list of one is not that one error")
	}
	kind := errors.New("kind")
	for i := 2; i <= 25; i++ {
		l.Add(Tag(fmt.Errorf("problem %d", i), kind))
	}
	err := l.Err()
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxShown+1 || lines[0] != "one" || lines[9] != "problem 10" || lines[10] != "(and 15 more errors)" {
		t.Errorf("message:\n%s", err)
	}
	if !errors.Is(err, one) || !errors.Is(err, kind) {
		t.Errorf("errors.Is does not see the members")
	}
	if n := len(Errors(err)); n != 25 {
		t.Errorf("Errors: %d", n)
	}
	if n := len(Errors(one)); n != 1 {
		t.Errorf("Errors of a single error: %d", n)
	}
	if Errors(nil) != nil || Tag(nil, kind) != nil {
		t.Errorf("nil in, not nil out")
	}
	tagged := Tag(one, kind)
	if tagged.Error() != "one" || !errors.Is(tagged, kind) || !errors.Is(tagged, one) || errors.Unwrap(tagged) != one {
		t.Errorf("Tag changed the error")
	}
}
