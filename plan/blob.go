package plan

import (
	"fmt"

	"github.com/acgen/acgen/graph"
)

// HeadFloats are the floats the packed weights keep free at their start,
// ahead of the first section: room for weights.bin's 64-byte header, so
// that the file is the blob's own bytes, written without a copy.
const HeadFloats = 16

// blob is the packed weights shared by every program of a package. The
// packed layouts do not depend on the target (see package target), so a
// second program packing the same parameters finds their section already
// reserved: sections are keyed by the node they pack and their layout,
// and weights.bin holds each once.
//
// A section is reserved while planning, before any weight need be read
// (a lazy graph's are not), and filled later from its node's weights
// (Package.Fill), so that a caller streaming a large network holds the
// packed weights and one layer's, never the whole network in float64.
type blob struct {
	size     int       // floats reserved after the head
	data     []float32 // HeadFloats, then the sections; made by alloc, once all are reserved
	sections map[sectionKey]section
	pending  map[*graph.Node][]section // reserved, not yet filled
}

// sectionKey names a section: the fused node whose parameters it packs,
// and which of its packings.
type sectionKey struct {
	node *graph.Node
	role string
}

type section struct {
	off, n int // in floats from the end of the head
	fill   func(dst []float32)
}

func newBlob() *blob {
	return &blob{sections: map[sectionKey]section{}, pending: map[*graph.Node][]section{}}
}

// alloc makes the blob's memory, once every program has reserved its
// sections: one allocation of the final size, never grown (a 500 MB
// network's would copy and double its memory as it grew).
func (b *blob) alloc() { b.data = make([]float32, HeadFloats+b.size) }

// reserve returns the offset of n's section for role, 64-byte aligned,
// reserving it if no program did: fill will write its n floats, from
// node's weights, once they are read (nil: they stay zero).
func (b *blob) reserve(node *graph.Node, role string, n int, fill func(dst []float32)) int {
	key := sectionKey{node, role}
	if s, ok := b.sections[key]; ok {
		if s.n != n {
			panic(fmt.Sprintf("plan: section %s of %s reserved as %d and %d floats", role, node, s.n, n)) // a packing that depends on the target
		}
		return s.off
	}
	off := align16(b.size)
	s := section{off: off, n: n, fill: fill}
	b.size = off + n
	b.sections[key] = s
	if fill != nil {
		b.pending[node] = append(b.pending[node], s)
	}
	return off
}

// weights is the packed weights after the head.
func (b *blob) weights() []float32 { return b.data[HeadFloats:] }

// Fill packs the sections of fused node n from its weights, which must
// be read (graph.Node.Loaded); the caller may then let them go.
func (pk *Package) Fill(n *graph.Node) {
	w := pk.blob.weights()
	for _, s := range pk.blob.pending[n] {
		s.fill(w[s.off : s.off+s.n])
	}
	delete(pk.blob.pending, n)
}

// Unfilled lists the nodes whose sections Fill has not packed: none,
// once a caller has filled every node.
func (pk *Package) Unfilled() []*graph.Node {
	var ns []*graph.Node
	for n := range pk.blob.pending {
		ns = append(ns, n)
	}
	return ns
}
