package kernels

import "sync"

// parallelFor splits [0, n) into at most threads contiguous chunks and runs fn on each chunk in
// its own goroutine, returning when all are done. threads < 1 means 1.
func parallelFor(n, threads int, fn func(lo, hi int)) {
	if threads < 1 {
		threads = 1
	}
	if threads > n {
		threads = n
	}
	if threads <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + threads - 1) / threads
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}

// ceilTo rounds v up to a multiple of m.
func ceilTo(v, m int) int { return (v + m - 1) / m * m }
