// Command acgen turns a CNN trained with ACNet asymmetric convolution
// blocks into a standalone Go package: it reads the network's spec and
// the PyTorch checkpoint, fuses every ACBlock and BatchNorm into plain
// convolutions, and writes Go (and amd64 assembly) with the weights
// baked in.
//
//	acgen -spec net.yaml -weights model.pth -out DIR [-pkg NAME]
//
// Run acgen -h for every flag.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "acgen:", indent(err.Error()))
		}
		os.Exit(exitCode(err))
	}
}
