package kernels

import (
	"context"
	"errors"
	"fmt"
	"github.com/qwen3vl/qwen3vl/internal/half"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// countTasks runs f with taskStarted counting the tasks that start; onTask, if not nil, is
// called with the count as each one starts (on the task's goroutine).
func countTasks(f func(), onTask func(n int64)) int64 {
	var n atomic.Int64
	taskStarted = func() {
		c := n.Add(1)
		if onTask != nil {
			onTask(c)
		}
	}
	defer func() { taskStarted = nil }()
	f()
	return n.Load()
}

// cancelCase is one long kernel run with a context: run returns the kernel's error.
type cancelCase struct {
	name string
	run  func(ctx context.Context, threads int) error
}

// cancelCases are a GEMM and a one-row GEMV of each implementation (float32 and bf16 weights,
// with and without the residual addition) and attention with each implementation's kernels, on a long segment
// (packing and query blocks shared out) and on many short ones (whole segment-head pairs).
func cancelCases(t *testing.T) []cancelCase {
	r := rand.New(rand.NewPCG(101, 102))
	const m, out, in = 700, 300, 200
	w, bias, x := randSlice(r, out*in), randSlice(r, out), randSlice(r, m*in)
	w16 := make([]uint16, len(w))
	for i, v := range w {
		w16[i] = half.F32ToBF16(v)
	}
	dst := make([]float32, m*out)
	// One row through a wider layer: the GEMV (gemv.go), 16 to 32 tasks of column chunks.
	const outV, inV = 2000, 1024
	wV, biasV, xV := randSlice(r, outV*inV), randSlice(r, outV), randSlice(r, inV)
	wV16 := make([]uint16, len(wV))
	for i, v := range wV {
		wV16[i] = half.F32ToBF16(v)
	}
	dstV := make([]float32, outV)
	var cases []cancelCase
	for name, tile := range bf16Tiles() {
		l, err := newLinearBF16Dot(w16, bias, out, in, tile, bf16Tile4s()[name], nil, bf16Gemvs()[name], bf16Gemv4s()[name])
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, cancelCase{name + "/LinearBF16Dot", func(ctx context.Context, th int) error { return l.ForwardAddContext(ctx, dst, x, m, th) }})
	}
	for _, im := range impls {
		lV, err := newLinear(im, wV, biasV, outV, inV)
		if err != nil {
			t.Fatal(err)
		}
		lV16, err := newLinearBF16Bits(im, wV16, biasV, outV, inV)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases,
			cancelCase{im.name + "/GEMV", func(ctx context.Context, th int) error { return lV.ForwardContext(ctx, dstV, xV, 1, th) }},
			cancelCase{im.name + "/GEMVAdd", func(ctx context.Context, th int) error { return lV.ForwardAddContext(ctx, dstV, xV, 1, th) }},
			cancelCase{im.name + "/GEMVBF16", func(ctx context.Context, th int) error { return lV16.ForwardContext(ctx, dstV, xV, 1, th) }},
		)
		l, err := newLinear(im, w, bias, out, in)
		if err != nil {
			t.Fatal(err)
		}
		l16, err := newLinearBF16Bits(im, w16, bias, out, in)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases,
			cancelCase{im.name + "/Linear", func(ctx context.Context, th int) error { return l.ForwardContext(ctx, dst, x, m, th) }},
			cancelCase{im.name + "/LinearAdd", func(ctx context.Context, th int) error { return l.ForwardAddContext(ctx, dst, x, m, th) }},
			cancelCase{im.name + "/LinearBF16", func(ctx context.Context, th int) error { return l16.ForwardContext(ctx, dst, x, m, th) }},
		)
		for _, s := range []struct {
			name      string
			heads, hd int
			segments  []int
		}{
			{"long", 2, 16, []int{1100}},
			{"short", 4, 64, []int{100, 100, 100, 100, 100}},
		} {
			n := 0
			for _, l := range s.segments {
				n += l
			}
			qkv := randSlice(r, n*3*s.heads*s.hd)
			o := make([]float32, n*s.heads*s.hd)
			cases = append(cases, cancelCase{fmt.Sprintf("%s/Attention-%s", im.name, s.name), func(ctx context.Context, th int) error {
				if attention(&im.attn, ctx.Done(), o, qkv, n, s.heads, s.hd, s.segments, th) {
					return nil
				}
				return ctx.Err()
			}})
		}
	}
	return cases
}

// TestKernelCancellation: a long kernel whose context is done before it starts runs no task
// and returns the context's error; cancelled from inside its first task, it starts no further
// task on one goroutine, and at most one more per other goroutine (those that had already
// passed their check), far fewer than the whole call's; not cancelled, it runs every task and
// returns nil.
func TestKernelCancellation(t *testing.T) {
	for _, c := range cancelCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var err error
			all := countTasks(func() { err = c.run(context.Background(), 2) }, nil)
			if err != nil || all < 8 {
				t.Fatalf("uncancelled: %d tasks, error %v; want nil and at least 8 tasks", all, err)
			}

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if n := countTasks(func() { err = c.run(ctx, 2) }, nil); n != 0 || !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled before the call: %d tasks ran, error %v; want 0 and context.Canceled", n, err)
			}

			for _, threads := range []int{1, 2, 3} {
				ctx, cancel := context.WithCancel(context.Background())
				n := countTasks(func() { err = c.run(ctx, threads) }, func(n int64) {
					if n == 1 {
						cancel()
					}
				})
				cancel()
				if !errors.Is(err, context.Canceled) || n < 1 || n > int64(threads) {
					t.Errorf("%d threads, cancelled in the first task: %d of %d tasks ran, error %v; want at most %d and context.Canceled",
						threads, n, all, err, threads)
				}
			}

			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			if err := c.run(ctx, 2); err != nil {
				t.Errorf("live context: %v", err)
			}
		})
	}
}

// TestForwardContextResult: with a live context, ForwardContext and ForwardAddContext compute
// what Forward and ForwardAdd compute, bit for bit.
func TestForwardContextResult(t *testing.T) {
	r := rand.New(rand.NewPCG(103, 104))
	const m, out, in = 230, 70, 90
	w, bias, x, d0 := randSlice(r, out*in), randSlice(r, out), randSlice(r, m*in), randSlice(r, m*out)
	for _, im := range impls {
		l, err := newLinear(im, w, bias, out, in)
		if err != nil {
			t.Fatal(err)
		}
		want, got := make([]float32, m*out), make([]float32, m*out)
		l.Forward(want, x, m, 2)
		if err := l.ForwardContext(context.Background(), got, x, m, 2); err != nil {
			t.Fatal(err)
		}
		wantAdd, gotAdd := append([]float32(nil), d0...), append([]float32(nil), d0...)
		l.ForwardAdd(wantAdd, x, m, 2)
		if err := l.ForwardAddContext(context.Background(), gotAdd, x, m, 2); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(gotAdd[i]) != math.Float32bits(wantAdd[i]) {
				t.Fatalf("%s: [%d] ForwardContext %g, Forward %g; ForwardAddContext %g, ForwardAdd %g", im.name, i, got[i], want[i], gotAdd[i], wantAdd[i])
			}
		}
	}
}

// TestAttentionStopsInsideTask: attention checks its context before each block of keys within a
// task, so cancelled as its first (segment, head) task starts, on one goroutine, it writes no
// output at all (the task stops before its first key block and no other starts).
func TestAttentionStopsInsideTask(t *testing.T) {
	r := rand.New(rand.NewPCG(107, 108))
	const heads, hd = 4, 64
	segments := []int{600, 600}
	n := 1200
	qkv := randSlice(r, n*3*heads*hd)
	for _, im := range impls {
		out := make([]float32, n*heads*hd)
		for i := range out {
			out[i] = float32(math.NaN())
		}
		ctx, cancel := context.WithCancel(context.Background())
		tasks := countTasks(func() {
			if attention(&im.attn, ctx.Done(), out, qkv, n, heads, hd, segments, 1) {
				t.Errorf("%s: attention reports it finished", im.name)
			}
		}, func(int64) { cancel() })
		cancel()
		if tasks != 1 {
			t.Errorf("%s: %d tasks started, want 1", im.name, tasks)
		}
		for i, v := range out {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("%s: out[%d] = %g was written after the cancellation", im.name, i, v)
			}
		}
	}
}

// TestAttentionContext: AttentionContext with a live context computes what Attention computes;
// with a cancelled one it returns context.Canceled (wrapped errors compare with errors.Is).
func TestAttentionContext(t *testing.T) {
	r := rand.New(rand.NewPCG(105, 106))
	const n, heads, hd = 300, 2, 64
	qkv := randSlice(r, n*3*heads*hd)
	want, got := make([]float32, n*heads*hd), make([]float32, n*heads*hd)
	Attention(want, qkv, n, heads, hd, []int{n}, 2)
	if err := AttentionContext(context.Background(), got, qkv, n, heads, hd, []int{n}, 2); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("[%d] AttentionContext %g, Attention %g", i, got[i], want[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := AttentionContext(ctx, got, qkv, n, heads, hd, []int{n}, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// BenchmarkLinearContext is BenchmarkLinear's 432 × 1024 → 4096 on 2 goroutines through
// ForwardContext with a live cancellable context: the cost of the per-task checks, to compare
// with BenchmarkLinear's figure for the same shape.
func BenchmarkLinearContext(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	const m, in, out, threads = 432, 1024, 4096, 2
	l, err := NewLinear(randSlice(r, out*in), randSlice(r, out), out, in)
	if err != nil {
		b.Fatal(err)
	}
	x, dst := randSlice(r, m*in), make([]float32, m*out)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.Forward(dst, x, m, threads)
	for b.Loop() {
		if err := l.ForwardContext(ctx, dst, x, m, threads); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(l.FLOPs(m))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
