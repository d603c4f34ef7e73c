package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// imageHost is an httptest server of images for the fetch tests: its handlers count their
// requests and observe their contexts.
type imageHost struct {
	*httptest.Server
	png  []byte
	hits sync.Map // path → *atomic.Int64
	// entered gets the path of each /hang request once it waits; gone the path when its
	// request's context ends (the fetcher gave up or was cancelled).
	entered, gone chan string
	hanging       atomic.Int64 // /hang requests waiting
}

func (h *imageHost) count(path string) int64 {
	v, _ := h.hits.LoadOrStore(path, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

func newImageHost(t *testing.T, png []byte, offList string) *imageHost {
	t.Helper()
	h := &imageHost{png: png, entered: make(chan string, 16), gone: make(chan string, 16)}
	mux := http.NewServeMux()
	image := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(h.png)
	}
	mux.HandleFunc("/img/a.png", image)
	mux.HandleFunc("/img-private/a.png", image)
	mux.HandleFunc("/img/to-a", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/img/a.png", http.StatusFound)
	})
	mux.HandleFunc("/img/to-private", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/img/../img-private/a.png", http.StatusFound)
	})
	mux.HandleFunc("/img/off-list", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, offList, http.StatusMovedPermanently)
	})
	mux.HandleFunc("/img/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/img/loop", http.StatusFound)
	})
	mux.HandleFunc("/img/missing.png", http.NotFound)
	mux.HandleFunc("/img/text", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "not an image") })
	mux.HandleFunc("/img/late-404", func(w http.ResponseWriter, r *http.Request) {
		// 404 once a /hang request waits (or after 20 s).
		for i := 0; i < 10000 && h.hanging.Load() == 0; i++ {
			time.Sleep(2 * time.Millisecond)
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("/img/huge-declared", func(w http.ResponseWriter, r *http.Request) {
		// Declares a gigabyte, sends nothing: a fetcher that read before checking the length
		// would wait here until its timeout.
		w.Header().Set("Content-Length", strconv.Itoa(1<<30))
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/img/huge-chunked", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte{0x89}, 32<<10)
		for range 1024 { // 32 MiB at most
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/img/hang", func(w http.ResponseWriter, r *http.Request) {
		h.entered <- r.URL.Path
		h.hanging.Add(1)
		<-r.Context().Done()
		h.hanging.Add(-1)
		h.gone <- r.URL.Path
	})
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := h.hits.LoadOrStore(r.URL.Path, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

// fetchServer is a test server that allows h's /img prefix, with non-public addresses
// allowed (the image hosts are on 127.0.0.1).
func fetchServer(t *testing.T, h *imageHost, mutate func(*Config)) *testServer {
	return newTestServer(t, func(c *Config) {
		c.AllowURLs = []string{h.URL + "/img"}
		c.FetchPrivate = true
		c.MaxBody = 64 << 10
		if mutate != nil {
			mutate(c)
		}
	}, false)
}

func encodeJSON(images ...string) []byte {
	return []byte(`{"images": [` + strings.Join(images, ",") + `]}`)
}

func dataImage(b []byte) string {
	return fmt.Sprintf(`{"data": %q}`, base64.StdEncoding.EncodeToString(b))
}
func urlImage(u string) string { return fmt.Sprintf(`{"url": %q}`, u) }

// TestFetchEncode: an image given by an allowed URL gives the bytes of the same image sent as
// base64; each refusal and failure has its status and code, and the fetches are counted.
func TestFetchEncode(t *testing.T) {
	img, img2 := pngImage(t, 40, 56, 3), pngImage(t, 48, 32, 5)
	off := newImageHost(t, img, "")
	h := newImageHost(t, img, off.URL+"/img/a.png")
	ts := fetchServer(t, h, nil)
	c, target := ts.http.Client(), ts.http.URL+"/v1/encode"

	_, want := do(t, c, "POST", target, "application/json", encodeJSON(dataImage(img)), nil)
	_, want2 := do(t, c, "POST", target, "application/json", encodeJSON(dataImage(img), dataImage(img2)), nil)
	img2Host := newImageHost(t, img2, "")
	ts2 := fetchServer(t, h, func(c *Config) { c.AllowURLs = append(c.AllowURLs, img2Host.URL+"/img/") })

	for _, tc := range []struct {
		name   string
		ts     *testServer
		body   []byte
		status int
		code   string // "" for 200
		want   []byte // the response body of a 200
		msg    string // a part of the error message
	}{
		{"url", ts, encodeJSON(urlImage(h.URL + "/img/a.png")), 200, "", want, ""},
		{"image_url object", ts, encodeJSON(fmt.Sprintf(`{"image_url": {"url": %q}}`, h.URL+"/img/a.png")), 200, "", want, ""},
		{"image_url string", ts, encodeJSON(fmt.Sprintf(`{"image_url": %q}`, h.URL+"/img/a.png")), 200, "", want, ""},
		{"data URL in url", ts, encodeJSON(urlImage("data:image/png;base64," + base64.StdEncoding.EncodeToString(img))), 200, "", want, ""},
		{"redirect on the list", ts, encodeJSON(urlImage(h.URL + "/img/to-a")), 200, "", want, ""},
		{"data and url mixed", ts2, encodeJSON(dataImage(img), urlImage(img2Host.URL+"/img/a.png")), 200, "", want2, ""},
		{"two urls", ts2, encodeJSON(urlImage(h.URL+"/img/a.png"), urlImage(img2Host.URL+"/img/a.png")), 200, "", want2, ""},
		{"not on the list", ts, encodeJSON(urlImage(off.URL + "/img/a.png")), 400, CodeURLNotAllowed, nil, "not under any of the URL prefixes"},
		{"host by another name", ts, encodeJSON(urlImage(strings.Replace(h.URL, "127.0.0.1", "localhost", 1) + "/img/a.png")), 400, CodeURLNotAllowed, nil, "not under"},
		{"segment boundary", ts, encodeJSON(urlImage(h.URL + "/img-private/a.png")), 400, CodeURLNotAllowed, nil, "not under"},
		{"dot segments", ts, encodeJSON(urlImage(h.URL + "/img/../img-private/a.png")), 400, CodeURLNotAllowed, nil, "not under"},
		{"user info", ts, encodeJSON(urlImage(strings.Replace(h.URL, "://", "://user:secret@", 1) + "/img/a.png")), 400, CodeURLNotAllowed, nil, "user info"},
		{"ftp", ts, encodeJSON(urlImage(strings.Replace(h.URL, "http://", "ftp://", 1) + "/img/a.png")), 400, CodeURLNotAllowed, nil, "scheme ftp"},
		{"file", ts, encodeJSON(urlImage("file:///etc/passwd")), 400, CodeURLNotAllowed, nil, "scheme file"},
		{"relative", ts, encodeJSON(urlImage("/img/a.png")), 400, CodeInvalidParameter, nil, "nor an http(s) URL"},
		{"url and data", ts, encodeJSON(fmt.Sprintf(`{"url": %q, "data": "AAAA"}`, h.URL+"/img/a.png")), 400, CodeInvalidJSON, nil, "one of"},
		{"image_url a number", ts, encodeJSON(`{"image_url": 7}`), 400, CodeInvalidJSON, nil, "image_url"},
		{"image_url null beside data", ts, encodeJSON(fmt.Sprintf(`{"data": %q, "image_url": null}`, base64.StdEncoding.EncodeToString(img))), 200, "", want, ""},
		{"image_url null alone", ts, encodeJSON(`{"image_url": null, "url": null}`), 400, CodeInvalidJSON, nil, "field (base64 of the image file)"},
		{"redirect off the list", ts, encodeJSON(urlImage(h.URL + "/img/off-list")), 400, CodeURLNotAllowed, nil, "redirected to " + off.URL + "/img/a.png"},
		{"redirect with dot segments", ts, encodeJSON(urlImage(h.URL + "/img/to-private")), 400, CodeURLNotAllowed, nil, "redirected to"},
		{"redirect loop", ts, encodeJSON(urlImage(h.URL + "/img/loop")), 422, CodeFetchFailed, nil, "stopped after 5 redirects"},
		{"404", ts, encodeJSON(urlImage(h.URL + "/img/missing.png")), 422, CodeFetchFailed, nil, "answered 404 Not Found"},
		{"oversize, declared", ts, encodeJSON(urlImage(h.URL + "/img/huge-declared")), 413, CodeFetchTooLarge, nil, "over the limit of 64 KiB"},
		{"oversize, chunked", ts, encodeJSON(urlImage(h.URL + "/img/huge-chunked")), 413, CodeFetchTooLarge, nil, "over the limit of 64 KiB"},
		{"oversize, together", ts2, encodeJSON(urlImage(h.URL+"/img/a.png"), urlImage(h.URL+"/img/huge-chunked")), 413, CodeFetchTooLarge, nil, "over the limit"},
		{"not an image", ts2, encodeJSON(urlImage(h.URL + "/img/text")), 400, CodeInvalidImage, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.ts.http.Client(), "POST", tc.ts.http.URL+"/v1/encode", "application/json", tc.body, nil)
			if tc.code == "" {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				if !bytes.Equal(body, tc.want) {
					t.Errorf("the response differs from that of the image sent as base64 (%d and %d bytes)", len(body), len(tc.want))
				}
				return
			}
			wantError(t, resp, body, tc.status, tc.code)
			if !strings.Contains(string(body), tc.msg) {
				t.Errorf("message %s, want %q in it", body, tc.msg)
			}
		})
	}
	if n := off.count("/img/a.png"); n != 0 {
		t.Errorf("the off-list host was fetched %d times", n)
	}
	if n := h.count("/img-private/a.png"); n != 0 {
		t.Errorf("/img-private was fetched %d times", n)
	}
	if n := h.count("/img/loop"); n != 1+maxRedirects {
		t.Errorf("the redirect loop was requested %d times, want %d", n, 1+maxRedirects)
	}
	if n := h.count("/img/huge-declared"); n != 1 {
		t.Errorf("/img/huge-declared requested %d times", n)
	}
	m := metricsText(t, ts)
	for outcome, want := range map[string]float64{fetchOK: 4, fetchNotAllowed: 2, fetchStatus: 1, fetchTooLarge: 2, fetchError: 1, fetchTimeout: 0} {
		if got := metricValue(t, m, `qwen3vl_image_fetches_total{outcome="`+outcome+`"}`); got != want {
			t.Errorf("qwen3vl_image_fetches_total{outcome=%q} %v, want %v", outcome, got, want)
		}
	}
	if got := metricValue(t, m, "qwen3vl_image_fetch_bytes_total"); got < float64(4*len(img)) {
		t.Errorf("qwen3vl_image_fetch_bytes_total %v, want at least %d", got, 4*len(img))
	}
	if got := metricValue(t, m, "qwen3vl_image_fetch_duration_seconds_count"); got != 10 {
		t.Errorf("qwen3vl_image_fetch_duration_seconds_count %v, want 10", got)
	}
}

// TestFetchRefusedByDefault: without an allow-list a URL is refused as before, and the
// message names the flag that would allow it.
func TestFetchRefusedByDefault(t *testing.T) {
	ts := newTestServer(t, nil, false)
	resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "application/json", encodeJSON(urlImage("https://cdn.example.com/a.png")), nil)
	wantError(t, resp, body, 400, CodeURLNotSupported)
	if !strings.Contains(string(body), "-allow-url") {
		t.Errorf("message %s does not name -allow-url", body)
	}
}

// TestFetchNonPublic: without FetchPrivate, an allowed URL whose host resolves to a loopback
// address is refused when connecting, and nothing reaches it; redirects to such an address
// likewise.
func TestFetchNonPublic(t *testing.T) {
	img := pngImage(t, 40, 56, 3)
	h := newImageHost(t, img, "")
	byName := strings.Replace(h.URL, "127.0.0.1", "localhost", 1)
	ts := fetchServer(t, h, func(c *Config) { c.FetchPrivate, c.AllowURLs = false, []string{h.URL + "/img", byName + "/img"} })
	for _, u := range []string{h.URL + "/img/a.png", byName + "/img/a.png"} {
		resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "application/json", encodeJSON(urlImage(u)), nil)
		wantError(t, resp, body, 400, CodeURLNotAllowed)
		if !strings.Contains(string(body), "a loopback address, which this server does not fetch from") {
			t.Errorf("%s: message %s", u, body)
		}
	}
	if n := h.count("/img/a.png"); n != 0 {
		t.Errorf("the loopback host was fetched %d times", n)
	}
}

// TestFetchTimeout: a host that sends nothing is given up after Config.FetchTimeout (422),
// and its request's context ends.
func TestFetchTimeout(t *testing.T) {
	h := newImageHost(t, nil, "")
	ts := fetchServer(t, h, func(c *Config) { c.FetchTimeout = 200 * time.Millisecond })
	resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "application/json", encodeJSON(urlImage(h.URL+"/img/hang")), nil)
	wantError(t, resp, body, 422, CodeFetchFailed)
	if !strings.Contains(string(body), "within the fetch timeout of 200ms") {
		t.Errorf("message %s", body)
	}
	<-h.entered
	waitGone(t, h)
	if n := ts.m.fetchCount(fetchTimeout); n != 1 {
		t.Errorf("%d timeouts counted, want 1", n)
	}
}

// waitGone waits for a /hang request of h to see its context end.
func waitGone(t *testing.T, h *imageHost) {
	t.Helper()
	select {
	case <-h.gone:
	case <-time.After(20 * time.Second):
		t.Fatal("the fetch was not cancelled: the image host's request is still open")
	}
}

// TestFetchFirstFailureCancels: when one image of a request fails, the fetches of the others
// still running are cancelled.
func TestFetchFirstFailureCancels(t *testing.T) {
	h := newImageHost(t, nil, "")
	ts := fetchServer(t, h, func(c *Config) { c.FetchTimeout = time.Hour }) // only the cancellation can end /hang
	c := &http.Client{Timeout: time.Minute}                                 // a fetch that is not cancelled would hold the answer
	resp, body := do(t, c, "POST", ts.http.URL+"/v1/encode", "application/json",
		encodeJSON(urlImage(h.URL+"/img/hang"), urlImage(h.URL+"/img/late-404")), nil)
	wantError(t, resp, body, 422, CodeFetchFailed)
	if !strings.Contains(string(body), "image 1: fetching") {
		t.Errorf("message %s, want image 1's failure", body)
	}
	waitGone(t, h)
	if n := ts.m.fetchCount(fetchCancelled); n != 1 {
		t.Errorf("%d fetches counted cancelled, want 1", n)
	}
}

// TestFetchClientGone: a client that goes away while its images are fetched stops the fetch
// (the image host sees its request's context end) for /v1/encode and chat alike, and the
// request is counted as 499.
func TestFetchClientGone(t *testing.T) {
	h := newImageHost(t, nil, "")
	for _, route := range []string{"/v1/encode", chatRoute} {
		t.Run(route, func(t *testing.T) {
			// Only the cancellation can end /hang within the test.
			allow := func(c *Config) {
				c.AllowURLs, c.FetchPrivate, c.FetchTimeout = []string{h.URL + "/img"}, true, time.Hour
			}
			var ts *testServer
			body := encodeJSON(urlImage(h.URL + "/img/hang"))
			if route == chatRoute {
				ts = newChatServer(t, allow)
				body = []byte(`{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "` + h.URL + `/img/hang"}}]}], "max_tokens": 2}`)
			} else {
				ts = fetchServer(t, h, allow)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", ts.http.URL+route, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			errc := make(chan error, 1)
			go func() {
				resp, err := ts.http.Client().Do(req)
				if err == nil {
					resp.Body.Close()
					err = fmt.Errorf("answered %d", resp.StatusCode)
				}
				errc <- err
			}()
			select {
			case <-h.entered:
			case <-time.After(20 * time.Second):
				t.Fatal("the image was not requested")
			}
			cancel()
			waitGone(t, h)
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client: %v, want cancelled", err)
			}
			waitFor(t, "the 499", func() bool { return ts.m.requestCount(route, StatusClientClosedRequest) == 1 })
			if n := ts.m.fetchCount(fetchCancelled); n != 1 {
				t.Errorf("%d fetches counted cancelled, want 1", n)
			}
		})
	}
}

// TestChatRemoteImage: a chat completion with an image by allowed URL answers as with the
// same image as a data URI; a URL off the list or failing is refused in OpenAI's shape with
// the URL's field as param.
func TestChatRemoteImage(t *testing.T) {
	img := pngImage(t, 40, 56, 3)
	h := newImageHost(t, img, "")
	ts := newChatServer(t, func(c *Config) { c.AllowURLs, c.FetchPrivate = []string{h.URL + "/img/"}, true })
	ask := func(u string) (int, []byte) {
		t.Helper()
		resp := postChat(t, ts, `{"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "`+u+`"}}]}], "max_tokens": 6, "temperature": 0}`)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	answer := func(status int, b []byte) ChatCompletion {
		t.Helper()
		if status != 200 {
			t.Fatalf("status %d: %s", status, b)
		}
		var c ChatCompletion
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	remote := answer(ask(h.URL + "/img/a.png"))
	inline := answer(ask("data:image/png;base64," + base64.StdEncoding.EncodeToString(img)))
	if remote.Choices[0].Message.Content != inline.Choices[0].Message.Content || remote.Usage != inline.Usage || remote.Choices[0].FinishReason != inline.Choices[0].FinishReason {
		t.Errorf("by URL: %+v %+v; as a data URI: %+v %+v", remote.Choices[0], remote.Usage, inline.Choices[0], inline.Usage)
	}
	if n := h.count("/img/a.png"); n != 1 {
		t.Errorf("the image was fetched %d times, want 1", n)
	}
	for _, c := range []struct {
		url, code string
		status    int
	}{
		{h.URL + "/img-private/a.png", CodeURLNotAllowed, 400},
		{h.URL + "/img/missing.png", CodeFetchFailed, 422},
	} {
		status, b := ask(c.url)
		var e OpenAIError
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if status != c.status || e.Error.Code != c.code || e.Error.Param == nil || *e.Error.Param != "messages[0].content[1].image_url.url" || e.Error.Type != "invalid_request_error" {
			t.Errorf("%s: %d %s, want %d %s with param messages[0].content[1].image_url.url", c.url, status, b, c.status, c.code)
		}
	}
	if n := ts.m.chatGenerations.Load(); n != 2 {
		t.Errorf("%d generations, want 2 (the refused requests start none)", n)
	}
}

// TestBudgetReader never reads more than the limit and one byte from its source.
func TestBudgetReader(t *testing.T) {
	for _, limit := range []int64{0, 1, 1000, 64 << 10} {
		var left atomic.Int64
		left.Store(limit)
		src := &countingReader{}
		var buf bytes.Buffer
		_, err := buf.ReadFrom(&budgetReader{r: src, left: &left})
		if !errors.Is(err, errFetchTooLarge) {
			t.Errorf("limit %d: %v, want errFetchTooLarge", limit, err)
		}
		if src.n != limit+1 {
			t.Errorf("limit %d: read %d bytes from the source, want %d", limit, src.n, limit+1)
		}
	}
	var left atomic.Int64
	left.Store(10)
	got, err := io.ReadAll(&budgetReader{r: strings.NewReader("0123456789"), left: &left})
	if err != nil || string(got) != "0123456789" {
		t.Errorf("exactly the limit: %q, %v", got, err)
	}
}

// countingReader is an endless source of bytes that counts what it gives.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	r.n += int64(len(p))
	return len(p), nil
}
