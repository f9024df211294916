package templates

import (
	"fmt"
	"image"
	"sort"
)

// The helpers around Infer that classifiers and image models need. None
// is on the inference path: Infer takes and returns plain float32 slices.

// ArgMax is the index of the largest value of v (the first of equals),
// a classifier's top-1 class; -1 for an empty v. NaN is never the largest.
func ArgMax(v []float32) int {
	best := -1
	for i, x := range v {
		if x == x && (best < 0 || x > v[best]) {
			best = i
		}
	}
	return best
}

// TopK returns the indices of the k largest values of v, largest first
// (ties: lower index first), a classifier's top-k classes; k is capped at
// len(v), and NaNs come last.
func TopK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := v[idx[a]], v[idx[b]]
		return x > y || x == x && y != y
	})
	return idx[:max(0, min(k, len(v)))]
}

// Normalize applies per-channel normalisation in place, x = (x - mean[c]) /
// std[c], to one or more samples in C,H,W order, as torchvision's
// transforms.Normalize does before the network sees them (for ImageNet
// models, mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225 on values
// in [0, 1]). It is a separate step, not folded into the first
// convolution, because that fold is not exact at the zero-padded border.
func Normalize(src []float32, mean, std []float32) error {
	if len(mean) != InputChannels || len(std) != InputChannels {
		return fmt.Errorf("%s: Normalize: %d means and %d stds for %d channels", packageName, len(mean), len(std), InputChannels)
	}
	if len(src)%InputLen != 0 {
		return &LengthError{Arg: "src", Got: len(src), Want: InputLen, Batch: true}
	}
	plane := InputHeight * InputWidth
	for i := range src {
		c := i / plane % InputChannels
		src[i] = (src[i] - mean[c]) / std[c]
	}
	return nil
}

// FromImage writes img into dst (InputLen values) in the network's C,H,W
// layout: red, green and blue planes for a 3-channel input, luminance for
// a 1-channel one, each value in [0, 1] as torchvision's ToTensor gives
// (colours as image.Image's RGBA returns them: premultiplied by alpha).
// img must already be InputWidth x InputHeight: resizing and cropping
// are the caller's (golang.org/x/image/draw does both), because how to
// resize is part of the model's training recipe. Follow it with Normalize
// if the model was trained on normalised inputs.
func FromImage(dst []float32, img image.Image) error {
	b := img.Bounds()
	if b.Dx() != InputWidth || b.Dy() != InputHeight {
		return fmt.Errorf("%s: FromImage: the image is %dx%d, the network takes %dx%d (resize it first)", packageName, b.Dx(), b.Dy(), InputWidth, InputHeight)
	}
	if InputChannels != 1 && InputChannels != 3 {
		return fmt.Errorf("%s: FromImage: the network takes %d channels, not an image's 1 or 3", packageName, InputChannels)
	}
	if len(dst) != InputLen {
		return &LengthError{Arg: "dst", Got: len(dst), Want: InputLen}
	}
	plane := InputHeight * InputWidth
	for y := 0; y < InputHeight; y++ {
		for x := 0; x < InputWidth; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*InputWidth + x
			if InputChannels == 1 {
				// ITU-R 601 luma, as image/color.GrayModel and PIL's "L" use.
				dst[i] = float32((299*float64(r) + 587*float64(g) + 114*float64(bl)) / 1000 / 0xffff)
				continue
			}
			dst[i] = float32(r) / 0xffff
			dst[plane+i] = float32(g) / 0xffff
			dst[2*plane+i] = float32(bl) / 0xffff
		}
	}
	return nil
}
