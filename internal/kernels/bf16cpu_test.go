package kernels

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestBF16Features: the report agrees with /proc/cpuinfo's flags where Linux has them, and
// String names what it found.
func TestBF16Features(t *testing.T) {
	f := BF16()
	t.Logf("bf16: %s (%#v)", f, f)
	if s := f.String(); (s == "none") != (!f.AVX512BF16 && !f.AMXBF16CPU) {
		t.Errorf("String() = %q for %+v", s, f)
	}
	if f.AMXBF16OS && !f.AMXBF16CPU {
		t.Errorf("OS tile state without the CPU feature: %+v", f)
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "386" && f != (BF16Features{}) {
		t.Errorf("%s: %+v, want none", runtime.GOARCH, f)
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || (runtime.GOARCH != "amd64" && runtime.GOARCH != "386") {
		t.Skip("no /proc/cpuinfo to compare with")
	}
	flags := map[string]bool{}
	for _, line := range strings.Split(string(info), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			for _, w := range strings.Fields(v) {
				flags[w] = true
			}
			break
		}
	}
	if len(flags) == 0 {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	// Linux lists a flag when the CPU has it and the kernel enables its state.
	if want := flags["avx512_bf16"] && flags["avx512bw"] && flags["avx512vl"]; f.AVX512BF16 != want {
		t.Errorf("AVX512BF16 = %v, /proc/cpuinfo says %v", f.AVX512BF16, want)
	}
	if want := flags["amx_bf16"] && flags["amx_tile"]; f.AMXBF16CPU != want {
		t.Errorf("AMXBF16CPU = %v, /proc/cpuinfo says %v", f.AMXBF16CPU, want)
	}
}
