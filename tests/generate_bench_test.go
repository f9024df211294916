package tests

import (
	"path/filepath"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/spec"
)

// BenchmarkGenerate times acgen itself, every stage from reading the
// files to writing the package (the reference runs that make the golden
// vectors included), on ResNet-20 (the fixture) and ResNet-18 (224x224,
// 11.7M parameters after fusion, random weights).
func BenchmarkGenerate(b *testing.B) {
	r20 := fixtures.Get("resnet20")
	b.Run("resnet20", func(b *testing.B) { benchGenerate(b, r20.Spec, r20.Pth) })
	b.Run("resnet18", func(b *testing.B) {
		specPath := "../bench/nets/resnet18.yaml"
		net, err := spec.Load(specPath)
		if err != nil {
			b.Fatal(err)
		}
		tensors, err := synth.Checkpoint(net, 1)
		if err != nil {
			b.Fatal(err)
		}
		weights := filepath.Join(b.TempDir(), "resnet18.safetensors")
		if err := synth.WriteFile(weights, tensors); err != nil {
			b.Fatal(err)
		}
		benchGenerate(b, specPath, weights)
	})
}

func benchGenerate(b *testing.B, specPath, weights string) {
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "pkg")
		if _, err := driver.Run(&driver.Config{Spec: specPath, Weights: weights, Out: out, Asm: assembler()}); err != nil {
			b.Fatal(err)
		}
	}
}
