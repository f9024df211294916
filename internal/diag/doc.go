// Package diag collects the errors acgen reports to its users.
//
// Every stage of the pipeline reports problems as one-line errors that
// name where the problem is (a spec file position, a layer, a checkpoint
// key) and wrap the cause with %w. A stage that can find several problems
// at once (the spec parser, the weight binder) collects them in a List so
// that a user fixes ten mistakes in one edit rather than ten runs; the
// List prints at most MaxShown of them.
package diag
