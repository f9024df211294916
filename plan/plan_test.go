package plan_test

import (
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

func program(t *testing.T, name string, opt plan.Options) *plan.Program {
	t.Helper()
	return programFor(t, name, target.AVX2, opt)
}

func programFor(t *testing.T, name string, tg *target.Target, opt plan.Options) *plan.Program {
	t.Helper()
	f := fixtures.Get(name)
	net, err := spec.Load(f.Spec)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Load(f.Pth, checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fused, _ := fuse.Fuse(g)
	p, err := plan.Build(fused, tg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFusion: ResNet-20's residual adds and ReLUs run inside the
// convolutions, so the program is the 21 convolutions (each with its
// add/relu), the pooling and the linear layer (both computed as
// convolutions), packing and unpacking.
func TestFusion(t *testing.T) {
	p := program(t, "resnet20", plan.Options{})
	counts := map[plan.Kind]int{}
	residuals := 0
	for _, s := range p.Steps {
		counts[s.Kind]++
		if s.Residual() != nil {
			residuals++
		}
	}
	if counts[plan.Conv] != 23 || counts[plan.Add] != 0 || counts[plan.Activation] != 0 || len(p.Steps) != 25 {
		t.Errorf("steps by kind %v: want 23 conv (21 + pooling + linear), pack, unpack, no separate add or activation", counts)
	}
	if residuals != 9 {
		t.Errorf("%d convolutions add a residual, want 9", residuals)
	}
}

// TestBuffers checks the allocation: no step writes a buffer it reads, a
// value is not overwritten while a later step still needs it, buffers
// are 64-byte aligned and inside the workspace, and halos are wide enough
// for every reader's padding.
func TestBuffers(t *testing.T) {
	for _, name := range []string{"resnet20", "misc", "groups", "crop"} {
		p := program(t, name, plan.Options{})
		holder := map[*plan.Buffer]*plan.Value{}
		lastRead := map[*plan.Value]int{}
		for i, s := range p.Steps {
			for _, v := range s.In {
				lastRead[v] = i
			}
		}
		for i, s := range p.Steps {
			for _, v := range s.In {
				if holder[v.Buf] != v {
					t.Fatalf("%s: step %d (%s) reads %s, but its buffer now holds %v", name, i, s.Name, v.Name, holder[v.Buf])
				}
				if s.Out != nil && v.Buf == s.Out.Buf {
					t.Fatalf("%s: step %d (%s) writes the buffer it reads", name, i, s.Name)
				}
				if s.Conv != nil && v == s.In[0] && v.Layout.Halo < s.Conv.PadH {
					t.Fatalf("%s: step %d (%s) pads by %d but its input's halo is %d", name, i, s.Name, s.Conv.PadH, v.Layout.Halo)
				}
			}
			if s.Out == nil {
				continue
			}
			if old := holder[s.Out.Buf]; old != nil && lastRead[old] > i {
				t.Fatalf("%s: step %d (%s) overwrites %s, which step %d still reads", name, i, s.Name, old.Name, lastRead[old])
			}
			holder[s.Out.Buf] = s.Out
			b := s.Out.Buf
			if b.Offset%16 != 0 || b.Offset+b.Layout.Len() > p.WorkspaceLen || b.Layout != s.Out.Layout {
				t.Fatalf("%s: buffer %d at %d (%v) for %v: misaligned, out of the workspace or of another layout", name, b.ID, b.Offset, b.Layout, s.Out.Layout)
			}
		}
	}
}

// TestAlgorithms: the planner's choices on ResNet-20, and the options
// that override them.
func TestAlgorithms(t *testing.T) {
	count := func(p *plan.Program) map[string]int {
		c := map[string]int{}
		for _, s := range p.Steps {
			if s.Kind == plan.Conv {
				c[s.Conv.Algo.String()]++
				if s.Conv.Algo == plan.Winograd && s.Conv.WinogradM != 4 {
					c["winograd2"]++
				}
			}
		}
		return c
	}
	// For speed alone: 16 stride-1 3x3 layers with 16+ channels; the
	// stem (3 channels), two stride-2 layers, two shortcuts and the
	// linear layer are direct.
	fast := program(t, "resnet20", plan.Options{NoErrorBudget: true})
	if c := count(fast); c["winograd"] != 16 || c["direct"] != 6 || c["winograd2"] != 0 {
		t.Errorf("resnet20 for speed alone: %v, want 16 Winograd F(4x4) and 6 direct", c)
	}
	// Within the accuracy budget (F(4) everywhere made 2.36x PyTorch's
	// error), the layers of 16 channels, early in the network, whose
	// errors grow through the most layers after them, compute directly.
	p := program(t, "resnet20", plan.Options{})
	if c := count(p); c["winograd"] < 8 || c["winograd"] >= 16 || c["winograd"]+c["direct"] != 22 {
		t.Errorf("resnet20: %v, want fewer Winograd layers than 16, the others direct", c)
	}
	if p.ModelledError > plan.ErrorBudget || fast.ModelledError <= plan.ErrorBudget {
		t.Errorf("resnet20: modelled error %.2fx, %.2fx for speed alone; want the plan within %.2fx, the other over it", p.ModelledError, fast.ModelledError, plan.ErrorBudget)
	}
	wino16 := 0
	for _, s := range p.Steps {
		if c := s.Conv; c != nil && c.Algo == plan.Winograd && c.In == 16 {
			wino16++
		}
	}
	if wino16 > 1 {
		t.Errorf("resnet20: %d of the 6 layers of 16 channels are Winograd, want at most the last", wino16)
	}
	if c := count(program(t, "resnet20", plan.Options{NoWinograd: true})); c["winograd"] != 0 {
		t.Errorf("NoWinograd: %v", c)
	}
	if c := count(program(t, "resnet20", plan.Options{ForceWinograd: true, WinogradM: 2})); c["winograd"] != 17 || c["winograd2"] != 17 {
		t.Errorf("ForceWinograd F(2): %v, want every stride-1 3x3 layer, the stem too", c)
	}
	if c := count(program(t, "groups", plan.Options{})); c["depthwise"] != 3 {
		t.Errorf("groups: %v, want the two depthwise layers and the global pooling depthwise", c)
	}
}

// TestTiles: on every target, direct tiles cover every output block
// once, within the target's register budget, read only input channels
// their weight groups hold, and tiles of one shape read their weights
// with one pattern.
func TestTiles(t *testing.T) {
	for _, tg := range target.All {
		for _, name := range []string{"resnet20", "groups", "misc", "crop"} {
			checkTiles(t, tg, name, programFor(t, name, tg, plan.Options{NoWinograd: true}))
		}
	}
}

func checkTiles(t *testing.T, tg *target.Target, name string, p *plan.Program) {
	{
		for _, s := range p.Steps {
			if s.Kind != plan.Conv || s.Conv.Algo != plan.Direct {
				continue
			}
			c := s.Conv
			next := 0
			for _, tile := range c.Tiles {
				if tile.Block0 != next {
					t.Fatalf("%s %s: tiles do not cover the blocks in order: %+v", name, s.Name, c.Tiles)
				}
				next += tile.Blocks
				vectors := tile.Blocks
				if regs := vectors*c.Pixels + vectors + 1; regs > tg.Regs {
					t.Fatalf("%s %s %s: tile %+v x %d pixels needs %d registers", tg, name, s.Name, tile, c.Pixels, regs)
				}
				if tile.ICLo < 0 || tile.ICHi > c.In || tile.ICLo >= tile.ICHi {
					t.Fatalf("%s %s: tile input range %d..%d of %d", name, s.Name, tile.ICLo, tile.ICHi, c.In)
				}
				for b := tile.Block0; b < tile.Block0+tile.Blocks; b++ {
					g := c.WeightGroups[b*c.Block/plan.Group]
					if tile.ICLo < g.ICLo || tile.ICHi > g.ICHi {
						t.Fatalf("%s %s %s: tile %+v reads input channels its block %d's weight group %+v lacks", tg, name, s.Name, tile, b, g)
					}
				}
			}
			if ocb := (c.Out + c.Block - 1) / c.Block; next != ocb {
				t.Fatalf("%s %s %s: tiles cover %d blocks of %d", tg, name, s.Name, next, ocb)
			}
		}
	}
}

// TestCheck runs Program.Check on every fixture's plan for every target,
// with and without Winograd, and makes sure it can fail.
func TestCheck(t *testing.T) {
	for _, f := range fixtures.All() {
		for _, tg := range target.All {
			for _, opt := range []plan.Options{{}, {NoWinograd: true}, {ForceWinograd: true, WinogradM: 2}} {
				p := programFor(t, f.Name, tg, opt)
				if err := p.Check(); err != nil {
					t.Errorf("%s %v: %v", f.Name, opt, err)
				}
			}
		}
	}
	p := programFor(t, "resnet20", target.AVX2, plan.Options{})
	p.Steps[3].Conv.Tiles = p.Steps[3].Conv.Tiles[1:]
	p.Buffers[0].Offset += 4
	if err := p.Check(); err == nil {
		t.Error("Check passes a program with a missing tile and a misaligned buffer")
	}
}

// TestPhases: for every goroutine count, a call runs every step once:
// each Winograd step in exactly one schedule, every other step whole;
// and every schedule is in the table (the kernel harness runs each).
func TestPhases(t *testing.T) {
	for _, tg := range []*target.Target{target.AVX512, target.AVX2} {
		p := programFor(t, "resnet20", tg, plan.Options{})
		phases := p.Phases(true)
		for n := 1; n <= 100; n++ {
			schedules := map[int]map[plan.PhaseKind]bool{}
			for _, ph := range phases {
				if !ph.Runs(n) {
					continue
				}
				if schedules[ph.Step] == nil {
					schedules[ph.Step] = map[plan.PhaseKind]bool{}
				}
				kind := ph.Kind
				if kind == plan.WinogradGemm || kind == plan.WinogradOut {
					kind = plan.WinogradIn // one schedule, the shared phases
				}
				schedules[ph.Step][kind] = true
			}
			for i := range p.Steps {
				if len(schedules[i]) != 1 {
					t.Fatalf("%s, %d goroutines: step %d runs in schedules %v, want one", tg.Name, n, i, schedules[i])
				}
			}
		}
		for i, s := range p.Steps {
			if s.Kind != plan.Conv || s.Conv.Algo != plan.Winograd {
				continue
			}
			kinds := map[plan.PhaseKind]bool{}
			for _, ph := range phases {
				if ph.Step == i {
					kinds[ph.Kind] = true
				}
			}
			for _, k := range []plan.PhaseKind{plan.WinogradRows, plan.WinogradChannels, plan.WinogradIn, plan.WinogradGemm, plan.WinogradOut} {
				if !kinds[k] {
					t.Errorf("%s: step %d has no phase of kind %d", tg.Name, i, k)
				}
			}
		}
	}
}
