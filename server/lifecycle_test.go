package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/vision"
)

// TestEncodeCancelledWhenItsClientLeaves holds an encode until its context is cancelled: when
// its only client times out, or disconnects, the encode is cancelled, and the next request is
// answered.
func TestEncodeCancelledWhenItsClientLeaves(t *testing.T) {
	for _, how := range []string{"timeout", "disconnect"} {
		t.Run(how, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config) {
				if how == "timeout" {
					c.Timeout = 2 * time.Second
				}
			}, true)
			c, url := ts.http.Client(), ts.http.URL+"/v1/encode"
			img := pngImage(t, 64, 64, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			replied := make(chan int, 1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(img))
				req.Header.Set("Content-Type", "image/png")
				resp, err := c.Do(req)
				if err != nil {
					replied <- 0
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				replied <- resp.StatusCode
			}()
			ts.gate.waitEntered(t)
			encodeCtx := <-ts.gate.ctxs
			if how == "disconnect" {
				cancel()
			}
			select {
			case <-encodeCtx.Done():
			case <-time.After(20 * time.Second):
				t.Fatal("the encode of a request whose client left was not cancelled")
			}
			status := <-replied
			if how == "timeout" && status != http.StatusGatewayTimeout {
				t.Errorf("status %d, want 504", status)
			}
			ts.gate.open()
			if resp, body := do(t, c, "POST", url, "image/png", img, nil); resp.StatusCode != 200 {
				t.Errorf("the next request: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// TestGoneJobsLeaveTheQueue keeps the encoder busy with an encode that ignores its
// cancellation, and sends requests that time out while queued, more than the queue holds:
// each is answered 504 at its timeout and leaves the queue at once (it never starts), so the
// queue never fills with requests nobody waits for.
func TestGoneJobsLeaveTheQueue(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.Queue = 2
		c.Timeout = 300 * time.Millisecond
	}, true)
	ts.gate.deaf.Store(true)
	c, url := ts.http.Client(), ts.http.URL+"/v1/encode"
	img := pngImage(t, 64, 64, 1)
	first := make(chan int, 1)
	go func() {
		resp, _ := do(t, c, "POST", url, "image/png", img, nil)
		first <- resp.StatusCode
	}()
	ts.gate.waitEntered(t)
	for i := range 4 { // one slot is the encoding request's until it times out
		resp, body := do(t, c, "POST", url, "image/png", pngImage(t, 64, 64, 2+i), nil)
		if resp.StatusCode != http.StatusGatewayTimeout && resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("queued request %d: %d %s", i, resp.StatusCode, body)
		}
		if d := ts.m.queueDepth.Load(); d != 0 {
			t.Errorf("after queued request %d: queue depth %d, want 0", i, d)
		}
	}
	if s := <-first; s != http.StatusGatewayTimeout {
		t.Errorf("the encoding request: %d", s)
	}
	ts.gate.open()
	if resp, body := do(t, c, "POST", url, "image/png", img, nil); resp.StatusCode != 200 {
		t.Errorf("after: %d %s", resp.StatusCode, body)
	}
	ts.gate.waitEntered(t) // the last request's
	select {
	case g := <-ts.gate.entered:
		t.Errorf("a request whose client had gone was encoded: %v", g)
	default:
	}
}

// TestCloseDeadline checks that Close returns by the shutdown deadline when an encode never
// returns, and that its request is answered 503.
func TestCloseDeadline(t *testing.T) {
	var logs syncBuffer
	ts := newTestServer(t, func(c *Config) {
		c.ShutdownTimeout = 200 * time.Millisecond
		c.Logger = newTextLogger(&logs)
	}, true)
	ts.gate.deaf.Store(true)
	replied := make(chan *http.Response, 1)
	body := make(chan []byte, 1)
	go func() {
		resp, b := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", pngImage(t, 64, 64, 1), nil)
		replied <- resp
		body <- b
	}()
	ts.gate.waitEntered(t)
	closed := make(chan struct{})
	go func() { ts.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return with an encode that never returns")
	}
	wantError(t, <-replied, <-body, http.StatusServiceUnavailable, CodeDraining)
	if !strings.Contains(logs.String(), "ignored its cancellation") {
		t.Errorf("the encode left behind is not logged:\n%s", logs.String())
	}
}

// TestShutdownTimeout checks that a shutdown whose encode never returns ends by its deadline:
// the request left is answered 503 with a body, and Serve reports the timeout.
func TestShutdownTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.ShutdownTimeout = 200 * time.Millisecond
	s, g, ln, cancel, served := serveGated(t, cfg)
	g.deaf.Store(true) // the encode ignores its cancellation and is never released
	type reply struct {
		resp *http.Response
		body []byte
		err  error
	}
	replies := make(chan reply, 1)
	img := pngImage(t, 64, 64, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/v1/encode", "image/png", bytes.NewReader(img))
		if err != nil {
			replies <- reply{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		replies <- reply{resp, body, err}
	}()
	g.waitEntered(t)
	cancel()
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "shutdown timed out") {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return")
	}
	r := <-replies
	if r.err != nil {
		t.Fatalf("the request left: %v (no response)", r.err)
	}
	wantError(t, r.resp, r.body, http.StatusServiceUnavailable, CodeDraining)
	if n := s.m.requestCount("/v1/encode", StatusClientClosedRequest); n != 0 {
		t.Errorf("%d requests counted as 499", n)
	}
}

// TestDrainDelay checks that after the context of Serve is cancelled the listener stays open
// for the drain delay, answering /readyz and new encode requests 503 on new connections, and
// that Serve then returns nil.
func TestDrainDelay(t *testing.T) {
	cfg := testConfig()
	cfg.DrainDelay = 2 * time.Second
	s, _, ln, cancel, served := serveGated(t, cfg)
	url := "http://" + ln.Addr().String()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // a new connection each
	if resp, body := do(t, c, "GET", url+"/readyz", "", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("/readyz before: %d %s", resp.StatusCode, body)
	}
	cancel()
	waitFor(t, "draining", func() bool { return s.draining.Load() })
	resp, body := do(t, c, "GET", url+"/readyz", "", nil, nil)
	wantError(t, resp, body, http.StatusServiceUnavailable, CodeDraining)
	resp, body = do(t, c, "POST", url+"/v1/encode", "image/png", pngImage(t, 64, 64, 1), nil)
	wantError(t, resp, body, http.StatusServiceUnavailable, CodeDraining)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 draining without Retry-After")
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

// TestAbandonedResponse has a client read the start of a large response and go away: the
// request is counted and logged as 499, not 200.
func TestAbandonedResponse(t *testing.T) {
	var logs syncBuffer
	ts := newTestServer(t, func(c *Config) {
		c.MaxPixels = 1024 * 1024
		c.Logger = newTextLogger(&logs)
	}, false)
	conn, err := net.Dial("tcp", ts.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	img := pngImage(t, 1024, 1024, 1) // 4096 patches: megabytes of JSON
	fmt.Fprintf(conn, "POST /v1/encode?include=last_hidden_state HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n", len(img))
	conn.Write(img)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).SetLinger(0) // reset: the server's next writes fail
	conn.Close()
	waitFor(t, "the request counted", func() bool {
		return ts.m.requestCount("/v1/encode", StatusClientClosedRequest)+ts.m.requestCount("/v1/encode", 200) == 1
	})
	if n := ts.m.requestCount("/v1/encode", 200); n != 0 {
		t.Errorf("an abandoned response counted as 200")
	}
	if !strings.Contains(logs.String(), "status=499") || !strings.Contains(logs.String(), "error=client_gone") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// TestTooMuchWork checks admission by cost: a request estimated to need longer than the
// timeout at the measured speed is refused with 413 and the numbers; a cheaper one passes.
func TestTooMuchWork(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Timeout = 10 * time.Second }, false)
	m := metricsText(t, ts.Server)
	if v := metricValue(t, m, "qwen3vl_measured_gflops"); !(v > 0) {
		t.Fatalf("no measured speed after SetModel: %v", v)
	}
	big, small := pngImage(t, 256, 256, 1), pngImage(t, 64, 64, 2) // 256 and 16 patches
	cfg, _ := vision.Preset("tiny")
	bigGFLOP := float64(vision.FLOPs(cfg, []vision.Grid{{T: 1, H: 16, W: 16}})) / 1e9
	ts.speed.set(bigGFLOP / 20) // the big image takes 20 s, the small one well under 10 s
	resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", big, nil)
	wantError(t, resp, body, http.StatusRequestEntityTooLarge, CodeTooMuchWork)
	for _, want := range []string{fmt.Sprintf("%.0f GFLOP", bigGFLOP), fmt.Sprintf("%.1f GFLOP/s", bigGFLOP/20), "about 20 s", "timeout of 10s"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body %s lacks %q", body, want)
		}
	}
	if resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", small, nil); resp.StatusCode != 200 {
		t.Errorf("small image: %d %s", resp.StatusCode, body)
	}
	// Several images are estimated together.
	ct, mp := multipartBody(t, nil, small, small, small, small, small, small, small, small, small, small, small, small, small, small, small, small)
	if resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", ct, mp, nil); resp.StatusCode != 200 {
		t.Errorf("16 small images (one big image's patches): %d %s", resp.StatusCode, body)
	}
}

// TestJSONErrorsSpeakJSON sends JSON bodies of every wrong shape: each gets 400 invalid_json
// with a message in JSON terms (wantError refuses Go type names).
func TestJSONErrorsSpeakJSON(t *testing.T) {
	ts := newTestServer(t, nil, false)
	for body, want := range map[string]string{
		`{"images": "x"}`:             `field "images": want an array, got string`,
		`{"images": [{"data": 5}]}`:   `field "images.data": want a string, got number`,
		`{"min_pixels": 1e99}`:        `field "min_pixels": want an integer, got number 1e99`,
		`{"min_pixels": "3"}`:         `field "min_pixels": want an integer, got string`,
		`{"include": "x"}`:            `field "include": want an array, got string`,
		`[1]`:                         `the body: want an object, got array`,
		`{"imgs": []}`:                `unknown field "imgs"`,
		`{"images": [`:                `the body ends before the JSON value does`,
		`nul`:                         `the body ends before the JSON value does`,
		"\xff":                        `invalid character`,
		`{"images": [{"data": "x"}]x`: `invalid character 'x' after object key:value pair`,
		`{"images": []} x`:            `data after the object`,
	} {
		resp, b := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "application/json", []byte(body), nil)
		wantError(t, resp, b, http.StatusBadRequest, CodeInvalidJSON)
		var e ErrorBody
		json.Unmarshal(b, &e)
		if !strings.Contains(e.Error.Message, want) {
			t.Errorf("%s: %q, want it to say %q", body, e.Error.Message, want)
		}
	}
}

// TestReclaimWhenIdle checks that the memory of finished requests is returned once the
// server is idle: one reclaim after a burst, none while nothing happens.
func TestReclaimWhenIdle(t *testing.T) {
	ts := newTestServer(t, nil, false)
	if resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", pngImage(t, 64, 64, 1), nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	waitFor(t, "a reclaim", func() bool { return ts.reclaim.done.Load() == 1 })
	time.Sleep(3 * reclaimTick)
	if n := ts.reclaim.done.Load(); n != 1 {
		t.Errorf("%d reclaims with nothing finished since the first", n)
	}
}
