// Command digits classifies the held-out 8x8 handwritten digits of
// scikit-learn with a small CNN trained with ACNet and compiled to Go by
// acgen (package model, generated from net.yaml and model.pth), and
// compares every prediction with PyTorch's:
//
//	go run ./examples/digits
//
// Regenerate the model package with `go generate ./examples/digits`.
package main

//go:generate go run ../../cmd/acgen -q -spec net.yaml -weights model.pth -out model -pkg model

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"

	"github.com/acgen/acgen/examples/digits/model"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "digits:", err)
		os.Exit(1)
	}
}

func run() error {
	ts, err := loadTestSet(filepath.Join(dir(), "testset.safetensors"))
	if err != nil {
		return err
	}
	res, err := classify(ts)
	if err != nil {
		return err
	}
	n := len(ts.labels)
	fmt.Printf("digits: %d held-out 8x8 images through the generated package (%.2f MFLOP, %d parameters)\n",
		n, float64(model.FLOPs)/1e6, model.Params)
	fmt.Printf("accuracy:                 %d/%d = %.2f%%\n", res.correct, n, 100*float64(res.correct)/float64(n))
	fmt.Printf("PyTorch's accuracy:       %d/%d = %.2f%%\n", res.torchCorrect, n, 100*float64(res.torchCorrect)/float64(n))
	fmt.Printf("same prediction as PyTorch: %d/%d samples\n", res.agree, n)
	fmt.Printf("largest logit difference: %.2g (relative to max(1, |logit|))\n", res.maxDiff)
	if res.agree != n {
		return fmt.Errorf("%d predictions differ from PyTorch's", n-res.agree)
	}
	return nil
}

type result struct {
	correct, torchCorrect, agree int
	maxDiff                      float64
}

// classify runs the generated model on every test image.
func classify(ts *testSet) (result, error) {
	var r result
	logits := make([]float32, model.OutputLen)
	for i, label := range ts.labels {
		img := ts.images[i*model.InputLen : (i+1)*model.InputLen]
		if err := model.Infer(logits, img); err != nil {
			return r, err
		}
		want := ts.logits[i*model.OutputLen : (i+1)*model.OutputLen]
		pred, torchPred := argmax(logits), argmax(want)
		if pred == int(label) {
			r.correct++
		}
		if torchPred == int(label) {
			r.torchCorrect++
		}
		if pred == torchPred {
			r.agree++
		}
		for j := range logits {
			d := math.Abs(float64(logits[j]-want[j])) / math.Max(1, math.Abs(float64(want[j])))
			r.maxDiff = max(r.maxDiff, d)
		}
	}
	return r, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// dir is this example's directory, so the program runs from anywhere in
// the repository.
func dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Dir(file)
}
