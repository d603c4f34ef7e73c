package checkpoint

import (
	"runtime"
	"sync"
)

// Binder runs the binding of a parameter table's modules (read a module's tensors, convert,
// pack) on up to a given number of goroutines, and keeps the first error any of them reports.
// The zero value is not usable: make one with NewBinder.
type Binder struct {
	wg  sync.WaitGroup
	sem chan struct{}
	mu  sync.Mutex
	err error
}

// NewBinder returns a Binder running at most threads tasks at once (at least one).
func NewBinder(threads int) *Binder {
	return &Binder{sem: make(chan struct{}, max(threads, 1))}
}

// Go runs task on its own goroutine once fewer than the limit run. After the task, the
// garbage it left (the unpacked copies of its tensors) is collected before the next task
// allocates its own, so that loading peaks near the packed weights' size instead of up to
// twice it (the weights hold no pointers, so a collection costs little).
func (b *Binder) Go(task func()) {
	b.wg.Add(1)
	b.sem <- struct{}{}
	go func() {
		defer func() { <-b.sem; b.wg.Done() }()
		task()
		runtime.GC()
	}()
}

// Fail records err if it is the first error.
func (b *Binder) Fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

// Failed reports whether an error has been recorded, so that tasks stop early.
func (b *Binder) Failed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err != nil
}

// Wait waits for every task and returns the first error.
func (b *Binder) Wait() error {
	b.wg.Wait()
	return b.err
}
