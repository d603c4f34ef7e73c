package kernels

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestOffHeapHugePages: a mapping of offHeap of at least a huge page carries the advice
// MADV_HUGEPAGE (VmFlags "hg" in /proc/self/smaps), a smaller one does not. Whether the kernel
// then backs it with huge pages depends on its THP settings and free memory, so that is not
// checked.
func TestOffHeapHugePages(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		bytes int
		huge  bool
	}{{hugePageBytes, true}, {16 * hugePageBytes, true}, {hugePageBytes - 4096, false}} {
		b, free := offHeap[float32](c.bytes / 4)
		if free == nil {
			t.Fatalf("%d bytes: the mapping failed", c.bytes)
		}
		flags, err := vmFlags(uintptr(unsafe.Pointer(&b[0])))
		free()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(" "+flags+" ", " hg "); got != c.huge {
			t.Errorf("%d bytes: VmFlags %q; want hg %v", c.bytes, flags, c.huge)
		}
	}
}

// vmFlags returns the VmFlags line of the mapping of /proc/self/smaps that holds addr.
func vmFlags(addr uintptr) (string, error) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	in := false
	for _, l := range strings.Split(string(smaps), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's header: start-end perms offset dev inode [path]
			var start, end uintptr
			if _, err := fmt.Sscanf(f[0], "%x-%x", &start, &end); err != nil {
				return "", fmt.Errorf("smaps line %q: %v", l, err)
			}
			in = start <= addr && addr < end
			continue
		}
		if in && f[0] == "VmFlags:" {
			return strings.Join(f[1:], " "), nil
		}
	}
	return "", fmt.Errorf("no mapping holds %#x in /proc/self/smaps", addr)
}
