//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// bandwidthStreamsForTest are both assembly read loops, where the CPU has their instructions.
func bandwidthStreamsForTest() []streamKernels {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return nil
	}
	s := []streamKernels{streamAsm(false)}
	if cpu.X86.HasAVX512F {
		s = append(s, streamAsm(true))
	}
	return s
}
