package spec

import (
	"errors"
	"fmt"
)

// ErrSpec matches (errors.Is) every error Parse reports about a spec's
// content, as opposed to I/O errors.
var ErrSpec = errors.New("invalid spec")

// Error is a problem positioned in a spec file, optionally about one layer:
//
//	net.yaml:12:5: layer "stage1.0.conv2": kernel 4 is even; ...
//
// Later stages (weights, shapes) report through it too, so that every
// message points at the line the user should look at.
type Error struct {
	Pos   Pos
	Layer *Layer // nil for problems outside the layer list
	Err   error

	spec bool // a problem with the spec's own content: Is(ErrSpec)
}

func (e *Error) Error() string {
	if e.Layer != nil {
		return fmt.Sprintf("%s: layer %s: %v", e.Pos, e.Layer, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Pos, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Is(target error) bool { return e.spec && target == ErrSpec }

// Errorf returns an error positioned at the layer.
func (l *Layer) Errorf(format string, args ...any) error {
	return l.FieldErrorf("", format, args...)
}

// FieldErrorf returns an error positioned at one of the layer's fields (or
// at the layer when the field was left to its default).
func (l *Layer) FieldErrorf(field, format string, args ...any) error {
	return &Error{Pos: l.FieldPos(field), Layer: l, Err: fmt.Errorf(format, args...)}
}

func specError(pos Pos, l *Layer, format string, args ...any) error {
	return &Error{Pos: pos, Layer: l, Err: fmt.Errorf(format, args...), spec: true}
}
