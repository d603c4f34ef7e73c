//go:build unix

package kernels

import (
	"syscall"
	"unsafe"
)

// offHeapMin is the smallest request offHeap maps rather than allocates: 1 MiB.
const offHeapMin = 1 << 20

// offHeap returns n zeroed elements in an anonymous private mapping, outside the Go heap, and
// the function that unmaps them; or, if the mapping fails, n elements from the heap and nil.
//
// Packed weights live there because they are most of a model's memory and are never freed
// while it is used: on the heap they would count towards the collector's goal, which with the
// default GOGC=100 lets garbage grow to about their size before a collection runs. Off the
// heap, the goal follows the activations only, and a long-running process (the server) stays
// near weights + working set. A mapping of at least a huge page is advised to use transparent
// huge pages (offheap_linux.go). Below offHeapMin bytes (the keys and values a prefill's
// attention packs per head, say) the heap is cheaper than a mapping's system calls and page
// faults, and the elements come from there.
func offHeap[T float32 | uint16 | float64](n int) ([]T, func()) {
	size := n * int(unsafe.Sizeof(T(0)))
	if size == 0 {
		return nil, nil
	}
	if size < offHeapMin {
		return make([]T, n), nil
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]T, n), nil
	}
	adviseHugePages(b)
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n), func() { _ = syscall.Munmap(b) }
}
