package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// inst is one disassembled instruction.
type inst struct {
	addr uint64
	op   string // mnemonic
	args string // operands, symbolic annotations removed
}

// loop is an innermost loop of a function: instructions from a backward
// branch's target to the branch, none of them another backward branch.
type loop struct {
	insts []inst
	// vecFMA counts FMLA and FMLS (4 multiply-adds each), scalar the
	// float32 multiplies and multiply-adds of scalar code (one each).
	vecFMA, scalar int
	cycles         map[string]float64 // llvm-mca's cycles an iteration, by CPU
}

var (
	lineRE   = regexp.MustCompile(`^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$`)
	targetRE = regexp.MustCompile(`0x[0-9a-f]+`)
)

// disassemble returns the instructions of each named symbol of bin.
func disassemble(objdump, bin string, syms []string) (map[string][]inst, error) {
	out, err := exec.Command(objdump, "-d", "--no-show-raw-insn", "--disassemble-symbols="+strings.Join(syms, ","), bin).Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", objdump, err)
	}
	res := map[string][]inst{}
	cur := ""
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, ">:"); i > 0 && strings.Contains(l, " <") {
			cur = l[strings.Index(l, " <")+2 : i]
			continue
		}
		m := lineRE.FindStringSubmatch(l)
		if m == nil || cur == "" {
			continue
		}
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		args := m[3]
		if i := strings.Index(args, " <"); i >= 0 {
			args = args[:i]
		}
		if i := strings.Index(args, "//"); i >= 0 {
			args = strings.TrimSpace(args[:i])
		}
		res[cur] = append(res[cur], inst{addr, m[2], args})
	}
	return res, nil
}

func isBranch(op string) bool {
	return op == "b" || strings.HasPrefix(op, "b.") || op == "cbz" || op == "cbnz" || op == "tbz" || op == "tbnz"
}

// branchTarget is a branch's target address.
func branchTarget(in inst) (uint64, bool) {
	if !isBranch(in.op) {
		return 0, false
	}
	t := targetRE.FindString(in.args)
	if t == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(t[2:], 16, 64)
	return v, err == nil
}

// innermostLoops finds the loops of a function that hold no other loop,
// in address order.
func innermostLoops(is []inst) []*loop {
	type edge struct{ from, to int }
	var edges []edge
	index := map[uint64]int{}
	for i, in := range is {
		index[in.addr] = i
	}
	for j, in := range is {
		if t, ok := branchTarget(in); ok && t <= in.addr {
			if i, ok := index[t]; ok {
				edges = append(edges, edge{i, j})
			}
		}
	}
	var loops []*loop
	for _, e := range edges {
		inner := true
		for _, f := range edges {
			if f != e && f.from >= e.from && f.to < e.to {
				inner = false
			}
		}
		if !inner {
			continue
		}
		l := &loop{insts: is[e.from : e.to+1], cycles: map[string]float64{}}
		for _, in := range l.insts {
			switch {
			case in.op == "fmla" || in.op == "fmls":
				l.vecFMA++
			case (in.op == "fmadd" || in.op == "fmsub" || in.op == "fmul" || in.op == "fnmsub") && strings.HasPrefix(in.args, "s"):
				l.scalar++
			}
		}
		loops = append(loops, l)
	}
	return loops
}

// text is the loop as llvm-mca reads it: branches retargeted to labels
// (inside the loop) or to one label past it.
func (l *loop) text() string {
	var b strings.Builder
	at := map[uint64]int{}
	for i, in := range l.insts {
		at[in.addr] = i
	}
	for i, in := range l.insts {
		fmt.Fprintf(&b, ".L%d:\n", i)
		args := in.args
		if t, ok := branchTarget(in); ok {
			label := ".Lout"
			if j, ok := at[t]; ok {
				label = fmt.Sprintf(".L%d", j)
			}
			args = targetRE.ReplaceAllString(args, label)
		}
		fmt.Fprintf(&b, "\t%s\t%s\n", in.op, args)
	}
	b.WriteString(".Lout:\n")
	return b.String()
}
