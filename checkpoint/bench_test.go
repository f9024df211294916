package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoadResNet20 loads the ResNet-20 fixture (1.8 MB, 297 tensors)
// from disk, the way acgen does.
func BenchmarkLoadResNet20(b *testing.B) {
	path := filepath.Join("..", "fixtures", "resnet20", "model.pth")
	st, err := os.Stat(path)
	if err != nil {
		b.Skip("no resnet20 fixture")
	}
	b.SetBytes(st.Size())
	for i := 0; i < b.N; i++ {
		if _, err := Load(path, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// big50MB is a synthetic 50 MB float32 checkpoint: 50 tensors of 1 MiB,
// a few of them strided views, in both formats.
func big50MB(b *testing.B) (pth, safetensors []byte) {
	const n = 1 << 18 // float32 per tensor
	var ts []pkTensor
	storages := map[string][]byte{}
	header := map[string]any{}
	var body []byte
	for i := 0; i < 50; i++ {
		key := fmt.Sprintf("layer%d.weight", i)
		storage := fmt.Sprint(i)
		t := f32Tensor(key, storage, 512, 512)
		if i%10 == 0 {
			t.stride = []int64{1, 512} // transposed: exercises the gather path
		}
		ts = append(ts, t)
		data := make([]byte, 4*n)
		for j := range data {
			data[j] = byte(i + j)
		}
		storages[storage] = data
		header[key] = st("F32", []int64{512, 512}, int64(len(body)), int64(len(body)+len(data)))
		body = append(body, data...)
	}
	return makePth(b, stateDictPickle(ts...), storages), makeSafetensors(header, body)
}

func BenchmarkRead50MB(b *testing.B) {
	pth, safetensors := big50MB(b)
	for _, c := range []struct {
		name string
		data []byte
	}{{"pth", pth}, {"safetensors", safetensors}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for i := 0; i < b.N; i++ {
				if _, err := Read(c.name, c.data, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
