//go:build !amd64 || purego

package kernels

// gemvKernelSets: without assembly, each GEMV has one kernel set (gemv_amd64_test.go).
func gemvKernelSets(gemm) ([]string, func(i int)) { return []string{""}, func(int) {} }
