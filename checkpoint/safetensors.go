package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// maxSafetensorsHeader is the header limit the reference implementation
// enforces (100 MB); a header beyond it is not a real file.
const maxSafetensorsHeader = 100 << 20

// stEntry is one tensor's header entry. Numbers stay json.Number so that
// negative, fractional and huge values are refused by our own checks rather
// than silently wrapped by a conversion.
type stEntry struct {
	DType       *string       `json:"dtype"`
	Shape       []json.Number `json:"shape"`
	DataOffsets []json.Number `json:"data_offsets"`
}

// readSafetensors reads the format documented at huggingface/safetensors:
// an 8-byte little-endian header length N, N bytes of JSON, then the data
// section that every data_offsets pair indexes.
func readSafetensors(data []byte, maxBytes int64) ([]rawTensor, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: truncated: %d bytes, not even the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: header length %d but only %d bytes follow", n, len(data)-8)
	}
	if n > maxSafetensorsHeader {
		return nil, fmt.Errorf("safetensors: header length %d is over the format's %d-byte limit", n, maxSafetensorsHeader)
	}
	body := data[8+n:]
	if err := scanSafetensorsHeader(data[8 : 8+n]); err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	entries, keys, err := parseSafetensorsHeader(data[8 : 8+n])
	if err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	raws := make([]rawTensor, 0, len(keys))
	spans := make([]stSpan, 0, len(keys))
	for _, key := range keys {
		r, off, err := stTensor(entries[key], body)
		if err != nil {
			return nil, fmt.Errorf("safetensors: key %q: %w", clip(key), err)
		}
		r.key = key
		raws = append(raws, r)
		spans = append(spans, stSpan{key, off})
	}
	if err := checkSpans(spans, uint64(len(body))); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return raws, nil
}

// stSpan is where one tensor's bytes lie in the data section.
type stSpan struct {
	key string
	off [2]uint64
}

// checkSpans requires what the reference implementation does
// (huggingface/safetensors, Metadata::validate): in order of their
// offsets, the tensors fill the data section back to back from 0 to its
// end, with no gap, no overlap and nothing after.
func checkSpans(spans []stSpan, size uint64) error {
	sort.Slice(spans, func(i, j int) bool {
		a, b := spans[i].off, spans[j].off
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		return a[1] < b[1]
	})
	var end uint64
	for i, s := range spans {
		switch {
		case s.off[0] > end:
			return fmt.Errorf("key %q: data_offsets [%d, %d] leave a gap after byte %d: the tensors must fill the data section back to back (the reference implementation refuses this as InvalidOffset)", clip(s.key), s.off[0], s.off[1], end)
		case s.off[0] < end:
			return fmt.Errorf("key %q: data_offsets [%d, %d] overlap key %q's, which ends at byte %d (the reference implementation refuses this as InvalidOffset)", clip(s.key), s.off[0], s.off[1], clip(spans[i-1].key), end)
		}
		end = s.off[1]
	}
	if end != size {
		return fmt.Errorf("the data section holds %d bytes after the tensors' last, which ends at byte %d (the reference implementation refuses this as MetadataIncompleteBuffer)", size-end, end)
	}
	return nil
}

// parseSafetensorsHeader decodes the JSON object key by key so that a
// duplicated key, which encoding/json would silently let win, is an error.
// It returns the tensor keys sorted; __metadata__ is skipped.
func parseSafetensorsHeader(h []byte) (map[string]*stEntry, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(h))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	entries := map[string]*stEntry{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := tok.(string) // object keys are always strings
		if seen[key] {
			return nil, nil, fmt.Errorf("key %q appears twice", clip(key))
		}
		seen[key] = true
		if key == "__metadata__" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, nil, err
			}
			continue
		}
		var e stEntry
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("key %q: %w", clip(key), err)
		}
		entries[key] = &e
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF { // only padding may follow
		return nil, nil, errors.New("data after the JSON object")
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return entries, keys, nil
}

// stTensor checks one entry against the data section it indexes.
func stTensor(e *stEntry, body []byte) (r rawTensor, off [2]uint64, err error) {
	if e == nil || e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
		return rawTensor{}, off, errors.New("entry needs dtype, shape and data_offsets")
	}
	dt, ok := safetensorsDTypes[*e.DType]
	if !ok {
		return rawTensor{}, off, fmt.Errorf("unknown dtype %q", *e.DType)
	}
	if len(e.Shape) > maxDims {
		return rawTensor{}, off, fmt.Errorf("%d dimensions, more than PyTorch's %d", len(e.Shape), maxDims)
	}
	shape := make([]int64, len(e.Shape))
	for i, s := range e.Shape {
		v, err := strconv.ParseInt(s.String(), 10, 64)
		if err != nil || v < 0 {
			return rawTensor{}, off, fmt.Errorf("shape entry %s is not a size", s)
		}
		shape[i] = v
	}
	if len(e.DataOffsets) != 2 {
		return rawTensor{}, off, fmt.Errorf("data_offsets has %d numbers, want 2", len(e.DataOffsets))
	}
	for i, s := range e.DataOffsets {
		v, err := strconv.ParseUint(s.String(), 10, 64)
		if err != nil {
			return rawTensor{}, off, fmt.Errorf("data_offsets entry %s is not an offset", s)
		}
		off[i] = v
	}
	if off[0] > off[1] || off[1] > uint64(len(body)) {
		return rawTensor{}, off, fmt.Errorf("data_offsets [%d, %d] outside the %d-byte data section", off[0], off[1], len(body))
	}
	numel, ok := numelOf(shape)
	if !ok {
		return rawTensor{}, off, fmt.Errorf("shape %v: element count overflows", shape)
	}
	nbytes, ok := mul64(numel, dt.size)
	if !ok {
		return rawTensor{}, off, fmt.Errorf("dtype %s shape %v: byte count overflows", *e.DType, shape)
	}
	if uint64(nbytes) != off[1]-off[0] {
		return rawTensor{}, off, fmt.Errorf("dtype %s shape %v needs %d bytes but data_offsets [%d, %d] hold %d",
			*e.DType, shape, nbytes, off[0], off[1], off[1]-off[0])
	}
	l := contiguousLayout(shape)
	buf := body[off[0]:off[1]]
	return rawTensor{dt: dt, layout: l, storageNumel: numel, storage: func() ([]byte, error) { return buf, nil }}, off, nil
}

// scanSafetensorsHeader bounds what decoding the header will allocate,
// before it is decoded: encoding/json builds a value for every element
// of an array and every entry of an object, so a 100 MB header could
// hold a shape of 47 million numbers, or millions of tensor entries, and
// cost gigabytes. It counts, outside strings, the elements of each array
// (a shape has at most maxDims, data_offsets two) and the entries of the
// top-level object.
func scanSafetensorsHeader(h []byte) error {
	const maxArray = 2 * maxDims
	type open struct {
		array bool
		n     int // elements so far
	}
	var stack []open
	inString, escaped := false, false
	for i, c := range h {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			stack = append(stack, open{array: c == '[', n: 1})
		case c == ']' || c == '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case c == ',' && len(stack) > 0:
			top := &stack[len(stack)-1]
			top.n++
			switch {
			case len(stack) == 1 && top.n > maxTensors:
				return fmt.Errorf("more than %d tensors, the most a checkpoint may hold", maxTensors)
			case top.array && top.n > maxArray:
				return fmt.Errorf("an array of more than %d numbers at byte %d: no tensor has so many dimensions", maxArray, i)
			}
		}
	}
	return nil
}
