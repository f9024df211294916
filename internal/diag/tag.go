package diag

// Tag returns err marked so that errors.Is(err, kind) holds, without
// changing its message: a stage can classify its errors (spec, weights,
// shapes) and still print one clean line.
func Tag(err, kind error) error {
	if err == nil {
		return nil
	}
	return &tagged{err: err, kind: kind}
}

type tagged struct{ err, kind error }

func (t *tagged) Error() string        { return t.err.Error() }
func (t *tagged) Unwrap() error        { return t.err }
func (t *tagged) Is(target error) bool { return target == t.kind }
