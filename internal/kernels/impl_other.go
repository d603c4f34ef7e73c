//go:build !amd64 || purego

package kernels

// avx2FMA does not exist in this build (another architecture, or the purego build tag): the
// generic implementation is the only one.
var avx2FMA *impl
