package kernels

import "syscall"

// hugePageBytes is the size of a transparent huge page on linux/amd64 and linux/arm64 (4 KiB
// base pages): mappings of at least this much are advised to use them.
const hugePageBytes = 2 << 20

// adviseHugePages asks the kernel to back the mapping b with transparent huge pages
// (madvise(MADV_HUGEPAGE)) when it is at least one huge page long: a sweep over packed
// weights (a decode step reads them all, gigabytes) then takes one TLB entry per 2 MiB, not
// per 4 KiB, and fewer page walks. Advice only: an error (no THP in this kernel, or THP set
// to "never") leaves the 4 KiB pages.
func adviseHugePages(b []byte) {
	if len(b) >= hugePageBytes {
		_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	}
}
