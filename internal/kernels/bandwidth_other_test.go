//go:build !amd64 || purego

package kernels

// bandwidthStreamsForTest adds nothing: this build has the portable loops only.
func bandwidthStreamsForTest() []streamKernels { return nil }
