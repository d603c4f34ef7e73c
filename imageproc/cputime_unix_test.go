//go:build unix

package imageproc

import (
	"syscall"
	"time"
)

// processCPUTime returns the user+system CPU time of the process, for
// benchmarks on shared machines where wall time is noisy.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
