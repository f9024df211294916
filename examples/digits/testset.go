package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// testSet is testset.safetensors: the held-out images as PyTorch saw
// them, their labels, and PyTorch's logits.
type testSet struct {
	images, labels, logits []float32
}

// loadTestSet reads the few float32 tensors of a safetensors file: an
// 8-byte header length, a JSON header, then the data.
func loadTestSet(path string) (*testSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 8 {
		return nil, fmt.Errorf("%s: too short", path)
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8) {
		return nil, fmt.Errorf("%s: bad header length", path)
	}
	var header map[string]struct {
		DType   string `json:"dtype"`
		Offsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	body := data[8+n:]
	tensor := func(name string) ([]float32, error) {
		h, ok := header[name]
		if !ok || h.DType != "F32" || h.Offsets[0] < 0 || h.Offsets[1] > len(body) || h.Offsets[0] > h.Offsets[1] {
			return nil, fmt.Errorf("%s: no float32 tensor %q", path, name)
		}
		raw := body[h.Offsets[0]:h.Offsets[1]]
		v := make([]float32, len(raw)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return v, nil
	}
	ts := &testSet{}
	if ts.images, err = tensor("images"); err != nil {
		return nil, err
	}
	if ts.labels, err = tensor("labels"); err != nil {
		return nil, err
	}
	if ts.logits, err = tensor("logits"); err != nil {
		return nil, err
	}
	return ts, nil
}
