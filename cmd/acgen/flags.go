package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/target"
)

// options are the command line, parsed.
type options struct {
	spec, weights, out, pkg, gomod string
	verify, recover                bool
	runInput                       string
	fused                          bool
	allowUnused                    bool
	maxActivationMB                int64
	maxCheckGFLOP                  float64
	noAsm, noWinograd              bool
	debugChecks                    bool
	isa                            string
	tune                           string
	dump                           string
	quiet                          bool
	version                        bool
	maxMemory                      string
	report                         string
	help                           bool
}

func newFlagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("acgen", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&o.spec, "spec", "", "the network's spec `FILE` (net.yaml)")
	fs.StringVar(&o.weights, "weights", "", "the trained checkpoint `FILE`: PyTorch .pth/.pt (torch.save's zip format or the legacy one of torch < 1.6), .safetensors, or HDF5 (h5py datasets, as the official ACNet code saves)")
	fs.StringVar(&o.out, "out", "", "the package `DIR` to write; acgen replaces only files it generated")
	fs.StringVar(&o.pkg, "pkg", "", "Go package `NAME` (default: the spec's name, else DIR's base name)")
	fs.StringVar(&o.gomod, "gomod", "", "also write a go.mod declaring `MODULE`, making DIR a module of its own")
	fs.BoolVar(&o.verify, "verify", false, "run the new package's tests (go vet, go test, and go test -tags purego) in a scratch module before it replaces DIR's; with no -spec, verify DIR as it is")
	fs.BoolVar(&o.recover, "recover", false, "finish or undo a write into DIR that was killed midway (every run into DIR does this first), and exit; see docs/out-dir.md")
	fs.StringVar(&o.runInput, "run", "", "run the reference runtime on the samples in `FILE` (.safetensors tensor \"input\", raw little-endian float32, or text numbers) and print the outputs, one sample a line; generates nothing")
	fs.BoolVar(&o.fused, "fused", false, "with -run: run the fused network instead of the training form")
	fs.BoolVar(&o.allowUnused, "allow-unused-keys", false, "accept checkpoint tensors that no layer reads")
	fs.Int64Var(&o.maxActivationMB, "max-activation-mb", 1024, "refuse specs whose activations for one sample exceed `MB` megabytes")
	fs.StringVar(&o.maxMemory, "max-memory", "", "refuse, before reading its weights, a network whose generation needs more than `SIZE` of memory (such as 4GB or 800MB; default three quarters of the machine's)")
	fs.Float64Var(&o.maxCheckGFLOP, "max-check-gflop", driver.DefaultMaxCheckFLOPs/1e9, "bound the check stage's work (the network run as trained and fused, in float64) to `GFLOP`: fewer golden samples, or a refusal")
	fs.StringVar(&o.isa, "isa", strings.Join(target.Names(), ","), "the instruction sets to hold kernels for, best first at run time: `LIST` of "+strings.Join(target.Names(), ", ")+" (the portable Go kernels are always there)")
	fs.StringVar(&o.tune, "tune", "portable", "the caches the planner's cost model assumes: `portable` (the smallest of the cores each instruction set's program is for, the same plan wherever acgen runs) or host (this machine's L1 and L2, read from Linux's sysfs, for the instruction sets of its architecture)")
	fs.BoolVar(&o.noAsm, "no-asm", false, "generate Go kernels only, no amd64 or arm64 assembly (the same as -isa go)")
	fs.BoolVar(&o.noWinograd, "no-winograd", false, "compute every convolution directly: about 25% slower, but less memory and no Winograd weights to compute on the package's first call")
	fs.StringVar(&o.dump, "dump", "", "print what `STAGE` produced: "+strings.Join(driver.StageNames(), ", "))
	fs.StringVar(&o.report, "report", "", "after writing, time every layer of the package on this machine (its BenchmarkLayers), print a table and draw it to `FILE` (.html or .svg; else text)")
	fs.BoolVar(&o.debugChecks, "debug-checks", false, "verify the plan's invariants (buffers in bounds, tiles covering every channel) before emitting: for debugging acgen")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print errors only; no progress on a terminal")
	fs.BoolVar(&o.version, "version", false, "print acgen's version and exit")
	fs.BoolVarP(&o.help, "help", "h", false, "show this help")
	return fs
}

// normalizeArgs lets Go-style single-dash long flags (-spec x) mean what
// they mean to the flag package, by rewriting them to pflag's --spec x.
// Only names of defined long flags are rewritten, so shorthand flags
// (-q) and values that start with a dash are left alone.
func normalizeArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name := a[1:]
			if eq := strings.IndexByte(name, '='); eq >= 0 {
				name = name[:eq]
			}
			if len(name) > 1 && fs.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

func usage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `acgen turns a CNN trained with ACNet (asymmetric convolution blocks) into a
standalone Go package with the weights baked in.

Usage:
  acgen -spec net.yaml -weights model.pth -out DIR [-pkg NAME]   generate a package
  acgen -spec net.yaml -weights model.pth -out DIR -verify       ...tested before it is written
  acgen -verify -out DIR                                         test a generated package
  acgen -recover -out DIR                                        heal DIR after a run killed while writing it
  acgen -spec net.yaml -weights model.pth -run input.bin         run the reference runtime

Flags (one dash or two):
`)
	printFlags(w, fs)
	fmt.Fprint(w, `
The spec format is in acgen's README; tools/torch2spec.py in acgen's
repository writes one from a PyTorch model.

Exit status: 0 on success, 1 when an input is wrong or a check fails, 2 on
bad usage.
`)
}

// printFlags lists the flags the way the usage lines above spell them,
// with one dash (pflag's own listing shows two dashes and, for booleans,
// "[=true|false]").
func printFlags(w io.Writer, fs *pflag.FlagSet) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *pflag.Flag) {
		arg, usage := pflag.UnquoteUsage(f)
		if f.Value.Type() == "bool" {
			arg = ""
		}
		name := "-" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", " + name
		}
		if arg != "" {
			name += " " + arg
		}
		if f.Value.Type() != "bool" && f.DefValue != "" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, usage)
	})
	tw.Flush()
}

// flagSynonyms are the names other tools give acgen's flags, too far in
// spelling for Closest to find: -package is -pkg.
var flagSynonyms = map[string]string{
	"package": "pkg", "output": "out", "outdir": "out", "o": "out",
	"checkpoint": "weights", "ckpt": "weights", "model": "weights", "config": "spec",
}

// flagError rewrites pflag's parse errors in acgen's words: an unknown
// flag is named as the user typed it, with the closest known flag, as
// spec errors suggest the closest field.
func flagError(fs *pflag.FlagSet, args []string, err error) error {
	msg := err.Error()
	var name string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		name = strings.TrimPrefix(msg, "unknown flag: --")
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// pflag read "-weight" as the shorthands w, e, i, ...: find the
		// argument it came from.
		if i := strings.LastIndex(msg, " in -"); i >= 0 {
			name = msg[i+len(" in -"):]
		}
	default:
		return err
	}
	name, _, _ = strings.Cut(name, "=")
	if s, ok := flagSynonyms[name]; ok {
		return fmt.Errorf("unknown flag -%s (did you mean -%s?)", name, s)
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	if c := diag.Closest(name, names); c != "" {
		return fmt.Errorf("unknown flag -%s (did you mean -%s?)", name, c)
	}
	return fmt.Errorf("unknown flag -%s", name)
}
