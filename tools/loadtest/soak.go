package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The soak (-soak) runs -clients clients for -duration against a server, each request one of
// these kinds, and checks that every request was answered with a real status and body (or
// refused with a reason), that none got an empty body or a 5xx, and that the server's
// resident memory came back to where it started.
const (
	kindSmall     = "small"      // a small image, read whole
	kindSlow      = "slow"       // a body sent at about 5 KB/s (below the default minimum rate)
	kindGone      = "disconnect" // the client closes its connection before the response
	kindAbandon   = "abandon"    // the client reads the start of a large response and closes
	kindOversized = "oversized"  // one 4096×4096 PNG (sent once)
	kindTooMuch   = "too-much"   // 16 4096×4096 PNGs in one request (sent once)
)

// soakSample is one soak request's outcome.
type soakSample struct {
	kind     string
	status   int    // 0: no response
	code     string // the JSON error code of an error response
	bodyLen  int
	noReason bool // an error status without a JSON error body
	badBody  bool // a 200 whose body is not what the route answers (chat: a completion, a whole stream)
	ourClose bool // we closed the connection on purpose before the whole response
	err      string
	latency  time.Duration
}

// soakPlan is what a soak sends: the kind of client c's n-th request (i counts the requests
// of all clients), how one request of a kind is sent and classified, the banner printed
// first, and checks run on the server once the load is over (nil: none).
type soakPlan struct {
	banner string
	kind   func(c, n int, i int64) string
	one    func(ctx context.Context, kind string, rng *rand.Rand) soakSample
	after  func(w io.Writer, c *http.Client, url string)
}

// soak runs the encode soak against url; pid, when positive, is the server's process (its
// VmRSS is sampled), else the server's /metrics resident memory is.
func soak(ctx context.Context, o options, url string, pid int) error {
	addr := strings.TrimPrefix(url, "http://")
	small, huge, err := soakImages(o)
	if err != nil {
		return err
	}
	client := soakClient(o)
	return runSoak(ctx, o, client, url, pid, soakPlan{
		banner: fmt.Sprintf("soak: %d clients × %v against %s; small %s (min_pixels=%d), one 4096×4096 PNG (%d bytes), one request of 16 of them, slow uploads, disconnects, abandoned responses",
			o.clients, o.duration, url, o.small, o.soakMinPixels, len(huge)),
		kind: func(c, n int, i int64) string {
			switch {
			case c == 0 && n == 0:
				return kindOversized
			case c == 1 && n == 0:
				return kindTooMuch
			}
			switch i % 8 {
			case 1:
				return kindSlow
			case 3:
				return kindGone
			case 5:
				return kindAbandon
			}
			return kindSmall
		},
		one: func(ctx context.Context, kind string, rng *rand.Rand) soakSample {
			return soakOne(ctx, client, url, addr, kind, small, huge, o, rng)
		},
	})
}

// soakImages are the PNGs both soaks send: the -small image and a 4096×4096 gradient.
func soakImages(o options) (small, huge []byte, err error) {
	if small, err = makeImage(o.small, 1); err != nil {
		return nil, nil, err
	}
	if huge, err = makeGradient(4096, 4096); err != nil {
		return nil, nil, err
	}
	return small, huge, nil
}

// soakClient is the soak's HTTP client: -client-timeout, a connection per client kept.
func soakClient(o options) *http.Client {
	return &http.Client{Timeout: o.clientTO, Transport: &http.Transport{MaxIdleConnsPerHost: o.clients, DisableCompression: true}}
}

// runSoak runs plan's requests from -clients clients for -duration, samples the server's
// resident memory, waits for it to settle, and prints the outcome.
func runSoak(ctx context.Context, o options, client *http.Client, url string, pid int, plan soakPlan) error {
	if err := waitReady(ctx, client, url); err != nil {
		return err
	}
	rssOf := func() int64 {
		if pid > 0 {
			return procRSS(pid)
		}
		m, err := scrape(client, url)
		if err != nil {
			return 0
		}
		return int64(m["process_resident_memory_bytes"])
	}

	var rssMu sync.Mutex
	rssStart := rssOf()
	rssPeak := rssStart
	stopRSS := make(chan struct{})
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-stopRSS:
				return
			}
			v := rssOf()
			rssMu.Lock()
			rssPeak = max(rssPeak, v)
			rssMu.Unlock()
		}
	}()

	fmt.Println(plan.banner)
	runCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var mu sync.Mutex
	var samples []soakSample
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for c := range o.clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for n := 0; runCtx.Err() == nil; n++ {
				s := plan.one(ctx, plan.kind(c, n, next.Add(1)), rng)
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
				if s.status == http.StatusTooManyRequests {
					select {
					case <-time.After(time.Second):
					case <-runCtx.Done():
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopRSS)
	<-rssDone
	rssEnd := rssOf()
	// The Go runtime returns freed memory to the system in the background (and collects
	// at least every two minutes): wait up to 150 s for the resident size to come back.
	settled := time.Now()
	for rssEnd > rssStart+rssStart/20 && time.Since(settled) < 150*time.Second && ctx.Err() == nil {
		time.Sleep(5 * time.Second)
		rssEnd = rssOf()
	}
	printSoak(os.Stdout, samples, elapsed, rssStart, rssPeak, rssEnd, time.Since(settled))
	if plan.after != nil {
		plan.after(os.Stdout, client, url)
	}
	return nil
}

// soakOne sends one request of the kind and classifies what came back.
func soakOne(ctx context.Context, c *http.Client, url, addr, kind string, small, huge []byte, o options, rng *rand.Rand) soakSample {
	start := time.Now()
	s := soakSample{kind: kind}
	defer func() { s.latency = time.Since(start) }()
	query := "?min_pixels=" + strconv.Itoa(o.soakMinPixels)
	switch kind {
	case kindSmall, kindOversized, kindTooMuch:
		ct, body := "image/png", small
		q := query
		switch kind {
		case kindOversized:
			body, q = huge, ""
		case kindTooMuch:
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for k := range 16 {
				w, _ := mw.CreateFormFile("image", fmt.Sprintf("huge%d.png", k))
				w.Write(huge)
			}
			mw.Close()
			ct, body, q = mw.FormDataContentType(), buf.Bytes(), ""
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/encode"+q, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Accept", "application/octet-stream")
		resp, err := c.Do(req)
		if err != nil {
			s.err = err.Error()
			return s
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			s.err = "reading the body: " + err.Error()
		}
		classify(&s, resp, b)
	case kindSlow:
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			s.err = err.Error()
			return s
		}
		defer conn.Close()
		total := 256 << 10
		fmt.Fprintf(conn, "POST /v1/encode HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n", total)
		done := make(chan struct{})
		go func() {
			chunk := small[:min(len(small), 1000)]
			for sent := 0; sent < total; sent += len(chunk) {
				select {
				case <-done:
					return
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := conn.Write(chunk); err != nil {
					return
				}
			}
		}()
		defer close(done)
		conn.SetReadDeadline(time.Now().Add(o.clientTO))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			s.err = err.Error()
			return s
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		classify(&s, resp, b)
	case kindGone, kindAbandon:
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			s.err = err.Error()
			return s
		}
		defer conn.Close()
		q := query
		if kind == kindAbandon {
			q += "&include=last_hidden_state"
		}
		fmt.Fprintf(conn, "POST /v1/encode%s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n", q, len(small))
		conn.Write(small)
		if kind == kindGone {
			time.Sleep(time.Duration(50+rng.IntN(1000)) * time.Millisecond)
			s.ourClose = true
			return s
		}
		conn.SetReadDeadline(time.Now().Add(o.clientTO))
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			s.err = err.Error()
			return s
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			classify(&s, resp, b)
			return s
		}
		s.status = resp.StatusCode
		n, _ := io.ReadFull(resp.Body, make([]byte, 4096))
		s.bodyLen = n
		s.ourClose = true
		conn.(*net.TCPConn).SetLinger(0)
	}
	return s
}

// classify records a response's status and checks its body: a 200 must have one, an error a
// JSON error with a code and a message.
func classify(s *soakSample, resp *http.Response, body []byte) {
	s.status = resp.StatusCode
	s.bodyLen = len(body)
	if resp.StatusCode < 400 {
		return
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
		s.noReason = true
		return
	}
	s.code = e.Error.Code
}

func printSoak(w io.Writer, samples []soakSample, elapsed time.Duration, rssStart, rssPeak, rssEnd int64, settle time.Duration) {
	byKind := map[string]map[string]int{}
	var empty, fiveXX, unanswered, noReason, ours, bad int
	for _, s := range samples {
		label := "no response"
		switch {
		case s.ourClose && s.status == 0:
			label = "we disconnected"
			ours++
		case s.ourClose:
			label = fmt.Sprintf("%d, we closed after %d bytes", s.status, s.bodyLen)
			ours++
		case s.status != 0 && s.code != "":
			label = fmt.Sprintf("%d %s", s.status, s.code)
		case s.status != 0:
			label = strconv.Itoa(s.status)
		default:
			unanswered++
			label = "no response: " + s.err
		}
		if s.status != 0 && !s.ourClose && s.bodyLen == 0 {
			empty++
		}
		if s.status >= 500 {
			fiveXX++
		}
		if s.noReason {
			noReason++
		}
		if s.badBody {
			bad++
		}
		if byKind[s.kind] == nil {
			byKind[s.kind] = map[string]int{}
		}
		byKind[s.kind][label]++
	}
	fmt.Fprintf(w, "requests: %d in %.1fs\n", len(samples), elapsed.Seconds())
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		labels := make([]string, 0, len(byKind[k]))
		for l := range byKind[k] {
			labels = append(labels, l)
		}
		slices.Sort(labels)
		fmt.Fprintf(w, "  %-10s", k)
		for _, l := range labels {
			fmt.Fprintf(w, "  %d × %s;", byKind[k][l], l)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "empty responses: %d; malformed 200 bodies: %d; 5xx: %d; neither answered nor refused with a reason: %d (no response %d, error without a JSON reason %d); closed on purpose by the client: %d\n",
		empty, bad, fiveXX, unanswered+noReason, unanswered, noReason, ours)
	fmt.Fprintf(w, "server RSS: start %s, peak %s, end %s (%.0fs after the load)\n", mib(rssStart), mib(rssPeak), mib(rssEnd), settle.Seconds())
}

// procRSS reads VmRSS of process pid from /proc (Linux), 0 elsewhere.
func procRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// makeGradient returns a w×h PNG of a smooth gradient: large in pixels, small in bytes (a
// 4096×4096 one is tens of KB), as the image that wedged the service in issue 13.
func makeGradient(w, h int) ([]byte, error) {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Pix[y*img.Stride+x] = uint8((x + y) * 255 / (w + h))
		}
	}
	var buf bytes.Buffer
	err := png.Encode(&buf, img)
	return buf.Bytes(), err
}
