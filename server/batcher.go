package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qwen3vl/qwen3vl/vision"
)

// job is one request's images on their way through the batcher.
type job struct {
	ctx     context.Context // the request's; once it is done the job is dropped
	pixels  []float32       // every image's pixel rows, concatenated
	grids   []vision.Grid
	patches int
	queued  time.Time
	done    chan result // buffered (1): the batcher never blocks on it
}

// result is a job's share of one batch's output: rows [tokens0, tokens0+tokens) of Pooler and
// of every Deepstack matrix, rows [patches0, patches0+patches) of LastHidden.
type result struct {
	out               *vision.Output
	patches0, tokens0 int
	batchRequests     int // how many requests the batch served (for logs)
	err               error
}

// encodeFunc is what the batcher calls: the model's Encode, or a test's wrapper.
type encodeFunc func(ctx context.Context, pixels []float32, grids []vision.Grid) (*vision.Output, error)

// batcher gathers queued jobs into batches and runs one Encode per batch, one batch at a time.
type batcher struct {
	queue    chan *job // capacity = -queue; admission (Server.slots) keeps sends from blocking
	wait     time.Duration
	maxPatch int
	merge2   int // SpatialMergeSize²: patches per output token
	encode   encodeFunc
	m        *metrics
	baseCtx  context.Context // cancelled to abort a running encode when the drain times out
	stop     chan struct{}   // closed when no more jobs will come
	stopped  chan struct{}   // closed when the loop has returned
	mu       sync.Mutex      // guards closed against submit
	closed   bool
	carry    *job // a job that did not fit the previous batch; still counted as queued

	// onBatch, when set (tests), is called with each batch's request and patch counts just
	// before its Encode.
	onBatch func(requests, patches int)
}

func newBatcher(baseCtx context.Context, queue int, wait time.Duration, maxPatch, merge2 int, encode encodeFunc, m *metrics) *batcher {
	return &batcher{
		queue: make(chan *job, queue), wait: wait, maxPatch: maxPatch, merge2: merge2,
		encode: encode, m: m, baseCtx: baseCtx,
		stop: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// errClosed is returned by submit once the batcher is closed.
var errClosed = errors.New("batcher closed")

// submit queues j. It never blocks: the caller holds one of the -queue admission slots and the
// channel has that many places.
func (b *batcher) submit(j *job) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	j.queued = time.Now()
	b.m.queueDepth.Add(1)
	b.queue <- j
	return nil
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

// run is the batcher goroutine.
func (b *batcher) run() {
	defer close(b.stopped)
	for {
		first := b.first()
		if first == nil {
			return
		}
		b.m.queueDepth.Add(-1)
		batch := []*job{first}
		patches := first.patches
		var timer *time.Timer
		var tc <-chan time.Time
		if b.wait > 0 {
			timer = time.NewTimer(b.wait)
			tc = timer.C
		}
		for patches < b.maxPatch {
			j := b.more(tc)
			if j == nil {
				break
			}
			if b.drop(j) {
				continue
			}
			if patches+j.patches > b.maxPatch {
				b.carry = j
				break
			}
			b.m.queueDepth.Add(-1)
			batch = append(batch, j)
			patches += j.patches
		}
		if timer != nil {
			timer.Stop()
		}
		b.runBatch(batch)
	}
}

// first returns the job a batch starts with: the carried-over one, else the next queued one
// whose caller is still there, waiting for one. It returns nil once the batcher is closed and
// the queue is empty.
func (b *batcher) first() *job {
	for {
		var j *job
		if b.carry != nil {
			j, b.carry = b.carry, nil
		} else {
			select {
			case j = <-b.queue:
			case <-b.stop:
				select {
				case j = <-b.queue:
				default:
					return nil
				}
			}
		}
		if !b.drop(j) {
			return j
		}
	}
}

// more returns another queued job, waiting for one until tc fires (not at all if tc is nil or
// the batcher is closed); nil if there is none.
func (b *batcher) more(tc <-chan time.Time) *job {
	select {
	case j := <-b.queue:
		return j
	default:
	}
	if tc == nil {
		return nil
	}
	select {
	case j := <-b.queue:
		return j
	case <-tc:
		return nil
	case <-b.stop:
		select {
		case j := <-b.queue:
			return j
		default:
			return nil
		}
	}
}

// drop reports whether j's caller has gone (client disconnected or timed out); if so j leaves
// the queue without being encoded.
func (b *batcher) drop(j *job) bool {
	err := j.ctx.Err()
	if err == nil {
		return false
	}
	b.m.queueDepth.Add(-1)
	b.m.dropped.Add(1)
	j.done <- result{err: err}
	return true
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
	var pixels []float32
	var grids []vision.Grid
	patches := 0
	if len(batch) == 1 {
		pixels, grids, patches = batch[0].pixels, batch[0].grids, batch[0].patches
	} else {
		n := 0
		for _, j := range batch {
			n += len(j.pixels)
		}
		pixels = make([]float32, 0, n)
		for _, j := range batch {
			pixels = append(pixels, j.pixels...)
			grids = append(grids, j.grids...)
			patches += j.patches
		}
	}
	now := time.Now()
	for _, j := range batch {
		b.m.queueSeconds.observe(now.Sub(j.queued).Seconds())
	}

	// The encode is aborted when every caller has gone, or when the drain times out.
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
	out, err := b.encode(ctx, pixels, grids)
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
	if out.Pooler.Rows*b.merge2 != patches || out.LastHidden.Rows != patches {
		err := fmt.Errorf("internal error: encode returned %d tokens and %d rows for %d patches", out.Pooler.Rows, out.LastHidden.Rows, patches)
		for _, j := range batch {
			j.done <- result{err: err}
		}
		b.m.batchErrors.Add(1)
		return
	}
	b.m.batches.Add(1)
	b.m.patches.Add(uint64(patches))
	b.m.tokens.Add(uint64(out.Pooler.Rows))
	p0 := 0
	for _, j := range batch {
		b.m.images.Add(uint64(len(j.grids)))
		j.done <- result{out: out, patches0: p0, tokens0: p0 / b.merge2, batchRequests: len(batch)}
		p0 += j.patches
	}
}

// errAborted is the error of requests whose encode was aborted by a shutdown that ran out of
// time.
var errAborted = errors.New("aborted by shutdown")
