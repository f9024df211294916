package plan

// setHalos gives each value a zero border as wide as the widest padding
// of the steps that read it, so that those kernels never test bounds.
func (p *planner) setHalos() {
	for _, s := range p.prog.Steps {
		need := 0
		if h := s.Kind.Row().Halo; h != nil {
			need = h(s)
		}
		if len(s.In) > 0 && need > s.In[0].Layout.Halo {
			s.In[0].Layout.Halo = need
		}
		if s.Kind == Conv && s.Conv.Algo == Winograd {
			// Tiles that overhang the output read that much further into
			// the input and residual, and write into the output's halo
			// (which the kernel clears again).
			over := s.Conv.WinogradOverhang()
			s.In[0].Layout.Halo = max(s.In[0].Layout.Halo, need+over)
			for _, v := range append(s.In[1:], s.Out) {
				v.Layout.Halo = max(v.Layout.Halo, over)
			}
		}
	}
}

// allocate assigns buffers: a value takes a free buffer of the same
// layout if one is dead by the time the value is written, else a new one.
// Sharing only between equal layouts keeps the halo invariant: a halo is
// never written, so it stays zero whatever the buffer held before.
func (p *planner) allocate() {
	steps := p.prog.Steps
	for _, v := range p.prog.Values {
		v.first, v.last = -1, -1
	}
	for i, s := range steps {
		for _, v := range s.In {
			v.last = i
		}
		if s.Out != nil {
			v := s.Out
			v.first = i
			if v.last < i {
				v.last = i
			}
		}
	}
	var free []*Buffer
	busyUntil := map[*Buffer]int{}
	for i, s := range steps {
		// Buffers whose value was last read before step i are free again.
		for _, b := range p.prog.Buffers { // in ID order, so plans are reproducible
			if last, busy := busyUntil[b]; busy && last < i {
				free = append(free, b)
				delete(busyUntil, b)
			}
		}
		v := s.Out
		if v == nil {
			continue
		}
		var buf *Buffer
		for j, b := range free {
			if b.Layout == v.Layout {
				buf = b
				free = append(free[:j], free[j+1:]...)
				break
			}
		}
		if buf == nil {
			buf = &Buffer{ID: len(p.prog.Buffers), Layout: v.Layout, Offset: p.prog.WorkspaceLen}
			p.prog.Buffers = append(p.prog.Buffers, buf)
			p.prog.WorkspaceLen += align16(v.Layout.Len())
		}
		v.Buf = buf
		busyUntil[buf] = v.last
	}
	// One scratch region serves every Winograd and GRN step: steps run
	// one at a time.
	scratch := 0
	for _, s := range steps {
		switch {
		case s.Kind == Conv && s.Conv.Algo == Winograd:
			v, m, t := s.Conv.WinogradScratch()
			scratch = max(scratch, v+m+t)
			s.Conv.ScratchOff = p.prog.WorkspaceLen
		case s.Kind == GRN:
			scratch = max(scratch, padded(s.Out.Layout.C))
			s.GRN.ScratchOff = p.prog.WorkspaceLen
		}
	}
	p.prog.ScratchLen = align16(scratch)
	p.prog.WorkspaceLen += p.prog.ScratchLen
}

func align16(n int) int { return (n + 15) &^ 15 }
