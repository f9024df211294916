package asm

import "github.com/acgen/acgen/gen"

// asmTestFile is the generated package's check that the fast path runs
// where it can: on a Linux machine whose CPU flags (read from
// /proc/cpuinfo, independently of the package's own CPUID check) include
// AVX2 and FMA, the assembly kernels must be in use.
func asmTestFile(pkg string) gen.File {
	return gen.File{Name: "kernels_amd64_test.go", Data: []byte(gen.Header + `

//go:build ` + buildTag + `

package ` + pkg + `

import (
	"os"
	"strings"
	"testing"
)

func TestRequireAssembly(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo to check the CPU against")
	}
	var flags []string
	for _, line := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(line, "flags") {
			flags = strings.Fields(line)
			break
		}
	}
	has := func(f string) bool {
		for _, x := range flags {
			if x == f {
				return true
			}
		}
		return false
	}
	if has("avx2") && has("fma") && !useAsm {
		t.Fatal("the CPU has AVX2 and FMA but the package runs its portable Go kernels")
	}
}
`)}
}
