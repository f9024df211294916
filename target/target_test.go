package target

import "testing"

// TestTable checks each row: the packed weights' groups hold whole
// vectors, every register tile fits the register file, names are
// unique, assembly rows name their architecture, emitter and algorithms,
// and ByName keeps the run-time order.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	portable := 0
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
		for _, sh := range append(tg.DirectShapes, tg.RowShapes...) {
			if regs := tg.TileRegs(sh); regs > tg.Regs {
				t.Errorf("%s: tile %+v needs %d registers of %d", tg.Name, sh, regs, tg.Regs)
			}
		}
		if c := tg.Cost; c.FMAsPerCycle <= 0 || c.LoadsPerCycle <= 0 || c.Efficiency <= 0 || c.Efficiency > 1 || c.CacheBytesPerCycle <= 0 || c.MemoryBytesPerCycle <= 0 || c.SyncCycles <= 0 {
			t.Errorf("%s: cost model %+v", tg.Name, c)
		}
		if c := tg.Cost; c.StoresPerCycle <= 0 || c.L1Bytes <= 0 || c.L2Bytes <= c.L1Bytes || c.L2BytesPerCycle <= 0 {
			t.Errorf("%s: no caches for the direct schedules' model: %+v", tg.Name, c)
		}
		if !tg.Runs(Direct) {
			t.Errorf("%s: no direct convolution, which every convolution can run as", tg.Name)
		}
		switch {
		case !tg.Asm():
			portable++
			if tg.Emitter != "" || tg.Host != nil || len(tg.Features) > 0 {
				t.Errorf("%s: the portable row has an emitter, a host check or CPU flags", tg.Name)
			}
			if s := tg.Shares; s != nil && (s.Lanes != tg.Lanes || !s.Asm()) {
				t.Errorf("%s: shares the program of %s, which is not an assembly target of its lanes", tg.Name, s.Name)
			}
		case tg.Emitter == "" || tg.Host == nil:
			t.Errorf("%s: an assembly target without an emitter or a host check", tg.Name)
		case len(tg.Features) == 0 && !tg.Baseline:
			t.Errorf("%s: assembly target without CPU flags for TestRequireAssembly", tg.Name)
		}
	}
	if portable != 1 || All[len(All)-1] != Go {
		t.Errorf("%d portable rows; want one, last", portable)
	}
	ts, err := ByName("go, AVX2,avx512")
	if err != nil || len(ts) != 3 || ts[0] != AVX512 || ts[2] != Go {
		t.Errorf("ByName: %v, %v", ts, err)
	}
	if _, err := ByName("sse"); err == nil {
		t.Error("ByName(sse) succeeded")
	}
}
