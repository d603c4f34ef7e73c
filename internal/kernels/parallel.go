package kernels

import (
	"sync"
	"sync/atomic"
)

// parallelFor splits [0, n) into at most threads contiguous chunks and runs fn on each chunk in
// its own goroutine, returning when all are done. threads < 1 means 1. For short kernels (the
// norms, activations, rotary); the long ones (GEMM, attention) run as tasks (runTasks).
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

// runTasks runs fn(w, t) for every task t in [0, n) on up to workers goroutines, which take
// tasks one at a time, in order, as they finish the previous one (w in [0, workers) names the
// goroutine, for per-goroutine scratch; w = 0 is the calling goroutine). It is how the long
// kernels (the GEMM, attention) are cancelled: before each task a goroutine checks done (one
// non-blocking receive; a nil done never closes), and once done is closed no further task
// starts. runTasks returns when the running tasks have finished: true if every task ran,
// false if done stopped some.
func runTasks(n, workers int, done <-chan struct{}, fn func(w, t int)) bool {
	if n <= 0 {
		return true
	}
	var next atomic.Int64
	var skipped atomic.Bool
	runWorkers(min(max(workers, 1), n), func(w int) {
		for {
			t := int(next.Add(1)) - 1
			if t >= n {
				return
			}
			if closed(done) {
				skipped.Store(true)
				return
			}
			if taskStarted != nil {
				taskStarted()
			}
			fn(w, t)
		}
	})
	return !skipped.Load()
}

// closed reports whether done is closed; a nil done never is.
func closed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// taskStarted, when not nil, is called as each task of runTasks starts, on its goroutine: tests
// count tasks with it, and cancel from inside one. Set only by tests, never while kernels run.
var taskStarted func()

// runWorkers runs fn(0) … fn(workers−1) at once, fn(0) on the calling goroutine.
func runWorkers(workers int, fn func(w int)) {
	if workers <= 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			fn(w)
		}()
	}
	fn(0)
	wg.Wait()
}

// ceilTo rounds v up to a multiple of m.
func ceilTo(v, m int) int { return (v + m - 1) / m * m }
