// Package templates holds Go source that acgen copies into every
// generated package: the parts that are the same for every network (the
// workspace pool, weight decoding, the layout helpers and the kernels of
// the cheap ops). They live here as a real package so that they are
// compiled, vetted and tested like any other code; the generator copies
// each file with its package clause replaced and the generated-code header
// added (see Files).
//
// Code in this package may use only the standard library, and may refer
// only to names that every generated package defines (listed in
// generated.go, which is not copied).
package templates
