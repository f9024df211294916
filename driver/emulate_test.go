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
