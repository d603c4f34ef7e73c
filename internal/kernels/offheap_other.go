//go:build !unix

package kernels

// offHeap returns n zeroed elements from the Go heap and nil: on this OS packed weights stay
// on the heap (see offheap_unix.go).
func offHeap[T float32 | uint16 | float64](n int) ([]T, func()) { return make([]T, n), nil }
