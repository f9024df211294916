package plan

import "fmt"

// Layout is how one activation is stored: [CB][H+2*Halo][W+2*Halo][Block]
// floats, CB = ceil(C/Block). Block is the program's channel block, one
// vector register of its target (8 floats for AVX2, 16 for AVX-512).
type Layout struct {
	C, H, W int
	Halo    int
	Block   int
}

// CB is the number of channel blocks.
func (l Layout) CB() int { return (l.C + l.Block - 1) / l.Block }

// Row is the distance in floats between vertically adjacent pixels.
func (l Layout) Row() int { return (l.W + 2*l.Halo) * l.Block }

// Plane is the distance in floats between channel blocks.
func (l Layout) Plane() int { return (l.H + 2*l.Halo) * l.Row() }

// Len is the number of floats the layout occupies.
func (l Layout) Len() int { return l.CB() * l.Plane() }

// Origin is the index of channel block 0's pixel (0, 0).
func (l Layout) Origin() int { return l.Halo*l.Row() + l.Halo*l.Block }

// Index is where logical element (c, y, x) lives. y and x may reach into
// the halo (down to -Halo).
func (l Layout) Index(c, y, x int) int {
	return (c/l.Block)*l.Plane() + (y+l.Halo)*l.Row() + (x+l.Halo)*l.Block + c%l.Block
}

func (l Layout) String() string {
	return fmt.Sprintf("%dx%dx%d+%d", l.C, l.H, l.W, l.Halo)
}

// Buffer is a region of the workspace holding one activation at a time.
type Buffer struct {
	ID     int
	Layout Layout
	Offset int // in floats from the workspace start; a multiple of 16 (64 bytes)
}

// Value is one activation of the program: a graph node's output, or the
// network input. Several fused nodes share one value.
type Value struct {
	Name   string
	Layout Layout
	Buf    *Buffer
	first  int // index of the step that writes it (-1: before the first step)
	last   int // index of the last step that reads it
}
