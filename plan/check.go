package plan

import (
	"errors"
	"fmt"
)

// Check verifies the program's invariants, as the Go compiler's checks
// between passes do: every buffer aligned and inside the workspace, no
// value overwritten while a later step still reads it, halos as wide as
// their readers' padding (and Winograd's overhang), every convolution's
// tiles covering its output blocks once, in order, reading only input
// channels their weight groups hold, every GRN's scratch space inside
// the workspace, and every weight offset inside the weights. It is cheap; tests run it on every plan, and acgen
// -debug-checks after planning.
func (p *Program) Check() error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("plan %s: "+format, append([]any{p.Target}, args...)...))
	}
	for _, b := range p.Buffers {
		if b.Offset%16 != 0 || b.Offset < 0 || b.Offset+b.Layout.Len() > p.WorkspaceLen {
			fail("buffer %d at %d (%v) is misaligned or outside the %d-float workspace", b.ID, b.Offset, b.Layout, p.WorkspaceLen)
		}
	}
	holder := map[*Buffer]*Value{}
	lastRead := map[*Value]int{}
	for i, s := range p.Steps {
		for _, v := range s.In {
			lastRead[v] = i
		}
	}
	for i, s := range p.Steps {
		for _, v := range s.In {
			if holder[v.Buf] != v && v != p.Steps[0].Out {
				fail("step %d (%s) reads %s, but its buffer holds another value", i, s.Name, v.Name)
			}
		}
		if s.Out != nil {
			if old := holder[s.Out.Buf]; old != nil && lastRead[old] > i {
				fail("step %d (%s) overwrites %s, which step %d still reads", i, s.Name, old.Name, lastRead[old])
			}
			holder[s.Out.Buf] = s.Out
		}
		if s.Conv != nil {
			errs = append(errs, p.checkConv(i, s)...)
		}
		if s.GRN != nil && (s.GRN.ScratchOff < 0 || s.GRN.ScratchOff+padded(s.Out.Layout.C) > p.WorkspaceLen) {
			fail("step %d (%s): GRN scratch space at %d runs past the %d-float workspace", i, s.Name, s.GRN.ScratchOff, p.WorkspaceLen)
		}
		for _, off := range weightOffsets(s) {
			if off < 0 || off > len(p.Weights) {
				fail("step %d (%s): weight offset %d outside the %d weights", i, s.Name, off, len(p.Weights))
			}
		}
	}
	return errors.Join(errs...)
}

func (p *Program) checkConv(i int, s *Step) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("plan %s: step %d (%s): "+format, append([]any{p.Target, i, s.Name}, args...)...))
	}
	c := s.Conv
	in := s.In[0].Layout
	need := c.Reach(in.H, in.W)
	if c.Algo == Winograd {
		need += c.WinogradOverhang()
	}
	if in.Halo < need {
		fail("reads a halo of %d, its input has %d", need, in.Halo)
	}
	next := 0
	for _, t := range c.Tiles {
		if t.Block0 != next || t.Blocks <= 0 {
			fail("tiles do not cover the output blocks in order: %+v", c.Tiles)
			break
		}
		next += t.Blocks
		if t.ICLo < 0 || t.ICHi > c.In || t.ICLo >= t.ICHi {
			fail("tile %+v reads input channels %d..%d of %d", t, t.ICLo, t.ICHi, c.In)
		}
		if c.Algo == Direct {
			for b := t.Block0; b < t.Block0+t.Blocks; b++ {
				if g := c.WeightGroups[b*c.Block/Group]; t.ICLo < g.ICLo || t.ICHi > g.ICHi {
					fail("tile %+v reads input channels block %d's weight group %+v lacks", t, b, g)
				}
			}
		}
		if a := c.WinogradM + 2; c.Algo == Winograd && t.WeightOff+c.In*t.Blocks*c.Block+(a*a-1)*c.XiStride > p.WinogradLen {
			fail("tile %+v's transformed weights run past the %d of them", t, p.WinogradLen)
		}
	}
	if ocb := c.OutBlocks(); next != ocb {
		fail("tiles cover %d output blocks of %d", next, ocb)
	}
	if c.Algo == Winograd {
		v, m, t := c.WinogradScratch()
		if c.ScratchOff+v+m+t > p.WorkspaceLen {
			fail("scratch space runs past the workspace")
		}
	}
	return errs
}

// weightOffsets are the offsets into Weights a step reads from.
func weightOffsets(s *Step) []int {
	if f := s.Kind.Row().Weights; f != nil {
		return f(s)
	}
	return nil
}
