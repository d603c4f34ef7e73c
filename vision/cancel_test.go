package vision

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// cancelOnDone is a context that cancels itself when its Done method is called for the n-th
// time: as the n-th cancellable kernel of an encode starts (each asks for Done once), so the
// cancellation arrives while that kernel runs, with no timing involved. Err is the
// underlying context's.
type cancelOnDone struct {
	context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	calls  int
	n      int
}

func newCancelOnDone(n int) *cancelOnDone {
	ctx, cancel := context.WithCancel(context.Background())
	return &cancelOnDone{Context: ctx, cancel: cancel, n: n}
}

func (c *cancelOnDone) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls++; c.calls == c.n {
		c.cancel()
	}
	return c.Context.Done()
}

// TestEncodeCancelledInsideBlock: a context cancelled while a kernel of block 0 runs (its
// attention, the third cancellable kernel after the patch embedding and the qkv projection)
// makes Encode return an error matching context.Canceled, naming block 0, before it finishes
// the block (no progress is reported). Before the kernels observed cancellation, Encode
// checked its context only between blocks.
func TestEncodeCancelledInsideBlock(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	grid := Grid{1, 4, 6}
	pixels := make([]float32, grid.Patches()*cfg.PatchDim())
	for _, n := range []int{1, 2, 3, 6} { // the patch embedding, qkv, attention, block 0's fc2
		ctx := newCancelOnDone(n)
		blocks := 0
		out, err := m.Encode(WithProgress(ctx, func(done, total int) { blocks = done }), pixels, []Grid{grid})
		ctx.cancel()
		if !errors.Is(err, context.Canceled) || out != nil {
			t.Errorf("cancelled at kernel %d: Encode returned an output: %v, error %v; want none and context.Canceled", n, out != nil, err)
			continue
		}
		if blocks != 0 {
			t.Errorf("cancelled at kernel %d: %d blocks reported done, want 0", n, blocks)
		}
		if want := "block 0 of 4"; n > 1 && !strings.Contains(err.Error(), want) {
			t.Errorf("cancelled at kernel %d: error %q does not name %q", n, err, want)
		}
	}
}

// TestEncodeCancelled: cancelled before the call, or from the progress report after block 1,
// Encode returns an error matching context.Canceled (wrapped, naming where it stopped) and
// runs no further block; a deadline gives context.DeadlineExceeded.
func TestEncodeCancelled(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := Random(cfg, 1, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	grid := Grid{1, 2, 2}
	pixels := make([]float32, grid.Patches()*cfg.PatchDim())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Encode(ctx, pixels, []Grid{grid}); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "vision: ") {
		t.Errorf("cancelled before: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	blocks := 0
	_, err = m.Encode(WithProgress(ctx, func(done, total int) {
		if blocks = done; done == 1 {
			cancel()
		}
	}), pixels, []Grid{grid})
	if !errors.Is(err, context.Canceled) || blocks != 1 || !strings.Contains(err.Error(), "block 1 of 4") {
		t.Errorf("cancelled after block 0: %d blocks, error %v", blocks, err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 0)
	defer dcancel()
	if _, err := m.Encode(dctx, pixels, []Grid{grid}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
}
