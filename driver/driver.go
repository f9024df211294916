package driver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/regfile"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// Config is one run of acgen.
type Config struct {
	Spec    string // path of net.yaml
	Weights string // path of the checkpoint
	Out     string // package directory; empty: stop after the last stage that needs none
	Package string // Go package name; empty: from the spec's name

	GoMod string // when set, also write a go.mod declaring this module path

	AllowUnusedKeys    bool
	MaxActivationBytes int64
	Plan               plan.Options
	Asm                gen.Emitters // the assembly targets' kernels (nil: Go kernels only)
	// Targets are the instruction sets to emit programs for; nil means
	// target.Default (every one). Without Asm only the portable one is.
	Targets       []*target.Target
	GoldenSamples int // samples in the package's test; 0 means 2
	// MaxCheckFLOPs bounds the check stage's work in the reference
	// runtime (0: DefaultMaxCheckFLOPs); fewer golden samples are taken to
	// stay within it, and a network of which one sample is over it is
	// refused.
	MaxCheckFLOPs float64
	// MaxMemory bounds the memory generation may take, in bytes (0:
	// DefaultMaxMemory): a network that would need more is refused before
	// its weights are read.
	MaxMemory int64
	// KeepWeights keeps every weight the check stage reads in
	// Result.Unfused and Result.Fused (for -run, or to plan again from
	// Result.Fused); without it they are let go layer by layer, once
	// packed, and the Result's graphs hold shapes alone.
	KeepWeights bool
	// MeasureEmulation emulates every program's plan, whatever the plan
	// options and the network's size, and records what it measured
	// (plan.Program.Emulation) without planning again: for calibrating
	// the emulation against measured errors (bench/accuracy).
	MeasureEmulation bool
	// DebugChecks verifies each stage's result where a check exists
	// (plan.Program.Check after planning): for debugging acgen.
	DebugChecks bool

	// Verify, when set, tests the generated files before they are
	// written (after WriteDir's checks pass): a package that fails it
	// leaves Out as it was.
	Verify func(files []gen.File) error

	Dump   string    // stage whose result to print to Log
	Log    io.Writer // progress and dumps; nil: io.Discard
	Status func(stage string, done bool, elapsed time.Duration)
}

// Result is what a run produced.
type Result struct {
	Net        *spec.Net
	Checkpoint *checkpoint.File
	Unfused    *graph.Graph
	Fused      *graph.Graph
	Fusion     fuse.Report
	Golden     []gen.Sample
	MaxFuseErr float64 // fused vs unfused on the golden inputs, relative
	// EmulatedPlans counts the plans the check stage emulated after the
	// model's own was beyond the accuracy budget (see replan); 0 when it
	// was within it, or nothing was emulated.
	EmulatedPlans int
	// Sensitivity is how far moving every weight by float32 rounding and
	// rounding every activation to float32 moves the first golden output
	// (relative; gen.Input.Sensitivity), raised to MaxFuseErr for an
	// ill-conditioned network (see fuseMismatch).
	Sensitivity float64
	// Warnings are one line each: what the user should know about a
	// package that was nonetheless generated.
	Warnings []string
	Plan     *plan.Package // every program, best target first
	Program  *plan.Program // the portable one (Plan.Portable())
	Files    []gen.File
	Write    WriteReport

	specSum, weightsSum string
	wants               []graph.Want
}

type stage struct {
	name string
	what string
	run  func(*Config, *Result) error
}

// stages is the pipeline, in order.
var stages = []stage{
	{"spec", "parse the spec", parseSpec},
	{"weights", "load the checkpoint", loadWeights},
	{"graph", "bind weights, infer shapes", buildGraph},
	{"fuse", "fold ACBlocks and BatchNorms", fuseGraph},
	{"plan", "choose layouts, kernels, buffers", planProgram},
	{"check", "run fused and unfused networks, pack the weights", checkFusion},
	{"emit", "generate Go and assembly", emit},
	{"write", "write the package", writePackage},
}

// StageNames lists the stages, for -dump's help.
func StageNames() []string {
	names := make([]string, len(stages))
	for i, s := range stages {
		names[i] = s.name
	}
	return names
}

// Run runs the pipeline. With cfg.Dump set it stops after that stage,
// having printed its result; with cfg.Out empty it stops before "write"
// ("emit" runs only to be dumped).
func Run(cfg *Config) (*Result, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Dump != "" && !validStage(cfg.Dump) {
		return nil, fmt.Errorf("-dump: no stage %q; stages are %v", cfg.Dump, StageNames())
	}
	res := &Result{}
	defer func() {
		if res.Checkpoint != nil {
			res.Checkpoint.Close() // the weights Result holds are copies
		}
	}()
	for _, s := range stages {
		if cfg.Out == "" && (s.name == "write" || s.name == "emit" && cfg.Dump != "emit") {
			break
		}
		start := time.Now()
		if cfg.Status != nil {
			cfg.Status(s.what, false, 0)
		}
		if err := runStage(s, cfg, res); err != nil {
			return res, err
		}
		if cfg.Status != nil {
			cfg.Status(s.what, true, time.Since(start))
		}
		if cfg.Dump == s.name {
			dump(cfg.Log, s.name, res)
			break
		}
	}
	return res, nil
}

// ErrInternal is wrapped by the error of a stage that panicked: a bug in
// acgen, not in its input.
var ErrInternal = errors.New("internal error")

// runStage runs one stage, turning a panic into an error that names the
// stage and asks for a report, instead of a stack trace.
func runStage(s stage, cfg *Config, r *Result) (err error) {
	defer func() {
		if v := recover(); v != nil {
			msg := strings.Join(strings.Fields(fmt.Sprint(v)), " ")
			err = fmt.Errorf("%w in the %s stage (%s): %s; please report this with the spec", ErrInternal, s.name, s.what, msg)
		}
	}()
	return s.run(cfg, r)
}

func validStage(name string) bool {
	for _, s := range stages {
		if s.name == name {
			return true
		}
	}
	return false
}

func parseSpec(cfg *Config, r *Result) error {
	data, err := readAtMost(cfg.Spec, spec.MaxFileBytes+1) // Parse refuses the +1
	if err != nil {
		return err
	}
	r.specSum = sha(data)
	r.Net, err = spec.Parse(cfg.Spec, data)
	if err != nil {
		return err
	}
	// Infer the shapes now, before a possibly large checkpoint is read:
	// shape errors and a network too big for the activation limit need
	// no weights to find.
	r.wants, err = graph.Wants(r.Net, graph.Options{MaxActivationBytes: cfg.MaxActivationBytes})
	return err
}

func loadWeights(cfg *Config, r *Result) error {
	var err error
	// Read only what the spec needs: a file's other tensors cost nothing.
	want := map[string]int64{}
	for _, w := range r.wants {
		n := int64(1)
		for _, d := range w.Shape {
			n *= int64(d)
		}
		want[w.Key] = n
	}
	// Lazily: the check stage reads each layer's tensors when it runs
	// the layer, and lets them go after.
	r.Checkpoint, err = checkpoint.Load(cfg.Weights, checkpoint.Options{Want: want, Lazy: true})
	if err != nil {
		return err
	}
	r.weightsSum, err = fileSHA(cfg.Weights)
	return err
}

func buildGraph(cfg *Config, r *Result) error {
	var err error
	r.Unfused, err = graph.Build(r.Net, r.Checkpoint, graph.Options{
		AllowUnusedKeys:    cfg.AllowUnusedKeys,
		MaxActivationBytes: cfg.MaxActivationBytes,
		Lazy:               true,
	})
	return err
}

// fuseGraph finds the inference form's structure; the check stage
// computes its weights layer by layer (fuse.Materialize).
func fuseGraph(cfg *Config, r *Result) error {
	r.Fused, r.Fusion = fuse.Structure(r.Unfused)
	return nil
}

func planProgram(cfg *Config, r *Result) error { return buildPlan(cfg, r, cfg.Plan) }

// buildPlan plans the fused network with options opt.
func buildPlan(cfg *Config, r *Result, opt plan.Options) error {
	var err error
	targets := cfg.Targets
	if targets == nil {
		targets = target.Default
	}
	if cfg.Asm == nil {
		targets = []*target.Target{target.Go}
	}
	r.Plan, err = plan.BuildPackage(r.Fused, targets, opt)
	if err != nil {
		return err
	}
	r.Program = r.Plan.Portable()
	if cfg.DebugChecks {
		for _, p := range r.Plan.Programs {
			if err := p.Check(); err != nil {
				return fmt.Errorf("%w: %v", ErrInternal, err)
			}
		}
	}
	return nil
}

func emit(cfg *Config, r *Result) error {
	pkg := cfg.Package
	if pkg == "" {
		pkg = r.Net.Name
		if pkg == "" {
			pkg = filepath.Base(filepath.Clean(cfg.Out))
			if abs, err := filepath.Abs(cfg.Out); err == nil {
				pkg = filepath.Base(abs) // -out . names the directory it stands for
			}
		}
		pkg = gen.PackageName(pkg)
	}
	var err error
	r.Files, err = gen.Generate(&gen.Input{
		Package:     pkg,
		Plan:        r.Plan,
		Unfused:     r.Unfused,
		Spec:        gen.Source{Name: filepath.Base(cfg.Spec), SHA256: r.specSum},
		Weights:     gen.Source{Name: filepath.Base(cfg.Weights), SHA256: r.weightsSum},
		Golden:      r.Golden,
		Sensitivity: r.Sensitivity,
		Asm:         cfg.Asm,
	})
	if err != nil {
		return err
	}
	if cfg.GoMod != "" {
		r.Files = append(r.Files, gen.File{Name: "go.mod", Data: goMod(cfg.GoMod)})
	}
	return nil
}

func writePackage(cfg *Config, r *Result) error {
	if cfg.Verify != nil {
		// Refuse a conflicting Out before the slow tests, not after.
		if err := CheckDir(cfg.Out, r.Files); err != nil {
			return err
		}
		if err := cfg.Verify(r.Files); err != nil {
			return err
		}
	}
	var err error
	r.Write, err = WriteDir(cfg.Out, r.Files)
	return err
}

func goMod(module string) []byte {
	return []byte(gen.Header + "\n\nmodule " + module + "\n\ngo " + gen.GoVersion + "\n")
}

// readAtMost reads a file, or its first n bytes: a spec that is by mistake
// a large file is refused without being read whole.
func readAtMost(path string, n int64) ([]byte, error) {
	f, _, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileSHA(path string) (string, error) {
	f, _, err := regfile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
