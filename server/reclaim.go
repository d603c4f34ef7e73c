package server

import (
	"context"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// reclaimTick is how often the reclaimer looks whether the server has become idle.
const reclaimTick = time.Second

// reclaimer returns the memory of finished requests to the system once the server is idle.
//
// A burst of large requests leaves the heap at its peak (decoded images, pixel rows,
// activations): the collector runs again only when the program allocates or after two
// minutes, and the runtime then hands free pages back slowly, so the resident size would
// stay at the burst's peak long after it. The model's weights live outside the Go heap, so
// the live heap of an idle server is small and a full collection costs milliseconds: after
// a second with no encode request in flight and at least one finished since the last time,
// the reclaimer collects and returns the free memory at once (debug.FreeOSMemory).
type reclaimer struct {
	finished atomic.Uint64 // encode requests finished
	inFlight *atomic.Int64 // the metrics' gauge
	done     atomic.Uint64 // reclaims so far
}

// run looks every reclaimTick until ctx is done.
func (r *reclaimer) run(ctx context.Context) {
	t := time.NewTicker(reclaimTick)
	defer t.Stop()
	var seen, prev uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := r.finished.Load()
		if n != seen && n == prev && r.inFlight.Load() == 0 {
			debug.FreeOSMemory()
			r.done.Add(1)
			seen = n
		}
		prev = n
	}
}
