package checkpoint

import (
	"encoding/binary"
	"strings"
	"testing"
)

func st(dtype string, shape []int64, begin, end int64) stTest {
	return stTest{DType: dtype, Shape: shape, DataOffsets: []int64{begin, end}}
}

func TestSafetensorsValid(t *testing.T) {
	body := append(f32Bytes(1, 2, 3, 4, 4), 1, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3f)
	body = append(append(body, f32Bytes(1)...), 7, 0, 0, 0, 0, 0, 0, 0)
	f := mustRead(t, "ok.safetensors", makeSafetensors(map[string]any{
		"__metadata__":          map[string]any{"format": "pt", "anything": []int{1}},
		"w":                     st("F32", []int64{2, 2}, 0, 16),
		"scalar":                st("F32", []int64{}, 16, 20),
		"i":                     st("I64", []int64{1}, 20, 28),
		"h":                     st("BF16", []int64{1}, 28, 30),
		"empty":                 st("F16", []int64{0, 5}, 30, 30),
		"module.x":              st("F32", []int64{1}, 30, 34),
		"x.num_batches_tracked": st("I64", []int64{}, 34, 42),
	}, body))
	want := "empty float16 [0 5] []\nh bfloat16 [1] [1]\ni int64 [1] []\nmodule.x float32 [1] [1]\nscalar float32 [] [4]\nw float32 [2 2] [1 2 3 4]\n"
	if got := describe(f); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	dp := mustRead(t, "dp.safetensors", makeSafetensors(map[string]any{
		"module.a": st("F32", []int64{1}, 0, 4), "module.b": st("F32", []int64{1}, 4, 8),
	}, f32Bytes(1, 2)))
	if got := dp.Keys(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("DataParallel prefix kept: %v", got)
	}
}

func TestSafetensorsHostile(t *testing.T) {
	body := f32Bytes(1, 2, 3, 4)
	hdr := func(e any) []byte { return makeSafetensors(map[string]any{"w": e}, body) }
	raw := func(n uint64, rest string) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"huge header", raw(1<<62, "{}"), "header length 4611686018427387904 but only 2 bytes follow"},
		{"max header", raw(1<<64-1, "{\"a\":1}"), "header length 18446744073709551615"},
		{"short header", raw(100, "{}"), "header length 100 but only 2 bytes follow"},
		{"bad json", raw(3, "{]}"), "safetensors: header: "},
		{"cut header", raw(2, "{}")[:9], "header length 2 but only 1 bytes follow"},
		{"seven bytes", []byte("1234567"), "unknown format"},
		{"trailing json", raw(5, "{}{} "), "data after the JSON object"},
		{"offsets past end", hdr(st("F32", []int64{5}, 0, 20)), `key "w": data_offsets [0, 20] outside the 16-byte data section`},
		{"overlap", makeSafetensors(map[string]any{"w": st("F32", []int64{2}, 0, 8), "v": st("F32", []int64{2}, 4, 12), "u": st("F32", []int64{1}, 12, 16)}, body),
			`key "v": data_offsets [4, 12] overlap key "w"'s, which ends at byte 8 (the reference implementation refuses this as InvalidOffset)`},
		{"gap", makeSafetensors(map[string]any{"w": st("F32", []int64{1}, 0, 4), "v": st("F32", []int64{2}, 8, 16)}, body),
			`key "v": data_offsets [8, 16] leave a gap after byte 4`},
		{"tail", makeSafetensors(map[string]any{"w": st("F32", []int64{3}, 0, 12)}, body),
			"the data section holds 4 bytes after the tensors' last, which ends at byte 12"},
		{"offsets reversed", hdr(st("F32", []int64{0}, 8, 4)), "data_offsets [8, 4] outside"},
		{"offsets negative", hdr(st("F32", []int64{1}, -4, 0)), "data_offsets entry -4 is not an offset"},
		{"offsets huge", hdr(map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []any{0, 1e30}}), "data_offsets entry 1e+30 is not an offset"},
		{"offsets fraction", hdr(map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []any{0, 3.5}}), "is not an offset"},
		{"three offsets", hdr(map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{0, 4, 8}}), "data_offsets has 3 numbers, want 2"},
		{"size mismatch", hdr(st("F32", []int64{3}, 0, 16)), "dtype F32 shape [3] needs 12 bytes but data_offsets [0, 16] hold 16"},
		{"shape overflow", hdr(st("F32", []int64{1 << 40, 1 << 40}, 0, 0)), "element count overflows"},
		{"bytes overflow", hdr(st("F64", []int64{1 << 61}, 0, 16)), "byte count overflows"},
		{"zero-size overflow", hdr(st("F32", []int64{0, 1 << 40, 1 << 40}, 0, 0)), "element count overflows"},
		{"negative shape", hdr(st("F32", []int64{-4}, 0, 16)), "shape entry -4 is not a size"},
		{"rank", hdr(st("F32", make([]int64, 65), 0, 0)), "65 dimensions"},
		{"unknown dtype", hdr(st("F128", []int64{1}, 0, 16)), `key "w": unknown dtype "F128"`},
		{"missing dtype", hdr(map[string]any{"shape": []int{1}, "data_offsets": []int{0, 4}}), "entry needs dtype, shape and data_offsets"},
		{"null shape", hdr(map[string]any{"dtype": "F32", "shape": nil, "data_offsets": []int{0, 4}}), "entry needs"},
		{"entry not object", hdr(7), `header: key "w": json: cannot unmarshal`},
		{"dtype not string", hdr(map[string]any{"dtype": 1, "shape": []int{1}, "data_offsets": []int{0, 4}}), `key "w"`},
		{"duplicate key", raw(94, `{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`), `key "w" appears twice`},
		{"deep json", raw(40002, "{"+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+"}"), "safetensors: header: "},
	}
	for _, c := range cases {
		expectErr(t, c.name+".safetensors", c.data, c.want)
	}
	_, err := readSmall(t, "limit.safetensors", hdr(st("F32", []int64{4}, 0, 16)), Options{MaxBytes: 15})
	checkErr(t, err, "limit.safetensors", `key "w": tensors total more than 15 bytes`)
}
