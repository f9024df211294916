// Command acgen turns a CNN trained with ACNet asymmetric convolution
// blocks into a standalone Go package: it reads the network's spec and
// the PyTorch checkpoint, fuses every ACBlock and BatchNorm into plain
// convolutions, and writes Go (and amd64 and arm64 assembly) with the weights
// baked in.
//
//	acgen -spec net.yaml -weights model.pth -out DIR [-pkg NAME]
//	acgen -recover -out DIR
//
// Run acgen -h for every flag.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/acgen/acgen/driver"
)

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// runMain is the whole command but for os.Exit: it runs, prints any error
// to stderr, and returns the exit status.
func runMain(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		// The driver turns a stage's panic into an error naming the
		// stage; this catches the rest (flags, the report, -verify).
		if v := recover(); v != nil {
			fmt.Fprintf(stderr, "acgen: internal error: %s; please report this with the command line\n", oneLine(fmt.Sprint(v)))
			code = 1
		}
	}()
	err := run(args, stdout, stderr)
	if err == nil {
		return 0
	}
	if err != errUsage {
		fmt.Fprintln(stderr, "acgen:", indent(err.Error()))
	}
	return exitCode(err)
}

// oneLine folds a message onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// recoverOut is -recover: it heals -out after a run killed while writing
// it (docs/out-dir.md), and says what it found.
func recoverOut(dir string, quiet bool, stdout io.Writer) error {
	rep, err := driver.RecoverDir(dir)
	if err != nil || quiet {
		return err
	}
	switch {
	case rep.Finished > 0:
		fmt.Fprintf(stdout, "acgen: %s: finished an interrupted write (its journal was complete): it holds the new package\n", dir)
	case rep.RolledBack > 0:
		fmt.Fprintf(stdout, "acgen: %s: removed an interrupted write that had not started changing it: it holds the package it held before\n", dir)
	default:
		fmt.Fprintf(stdout, "acgen: %s: nothing to recover\n", dir)
	}
	return nil
}
