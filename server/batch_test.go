package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/vision"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes (log handlers).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBatching sends concurrent requests of different sizes and checks that they were encoded
// together, and that each got bit for bit what a lone Encode of its images gives.
func TestBatching(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.BatchWait = 50 * time.Millisecond }, true)
	c, url := ts.http.Client(), ts.http.URL+"/v1/encode"

	// The first request occupies the encoder, so the others pile up in the queue.
	sizes := [][2]int{{64, 64}, {100, 60}, {37, 81}, {200, 150}, {33, 33}, {90, 120}, {128, 40}}
	imgs := make([][]byte, len(sizes))
	for i, sz := range sizes {
		imgs[i] = pngImage(t, sz[0], sz[1], i)
	}
	type reply struct {
		status int
		body   []byte
		batch  string
	}
	replies := make([]reply, len(imgs))
	var wg sync.WaitGroup
	send := func(i int, accept string) {
		defer wg.Done()
		req, _ := http.NewRequest("POST", url, bytes.NewReader(imgs[i]))
		req.Header.Set("Content-Type", "image/png")
		req.Header.Set("Accept", accept)
		resp, err := c.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		replies[i] = reply{resp.StatusCode, b, resp.Header.Get("X-Batch-Requests")}
	}
	wg.Add(1)
	go send(0, "application/json")
	if first := ts.gate.waitEntered(t); len(first) != 1 {
		t.Fatalf("first batch: %d images", len(first))
	}
	for i := 1; i < len(imgs); i++ {
		wg.Add(1)
		accept := "application/json"
		if i%2 == 0 {
			accept = "application/octet-stream"
		}
		go send(i, accept)
	}
	waitFor(t, "6 queued requests", func() bool { return ts.m.queueDepth.Load() == int64(len(imgs)-1) })
	ts.gate.open()
	second := ts.gate.waitEntered(t)
	wg.Wait()

	if len(second) != len(imgs)-1 {
		t.Errorf("second batch has %d images, want %d", len(second), len(imgs)-1)
	}
	for i, r := range replies {
		if r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
		want := expected(t, ts.Server, imgs[i])
		wantBatch := "6"
		if i == 0 {
			wantBatch = "1"
		}
		if r.batch != wantBatch {
			t.Errorf("request %d: X-Batch-Requests %s, want %s", i, r.batch, wantBatch)
		}
		if i%2 == 0 && i > 0 {
			tensors, _, _ := parseSafetensors(t, r.body)
			if !bitsEqual(tensors["pooler_output"].f32(), want.Pooler.Data) ||
				!bitsEqual(tensors["deepstack_features.0"].f32(), want.Deepstack[0].Data) ||
				!bitsEqual(tensors["deepstack_features.1"].f32(), want.Deepstack[1].Data) ||
				!bitsEqual(tensors["last_hidden_state"].f32(), want.LastHidden.Data) {
				t.Errorf("request %d (safetensors): features differ from a lone Encode", i)
			}
			continue
		}
		got := decodeJSONResponse(t, r.body)
		if len(got.Images) != 1 || got.Images[0].GridTHW != [3]int{want.Grids[0].T, want.Grids[0].H, want.Grids[0].W} {
			t.Fatalf("request %d: %+v", i, got.Images)
		}
		sameRows(t, fmt.Sprintf("request %d pooler", i), got.Images[0].PoolerOutput, want.Pooler, 0)
		for k := range want.Deepstack {
			sameRows(t, fmt.Sprintf("request %d deepstack %d", i, k), got.Images[0].DeepstackFeatures[k], want.Deepstack[k], 0)
		}
	}
	m := metricsText(t, ts.Server)
	if v := metricValue(t, m, `qwen3vl_batch_requests_bucket{le="1"}`); v != 1 {
		t.Errorf("batches of 1: %v, want 1", v)
	}
	if v := metricValue(t, m, `qwen3vl_batch_requests_bucket{le="6"}`); v != 2 {
		t.Errorf("batches of ≤6: %v, want 2", v)
	}
	if v := metricValue(t, m, "qwen3vl_batches_total"); v != 2 {
		t.Errorf("batches_total %v, want 2", v)
	}
}

// TestBatchPatchesLimit checks that a batch never takes more than -batch-patches patches,
// except a request larger than that on its own.
func TestBatchPatchesLimit(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.BatchPatches = 40
		c.BatchWait = 20 * time.Millisecond
	}, true)
	c, url := ts.http.Client(), ts.http.URL+"/v1/encode"
	var wg sync.WaitGroup
	post := func(img []byte) {
		defer wg.Done()
		resp, body := do(t, c, "POST", url, "image/png", img, nil)
		if resp.StatusCode != 200 {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	}
	wg.Add(1)
	go post(pngImage(t, 64, 64, 0)) // 16 patches, occupies the encoder
	ts.gate.waitEntered(t)
	// 16-patch requests: two fit in 40, a third does not. Then one 64-patch request.
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go post(pngImage(t, 64, 64, i))
		waitFor(t, "queued", func() bool { return ts.m.queueDepth.Load() == int64(i) })
	}
	wg.Add(1)
	go post(pngImage(t, 128, 128, 9))
	waitFor(t, "queued", func() bool { return ts.m.queueDepth.Load() == 4 })
	ts.gate.open()
	var got []int
	for range 3 {
		patches := 0
		for _, g := range ts.gate.waitEntered(t) {
			patches += g.Patches()
		}
		got = append(got, patches)
	}
	wg.Wait()
	if fmt.Sprint(got) != "[32 16 64]" {
		t.Errorf("batch patches %v, want [32 16 64]", got)
	}
}

// TestQueueFull fills the admission queue and checks the 429.
func TestQueueFull(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Queue = 2 }, true)
	c, url := ts.http.Client(), ts.http.URL+"/v1/encode"
	img := pngImage(t, 64, 64, 1)
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := do(t, c, "POST", url, "image/png", img, nil)
			statuses[i] = resp.StatusCode
		}()
	}
	ts.gate.waitEntered(t)
	waitFor(t, "two admitted", func() bool { return ts.m.inFlight.Load() == 2 })
	resp, body := do(t, c, "POST", url, "image/png", img, nil)
	wantError(t, resp, body, 429, CodeQueueFull)
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", resp.Header.Get("Retry-After"))
	}
	// Probes still answer while the queue is full.
	if resp, _ := do(t, c, "GET", ts.http.URL+"/readyz", "", nil, nil); resp.StatusCode != 200 {
		t.Errorf("/readyz with a full queue: %d", resp.StatusCode)
	}
	ts.gate.open()
	wg.Wait()
	if statuses[0] != 200 || statuses[1] != 200 {
		t.Errorf("admitted requests: %v", statuses)
	}
	if resp, body := do(t, c, "POST", url, "image/png", img, nil); resp.StatusCode != 200 {
		t.Errorf("after the queue drained: %d %s", resp.StatusCode, body)
	}
	m := metricsText(t, ts.Server)
	if v := metricValue(t, m, `qwen3vl_http_requests_total{route="/v1/encode",code="429"}`); v != 1 {
		t.Errorf("429s counted: %v", v)
	}
	if v := metricValue(t, m, "qwen3vl_requests_in_flight"); v != 0 {
		t.Errorf("in flight after all: %v", v)
	}
}

// TestTimeout checks the 504 of a request that is still encoding, and of one still queued.
func TestTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Timeout = 300 * time.Millisecond }, true)
	ts.gate.deaf.Store(true) // the encode outlives both requests
	c, url := ts.http.Client(), ts.http.URL+"/v1/encode"
	img := pngImage(t, 64, 64, 1)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := do(t, c, "POST", url, "image/png", img, nil)
			wantError(t, resp, body, 504, CodeTimeout)
		}()
		if i == 0 {
			ts.gate.waitEntered(t) // the first encodes (held by the gate), the second waits in the queue
		}
	}
	wg.Wait()
	ts.gate.deaf.Store(false)
	ts.gate.next()
	// The encode whose caller has gone fails on its cancelled context; the queued one is
	// dropped without an encode.
	waitFor(t, "the batch to be abandoned", func() bool {
		return ts.m.batchesSkipped.Load() == 1 && ts.m.dropped.Load() == 1 && ts.m.queueDepth.Load() == 0
	})
	if n := ts.m.batches.Load(); n != 0 {
		t.Errorf("%d batches completed", n)
	}
	ts.gate.open()
	if resp, body := do(t, c, "POST", url, "image/png", img, nil); resp.StatusCode != 200 {
		t.Errorf("after the timeouts: %d %s", resp.StatusCode, body)
	}
}

// TestClientGone checks that a queued request whose client disconnects is dropped without
// being encoded, and that an encode whose every caller has gone is cancelled.
func TestClientGone(t *testing.T) {
	ts := newTestServer(t, nil, true)
	c, url := ts.http.Client(), ts.http.URL+"/v1/encode"
	img := pngImage(t, 64, 64, 1)
	var calls sync.WaitGroup

	post := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(img))
		req.Header.Set("Content-Type", "image/png")
		resp, err := c.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	calls.Add(2)
	go func() { defer calls.Done(); post(ctxA) }()
	ts.gate.waitEntered(t)
	encodeCtx := <-ts.gate.ctxs
	go func() { defer calls.Done(); post(ctxB) }()
	waitFor(t, "B queued", func() bool { return ts.m.queueDepth.Load() == 1 })

	cancelB() // B's client leaves while B is queued
	waitFor(t, "B answered 499", func() bool { return ts.m.requestCount("/v1/encode", StatusClientClosedRequest) == 1 })
	cancelA() // A's client leaves while A is encoding: the encode is cancelled
	select {
	case <-encodeCtx.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the encode of a batch whose callers all left was not cancelled")
	}
	calls.Wait()
	waitFor(t, "B dropped", func() bool { return ts.m.dropped.Load() == 1 && ts.m.queueDepth.Load() == 0 })
	waitFor(t, "two 499s", func() bool { return ts.m.requestCount("/v1/encode", StatusClientClosedRequest) == 2 })
	if n := ts.m.batchesSkipped.Load(); n != 1 {
		t.Errorf("batches skipped %d, want 1", n)
	}
	select {
	case g := <-ts.gate.entered:
		t.Errorf("the dropped request was encoded: %v", g)
	default:
	}
	ts.gate.open()
	if resp, body := do(t, c, "POST", url, "image/png", img, nil); resp.StatusCode != 200 {
		t.Errorf("after: %d %s", resp.StatusCode, body)
	}
}

// TestSkipBatchAllGone checks that a gathered batch whose every caller left before it ran is
// skipped without an Encode.
func TestSkipBatchAllGone(t *testing.T) {
	m := newMetrics()
	calls := 0
	b := newBatcher(context.Background(), 0, 1000, func(ctx context.Context, pixels []float32, grids []vision.Grid) (*vision.Output, error) {
		calls++
		return nil, errors.New("unreachable")
	}, m, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j1 := &job{ctx: ctx, patches: 4, items: []pipeline.Item{{Grid: vision.Grid{T: 1, H: 2, W: 2}}}, done: make(chan result, 1)}
	j2 := &job{ctx: ctx, patches: 4, items: []pipeline.Item{{Grid: vision.Grid{T: 1, H: 2, W: 2}}}, done: make(chan result, 1)}
	b.runBatch([]*job{j1, j2})
	if calls != 0 || m.batchesSkipped.Load() != 1 || m.dropped.Load() != 2 {
		t.Errorf("calls %d skipped %d dropped %d", calls, m.batchesSkipped.Load(), m.dropped.Load())
	}
	for _, j := range []*job{j1, j2} {
		if r := <-j.done; !errors.Is(r.err, context.Canceled) {
			t.Errorf("result %v", r.err)
		}
	}
}

// serveGated starts Serve for cfg on a free loopback port, with the tiny model and every
// encode held at a gate; it returns the server, the gate, the listener, the cancel of Serve's
// context and the channel Serve's result arrives on.
func serveGated(t *testing.T, cfg Config) (*Server, *gate, net.Listener, context.CancelFunc, chan error) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := newGate()
	s.wrapEncode = g.wrap
	if err := s.SetModel(tiny(t), testPre()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	return s, g, ln, cancel, served
}

// TestShutdownDrains runs Serve on a real listener, cancels it while a request is being
// encoded, and checks that the request is answered, that new work is refused and that Serve
// returns nil.
func TestShutdownDrains(t *testing.T) {
	s, g, ln, cancel, served := serveGated(t, testConfig())
	url := "http://" + ln.Addr().String()
	c := &http.Client{}
	img := pngImage(t, 64, 64, 1)

	type reply struct {
		status int
		body   []byte
	}
	replies := make(chan reply, 2)
	for i := range 2 {
		go func() {
			resp, body := do(t, c, "POST", url+"/v1/encode", "image/png", img, nil)
			replies <- reply{resp.StatusCode, body}
		}()
		if i == 0 {
			g.waitEntered(t) // the first encoding, the second queued
		}
	}
	waitFor(t, "one queued", func() bool { return s.m.queueDepth.Load() == 1 })
	cancel()
	waitFor(t, "draining", func() bool { return s.draining.Load() })
	rec := newRecorder()
	s.ServeHTTP(rec, newRequest("GET", "/readyz"))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), CodeDraining) {
		t.Errorf("/readyz while draining: %d %s", rec.Code, rec.Body)
	}
	rec = newRecorder()
	s.ServeHTTP(rec, newRequestBody("POST", "/v1/encode", "image/png", img))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), CodeDraining) {
		t.Errorf("encode while draining: %d %s", rec.Code, rec.Body)
	}
	waitFor(t, "the listener to close", func() bool {
		conn, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with requests in flight", err)
	default:
	}
	g.open()
	for range 2 {
		r := <-replies
		if r.status != 200 {
			t.Errorf("in-flight request: %d %s", r.status, r.body)
		}
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// TestRun runs the whole service on a free port: the model loads in the background, and
// cancelling the context stops it.
func TestRun(t *testing.T) {
	cfg := testConfig()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.run(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	waitFor(t, "ready", func() bool {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	resp, body := do(t, http.DefaultClient, "POST", url+"/v1/encode", "image/png", pngImage(t, 64, 64, 1), nil)
	if resp.StatusCode != 200 {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("run: %v", err)
	}

	// A model that cannot load ends Run with the error.
	cfg.Model = "random:nope"
	cfg.Addr = "127.0.0.1:0"
	if err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Run with a bad model: %v", err)
	}
}
