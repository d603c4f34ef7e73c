package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/vision"
)

// upstreamRecorder is an httptest upstream that records every request it receives and answers with
// its handler.
type upstreamRecorder struct {
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	srv     *httptest.Server
}

func recordUpstream(t *testing.T, h http.HandlerFunc) *upstreamRecorder {
	rec := &upstreamRecorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, b)
		rec.headers = append(rec.headers, r.Header.Clone())
		rec.mu.Unlock()
		if r.URL.Path != chatRoute || r.Method != http.MethodPost {
			http.Error(w, "wrong route "+r.Method+" "+r.URL.Path, http.StatusTeapot)
			return
		}
		h(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// chatAnswer answers as vLLM does, a JSON chat completion (no choices).
func chatAnswer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"chatcmpl-0","object":"chat.completion","choices":[]}`)
}

func (rec *upstreamRecorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.bodies)
}

// newProxy is a test server with the tiny model forwarding to upstream.
func newProxy(t *testing.T, upstream string, mutate func(*Config)) *testServer {
	return newTestServer(t, func(c *Config) {
		c.Upstream = upstream
		if mutate != nil {
			mutate(c)
		}
	}, false)
}

func dataURL(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// postProxy posts body to the proxy's chat route with header.
func postProxy(t *testing.T, ts *testServer, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{}
	for k, v := range header {
		h[k] = v
	}
	return do(t, ts.http.Client(), "POST", ts.http.URL+chatRoute, "application/json", []byte(body), h)
}

// checkEmbedsPart checks that part is the image_embeds part of the image whose token rows
// start at row of want: grid, .npy header and every value bit for bit.
func checkEmbedsPart(t *testing.T, part json.RawMessage, want *vision.Output, img, row int) {
	t.Helper()
	var p struct {
		Type   string `json:"type"`
		Embeds struct {
			Data string `json:"image_embeds"`
			Grid [3]int `json:"image_grid_thw"`
		} `json:"image_embeds"`
	}
	dec := json.NewDecoder(bytes.NewReader(part))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("image %d: part %.200s: %v", img, part, err)
	}
	g := want.Grids[img]
	if p.Type != "image_embeds" || p.Embeds.Grid != [3]int{g.T, g.H, g.W} {
		t.Fatalf("image %d: type %q grid %v, want image_embeds %v", img, p.Type, p.Embeds.Grid, g)
	}
	raw, err := base64.StdEncoding.DecodeString(p.Embeds.Data)
	if err != nil || len(raw) < 10 || string(raw[:6]) != "\x93NUMPY" {
		t.Fatalf("image %d: not base64 .npy: %v", img, err)
	}
	o := want.Pooler.Cols
	width := o * (1 + len(want.Deepstack))
	n := g.Patches() / 4
	hl := int(binary.LittleEndian.Uint16(raw[8:]))
	if h := string(raw[10 : 10+hl]); !strings.Contains(h, fmt.Sprintf("'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d)", n, width)) {
		t.Fatalf("image %d: header %q", img, h)
	}
	data := raw[10+hl:]
	if len(data) != 4*n*width {
		t.Fatalf("image %d: %d bytes of data, want %d", img, len(data), 4*n*width)
	}
	for r := 0; r < n; r++ {
		for c := 0; c < width; c++ {
			src := want.Pooler
			if c >= o {
				src = want.Deepstack[c/o-1]
			}
			w := src.Data[(row+r)*o+c%o]
			if got := binary.LittleEndian.Uint32(data[4*(r*width+c):]); got != math.Float32bits(w) {
				t.Fatalf("image %d row %d col %d = %g, want %g", img, r, c, math.Float32frombits(got), w)
			}
		}
	}
}

// TestProxyForwardsEmbeds: every image_url part reaches the upstream as the image_embeds
// part of a direct Encode of the image (bit for bit), every other field, message and part
// as sent; Authorization, Content-Type and Accept are forwarded and nothing else; the
// upstream's answer comes back with its status, headers and body.
func TestProxyForwardsEmbeds(t *testing.T) {
	answer := `{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`
	up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "up-7")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, answer)
	})
	ts := newProxy(t, up.srv.URL+"/", nil)
	a, b := pngImage(t, 100, 60, 1), pngImage(t, 37, 81, 2)
	want := expected(t, ts.Server, a, b)
	req := `{"model": "Qwen/Qwen3-VL-2B-Instruct", "temperature": 0.25, "max_tokens": 9,
		"messages": [
			{"role": "system", "content": "Be brief."},
			{"role": "user", "content": [
				{"type": "text", "text": "Compare <these> & those:"},
				{"type": "image_url", "image_url": {"url": "` + dataURL(a) + `", "detail": "high"}},
				{"type": "image_url", "image_url": {"url": "` + dataURL(b) + `"}},
				{"type": "text", "text": "done"}],
			 "name": "u1"},
			{"role": "assistant", "content": null, "extra": [1, {"x": 2}]}],
		"vendor_field": {"nested": [true, null, "s"]}, "stream": false}`
	resp, body := postProxy(t, ts, req, map[string]string{
		"Authorization": "Bearer sk-test", "Accept": "application/json",
		"Cookie": "session=1", "X-Forwarded-For": "10.0.0.1", "X-Secret": "no",
	})
	if resp.StatusCode != 200 || string(body) != answer {
		t.Fatalf("status %d body %q, want 200 %q", resp.StatusCode, body, answer)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Request-Id") != "up-7" {
		t.Errorf("headers %v", resp.Header)
	}
	if up.count() != 1 {
		t.Fatalf("%d upstream requests, want 1", up.count())
	}
	got, h := up.bodies[0], up.headers[0]
	for k, v := range map[string]string{"Authorization": "Bearer sk-test", "Accept": "application/json", "Content-Type": "application/json"} {
		if h.Get(k) != v {
			t.Errorf("upstream %s %q, want %q", k, h.Get(k), v)
		}
	}
	for _, k := range []string{"Cookie", "X-Forwarded-For", "X-Secret"} {
		if h.Get(k) != "" {
			t.Errorf("upstream got %s %q", k, h.Get(k))
		}
	}

	// Everything but the image parts is as sent.
	var sent, fwd map[string]any
	if err := json.Unmarshal([]byte(req), &sent); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &fwd); err != nil {
		t.Fatalf("forwarded body: %v", err)
	}
	var parts []json.RawMessage
	{
		var msgs []struct {
			Content json.RawMessage `json:"content"`
		}
		var top struct {
			Messages json.RawMessage `json:"messages"`
		}
		json.Unmarshal(got, &top)
		json.Unmarshal(top.Messages, &msgs)
		json.Unmarshal(msgs[1].Content, &parts)
	}
	if len(parts) != 4 {
		t.Fatalf("%d parts in the user message, want 4", len(parts))
	}
	checkEmbedsPart(t, parts[1], want, 0, 0)
	checkEmbedsPart(t, parts[2], want, 1, want.Grids[0].Patches()/4)
	userSent := sent["messages"].([]any)[1].(map[string]any)["content"].([]any)
	userFwd := fwd["messages"].([]any)[1].(map[string]any)["content"].([]any)
	userSent[1], userSent[2] = nil, nil
	userFwd[1], userFwd[2] = nil, nil
	if !reflect.DeepEqual(sent, fwd) {
		t.Errorf("forwarded fields differ:\n got %v\nwant %v", fwd, sent)
	}

	m := metricsText(t, ts.Server)
	if v := metricValue(t, m, "qwen3vl_proxy_upstream_sent_bytes_total"); v != float64(len(got)) {
		t.Errorf("sent bytes metric %v, want %d", v, len(got))
	}
	for _, name := range []string{"qwen3vl_proxy_encode_duration_seconds_count", "qwen3vl_proxy_upstream_duration_seconds_count"} {
		if v := metricValue(t, m, name); v != 1 {
			t.Errorf("%s %v, want 1", name, v)
		}
	}
}

// TestProxyNoImages: a request without images is forwarded byte for byte.
func TestProxyNoImages(t *testing.T) {
	up := recordUpstream(t, chatAnswer)
	ts := newProxy(t, up.srv.URL, nil)
	req := `{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],  "model":"m", "mm_processor_kwargs": {"anything": 1}}`
	if resp, body := postProxy(t, ts, req, nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if string(up.bodies[0]) != req {
		t.Errorf("forwarded %q, want %q", up.bodies[0], req)
	}
}

// TestProxyStream: a server-sent event stream arrives unchanged and as it is sent: the
// client reads the first event before the upstream sends the rest.
func TestProxyStream(t *testing.T) {
	events := []string{
		"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
		"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
		"data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n",
		"data: [DONE]\n\n",
	}
	seen := make(chan struct{})
	up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		rc := http.NewResponseController(w)
		io.WriteString(w, events[0])
		rc.Flush()
		select { // the rest only once the client has read the first event
		case <-seen:
		case <-time.After(10 * time.Second):
			return
		}
		for _, e := range events[1:] {
			time.Sleep(10 * time.Millisecond)
			io.WriteString(w, e)
			rc.Flush()
		}
	})
	ts := newProxy(t, up.srv.URL, nil)
	req, _ := http.NewRequest("POST", ts.http.URL+chatRoute, strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"`+dataURL(pngImage(t, 40, 40, 3))+`"}}]}]}`))
	req.Header.Set("Content-Type", "application/json")
	first := make([]byte, len(events[0]))
	type answer struct {
		resp *http.Response
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := ts.http.Client().Do(req)
		if err == nil {
			_, err = io.ReadFull(resp.Body, first)
		}
		done <- answer{resp, err}
	}()
	var resp *http.Response
	select {
	case a := <-done:
		if a.err != nil {
			t.Fatal(a.err)
		}
		resp = a.resp
	case <-time.After(5 * time.Second):
		t.Fatal("the first event did not arrive before the upstream sent the last: the answer is buffered")
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	close(seen)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(first)+string(rest), strings.Join(events, ""); got != want {
		t.Errorf("stream %q, want %q", got, want)
	}
}

// TestProxyUpstreamStatus: the upstream's errors come back with their status, headers and
// body: OpenAI error objects at 4xx (vLLM's ErrorResponse, its --api-key check's), anything at
// 5xx.
func TestProxyUpstreamStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
	}{
		{400, `{"error":{"message":"bad","type":"BadRequestError","code":400}}`},
		{401, `{"error":"unauthorized"}`},
		{404, `{"error":{"message":"The model 'x' does not exist.","type":"NotFoundError","param":"model","code":404}}`},
		{500, `Internal Server Error`},
		{503, `{"error":"overloaded"}`},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			ts := newProxy(t, up.srv.URL, nil)
			resp, body := postProxy(t, ts, `{"messages":[{"role":"user","content":"hi"}]}`, nil)
			if resp.StatusCode != tc.status || string(body) != tc.body || resp.Header.Get("Retry-After") != "3" || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("%d %q %v, want %d %q", resp.StatusCode, body, resp.Header, tc.status, tc.body)
			}
		})
	}
}

// TestProxyNotVLLM: an upstream whose answer no OpenAI-compatible chat server gives (the route
// missing, an HTML page, JSON without choices, a redirect) is a 502 upstream_invalid naming the
// upstream, the status and what came; valid answers pass unchanged (the other tests).
func TestProxyNotVLLM(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		want        string
	}{
		{"FastAPI without the route", 404, "application/json", `{"detail":"Not Found"}`, `404 Not Found (application/json), an error that is not an OpenAI error object: "{\"detail\":\"Not Found\"}"`},
		{"HTML 404", 404, "text/html", "<html><body>\n<h1>Not Found</h1></body></html>", `404 Not Found (text/html), an error that is not an OpenAI error object: "<html><body> <h1>Not Found</h1></body></html>"`},
		{"405", 405, "application/json", `{"detail":"Method Not Allowed"}`, "405 Method Not Allowed"},
		{"HTML 200", 200, "text/html; charset=utf-8", "<!doctype html><title>Welcome to nginx!</title>", `200 OK (text/html), neither a JSON completion nor an event stream`},
		{"JSON without choices", 200, "application/json", `{"status":"ok"}`, `JSON without a "choices" list`},
		{"choices not a list", 200, "application/json", `{"choices":"none"}`, `JSON without a "choices" list`},
		{"JSON array", 200, "application/json", `[1,2]`, `JSON without`},
		{"empty 200", 200, "", ``, `200 OK (no Content-Type)`},
		{"redirect", 302, "text/html", `<a href="/login">Found</a>`, `302 Found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				if tc.status == 302 {
					w.Header().Set("Location", "/login")
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			ts := newProxy(t, up.srv.URL, nil)
			resp, body := postProxy(t, ts, `{"messages":[{"role":"user","content":"hi"}]}`, nil)
			e := proxyError(t, resp, body, http.StatusBadGateway, CodeUpstreamInvalid)
			if !strings.Contains(e.Error.Message, up.srv.URL+chatRoute) || !strings.Contains(e.Error.Message, tc.want) {
				t.Errorf("message %q, want the upstream and %q", e.Error.Message, tc.want)
			}
		})
	}
}

// proxyError checks an error of the proxy itself: status, OpenAI's error shape and code.
func proxyError(t *testing.T, resp *http.Response, body []byte, status int, code string) OpenAIError {
	t.Helper()
	var e OpenAIError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, body, err)
	}
	if resp.StatusCode != status || e.Error.Code != code || e.Error.Message == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("status %d code %q message %q, want %d %q", resp.StatusCode, e.Error.Code, e.Error.Message, status, code)
	}
	return e
}

// TestProxyDeadAndSlowUpstream: an upstream that does not listen is 502 naming it; one that
// does not answer within the upstream timeout is 504.
func TestProxyDeadAndSlowUpstream(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	ts := newProxy(t, deadURL, nil)
	resp, body := postProxy(t, ts, `{"messages":[{"role":"user","content":"hi"}]}`, nil)
	if e := proxyError(t, resp, body, http.StatusBadGateway, CodeUpstreamUnreachable); !strings.Contains(e.Error.Message, deadURL+chatRoute) {
		t.Errorf("message %q does not name the upstream %s", e.Error.Message, deadURL)
	}

	up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	ts = newProxy(t, up.srv.URL, func(c *Config) { c.UpstreamTimeout = 200 * time.Millisecond })
	start := time.Now()
	resp, body = postProxy(t, ts, `{"messages":[{"role":"user","content":"hi"}]}`, nil)
	proxyError(t, resp, body, http.StatusGatewayTimeout, CodeUpstreamTimeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("504 after %v", d)
	}
}

// TestProxyClientGone: a client that goes away cancels the upstream request.
func TestProxyClientGone(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {}\n\n")
		http.NewResponseController(w).Flush()
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
	})
	ts := newProxy(t, up.srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.http.URL+chatRoute, strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream was not reached")
	}
	cancel()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not cancelled when the client went away")
	}
}

// TestProxyBadInput: a malformed request or image is a 400 and nothing is sent upstream.
func TestProxyBadInput(t *testing.T) {
	up := recordUpstream(t, chatAnswer)
	ts := newProxy(t, up.srv.URL, nil)
	bad := "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("not an image"))
	okPNG := pngImage(t, 40, 30, 1)
	img := func(u string) string {
		return `{"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"` + u + `"}}]}]}`
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"not JSON", `{"messages":`, 400, CodeInvalidJSON},
		{"not an object", `[1]`, 400, CodeInvalidJSON},
		{"no messages", `{"model":"m"}`, 400, CodeInvalidParameter},
		{"messages not a list", `{"messages":{"role":"user"}}`, 400, CodeInvalidParameter},
		{"empty messages", `{"messages":[]}`, 400, CodeInvalidParameter},
		{"message not an object", `{"messages":["hi"]}`, 400, CodeInvalidParameter},
		{"part not an object", `{"messages":[{"role":"user","content":[3]}]}`, 400, CodeInvalidParameter},
		{"image_url not an object", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"x"}]}]}`, 400, CodeInvalidParameter},
		{"undecodable image", img(bad), 400, CodeInvalidImage},
		{"bad base64", img("data:image/png;base64,!!!"), 400, CodeInvalidImage},
		{"remote URL without an allow-list", img("https://example.com/a.png"), 400, CodeURLNotSupported},
		{"video", `{"messages":[{"role":"user","content":[{"type":"video_url","video_url":{"url":"data:video/mp4;base64,AAAA"}}]}]}`, 400, CodeInvalidParameter},
		{"no role", `{"messages":[{"content":"hi"}]}`, 400, CodeInvalidParameter},
		{"role not a string", `{"messages":[{"role":3,"content":"hi"}]}`, 400, CodeInvalidParameter},
		{"content a number", `{"messages":[{"role":"user","content":5}]}`, 400, CodeInvalidParameter},
		{"content an object", `{"messages":[{"role":"user","content":{"type":"text"}}]}`, 400, CodeInvalidParameter},
		{"mm_processor_kwargs not an object", `{"mm_processor_kwargs":[1],"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + dataURL(okPNG) + `"}}]}]}`, 400, CodeInvalidParameter},
		{"mm_processor_kwargs unknown key", `{"mm_processor_kwargs":{"do_resize":false},"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + dataURL(okPNG) + `"}}]}]}`, 400, CodeInvalidParameter},
		{"mm_processor_kwargs max_pixels too small", `{"mm_processor_kwargs":{"max_pixels":100},"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + dataURL(okPNG) + `"}}]}]}`, 400, CodeInvalidParameter},
		{"media_io_kwargs image", `{"media_io_kwargs":{"image":{"image_mode":null}},"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + dataURL(okPNG) + `"}}]}]}`, 400, CodeInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postProxy(t, ts, tc.body, nil)
			proxyError(t, resp, body, tc.status, tc.code)
		})
	}
	if n := up.count(); n != 0 {
		t.Errorf("%d requests reached the upstream", n)
	}
}

func TestProxyConfig(t *testing.T) {
	for _, tc := range []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.Upstream = "http://127.0.0.1:8000"; c.Chat = true }, "Upstream http://127.0.0.1:8000 cannot be used with Chat true"},
		{func(c *Config) { c.Upstream = "localhost:8000" }, `Upstream "localhost:8000" is not an http or https URL`},
		{func(c *Config) { c.Upstream = "http://u:p@h/" }, `Upstream "http://u:p@h/" must have no user info, query or fragment`},
		{func(c *Config) { c.Upstream = "http:///x" }, `Upstream "http:///x" has no host`},
		{func(c *Config) { c.UpstreamTimeout = 0 }, "UpstreamTimeout 0s must be positive"},
	} {
		c := DefaultConfig()
		tc.mutate(&c)
		if err := c.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate: %v, want %q", err, tc.want)
		}
	}
	c := DefaultConfig()
	c.Upstream = "https://vllm.internal:8000/base/"
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// TestProxyRemoteImage: an image_url under the allow-list is fetched (without the client's
// Authorization, which goes to the upstream only) and forwarded as its embeds; one more
// image than the limit is 413 and nothing is forwarded.
func TestProxyRemoteImage(t *testing.T) {
	png := pngImage(t, 64, 48, 5)
	var imgAuth []string
	var mu sync.Mutex
	imgs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		imgAuth = append(imgAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}))
	defer imgs.Close()
	up := recordUpstream(t, chatAnswer)
	ts := newProxy(t, up.srv.URL, func(c *Config) {
		c.AllowURLs = []string{imgs.URL + "/img/"}
		c.FetchPrivate = true
		c.MaxImages = 2
	})
	want := expected(t, ts.Server, png)
	resp, body := postProxy(t, ts, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"`+imgs.URL+`/img/a.png"}}]}]}`,
		map[string]string{"Authorization": "Bearer sk-secret"})
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var fwd struct {
		Messages []struct {
			Content []json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(up.bodies[0], &fwd); err != nil || len(fwd.Messages) != 1 || len(fwd.Messages[0].Content) != 1 {
		t.Fatalf("forwarded %.300s: %v", up.bodies[0], err)
	}
	checkEmbedsPart(t, fwd.Messages[0].Content[0], want, 0, 0)
	if up.headers[0].Get("Authorization") != "Bearer sk-secret" {
		t.Errorf("upstream Authorization %q", up.headers[0].Get("Authorization"))
	}
	mu.Lock()
	if len(imgAuth) != 1 || imgAuth[0] != "" {
		t.Errorf("image fetches saw Authorization %q", imgAuth)
	}
	mu.Unlock()

	part := `{"type":"image_url","image_url":{"url":"` + dataURL(png) + `"}}`
	resp, body = postProxy(t, ts, `{"messages":[{"role":"user","content":[`+part+`,`+part+`,`+part+`]}]}`, nil)
	proxyError(t, resp, body, http.StatusRequestEntityTooLarge, CodeTooManyImages)
	if up.count() != 1 {
		t.Errorf("%d upstream requests, want 1", up.count())
	}
}

// TestProxyTimeoutMidAnswer: an answer that has begun and stalls past the upstream timeout is
// cut: the client gets what was sent, then a broken body, not a clean end.
func TestProxyTimeoutMidAnswer(t *testing.T) {
	up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: 1\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	ts := newProxy(t, up.srv.URL, func(c *Config) { c.UpstreamTimeout = 300 * time.Millisecond })
	req, _ := http.NewRequest("POST", ts.http.URL+chatRoute, strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "data: 1\n\n" || err == nil {
		t.Errorf("status %d body %q err %v; want 200, the first event and a read error", resp.StatusCode, b, err)
	}
}
