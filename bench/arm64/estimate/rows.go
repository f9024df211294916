package main

import (
	"fmt"
	"strings"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
)

// neonRows estimates every step of the NEON program p from its kernels
// in bin; steps without a kernel, and LayerNorm's (whose work the
// estimator does not model: it counts convolution and pooling tiles), by
// the plan's cost model.
func (e *estimator) neonRows(p *plan.Program, pkgPath, bin, objdump string) ([]row, error) {
	sym := func(name string) string { return pkgPath + "." + name + ".abi0" }
	type fn struct {
		sym string
		w   *work
	}
	fns := map[int][]fn{}
	var syms []string
	for i, s := range p.Steps {
		if !s.NeedsKernel() || s.Conv == nil { // LayerNorm's has no ConvStep
			continue
		}
		name := gen.AsmKernelName(p, i)
		c := s.Conv
		switch {
		case s.Kind == plan.MaxPool:
			w := newWork()
			w.tiles = float64(c.OutH*c.OutBlocks()) * float64(c.OutW) / float64(c.Pixels)
			fns[i] = []fn{{sym(name), w}}
		case c.Algo == plan.Winograd:
			fns[i] = []fn{
				{sym(name + "In"), transformWork(c, c.InBlocks())},
				{sym(name + "Gemm"), gemmWork(c)},
				{sym(name + "Out"), transformWork(c, c.OutBlocks())},
			}
		default:
			fns[i] = []fn{{sym(name), directWork(c)}}
		}
		for _, f := range fns[i] {
			syms = append(syms, f.sym)
		}
	}
	code, err := disassemble(objdump, bin, syms)
	if err != nil {
		return nil, err
	}
	var rows []row
	for i, s := range p.Steps {
		r := row{step: s, what: describe(s), cycles: map[string]float64{}}
		if _, ok := fns[i]; !ok {
			for _, c := range cpus {
				r.cycles[c.name] = s.Cycles(p.Target)
			}
			r.note = "cost model"
			rows = append(rows, r)
			continue
		}
		for _, f := range fns[i] {
			is, ok := code[f.sym]
			if !ok {
				return nil, fmt.Errorf("no %s in the binary", f.sym)
			}
			loops := innermostLoops(is)
			if err := e.measure(loops); err != nil {
				return nil, err
			}
			for _, c := range cpus {
				cyc, note := cost(f.w, loops, c.name, e.peak[c.name])
				r.cycles[c.name] += cyc
				if note != "" {
					r.note = note
				}
			}
			if m := mainLoop(f.w, loops); m != nil {
				r.main = m
			}
			if f.w.tiles > 0 && s.Kind == plan.Conv {
				e.transform(s.Conv.WinogradM, strings.HasSuffix(f.sym, "In.abi0"), loops)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// goRows estimates the convolutions of the portable program p as its Go
// kernels run them on arm64: their multiply-adds at the rate llvm-mca
// gives the kernel's multiply-add loop (the Go compiler fuses x*y+z
// into FMADD); Winograd's transforms and the other steps are left out.
func (e *estimator) goRows(p *plan.Program, pkgPath, bin, objdump string) ([]row, error) {
	run := pkgPath + ".(*winogradConv).run"
	syms := []string{run}
	for i, s := range p.Steps {
		if s.Kind == plan.Conv {
			syms = append(syms, fmt.Sprintf("%s.step%d", pkgPath, i))
		}
	}
	code, err := disassemble(objdump, bin, syms)
	if err != nil {
		return nil, err
	}
	rate := map[string]map[string]float64{} // symbol, CPU: multiply-adds a cycle
	for _, sym := range syms {
		loops := innermostLoops(code[sym])
		var best *loop
		for _, l := range loops {
			if best == nil || l.scalar > best.scalar {
				best = l
			}
		}
		if best == nil || best.scalar == 0 {
			continue
		}
		if err := e.measure([]*loop{best}); err != nil {
			return nil, err
		}
		rate[sym] = map[string]float64{}
		for _, c := range cpus {
			rate[sym][c.name] = float64(best.scalar) / best.cycles[c.name]
		}
	}
	var rows []row
	for i, s := range p.Steps {
		if s.Kind != plan.Conv {
			continue
		}
		sym := fmt.Sprintf("%s.step%d", pkgPath, i)
		if s.Conv.Algo == plan.Winograd {
			sym = run
		}
		what := fmt.Sprintf("%dx%d %s", s.Conv.KH, s.Conv.KW, s.Conv.Algo)
		if s.Conv.Algo == plan.Winograd {
			what = describe(s)
		}
		r := row{step: s, what: what, cycles: map[string]float64{}}
		rt, ok := rate[sym]
		if !ok {
			return nil, fmt.Errorf("no multiply-add loop in %s", sym)
		}
		for _, c := range cpus {
			r.cycles[c.name] = goMACs(s.Conv) / rt[c.name]
		}
		rows = append(rows, r)
	}
	return rows, nil
}
