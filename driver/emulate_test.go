package driver

import (
	"testing"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/internal/emitters"
	"github.com/acgen/acgen/plan"
)

// TestWinogradEmulation: on the CIFAR ResNet-20 fixture, the accuracy
// model's own plan emulates beyond the budget; the check stage emulates
// plans of fewer Winograd layers until every program is within it, and
// keeps some.
func TestWinogradEmulation(t *testing.T) {
	f := fixtures.Get("resnet20")
	r, err := Run(&Config{Spec: f.Spec, Weights: f.Pth, Package: "x", Asm: emitters.All()})
	if err != nil {
		t.Fatal(err)
	}
	if r.EmulatedPlans == 0 {
		t.Errorf("no plan emulated after the model's: want the model's plan beyond the budget by emulation")
	}
	for _, p := range r.Plan.Programs {
		if e := p.EmulatedError; !(e > 0 && plan.WithinBudget(e)) {
			t.Errorf("%s: emulated error %g, want within the budget %g", p.Target.Name, e, plan.ErrorBudget)
		}
	}
	if w := r.Plan.Programs[0].WinogradLayers(); len(w) == 0 {
		t.Errorf("%s: no Winograd layer left", r.Plan.Programs[0].Target.Name)
	}
}

// TestMeasureEmulation: measuring the emulation (for calibration) on a
// plan made for speed alone records what each program's Winograd layers
// err, and the whole float32 run's error (more than the direct run's:
// 16 layers of F(4)), and leaves the plan as it was.
func TestMeasureEmulation(t *testing.T) {
	f := fixtures.Get("resnet20")
	cfg := Config{Spec: f.Spec, Weights: f.Pth, Package: "x", Asm: emitters.All(), Plan: plan.Options{NoErrorBudget: true}}
	plain, err := Run(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MeasureEmulation = true
	measured, err := Run(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if measured.EmulatedPlans != 0 {
		t.Errorf("%d plans emulated after the first: measuring must not plan again", measured.EmulatedPlans)
	}
	for i, p := range measured.Plan.Programs {
		want := len(plain.Plan.Programs[i].WinogradLayers())
		if got := len(p.WinogradLayers()); got != want || want == 0 {
			t.Errorf("%s: %d Winograd layers measured, %d planned: want the same, more than 0", p.Target.Name, got, want)
		}
		e := p.Emulation
		if !(e.DirectRMS > 0 && e.DirectMax > 0 && e.WinogradRMS > 0 && e.WinogradMax > 0 && e.FullRMS > e.DirectRMS && e.FullMax > 0) {
			t.Errorf("%s: emulation measured %+v: want every error positive, the whole run's beyond the direct one's", p.Target.Name, e)
		}
		if p.EmulatedError != plan.EmulatedError(e.WinogradRMS, e.DirectRMS) {
			t.Errorf("%s: emulated error %g, want E of what was measured", p.Target.Name, p.EmulatedError)
		}
	}
}
