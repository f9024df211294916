package gen

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/acgen/acgen/act"
)

// TestActFile compiles act.go as generated packages hold it and checks
// each row's Go expression against the row's float64 definition over a
// sweep of inputs, with parameters 0.1 and 1 (GELU's tanh form): a typo
// in an expression, or one that drifts from Ref, fails here rather than
// in a user's numbers.
func TestActFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	dir := t.TempDir()
	src := strings.Replace(string(actFile()), "package PKG", "package main", 1)
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module acttest\n\ngo "+GoVersion+"\n")
	write("act.go", src)
	write("main.go", `package main

import "fmt"

type actKind struct {
	k    int
	p    float32
	mask bool
}

func main() {
	for _, p := range []float32{0.1, 1} {
		for k := 1; k < `+strconv.Itoa(len(act.Table))+`; k++ {
			for i := -800; i <= 800; i++ {
				v := float32(i) / 32
				fmt.Println(k, p, v, act(v, actKind{k: k, p: p}))
			}
		}
	}
}
`)
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var k int
		var p32 float32
		var v, got float64
		if _, err := fmt.Sscan(sc.Text(), &k, &p32, &v, &got); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines++
		f := act.Table[k]
		p := 0.0
		if f.Param != nil {
			p = float64(p32) // 1 is also GELU's tanh form
		}
		want := f.Ref(v, p)
		if d := math.Abs(got - want); d > 4e-7*math.Max(1, math.Abs(want)) {
			t.Errorf("%s(%g) = %g in Go, %g by Ref", f.Op, v, got, want)
		}
	}
	if lines != 2*(len(act.Table)-1)*1601 {
		t.Errorf("%d values printed", lines)
	}
}
