package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// job is one request's images on their way through the batcher.
type job struct {
	ctx     context.Context // the request's; once it is done the job is dropped
	items   []pipeline.Item // the request's images, in order; their pixels are let go once batched
	patches int
	flops   int64 // vision.FLOPs of the items' grids
	queued  time.Time
	done    chan result // buffered (1): the batcher never blocks on it
}

// result is a job's share of one batch's output: its items' rows (views into the batch's).
type result struct {
	features      pipeline.Features
	batchRequests int // how many requests the batch served (for logs)
	err           error
}

// encodeFunc is what the batcher calls: the model's Encode, or a test's wrapper.
type encodeFunc func(ctx context.Context, pixels []float32, grids []vision.Grid) (*vision.Output, error)

// batcher gathers queued jobs into batches and runs one Encode per batch, one batch at a time.
type batcher struct {
	wait     time.Duration
	maxPatch int
	encode   encodeFunc
	m        *metrics
	speed    *speedMeter     // fed with every encoded batch
	baseCtx  context.Context // cancelled to abort a running encode when the drain times out

	mu      sync.Mutex // guards pending and closed
	pending []*job     // queued, oldest first; a handler whose caller left withdraws its job
	closed  bool
	wake    chan struct{} // capacity 1: a job was queued
	stop    chan struct{} // closed when no more jobs will come
	stopped chan struct{} // closed when the loop has returned

	// log, when set, receives warnings about batches (non-finite outputs).
	log *slog.Logger

	// onBatch, when set (tests), is called with each batch's request and patch counts just
	// before its Encode.
	onBatch func(requests, patches int)
}

func newBatcher(baseCtx context.Context, wait time.Duration, maxPatch int, encode encodeFunc, m *metrics, speed *speedMeter) *batcher {
	return &batcher{
		wait: wait, maxPatch: maxPatch, encode: encode, m: m, speed: speed, baseCtx: baseCtx,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// errClosed is returned by submit once the batcher is closed.
var errClosed = errors.New("batcher closed")

// submit queues j; it never blocks.
func (b *batcher) submit(j *job) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	j.queued = time.Now()
	b.pending = append(b.pending, j)
	b.m.queueDepth.Add(1)
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

// withdraw takes j out of the queue if it is still there (its caller has gone), so that it
// never starts and its pixels are freed at once; it reports whether it was.
func (b *batcher) withdraw(j *job) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, q := range b.pending {
		if q == j {
			b.pending = slices.Delete(b.pending, i, i+1) // zeroes the vacated slot
			b.m.queueDepth.Add(-1)
			b.m.dropped.Add(1)
			return true
		}
	}
	return false
}

// close tells the loop that no more jobs will be submitted; it finishes what is queued and
// returns.
func (b *batcher) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.stop)
	}
}

// take returns the oldest queued job whose caller is still there if it has at most room
// patches (room < 0: any size), dropping the jobs of callers that have gone. A job too large
// stays at the head of the queue for the next batch. ok is false when the queue is empty
// and the batcher closed.
func (b *batcher) take(room int) (j *job, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.pending) > 0 {
		j = b.pending[0]
		if err := j.ctx.Err(); err != nil {
			b.pending[0] = nil // the backing array must not keep the job's pixels
			b.pending = b.pending[1:]
			b.m.queueDepth.Add(-1)
			b.m.dropped.Add(1)
			j.done <- result{err: err}
			continue
		}
		if room >= 0 && j.patches > room {
			return nil, true
		}
		b.pending[0] = nil
		b.pending = b.pending[1:]
		b.m.queueDepth.Add(-1)
		return j, true
	}
	return nil, !b.closed
}

// run is the batcher goroutine.
func (b *batcher) run() {
	defer close(b.stopped)
	for {
		first := b.first()
		if first == nil {
			return
		}
		batch := []*job{first}
		patches := first.patches
		var timer *time.Timer
		var tc <-chan time.Time
		if b.wait > 0 {
			timer = time.NewTimer(b.wait)
			tc = timer.C
		}
		for patches < b.maxPatch {
			j := b.more(b.maxPatch-patches, tc)
			if j == nil {
				break
			}
			batch = append(batch, j)
			patches += j.patches
		}
		if timer != nil {
			timer.Stop()
		}
		b.runBatch(batch)
	}
}

// first waits for the job a batch starts with; nil once the batcher is closed and the queue
// is empty.
func (b *batcher) first() *job {
	for {
		j, ok := b.take(-1)
		if j != nil {
			return j
		}
		if !ok {
			return nil
		}
		select {
		case <-b.wake:
		case <-b.stop:
		}
	}
}

// more returns another queued job of at most room patches, waiting for one until tc fires
// (not at all if tc is nil or the batcher is closed); nil if there is none or the next one
// does not fit.
func (b *batcher) more(room int, tc <-chan time.Time) *job {
	for {
		j, ok := b.take(room)
		if j != nil || !ok || tc == nil {
			return j
		}
		b.mu.Lock()
		blocked := len(b.pending) > 0 // the head does not fit
		b.mu.Unlock()
		if blocked {
			return nil
		}
		select {
		case <-b.wake:
		case <-tc:
			return nil
		case <-b.stop:
			j, _ := b.take(room)
			return j
		}
	}
}

// runBatch encodes the jobs of one batch together and hands each its rows.
func (b *batcher) runBatch(batch []*job) {
	// A job's caller may have gone while the batch was gathered.
	live := batch[:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			b.m.dropped.Add(1)
			j.done <- result{err: err}
			continue
		}
		live = append(live, j)
	}
	batch = live
	if len(batch) == 0 {
		b.m.batchesSkipped.Add(1)
		return
	}
	// The requests' items, concatenated in order (pipeline.Batch copies their pixels, which the
	// jobs then let go).
	var pb pipeline.Batch
	var flops int64
	for _, j := range batch {
		for i := range j.items {
			pb.Add(j.items[i])
			j.items[i].Pixels = nil
		}
		flops += j.flops
	}
	patches := pb.Patches()
	now := time.Now()
	for _, j := range batch {
		b.m.queueSeconds.observe(now.Sub(j.queued).Seconds())
	}

	// The encode is cancelled as soon as every caller has gone (client disconnected or timed
	// out), and when the shutdown runs out of time.
	ctx, cancel := context.WithCancel(b.baseCtx)
	defer cancel()
	var remaining atomic.Int64
	remaining.Store(int64(len(batch)))
	for _, j := range batch {
		stop := context.AfterFunc(j.ctx, func() {
			if remaining.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}

	if b.onBatch != nil {
		b.onBatch(len(batch), patches)
	}
	b.m.batchRequests.observe(float64(len(batch)))
	b.m.batchPatches.observe(float64(patches))
	b.m.encoding.Store(1)
	start := time.Now()
	out, err := b.encode(ctx, pb.Pixels(), pb.Grids())
	elapsed := time.Since(start)
	b.m.encoding.Store(0)
	b.m.encodeSeconds.observe(elapsed.Seconds())
	b.m.encodeNanos.Add(uint64(elapsed))

	if err != nil {
		if ctx.Err() != nil && b.baseCtx.Err() == nil {
			// Every caller went away mid-encode.
			b.m.batchesSkipped.Add(1)
		} else {
			b.m.batchErrors.Add(1)
		}
		if b.baseCtx.Err() != nil {
			err = errAborted
		}
		for _, j := range batch {
			j.done <- result{err: err}
		}
		return
	}
	res, err := pb.Result(out)
	if err != nil {
		err = fmt.Errorf("internal error: %w", err)
		for _, j := range batch {
			j.done <- result{err: err}
		}
		b.m.batchErrors.Add(1)
		return
	}
	if b.speed != nil {
		b.speed.observe(flops, elapsed)
	}
	b.m.batches.Add(1)
	b.m.patches.Add(uint64(patches))
	b.m.tokens.Add(uint64(out.Pooler.Rows))
	if out.NonFinite > 0 {
		b.m.nonFinite.Add(uint64(out.NonFinite))
		b.warn("an encode produced non-finite outputs", "values", out.NonFinite, "requests", len(batch), "patches", patches)
	}
	i0 := 0
	for _, j := range batch {
		// n is read before the send: once it has its result the handler drops j.items.
		n := len(j.items)
		b.m.images.Add(uint64(n))
		j.done <- result{features: res.Items(i0, i0+n), batchRequests: len(batch)}
		i0 += n
	}
}

func (b *batcher) warn(msg string, args ...any) {
	if b.log != nil {
		b.log.Warn(msg, args...)
	}
}

// errAborted is the cause of requests cut short by a shutdown that ran out of time.
var errAborted = errors.New("aborted by shutdown")
