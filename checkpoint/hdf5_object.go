package checkpoint

import (
	"bytes"
	"fmt"
)

// h5Msg is one object header message.
type h5Msg struct {
	typ   uint16
	flags uint8
	body  []byte
}

// The message types read; the others (fill values, times, attributes,
// group info, comments) do not change what the data is.
const (
	h5MsgDataspace    = 0x01
	h5MsgLinkInfo     = 0x02
	h5MsgDatatype     = 0x03
	h5MsgLink         = 0x06
	h5MsgLayout       = 0x08
	h5MsgFilters      = 0x0b
	h5MsgContinuation = 0x10
	h5MsgSymbolTable  = 0x11
)

// h5SharedFlag marks a message stored elsewhere (a committed datatype, a
// shared-message table entry).
const h5SharedFlag = 0x02

// messages reads the object header at a, following continuation blocks.
func (f *h5File) messages(a uint64) ([]h5Msg, error) {
	if err := f.visit(a, "object header"); err != nil {
		return nil, err
	}
	c, err := f.at(a)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(c.b, []byte("OHDR")) {
		return f.messagesV2(c)
	}
	if v := c.u8(); v != 1 {
		return nil, fmt.Errorf("object header at %d: version %d (acgen reads 1 and 2)", a, v)
	}
	c.skip(1)
	n := int(c.u16())
	c.skip(4) // reference count
	size := uint64(c.u32())
	if c.err != nil {
		return nil, fmt.Errorf("object header at %d: %w", a, c.err)
	}
	type block struct{ a, n uint64 }
	blocks := []block{{a + 16, size}} // the 12-byte prefix, padded to 8
	var msgs []h5Msg
	for len(blocks) > 0 && len(msgs) < n {
		b := blocks[0]
		blocks = blocks[1:]
		raw, err := f.span(b.a, b.n)
		if err != nil {
			return nil, fmt.Errorf("object header at %d: %w", a, err)
		}
		m := &h5buf{b: raw, so: f.so, sl: f.sl}
		for m.left() >= 8 && len(msgs) < n {
			typ, size, flags := m.u16(), int(m.u16()), m.u8()
			m.skip(3)
			body := m.take(size)
			if m.err != nil {
				return nil, fmt.Errorf("object header at %d: message %d: %w", a, len(msgs), m.err)
			}
			msgs = append(msgs, h5Msg{typ, flags, body})
			if typ == h5MsgContinuation {
				cb := &h5buf{b: body, so: f.so, sl: f.sl}
				ca, cn := cb.addr(), cb.length()
				if cb.err != nil {
					return nil, fmt.Errorf("object header at %d: continuation: %w", a, cb.err)
				}
				if err := f.visit(ca, "object header continuation"); err != nil {
					return nil, err
				}
				blocks = append(blocks, block{ca, cn})
			}
			if len(msgs) > h5MaxMessages {
				return nil, fmt.Errorf("object header at %d: more than %d messages", a, h5MaxMessages)
			}
		}
	}
	return msgs, nil
}

// messagesV2 reads a version 2 object header ("OHDR") and its "OCHK"
// continuation blocks.
func (f *h5File) messagesV2(c *h5buf) ([]h5Msg, error) {
	c.skip(4)
	if v := c.u8(); v != 2 {
		return nil, fmt.Errorf("object header: OHDR version %d", v)
	}
	flags := c.u8()
	if flags&0x20 != 0 {
		c.skip(16) // times
	}
	if flags&0x10 != 0 {
		c.skip(4) // attribute phase change values
	}
	size := c.uint(1 << (flags & 3))
	if c.err != nil {
		return nil, fmt.Errorf("object header: %w", c.err)
	}
	if size > uint64(c.left()) {
		return nil, fmt.Errorf("object header: %d bytes of messages run past the file", size)
	}
	chunk := c.b[c.off : c.off+int(size)]
	var msgs []h5Msg
	for chunks := 0; chunk != nil; chunks++ {
		m := &h5buf{b: chunk, so: f.so, sl: f.sl}
		chunk = nil
		head := 4
		if flags&0x04 != 0 {
			head = 6 // creation order
		}
		for m.left() >= head {
			typ, size, mflags := m.u8(), int(m.u16()), m.u8()
			if flags&0x04 != 0 {
				m.skip(2)
			}
			body := m.take(size)
			if m.err != nil {
				return nil, fmt.Errorf("object header: message %d: %w", len(msgs), m.err)
			}
			msgs = append(msgs, h5Msg{uint16(typ), mflags, body})
			if len(msgs) > h5MaxMessages {
				return nil, fmt.Errorf("object header: more than %d messages", h5MaxMessages)
			}
			if typ != h5MsgContinuation {
				continue
			}
			if chunk != nil {
				return nil, fmt.Errorf("object header: two continuations in one block")
			}
			cb := &h5buf{b: body, so: f.so, sl: f.sl}
			ca, cn := cb.addr(), cb.length()
			if cb.err != nil {
				return nil, fmt.Errorf("object header: continuation: %w", cb.err)
			}
			if err := f.visit(ca, "object header continuation"); err != nil {
				return nil, err
			}
			raw, err := f.span(ca, cn)
			if err != nil {
				return nil, fmt.Errorf("object header continuation: %w", err)
			}
			if len(raw) < 8 || !bytes.HasPrefix(raw, []byte("OCHK")) {
				return nil, fmt.Errorf("object header continuation at %d: no OCHK signature", ca)
			}
			chunk = raw[4 : len(raw)-4] // signature, messages, checksum
		}
	}
	return msgs, nil
}

// object reads the object at a: a group (walked) or a dataset (listed).
// Other objects (committed datatypes) hold no data and are skipped.
func (f *h5File) object(a uint64, path string, depth int, maxBytes int64) error {
	if depth > h5MaxDepth {
		return fmt.Errorf("%s: groups nested more than %d deep", path, h5MaxDepth)
	}
	msgs, err := f.messages(a)
	if err != nil {
		return h5Where(path, err)
	}
	var links []h5Msg
	for _, m := range msgs {
		switch m.typ {
		case h5MsgSymbolTable:
			return f.symbolTable(m.body, path, depth, maxBytes)
		case h5MsgLayout:
			return h5Where(path, f.dataset(msgs, path, maxBytes))
		case h5MsgLinkInfo:
			c := &h5buf{b: m.body, so: f.so, sl: f.sl}
			c.skip(1)
			if fl := c.u8(); fl&1 != 0 {
				c.skip(8)
			}
			if heap := c.addr(); c.err == nil && !c.undefined(heap) {
				return h5Where(path, fmt.Errorf("the group stores its links densely (a fractal heap, which h5py writes with libver=\"latest\" for groups of more than 8 entries): acgen does not read that; re-save with h5py's default libver"))
			}
		case h5MsgLink:
			links = append(links, m)
		}
	}
	for _, m := range links {
		name, target, err := f.link(m.body)
		if err != nil {
			return h5Where(path, err)
		}
		if target == nil {
			continue // a soft or external link: not data in this file
		}
		if err := f.object(*target, h5Join(path, name), depth+1, maxBytes); err != nil {
			return err
		}
	}
	return nil
}

func h5Where(path string, err error) error {
	if err == nil || path == "" {
		return err
	}
	return fmt.Errorf("%q: %w", clip(path), err)
}

// link reads a link message: its name and, for a hard link, the object's
// address.
func (f *h5File) link(body []byte) (string, *uint64, error) {
	c := &h5buf{b: body, so: f.so, sl: f.sl}
	if v := c.u8(); v != 1 {
		return "", nil, fmt.Errorf("link message version %d", v)
	}
	flags := c.u8()
	kind := uint8(0)
	if flags&0x08 != 0 {
		kind = c.u8()
	}
	if flags&0x04 != 0 {
		c.skip(8)
	}
	if flags&0x10 != 0 {
		c.skip(1)
	}
	n := c.uint(1 << (flags & 3))
	if n > h5MaxName {
		return "", nil, fmt.Errorf("link name of %d bytes", n)
	}
	name := string(c.take(int(n)))
	if kind != 0 {
		return name, nil, c.err
	}
	a := c.addr()
	if c.err != nil {
		return "", nil, fmt.Errorf("link message: %w", c.err)
	}
	return name, &a, nil
}

// symbolTable walks a group stored as a symbol table: a v1 B-tree of
// symbol nodes whose names are in a local heap.
func (f *h5File) symbolTable(body []byte, path string, depth int, maxBytes int64) error {
	c := &h5buf{b: body, so: f.so, sl: f.sl}
	tree, heapAddr := c.addr(), c.addr()
	if c.err != nil {
		return h5Where(path, fmt.Errorf("symbol table message: %w", c.err))
	}
	heap, err := f.localHeap(heapAddr)
	if err != nil {
		return h5Where(path, err)
	}
	var entries []h5Entry
	if err := f.groupTree(tree, -1, &entries); err != nil {
		return h5Where(path, err)
	}
	for _, e := range entries {
		name, err := h5HeapString(heap, e.name)
		if err != nil {
			return h5Where(path, err)
		}
		if err := f.object(e.header, h5Join(path, name), depth+1, maxBytes); err != nil {
			return err
		}
	}
	return nil
}

// h5Entry is a symbol table entry: a name (an offset into the group's
// local heap) and the object's header address.
type h5Entry struct{ name, header uint64 }

// localHeap returns a local heap's data segment.
func (f *h5File) localHeap(a uint64) ([]byte, error) {
	c, err := f.at(a)
	if err != nil {
		return nil, fmt.Errorf("local heap: %w", err)
	}
	if !bytes.HasPrefix(c.b, []byte("HEAP")) {
		return nil, fmt.Errorf("local heap at %d: no HEAP signature", a)
	}
	c.skip(8) // signature, version, reserved
	size := c.length()
	c.length() // free list
	data := c.addr()
	if c.err != nil {
		return nil, fmt.Errorf("local heap at %d: %w", a, c.err)
	}
	return f.span(data, size)
}

// h5HeapString reads the NUL-terminated name at offset off of a heap.
func h5HeapString(heap []byte, off uint64) (string, error) {
	if off >= uint64(len(heap)) {
		return "", fmt.Errorf("name offset %d outside the %d-byte local heap", off, len(heap))
	}
	s := heap[off:]
	end := bytes.IndexByte(s, 0)
	if end < 0 || end > h5MaxName {
		return "", fmt.Errorf("name at heap offset %d has no end", off)
	}
	return string(s[:end]), nil
}

// groupTree collects the entries of a group's v1 B-tree (node type 0)
// rooted at a, whose level must be want (-1 at the root).
func (f *h5File) groupTree(a uint64, want int, out *[]h5Entry) error {
	if err := f.visit(a, "B-tree node"); err != nil {
		return err
	}
	c, err := f.at(a)
	if err != nil {
		return fmt.Errorf("group B-tree: %w", err)
	}
	if !bytes.HasPrefix(c.b, []byte("TREE")) {
		return fmt.Errorf("group B-tree node at %d: no TREE signature", a)
	}
	c.skip(4)
	typ, level, n := c.u8(), int(c.u8()), int(c.u16())
	c.addr()
	c.addr() // siblings
	if typ != 0 {
		return fmt.Errorf("group B-tree node at %d: type %d, want 0", a, typ)
	}
	if want >= 0 && level != want {
		return fmt.Errorf("group B-tree node at %d: level %d under a level %d node", a, level, want+1)
	}
	children := make([]uint64, 0, min(n, c.left()/f.so+1))
	for i := 0; i < n && c.err == nil; i++ {
		c.length() // key: heap offset of a name
		children = append(children, c.addr())
	}
	if c.err != nil {
		return fmt.Errorf("group B-tree node at %d: %w", a, c.err)
	}
	for _, child := range children {
		var err error
		if level > 0 {
			err = f.groupTree(child, level-1, out)
		} else {
			err = f.symbolNode(child, out)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// symbolNode reads the entries of one symbol table node ("SNOD").
func (f *h5File) symbolNode(a uint64, out *[]h5Entry) error {
	if err := f.visit(a, "symbol node"); err != nil {
		return err
	}
	c, err := f.at(a)
	if err != nil {
		return fmt.Errorf("symbol node: %w", err)
	}
	if !bytes.HasPrefix(c.b, []byte("SNOD")) {
		return fmt.Errorf("symbol node at %d: no SNOD signature", a)
	}
	c.skip(6)
	n := int(c.u16())
	for i := 0; i < n && c.err == nil; i++ {
		name, header := c.addr(), c.addr()
		c.skip(24) // cache type, reserved, scratch pad
		if c.err == nil {
			*out = append(*out, h5Entry{name, header})
		}
		if len(*out) > maxTensors {
			return fmt.Errorf("a group of more than %d entries", maxTensors)
		}
	}
	if c.err != nil {
		return fmt.Errorf("symbol node at %d: %w", a, c.err)
	}
	return nil
}
