package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/mod/module"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// errUsage is returned after a usage problem has been printed.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if err == errUsage {
		return 2
	}
	return 1
}

// indent puts every line after the first of a multi-line error under the
// "acgen: " prefix, so a list of problems reads as one block.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n       ") }

func run(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet(&o)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(normalizeArgs(fs, args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			usage(stdout, fs)
			return nil
		}
		fmt.Fprintf(stderr, "acgen: %v\nRun acgen -h for usage.\n", flagError(fs, args, err))
		return errUsage
	}
	if o.help {
		usage(stdout, fs)
		return nil
	}
	if o.version {
		fmt.Fprintln(stdout, "acgen", version())
		return nil
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "acgen: unexpected argument %q (flags take one dash or two: -spec net.yaml)\nRun acgen -h for usage.\n", fs.Arg(0))
		return errUsage
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "acgen: %v\nRun acgen -h for usage.\n", err)
		return errUsage
	}
	if o.verify && o.spec == "" {
		return verifyDir(o.out, o.quiet, stdout)
	}
	if o.recover {
		return recoverOut(o.out, o.quiet, stdout)
	}

	maxMemory, err := memorySize(o.maxMemory)
	if err != nil {
		fmt.Fprintf(stderr, "acgen: -max-memory: %v\nRun acgen -h for usage.\n", err)
		return errUsage
	}
	if maxMemory <= 0 {
		maxMemory = driver.DefaultMaxMemory()
	}
	// The garbage collector works to the same budget, collecting harder
	// as the heap nears it rather than growing past it.
	debug.SetMemoryLimit(maxMemory)
	prog := newProgress(stderr, o.quiet)
	cfg := &driver.Config{
		MaxMemory:          maxMemory,
		Spec:               o.spec,
		Weights:            o.weights,
		Out:                o.out,
		Package:            o.pkg,
		GoMod:              o.gomod,
		AllowUnusedKeys:    o.allowUnused,
		MaxActivationBytes: mbToBytes(o.maxActivationMB),
		MaxCheckFLOPs:      o.maxCheckGFLOP * 1e9,
		DebugChecks:        o.debugChecks,
		Plan:               plan.Options{NoWinograd: o.noWinograd},
		Dump:               o.dump,
		Log:                stdout,
		Status:             prog.status,
	}
	switch o.tune {
	case "portable":
	case "host":
		caches, err := target.HostCaches()
		if err != nil {
			fmt.Fprintf(stderr, "acgen: -tune host: %v\n", err)
			return errUsage
		}
		cfg.Plan.Caches = &caches
	default:
		fmt.Fprintf(stderr, "acgen: -tune %q: want portable or host\nRun acgen -h for usage.\n", o.tune)
		return errUsage
	}
	targets, err := target.ByName(o.isa)
	if err != nil {
		fmt.Fprintf(stderr, "acgen: -isa: %v\nRun acgen -h for usage.\n", err)
		return errUsage
	}
	cfg.Targets = targets
	if !o.noAsm && (len(targets) > 1 || targets[0] != target.Go) {
		cfg.Asm = assembler()
	}
	if o.runInput != "" {
		cfg.Out = ""
		cfg.KeepWeights = true // the reference runs them after the check stage
		return runReference(cfg, o.runInput, o.fused, stdout)
	}
	if o.verify {
		// Test the package before it replaces the one in -out, so that
		// a package that fails leaves the previous one in place.
		cfg.Verify = func(files []gen.File) error {
			// The write stage's spinner says what runs meanwhile.
			const write, verify = "write the package", "test the new package (go vet, go test, -tags purego)"
			prog.status(write, true, 0)
			prog.status(verify, false, 0)
			defer prog.status(write, false, 0)
			defer prog.status(verify, true, 0)
			return verifyFiles(o.out, files)
		}
	}
	res, err := driver.Run(cfg)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings { // even with -q: the package is less exact than it looks
		fmt.Fprintf(stderr, "acgen: warning: %s\n", w)
	}
	if o.dump != "" {
		return nil // stdout holds the dump alone
	}
	if !o.quiet {
		printSummary(stdout, cfg, res)
		if o.verify {
			fmt.Fprintf(stdout, "acgen: %s: verified before writing (go vet, go test, go test -tags purego)\n", o.out)
		}
	}
	if o.report != "" {
		prog.status("time every layer (go test -bench BenchmarkLayers)", false, 0)
		defer prog.status("", true, 0)
		return writeReport(o.report, res, stdout, o.quiet)
	}
	return nil
}

// mbToBytes converts -max-activation-mb to bytes, saturating rather than
// wrapping around (a wrapped limit would be negative, read as "default").
func mbToBytes(mb int64) int64 {
	if mb > math.MaxInt64>>20 {
		return math.MaxInt64
	}
	return mb << 20
}

func (o *options) check() error {
	switch {
	case o.recover:
		if o.out == "" || o.spec != "" || o.weights != "" || o.verify || o.runInput != "" || o.dump != "" || o.report != "" {
			return errors.New("-recover takes -out DIR alone (and -q)")
		}
		return nil
	case o.verify && o.spec == "" && o.weights == "":
		if o.out == "" {
			return errors.New("-verify needs -out DIR")
		}
		return nil
	case o.spec == "" || o.weights == "":
		return errors.New("need -spec and -weights")
	case o.runInput == "" && o.out == "" && o.dump == "":
		return errors.New("need -out DIR (or -run FILE, or -dump STAGE)")
	case o.dump != "" && !slices.Contains(driver.StageNames(), o.dump):
		return fmt.Errorf("-dump: no stage %q; stages are %s", o.dump, strings.Join(driver.StageNames(), ", "))
	case o.dump == "write" && o.out == "":
		return errors.New("-dump write needs -out DIR: it shows what writing the package changed")
	case o.runInput != "" && o.out != "":
		return errors.New("-run generates nothing; drop -out")
	case o.fused && o.runInput == "":
		return errors.New("-fused goes with -run")
	case o.report != "" && o.out == "":
		return errors.New("-report needs -out: it times the package it writes")
	case o.report != "" && !slices.Contains([]string{".svg", ".html", ".htm", ".txt", ""}, strings.ToLower(filepath.Ext(o.report))):
		return fmt.Errorf("-report %s: acgen draws the report as .svg or .html, or writes it as text (.txt)", o.report)
	case o.maxActivationMB <= 0:
		return errors.New("-max-activation-mb must be positive")
	case !(o.maxCheckGFLOP > 0):
		return errors.New("-max-check-gflop must be positive")
	case o.gomod != "":
		if err := module.CheckPath(o.gomod); err != nil {
			return fmt.Errorf("-gomod: %q is not a valid module path: %w", o.gomod, err)
		}
	}
	return nil
}
