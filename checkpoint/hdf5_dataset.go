package checkpoint

import (
	"fmt"
)

// dataset lists the dataset whose header messages are msgs as a tensor.
// Its bytes are only located here; they are read, and chunks inflated, by
// the tensor's storage function, so a dataset the spec does not need costs
// nothing.
func (f *h5File) dataset(msgs []h5Msg, path string, maxBytes int64) error {
	var space, dtype, layoutMsg, filters []byte
	for _, m := range msgs {
		var dst *[]byte
		switch m.typ {
		case h5MsgDataspace:
			dst = &space
		case h5MsgDatatype:
			dst = &dtype
		case h5MsgLayout:
			dst = &layoutMsg
		case h5MsgFilters:
			dst = &filters
		default:
			continue
		}
		if m.flags&h5SharedFlag != 0 {
			return fmt.Errorf("a shared or committed header message (type %d): acgen reads datasets that carry their own", m.typ)
		}
		*dst = m.body
	}
	if space == nil || dtype == nil {
		return fmt.Errorf("a dataset without a dataspace or datatype message")
	}
	shape, err := h5Dataspace(space, f.sl)
	if err != nil {
		return err
	}
	dt, swap, err := h5Datatype(dtype)
	if err != nil {
		return err
	}
	numel, ok := numelOf(shape)
	if !ok {
		return fmt.Errorf("shape %v: element count overflows", shape)
	}
	nbytes, ok := mul64(numel, dt.size)
	if !ok || nbytes > maxBytes {
		return fmt.Errorf("shape %v of %s: more than the %d bytes allowed", shape, dt.name, maxBytes)
	}
	pipeline, err := h5Pipeline(filters)
	if err != nil {
		return err
	}
	read, err := f.layout(layoutMsg, shape, dt, nbytes, pipeline)
	if err != nil {
		return err
	}
	if path == "deps" && !dt.float && len(shape) == 1 {
		f.notes = append(f.notes, fmt.Sprintf("dataset \"deps\" (%s %v) is the official ACNet engine's list of channel widths, not a weight: ignored", dt.name, shape))
		return nil
	}
	f.raws = append(f.raws, rawTensor{
		key:          h5Key(path),
		dt:           dt,
		layout:       contiguousLayout(shape),
		storageNumel: numel,
		storage: func() ([]byte, error) {
			b, err := read()
			if err != nil || !swap {
				return b, err
			}
			return swapBytes(b, int(dt.size)), nil
		},
	})
	return nil
}

// h5Dataspace reads a dataspace message (versions 1 and 2): the shape.
// A scalar is shape []; a null dataspace (no elements at all) is refused.
func h5Dataspace(body []byte, sl int) ([]int64, error) {
	c := &h5buf{b: body, sl: sl}
	version, rank, flags := c.u8(), int(c.u8()), c.u8()
	switch version {
	case 1:
		c.skip(5)
	case 2:
		if typ := c.u8(); typ == 2 {
			return nil, fmt.Errorf("a null dataspace: the dataset holds no value")
		}
	default:
		return nil, fmt.Errorf("dataspace message version %d", version)
	}
	if rank > maxDims {
		return nil, fmt.Errorf("%d dimensions, more than PyTorch's %d", rank, maxDims)
	}
	_ = flags // maximum sizes may follow; the current ones are what is stored
	shape := make([]int64, rank)
	for i := range shape {
		n := c.length()
		if n > 1<<62 {
			return nil, fmt.Errorf("dimension %d of size %d", i, n)
		}
		shape[i] = int64(n)
	}
	if c.err != nil {
		return nil, fmt.Errorf("dataspace message: %w", c.err)
	}
	return shape, nil
}

// h5Datatype reads a datatype message: IEEE floats of 2, 4 or 8 bytes and
// integers of 1 to 8 bytes map to torch's dtypes; any other class is
// listed (so a spec that wants it says what it is) but never converted.
// swap reports big-endian data.
func h5Datatype(body []byte) (dt *dtype, swap bool, err error) {
	c := &h5buf{b: body}
	cv := c.u8()
	bits := c.uint(3)
	size := int64(c.u32())
	class := cv & 0x0f
	if c.err != nil {
		return nil, false, fmt.Errorf("datatype message: %w", c.err)
	}
	if size <= 0 || size > 1<<20 {
		return nil, false, fmt.Errorf("datatype of %d bytes", size)
	}
	switch class {
	case 0: // fixed-point
		swap = bits&1 != 0
		signed := bits&0x08 != 0
		names := map[int64][2]string{1: {"uint8", "int8"}, 2: {"uint16", "int16"}, 4: {"uint32", "int32"}, 8: {"uint64", "int64"}}
		if n, ok := names[size]; ok {
			name := n[0]
			if signed {
				name = n[1]
			}
			return &dtype{name, size, false}, swap && size > 1, nil
		}
	case 1: // floating-point
		if bits&0x40 != 0 {
			return nil, false, fmt.Errorf("a VAX-order float")
		}
		swap = bits&1 != 0
		offset, precision := c.u16(), c.u16()
		expLoc, expSize, manLoc, manSize := c.u8(), c.u8(), c.u8(), c.u8()
		if c.err != nil {
			return nil, false, fmt.Errorf("datatype message: %w", c.err)
		}
		ieee := map[int64][4]uint8{2: {10, 5, 0, 10}, 4: {23, 8, 0, 23}, 8: {52, 11, 0, 52}}
		want, ok := ieee[size]
		if !ok || offset != 0 || int64(precision) != 8*size || [4]uint8{expLoc, expSize, manLoc, manSize} != want {
			return nil, false, fmt.Errorf("a %d-byte float that is not IEEE binary%d", size, 8*size)
		}
		return map[int64]*dtype{2: dtFloat16, 4: dtFloat32, 8: dtFloat64}[size], swap, nil
	}
	classes := []string{"fixed-point", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum", "variable-length", "array"}
	name := fmt.Sprintf("hdf5 class %d", class)
	if int(class) < len(classes) {
		name = "hdf5 " + classes[class]
	}
	return &dtype{name, size, false}, false, nil
}
