package templates

import "fmt"

// Example runs the network on one sample and reads its top classes. The
// sample is all zeros here; a real one is InputLen float32 values in
// C,H,W order, from FromImage (then Normalize, if the model was trained on
// normalised inputs) or from your own decoding.
func Example() {
	Warm() // at startup: the first request is then as fast as the others

	src := make([]float32, InputLen)
	dst := make([]float32, OutputLen)
	if err := Infer(dst, src); err != nil {
		fmt.Println(err)
		return
	}
	top := TopK(dst, 3)
	fmt.Println(len(dst), "outputs; the top 3 are", len(top), "of them, best first:", top[0] == ArgMax(dst))
	// Output: 1 outputs; the top 3 are 1 of them, best first: true
}
