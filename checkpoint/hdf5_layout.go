package checkpoint

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
)

// h5Filter is one filter of a dataset's pipeline.
type h5Filter struct {
	id     uint16
	values []uint32
}

// The filters read: what h5py's compression="gzip", shuffle=True and
// fletcher32=True write.
const (
	h5Deflate    = 1
	h5Shuffle    = 2
	h5Fletcher32 = 3
)

// h5Pipeline reads a filter pipeline message (versions 1 and 2).
func h5Pipeline(body []byte) ([]h5Filter, error) {
	if body == nil {
		return nil, nil
	}
	c := &h5buf{b: body}
	version, n := c.u8(), int(c.u8())
	if version == 1 {
		c.skip(6)
	} else if version != 2 {
		return nil, fmt.Errorf("filter pipeline message version %d", version)
	}
	var out []h5Filter
	for i := 0; i < n && c.err == nil; i++ {
		id := c.u16()
		nameLen := 0
		if version == 1 || id >= 256 {
			nameLen = int(c.u16())
		}
		c.skip(2) // flags
		nvals := int(c.u16())
		if version == 1 {
			nameLen = (nameLen + 7) &^ 7
		}
		name := c.take(nameLen)
		vals := make([]uint32, 0, min(nvals, c.left()/4))
		for j := 0; j < nvals && c.err == nil; j++ {
			vals = append(vals, c.u32())
		}
		if version == 1 && nvals%2 == 1 {
			c.skip(4)
		}
		if c.err != nil {
			break
		}
		if id != h5Deflate && id != h5Shuffle && id != h5Fletcher32 {
			label := ""
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if len(name) > 0 {
				label = fmt.Sprintf(" (%s)", clip(string(name)))
			}
			return nil, fmt.Errorf("filter %d%s: acgen reads gzip, shuffle and fletcher32; re-save with compression=\"gzip\" or none", id, label)
		}
		out = append(out, h5Filter{id, vals})
	}
	if c.err != nil {
		return nil, fmt.Errorf("filter pipeline message: %w", c.err)
	}
	return out, nil
}

// h5Chunk is one stored chunk: where it starts in the dataset, in
// elements per dimension, and its bytes as filtered.
type h5Chunk struct {
	offset []int64
	addr   uint64
	size   uint64
	mask   uint32 // bit i set: filter i was skipped for this chunk
}

// layout reads a data layout message (versions 3 and 4, which HDF5 1.8
// and later write) and returns the function that produces the dataset's
// nbytes bytes in row-major order.
func (f *h5File) layout(body []byte, shape []int64, dt *dtype, nbytes int64, pipeline []h5Filter) (func() ([]byte, error), error) {
	c := &h5buf{b: body, so: f.so, sl: f.sl}
	version, class := c.u8(), c.u8()
	if version != 3 && version != 4 {
		return nil, fmt.Errorf("data layout message version %d (acgen reads 3 and 4)", version)
	}
	if class != 2 && pipeline != nil {
		return nil, fmt.Errorf("filters on an unchunked dataset")
	}
	switch class {
	case 0: // compact: the data is in the message
		n := int64(c.u16())
		raw := c.take(int(n))
		if c.err != nil {
			return nil, fmt.Errorf("compact data: %w", c.err)
		}
		if n != nbytes {
			return nil, fmt.Errorf("compact data of %d bytes, want %d", n, nbytes)
		}
		return func() ([]byte, error) { return raw, nil }, nil
	case 1: // contiguous
		a, n := c.addr(), c.length()
		if c.err != nil {
			return nil, fmt.Errorf("contiguous layout: %w", c.err)
		}
		if c.undefined(a) {
			if nbytes != 0 {
				return nil, fmt.Errorf("the dataset was never written (no data address)")
			}
			return func() ([]byte, error) { return nil, nil }, nil
		}
		if n != uint64(nbytes) {
			return nil, fmt.Errorf("contiguous data of %d bytes, want %d", n, nbytes)
		}
		raw, err := f.span(a, n)
		if err != nil {
			return nil, err
		}
		return func() ([]byte, error) { return raw, nil }, nil
	case 2:
		return f.chunked(c, version, shape, dt, nbytes, pipeline)
	}
	return nil, fmt.Errorf("data layout class %d (virtual datasets are not read)", class)
}

// chunked reads the rest of a chunked layout message. Version 3 indexes
// chunks with a v1 B-tree; version 4 (libver="latest") is read for a
// single chunk, its other indexes are refused.
func (f *h5File) chunked(c *h5buf, version uint8, shape []int64, dt *dtype, nbytes int64, pipeline []h5Filter) (func() ([]byte, error), error) {
	var flags uint8
	if version == 4 {
		flags = c.u8()
	}
	rank := int(c.u8())
	var tree uint64
	width := 4
	if version == 3 {
		tree = c.addr()
	} else {
		width = int(c.u8())
	}
	if rank != len(shape)+1 || width < 1 || width > 8 {
		return nil, fmt.Errorf("chunked layout of %d dimensions (%d-byte sizes) for a %d-dimensional dataset", rank, width, len(shape))
	}
	chunk := make([]int64, len(shape))
	for i := range chunk {
		chunk[i] = int64(c.uint(width))
		if c.err == nil && (chunk[i] < 1 || chunk[i] > max(shape[i], 1)) {
			return nil, fmt.Errorf("chunk dimension %d is %d for a dataset dimension of %d", i, chunk[i], shape[i])
		}
	}
	if es := int64(c.uint(width)); c.err == nil && es != dt.size {
		return nil, fmt.Errorf("chunks of %d-byte elements for a %d-byte datatype", es, dt.size)
	}
	chunkBytes, ok := dt.size, true
	for _, n := range chunk {
		if chunkBytes, ok = mul64(chunkBytes, n); !ok {
			return nil, fmt.Errorf("chunks of %v elements: byte count overflows", chunk)
		}
	}
	var list func() ([]h5Chunk, error)
	if version == 3 {
		list = func() ([]h5Chunk, error) { return f.chunkTree(tree, len(shape), shape, chunk) }
	} else {
		index := c.u8()
		switch index {
		case 1: // one chunk, the whole dataset
			one := h5Chunk{offset: make([]int64, len(shape)), size: uint64(chunkBytes)}
			if flags&0x02 != 0 {
				one.size = c.length()
				one.mask = c.u32()
			}
			one.addr = c.addr()
			list = func() ([]h5Chunk, error) { return []h5Chunk{one}, nil }
		default:
			return nil, fmt.Errorf("chunk index type %d (h5py's libver=\"latest\"): acgen reads version 3 layouts, which h5py writes by default; re-save with the default libver", index)
		}
	}
	if c.err != nil {
		return nil, fmt.Errorf("chunked layout: %w", c.err)
	}
	return func() ([]byte, error) {
		chunks, err := list()
		if err != nil {
			return nil, err
		}
		return f.assemble(chunks, shape, chunk, dt.size, nbytes, chunkBytes, pipeline)
	}, nil
}

// h5Grid is the number of chunks that cover a dataset.
func h5Grid(shape, chunk []int64) int64 {
	g := int64(1)
	for d := range shape {
		g *= (shape[d] + chunk[d] - 1) / chunk[d] // at most shape[d]: no overflow past numel
	}
	return g
}

// chunkTree collects the chunks of a v1 B-tree of type 1.
func (f *h5File) chunkTree(a uint64, rank int, shape, chunk []int64) ([]h5Chunk, error) {
	var out []h5Chunk
	grid := h5Grid(shape, chunk)
	var walk func(a uint64, want int) error
	walk = func(a uint64, want int) error {
		if err := f.visit(a, "chunk B-tree node"); err != nil {
			return err
		}
		c, err := f.at(a)
		if err != nil {
			return fmt.Errorf("chunk B-tree: %w", err)
		}
		if !bytes.HasPrefix(c.b, []byte("TREE")) {
			return fmt.Errorf("chunk B-tree node at %d: no TREE signature", a)
		}
		c.skip(4)
		typ, level, n := c.u8(), int(c.u8()), int(c.u16())
		c.addr()
		c.addr()
		if typ != 1 || (want >= 0 && level != want) {
			return fmt.Errorf("chunk B-tree node at %d: type %d level %d", a, typ, level)
		}
		var children []uint64
		for i := 0; i < n && c.err == nil; i++ {
			ch := h5Chunk{size: uint64(c.u32()), mask: c.u32(), offset: make([]int64, rank)}
			for d := range ch.offset {
				ch.offset[d] = int64(c.uint(8))
			}
			c.skip(8) // the element-size dimension, always 0
			ch.addr = c.addr()
			if level == 0 {
				out = append(out, ch)
				if int64(len(out)) > grid {
					return fmt.Errorf("chunk B-tree: more chunks than the %d that cover the dataset", grid)
				}
			} else {
				children = append(children, ch.addr)
			}
		}
		if c.err != nil {
			return fmt.Errorf("chunk B-tree node at %d: %w", a, c.err)
		}
		for _, ch := range children {
			if err := walk(ch, level-1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(a, -1); err != nil {
		return nil, err
	}
	return out, nil
}

// assemble decodes every chunk and copies it into a row-major buffer of
// the dataset. Every chunk must lie on the chunk grid, once; a chunk left
// out (which HDF5 would fill with the fill value) is refused, since a
// weights file writes them all.
func (f *h5File) assemble(chunks []h5Chunk, shape, chunk []int64, es, nbytes, chunkBytes int64, pipeline []h5Filter) ([]byte, error) {
	out := make([]byte, nbytes)
	grid := h5Grid(shape, chunk)
	seen := make([]bool, grid)
	for _, ch := range chunks {
		cell := int64(0)
		for d, off := range ch.offset {
			if off < 0 || off%chunk[d] != 0 || off >= shape[d] {
				return nil, fmt.Errorf("chunk at %v: not on the %v grid of a %v dataset", ch.offset, chunk, shape)
			}
			cell = cell*((shape[d]+chunk[d]-1)/chunk[d]) + off/chunk[d]
		}
		if seen[cell] {
			return nil, fmt.Errorf("chunk at %v: stored twice", ch.offset)
		}
		seen[cell] = true
		raw, err := f.span(ch.addr, ch.size)
		if err != nil {
			return nil, fmt.Errorf("chunk at %v: %w", ch.offset, err)
		}
		data, err := h5Unfilter(raw, pipeline, ch.mask, es, chunkBytes)
		if err != nil {
			return nil, fmt.Errorf("chunk at %v: %w", ch.offset, err)
		}
		h5Place(out, data, shape, chunk, ch.offset, es)
	}
	for cell, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("chunk %d of %d is missing", cell, grid)
		}
	}
	return out, nil
}

// h5Unfilter undoes the pipeline, last filter first, and requires exactly
// chunkBytes of data. Inflating stops one byte past that, so a
// decompression bomb costs no more than an honest chunk.
func h5Unfilter(raw []byte, pipeline []h5Filter, mask uint32, es, chunkBytes int64) ([]byte, error) {
	data := raw
	for i := len(pipeline) - 1; i >= 0; i-- {
		if i < 32 && mask&(1<<i) != 0 {
			continue
		}
		switch p := pipeline[i]; p.id {
		case h5Fletcher32:
			if len(data) < 4 {
				return nil, fmt.Errorf("fletcher32: no checksum")
			}
			data = data[:len(data)-4]
		case h5Deflate:
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("deflate: %w", err)
			}
			limit := chunkBytes + 4*int64(len(pipeline)) + 1
			inflated, err := io.ReadAll(io.LimitReader(zr, limit))
			if err != nil {
				return nil, fmt.Errorf("deflate: %w", err)
			}
			data = inflated
		case h5Shuffle:
			size := es
			if len(p.values) > 0 {
				size = int64(p.values[0])
			}
			data = h5Unshuffle(data, size)
		}
	}
	if int64(len(data)) != chunkBytes {
		return nil, fmt.Errorf("%d bytes once decoded, want %d", len(data), chunkBytes)
	}
	return data, nil
}

// h5Unshuffle undoes the shuffle filter: byte j of every element is stored
// together, element after element; bytes past the last whole element stay.
func h5Unshuffle(in []byte, size int64) []byte {
	if size <= 1 || int64(len(in)) < size {
		return in
	}
	n := int64(len(in)) / size
	out := make([]byte, len(in))
	for j := int64(0); j < size; j++ {
		for i := int64(0); i < n; i++ {
			out[i*size+j] = in[j*n+i]
		}
	}
	copy(out[n*size:], in[n*size:])
	return out
}

// h5Place copies the part of a chunk (a full chunk-shaped block, row-major)
// that lies inside the dataset to its place in out.
func h5Place(out, data []byte, shape, chunk, offset []int64, es int64) {
	rank := len(shape)
	if rank == 0 {
		copy(out, data)
		return
	}
	last := rank - 1
	run := min(chunk[last], shape[last]-offset[last]) * es
	idx := make([]int64, last) // position inside the chunk, outer dimensions
	for {
		src, dst := int64(0), int64(0)
		inside := true
		for d := 0; d < rank; d++ {
			i := int64(0)
			if d < last {
				i = idx[d]
				inside = inside && offset[d]+i < shape[d]
			}
			src = src*chunk[d] + i
			dst = dst*shape[d] + offset[d] + i
		}
		if inside {
			copy(out[dst*es:dst*es+run], data[src*es:src*es+run])
		}
		d := last - 1
		for ; d >= 0; d-- {
			if idx[d]++; idx[d] < chunk[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
