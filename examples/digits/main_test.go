package main

import (
	"path/filepath"
	"testing"
)

// TestSamePredictionsAsPyTorch checks the generated model against
// PyTorch on every held-out digit: the same predicted class for each
// sample, and logits within 1e-4 relative.
func TestSamePredictionsAsPyTorch(t *testing.T) {
	ts, err := loadTestSet(filepath.Join(dir(), "testset.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := classify(ts)
	if err != nil {
		t.Fatal(err)
	}
	n := len(ts.labels)
	if n != 450 {
		t.Fatalf("test set has %d samples, want 450", n)
	}
	if r.agree != n {
		t.Errorf("%d of %d predictions differ from PyTorch's", n-r.agree, n)
	}
	if r.correct != r.torchCorrect {
		t.Errorf("accuracy %d/%d, PyTorch's %d/%d", r.correct, n, r.torchCorrect, n)
	}
	if !(r.maxDiff <= 1e-4) {
		t.Errorf("logits differ from PyTorch's by up to %g (relative), want <= 1e-4", r.maxDiff)
	}
}
