package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/runtime/ref"
)

// runReference runs the network as trained (or fused) on every sample in
// the input file and prints one line of outputs per sample.
func runReference(cfg *driver.Config, input string, fused bool, stdout io.Writer) error {
	res, err := driver.Run(cfg)
	if err != nil {
		return err
	}
	g := res.Unfused
	if fused {
		g = res.Fused
	}
	samples, err := readSamples(input, g.Input.Len())
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	for _, in := range samples {
		out, err := ref.Run(g, in)
		if err != nil {
			return err
		}
		for i, v := range out {
			if i > 0 {
				w.WriteByte(' ')
			}
			w.WriteString(strconv.FormatFloat(float64(float32(v)), 'g', -1, 32))
		}
		w.WriteByte('\n')
	}
	return nil
}

// readSamples reads whole samples of n values from a .safetensors file
// (tensor "input", or its only tensor), a text file of numbers, or raw
// little-endian float32; path "-" is standard input (text or raw).
func readSamples(path string, n int) ([][]float64, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, 1<<30))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	var vals []float64
	switch {
	case strings.HasSuffix(path, ".safetensors"):
		f, err := checkpoint.Read(path, data, checkpoint.Options{})
		if err != nil {
			return nil, err
		}
		t := f.Tensors["input"]
		if t == nil && len(f.Tensors) == 1 {
			for _, only := range f.Tensors {
				t = only
			}
		}
		if t == nil || t.Data == nil {
			return nil, fmt.Errorf("%s: no float tensor named \"input\" (it has %v)", path, f.Keys())
		}
		vals = t.Data
	case isText(data):
		for i, field := range strings.FieldsFunc(string(data), func(r rune) bool {
			return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r'
		}) {
			v, err := strconv.ParseFloat(field, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %d: %q is not a number", path, i+1, field)
			}
			vals = append(vals, v)
		}
	default:
		if len(data)%4 != 0 {
			return nil, fmt.Errorf("%s: %d bytes is not whole float32 values", path, len(data))
		}
		vals = make([]float64, len(data)/4)
		for i := range vals {
			vals[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		}
	}
	if len(vals) == 0 || len(vals)%n != 0 {
		return nil, fmt.Errorf("%s: %d values is not a whole number of samples of %d", path, len(vals), n)
	}
	var samples [][]float64
	for i := 0; i < len(vals); i += n {
		samples = append(samples, vals[i:i+n])
	}
	return samples, nil
}

// isText reports whether data looks like numbers written as text.
func isText(data []byte) bool {
	head := data[:min(len(data), 512)]
	return len(head) > 0 && bytes.IndexFunc(head, func(r rune) bool {
		return !strings.ContainsRune("0123456789+-.eEinfaINFA, \t\r\n", r)
	}) < 0
}

// stdin is where -run - reads samples; tests replace it.
var stdin io.Reader = os.Stdin
