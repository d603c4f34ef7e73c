package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

var (
	tinyOnce  sync.Once
	tinyModel *vision.Model
	tinyErr   error
)

// tiny returns the random:tiny model (seed 1), built once.
func tiny(t testing.TB) *vision.Model {
	t.Helper()
	tinyOnce.Do(func() {
		cfg, err := vision.Preset("tiny")
		if err != nil {
			tinyErr = err
			return
		}
		tinyModel, tinyErr = vision.Random(cfg, 1, vision.Options{Threads: 2})
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyModel
}

// testConfig is the configuration of the tests: small budgets so that the tiny model is fast.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Model = "random:tiny"
	cfg.MinPixels = 32 * 32 * 4
	cfg.MaxPixels = 32 * 32 * 64
	cfg.DrainDelay = 0
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// testServer is a Server with the tiny model behind an httptest.Server.
type testServer struct {
	*Server
	http *httptest.Server
	gate *gate
}

// newTestServer builds a ready server; mutate adjusts the configuration, and when withGate is
// set every Encode waits for the gate.
func newTestServer(t *testing.T, mutate func(*Config), withGate bool) *testServer {
	t.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s}
	if withGate {
		ts.gate = newGate()
		s.wrapEncode = ts.gate.wrap
	}
	if err := s.SetModel(tiny(t), imageproc.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	ts.http = httptest.NewServer(s)
	t.Cleanup(func() {
		if ts.gate != nil {
			ts.gate.open()
		}
		ts.http.Close()
		s.Close()
	})
	return ts
}

// gate holds every Encode until released.
type gate struct {
	entered chan []vision.Grid // one send per Encode, when it starts waiting
	release chan struct{}      // one receive lets one Encode through
	once    sync.Once
	opened  chan struct{} // closed: everything passes
	ctxs    chan context.Context
	// deaf makes a held Encode ignore its context until released.
	deaf atomic.Bool
}

func newGate() *gate {
	return &gate{entered: make(chan []vision.Grid, 1000), release: make(chan struct{}), opened: make(chan struct{}), ctxs: make(chan context.Context, 1000)}
}

func (g *gate) wrap(next encodeFunc) encodeFunc {
	return func(ctx context.Context, pixels []float32, grids []vision.Grid) (*vision.Output, error) {
		g.ctxs <- ctx
		g.entered <- grids
		done := ctx.Done()
		if g.deaf.Load() {
			done = nil
		}
		select {
		case <-g.release:
		case <-g.opened:
		case <-done:
			return nil, ctx.Err()
		}
		return next(ctx, pixels, grids)
	}
}

// next lets one Encode through.
func (g *gate) next() { g.release <- struct{}{} }

// open lets every Encode through from now on.
func (g *gate) open() { g.once.Do(func() { close(g.opened) }) }

// waitEntered waits for the next Encode to reach the gate and returns its grids.
func (g *gate) waitEntered(t *testing.T) []vision.Grid {
	t.Helper()
	select {
	case grids := <-g.entered:
		return grids
	case <-time.After(20 * time.Second):
		t.Fatal("no Encode reached the gate")
		return nil
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// pngImage returns a w×h PNG of synthetic pixels that depend on seed.
func pngImage(t testing.TB, w, h, seed int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(x*7 + y*3 + seed*31),
				G: uint8((x ^ y) + seed*17),
				B: uint8(x*y/(w+1) + seed*5),
				A: 255,
			})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// expected returns what a lone Encode gives the images, preprocessed with the server's
// options (as budget would set them for a request without parameters).
func expected(t testing.TB, s *Server, images ...[]byte) *vision.Output {
	t.Helper()
	lm := s.model.Load()
	var pixels []float32
	var grids []vision.Grid
	for i, data := range images {
		rgb, err := imageproc.Decode(context.Background(), bytes.NewReader(data), "expected", lm.pre)
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		im, err := imageproc.Preprocess(rgb, lm.pre)
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		pixels = append(pixels, im.Pixels...)
		grids = append(grids, vision.Grid(im.Grid))
	}
	out, err := tiny(t).Encode(context.Background(), pixels, grids)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// multipartBody returns a multipart/form-data body with one file part per image and the
// given fields.
func multipartBody(t testing.TB, fields map[string]string, images ...[]byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for i, data := range images {
		fw, err := mw.CreateFormFile("image", "img"+string(rune('a'+i))+".png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// do sends a request and returns the response with its body read.
func do(t testing.TB, c *http.Client, method, url, contentType string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// wantError checks an error response: status, JSON content type and body, and code.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e ErrorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.Error.Code != code {
		t.Errorf("code %q, want %q (message %q)", e.Error.Code, code, e.Error.Message)
	}
	if e.Error.Message == "" {
		t.Errorf("empty message")
	}
	// Messages name limits and JSON terms, not command-line flags or Go types.
	for _, bad := range []string{"(-", " -max", " -queue", " -timeout", "Go struct", "Go value", "json:", "*errors", "server.", "struct {", "interface {"} {
		if strings.Contains(e.Error.Message, bad) {
			t.Errorf("message %q contains %q", e.Error.Message, bad)
		}
	}
}

// decodeJSONResponse parses an encode JSON response.
func decodeJSONResponse(t testing.TB, body []byte) EncodeResponse {
	t.Helper()
	var r EncodeResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("response %.200q: %v", body, err)
	}
	return r
}

// sameRows checks bitwise that got (rows of float32) equals rows [r0, r0+len(got)) of want.
func sameRows(t testing.TB, what string, got [][]float32, want vision.Matrix, r0 int) {
	t.Helper()
	for r, row := range got {
		w := want.Row(r0 + r)
		if len(row) != len(w) {
			t.Fatalf("%s row %d: %d values, want %d", what, r, len(row), len(w))
		}
		for c := range row {
			if math.Float32bits(row[c]) != math.Float32bits(w[c]) {
				t.Fatalf("%s[%d][%d] = %v, want %v (bitwise)", what, r, c, row[c], w[c])
			}
		}
	}
}

// parsedTensor is one tensor of a safetensors response.
type parsedTensor struct {
	dtype string
	shape []int
	data  []byte
}

func (p parsedTensor) f32() []float32 {
	out := make([]float32, len(p.data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p.data[4*i:]))
	}
	return out
}

// parseSafetensors parses a safetensors response with the package's validating parser.
func parseSafetensors(t testing.TB, b []byte) (map[string]parsedTensor, []string, map[string]string) {
	t.Helper()
	if len(b) < 8 {
		t.Fatalf("safetensors response of %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		t.Fatalf("header length %d > %d", n, len(b)-8)
	}
	h, err := safetensors.ParseHeader(b[8:8+n], int64(len(b))-8-int64(n))
	if err != nil {
		t.Fatal(err)
	}
	data := b[8+n:]
	out := map[string]parsedTensor{}
	var names []string
	for _, ti := range h.Tensors {
		out[ti.Name] = parsedTensor{dtype: string(ti.DType), shape: ti.Shape, data: data[ti.Begin:ti.End]}
		names = append(names, ti.Name)
	}
	return out, names, h.Metadata
}

// metricsText fetches /metrics.
func metricsText(t testing.TB, s http.Handler) string {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// metricValue returns the value of the sample line starting with prefix (name and labels).
func metricValue(t testing.TB, text, prefix string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err != nil {
				t.Fatalf("metric %s: %q: %v", prefix, rest, err)
			}
			return v
		}
	}
	return math.NaN()
}

// testPre is the preprocessing of the released checkpoints.
func testPre() imageproc.Options { return imageproc.DefaultOptions() }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func newRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

func newRequestBody(method, target, contentType string, body []byte) *http.Request {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

// newTextLogger logs text lines to w.
func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
