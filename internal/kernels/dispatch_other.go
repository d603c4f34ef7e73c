//go:build !amd64 || purego

package kernels

// fastPath is the CPU-specific state of a Linear; this build has none, so Linear always uses
// the portable gemmNT.
type fastPath = *noFastPath

type noFastPath struct{}

func newFastPath(w, bias []float32, out, in int) fastPath { return nil }

func newFastPathBF16(w []uint16, bias []float32, out, in int) fastPath { return nil }

func (*noFastPath) forward(dst, x []float32, m, n, k, threads int, add bool) {
	panic("kernels: no fast path in this build")
}
