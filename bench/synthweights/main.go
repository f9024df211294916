// Command synthweights writes a checkpoint of random weights for a spec,
// as safetensors, for benchmarking networks whose trained weights are not
// in the repository:
//
//	go run ./bench/synthweights -spec bench/nets/resnet18.yaml -out /tmp/resnet18.safetensors
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/spec"
)

func main() {
	specPath := flag.String("spec", "", "spec file")
	out := flag.String("out", "", "safetensors file to write")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := run(*specPath, *out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "synthweights:", err)
		os.Exit(1)
	}
}

func run(specPath, out string, seed uint64) error {
	if specPath == "" || out == "" {
		return fmt.Errorf("need -spec and -out")
	}
	net, err := spec.Load(specPath)
	if err != nil {
		return err
	}
	tensors, err := synth.Checkpoint(net, seed)
	if err != nil {
		return err
	}
	return synth.WriteFile(out, tensors)
}
