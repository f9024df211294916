package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// maxDims is PyTorch's own limit on a tensor's rank; more is a forged file.
const maxDims = 64

// layout is where a tensor's elements lie in its storage, in elements.
type layout struct {
	shape  []int64
	stride []int64
	offset int64
}

// contiguousLayout is the layout of a row-major tensor that starts its
// storage, as every safetensors tensor does. shape must have passed numelOf.
func contiguousLayout(shape []int64) layout {
	stride := make([]int64, len(shape))
	s := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		stride[i] = s
		s *= max(shape[i], 1)
	}
	return layout{shape: shape, stride: stride}
}

// numelOf returns the element count of a shape of non-negative sizes. It
// also fails when the product with zero sizes counted as one overflows, so
// that contiguousLayout's strides cannot overflow either.
func numelOf(shape []int64) (int64, bool) {
	numel, span := int64(1), int64(1)
	for _, n := range shape {
		var ok1, ok2 bool
		numel, ok1 = mul64(numel, n)
		span, ok2 = mul64(span, max(n, 1))
		if n < 0 || !ok1 || !ok2 {
			return 0, false
		}
	}
	return numel, true
}

// check verifies that every element the layout addresses lies inside a
// storage of storageNumel elements, with every product and sum checked for
// overflow, and returns the tensor's element count. Nothing is allocated
// from the file's numbers before this passes.
func (l layout) check(storageNumel int64) (numel int64, err error) {
	if len(l.shape) > maxDims {
		return 0, fmt.Errorf("%d dimensions, more than PyTorch's %d", len(l.shape), maxDims)
	}
	if len(l.stride) != len(l.shape) {
		return 0, fmt.Errorf("shape %v has %d dimensions but stride %v has %d", l.shape, len(l.shape), l.stride, len(l.stride))
	}
	if l.offset < 0 {
		return 0, fmt.Errorf("negative storage offset %d", l.offset)
	}
	numel = 1
	for i, n := range l.shape {
		if n < 0 || l.stride[i] < 0 {
			return 0, fmt.Errorf("negative size or stride in shape %v stride %v", l.shape, l.stride)
		}
		var ok bool
		if numel, ok = mul64(numel, n); !ok {
			return 0, fmt.Errorf("shape %v: element count overflows", l.shape)
		}
	}
	if numel == 0 {
		if l.offset > storageNumel {
			return 0, fmt.Errorf("storage offset %d is past the storage's %d elements", l.offset, storageNumel)
		}
		return 0, nil
	}
	last := l.offset // index of the furthest element
	for i, n := range l.shape {
		step, ok := mul64(n-1, l.stride[i])
		if ok {
			last, ok = add64(last, step)
		}
		if !ok {
			return 0, fmt.Errorf("shape %v stride %v offset %d: extent overflows", l.shape, l.stride, l.offset)
		}
	}
	if last >= storageNumel {
		return 0, fmt.Errorf("shape %v stride %v offset %d reaches element %d of a storage of %d",
			l.shape, l.stride, l.offset, last, storageNumel)
	}
	return numel, nil
}

// mul64 multiplies non-negative a and b, reporting overflow.
func mul64(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// add64 adds non-negative a and b, reporting overflow.
func add64(a, b int64) (int64, bool) {
	s := a + b
	return s, s >= a
}

// contiguous reports whether the layout is row-major without gaps
// (dimensions of size 1 may have any stride, as PyTorch allows).
func (l layout) contiguous() bool {
	want := int64(1)
	for i := len(l.shape) - 1; i >= 0; i-- {
		if l.shape[i] != 1 && l.stride[i] != want {
			return false
		}
		want *= l.shape[i]
	}
	return true
}

// gather converts the numel elements that l addresses in storage (little-
// endian bytes, already checked to hold every addressed element) into a
// row-major float64 slice. Strided (non-contiguous) layouts are walked one
// innermost row at a time.
func gather(dt *dtype, storage []byte, l layout, numel int64) ([]float64, error) {
	dst := make([]float64, numel)
	if numel == 0 {
		return dst, nil
	}
	if l.contiguous() { // the usual case: one run, no odometer
		return dst, decodeRow(dt, dst, storage, l.offset, 1)
	}
	inner := len(l.shape) - 1
	n := l.shape[inner]
	idx := make([]int64, inner) // odometer over the outer dimensions
	for k := int64(0); k < numel; k += n {
		start := l.offset
		for d, i := range idx {
			start += i * l.stride[d]
		}
		if err := decodeRow(dt, dst[k:k+n], storage, start, l.stride[inner]); err != nil {
			return nil, err
		}
		for d := inner - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < l.shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return dst, nil
}

// decodeRow converts len(dst) elements starting at element start, step
// elements apart. The slice expressions are checked by Go as well, but
// check has already proved them in range.
func decodeRow(dt *dtype, dst []float64, b []byte, start, step int64) error {
	le := binary.LittleEndian
	switch dt {
	case dtFloat32:
		for i := range dst {
			p := (start + int64(i)*step) * 4
			dst[i] = f32ToF64(le.Uint32(b[p : p+4]))
		}
	case dtFloat64:
		for i := range dst {
			p := (start + int64(i)*step) * 8
			dst[i] = math.Float64frombits(le.Uint64(b[p : p+8]))
		}
	case dtFloat16:
		for i := range dst {
			p := (start + int64(i)*step) * 2
			dst[i] = f16ToF64(le.Uint16(b[p : p+2]))
		}
	case dtBFloat16:
		for i := range dst {
			p := (start + int64(i)*step) * 2
			dst[i] = bf16ToF64(le.Uint16(b[p : p+2]))
		}
	default:
		return errors.New("no float conversion for " + dt.name)
	}
	return nil
}
