package synth

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
)

// Tensor is one synthesized tensor.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Checkpoint returns random tensors for every key net reads (optional
// ones included), keyed by name. Convolution and linear weights use
// PyTorch's default scale (Kaiming-uniform with a = sqrt(5)), so
// activations stay of order one through depth.
func Checkpoint(net *spec.Net, seed uint64) (map[string]Tensor, error) {
	wants, err := graph.Wants(net, graph.Options{})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	out := map[string]Tensor{}
	for _, w := range wants {
		n := 1
		for _, d := range w.Shape {
			n *= d
		}
		data := make([]float32, n)
		fanIn := 1
		if len(w.Shape) > 1 {
			fanIn = n / w.Shape[0]
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		bnWeight := strings.HasSuffix(w.Key, "_bn.weight") || isBNWeight(net, w.Key)
		uniform := func(lo, hi float64) float32 { return float32(lo + (hi-lo)*rng.Float64()) }
		for i := range data {
			switch {
			case strings.HasSuffix(w.Key, "running_var"):
				data[i] = uniform(0.5, 2)
			case strings.HasSuffix(w.Key, "running_mean"):
				data[i] = float32(0.3 * rng.NormFloat64())
			case bnWeight:
				data[i] = uniform(0.5, 1.5)
			default: // weights and biases
				data[i] = uniform(-bound, bound)
			}
		}
		out[w.Key] = Tensor{Shape: w.Shape, Data: data}
	}
	return out, nil
}

// isBNWeight reports whether key is the gamma of a standalone bn layer.
func isBNWeight(net *spec.Net, key string) bool {
	for _, l := range net.Layers {
		if l.Op == spec.BN && key == l.Prefix+".weight" {
			return true
		}
	}
	return false
}

// WriteSafetensors writes tensors as a safetensors file (F32), keys in
// sorted order.
func WriteSafetensors(w io.Writer, tensors map[string]Tensor) error {
	keys := make([]string, 0, len(tensors))
	for k := range tensors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type entry struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	header := map[string]any{}
	off := 0
	for _, k := range keys {
		n := 4 * len(tensors[k].Data)
		header[k] = entry{DType: "F32", Shape: tensors[k].Shape, Offsets: [2]int{off, off + n}}
		off += n
	}
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(len(h)))
	if _, err := w.Write(size[:]); err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, k := range keys {
		for _, v := range tensors[k].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) >= 1<<16 {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("writing safetensors: %w", err)
	}
	return nil
}

// WriteFile writes tensors as a safetensors file at path.
func WriteFile(path string, tensors map[string]Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := WriteSafetensors(w, tensors); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// File is tensors as checkpoint.Load returns a checkpoint holding them,
// for tests that need no file.
func File(path string, tensors map[string]Tensor) *checkpoint.File {
	ck := &checkpoint.File{Path: path, Format: "safetensors", Tensors: map[string]*checkpoint.Tensor{}}
	for k, v := range tensors {
		data := make([]float64, len(v.Data))
		for i, x := range v.Data {
			data[i] = float64(x)
		}
		ck.Tensors[k] = &checkpoint.Tensor{Key: k, DType: "float32", Shape: v.Shape, Data: data}
	}
	return ck
}
