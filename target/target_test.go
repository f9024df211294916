package target

import "testing"

// TestTable checks each row: the packed weights' groups hold whole
// vectors, every register tile fits the register file (accumulators,
// weight vectors and one broadcast), names are unique and ByName keeps
// the run-time order.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, tg := range All {
		if seen[tg.Name] || seen[tg.Suffix] {
			t.Errorf("%s: name or suffix used twice", tg.Name)
		}
		seen[tg.Name], seen[tg.Suffix] = true, true
		if tg.Lanes <= 0 || WeightGroup%tg.Lanes != 0 {
			t.Errorf("%s: %d lanes do not divide the weight group of %d", tg.Name, tg.Lanes, WeightGroup)
		}
		if tg.Title == "" || len(tg.DirectShapes) == 0 {
			t.Errorf("%s: no title or no direct tiles", tg.Name)
		}
		for _, sh := range tg.DirectShapes {
			if regs := sh.Vectors*sh.Pixels + sh.Vectors + 1; regs > tg.Regs {
				t.Errorf("%s: tile %+v needs %d registers of %d", tg.Name, sh, regs, tg.Regs)
			}
		}
		if c := tg.Cost; c.FMAsPerCycle <= 0 || c.LoadsPerCycle <= 0 || c.Efficiency <= 0 || c.Efficiency > 1 || c.CacheBytesPerCycle <= 0 || c.MemoryBytesPerCycle <= 0 || c.SyncCycles <= 0 {
			t.Errorf("%s: cost model %+v", tg.Name, c)
		}
		if tg.Asm && len(tg.Features) == 0 {
			t.Errorf("%s: assembly target without CPU flags for TestRequireAssembly", tg.Name)
		}
	}
	ts, err := ByName("go, AVX2,avx512")
	if err != nil || len(ts) != 3 || ts[0] != AVX512 || ts[2] != Go {
		t.Errorf("ByName: %v, %v", ts, err)
	}
	if _, err := ByName("sse"); err == nil {
		t.Error("ByName(sse) succeeded")
	}
}
