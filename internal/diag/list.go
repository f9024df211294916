package diag

import (
	"errors"
	"fmt"
	"strings"
)

// MaxShown is how many errors a List prints; the rest are counted.
const MaxShown = 10

// List is an ordered collection of errors. The zero value is empty and
// ready to use.
type List struct {
	errs []error
}

// Add appends err to the list; a nil err is ignored.
func (l *List) Add(err error) {
	if err != nil {
		l.errs = append(l.errs, err)
	}
}

// Addf appends a formatted error (fmt.Errorf semantics, so %w wraps).
func (l *List) Addf(format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf(format, args...))
}

// Len reports how many errors were added.
func (l *List) Len() int { return len(l.errs) }

// Err returns nil when the list is empty, and otherwise an error whose
// message shows at most MaxShown of the collected errors, one a line.
// errors.Is and errors.As see every collected error.
func (l *List) Err() error {
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	}
	return &listError{errs: append([]error(nil), l.errs...)}
}

type listError struct{ errs []error }

func (e *listError) Error() string {
	var b strings.Builder
	for i, err := range e.errs {
		if i == MaxShown {
			fmt.Fprintf(&b, "\n(and %d more errors)", len(e.errs)-MaxShown)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *listError) Unwrap() []error { return e.errs }

// Errors returns the individual errors inside err: the members of a List's
// error, or err itself.
func Errors(err error) []error {
	if err == nil {
		return nil
	}
	var le *listError
	if errors.As(err, &le) {
		return le.errs
	}
	return []error{err}
}
