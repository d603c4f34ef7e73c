// Command loadtest drives the qwen3vl encoder service (package server) with concurrent
// clients sending a mix of small and large images, and reports throughput, latency
// percentiles, status counts and the server's resident memory over the run.
//
// It only ever talks to a loopback address: either a server it starts in-process on
// 127.0.0.1 (the default) or one given with -addr, which must be 127.0.0.1, ::1 or localhost.
// It is bounded by -duration and -max-requests.
//
// Usage:
//
//	go run ./tools/loadtest -model random:qwen3-vl-2b -clients 16 -duration 30s
//	go run ./tools/loadtest -addr 127.0.0.1:8080 -clients 8 -duration 20s
//	go run ./tools/loadtest -compare -model random:qwen3-vl-2b -duration 20s
//
// With -soak it runs the mix of issue 13 against a running server (-addr, -pid):
//
//	qwen3vl serve -model random:qwen3-vl-2b & go run ./tools/loadtest -soak -addr 127.0.0.1:8080 -pid $! -clients 16 -duration 60s
//
// and with -soak-chat a mix of chat requests against `qwen3vl serve -chat`:
//
//	qwen3vl serve -chat -model random:tiny@7 -tokenizer testdata/tokenizer/qwen3vl & go run ./tools/loadtest -soak-chat -addr 127.0.0.1:8080 -pid $! -clients 8 -duration 60s
//
// With -compare it runs small images only, twice on one in-process model: batching off
// (-batch-patches equal to one small image, so each Encode serves one request) and batching
// on, and prints both throughputs.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/server"
)

type options struct {
	addr        string
	model       string
	clients     int
	duration    time.Duration
	maxRequests int
	small       string
	large       string
	largeEvery  int
	accept      string
	compare     bool
	threads     int

	// The soak (-soak).
	soak          bool
	pid           int
	soakMinPixels int
	soakChat      bool // -soak-chat: the chat soak
	chatTokens    int

	// In-process server settings.
	queue        int
	batchWait    time.Duration
	batchPatches int
	minPixels    int
	maxPixels    int
	timeout      time.Duration
	clientTO     time.Duration
}

func main() {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ExitOnError)
	fs.StringVar(&o.addr, "addr", "", "loopback address of a running server (empty: start one in-process on 127.0.0.1)")
	fs.StringVar(&o.model, "model", "random:qwen3-vl-2b", "model of the in-process server")
	fs.IntVar(&o.threads, "threads", 0, "kernel goroutines of the in-process server (0: all CPUs)")
	fs.IntVar(&o.clients, "clients", 16, "concurrent clients")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long to send requests (at most 10m)")
	fs.IntVar(&o.maxRequests, "max-requests", 100000, "stop after this many requests")
	fs.StringVar(&o.small, "small", "224x224", "size of the small images, WxH")
	fs.StringVar(&o.large, "large", "640x480", "size of the large images, WxH")
	fs.IntVar(&o.largeEvery, "large-every", 4, "one request in N sends a large image (0: small only)")
	fs.StringVar(&o.accept, "accept", "safetensors", "response format: safetensors or json")
	fs.BoolVar(&o.compare, "compare", false, "compare batching off and on, small images only, in-process")
	fs.BoolVar(&o.soak, "soak", false, "soak: small images mixed with one 4096×4096 PNG, one request of 16 of them, slow uploads, disconnects and abandoned responses; report statuses, empty responses, 5xx, unanswered requests and the server's RSS")
	fs.IntVar(&o.pid, "pid", 0, "soak: the server's process id, whose VmRSS is sampled (0: the server's /metrics)")
	fs.BoolVar(&o.soakChat, "soak-chat", false, "chat soak against a running `qwen3vl serve -chat`: images and questions streamed or not, streams abandoned after their first event, slow uploads, refused requests and one 4096×4096 PNG; report as -soak does, then the chat requests and generations left in flight")
	fs.IntVar(&o.chatTokens, "soak-chat-tokens", 16, "chat soak: max_tokens of each request")
	fs.IntVar(&o.soakMinPixels, "soak-min-pixels", 16384, "soak: min_pixels of the small images' requests")
	fs.IntVar(&o.queue, "queue", server.DefaultQueue, "in-process server: -queue")
	fs.DurationVar(&o.batchWait, "batch-wait", server.DefaultBatchWait, "in-process server: -batch-wait")
	fs.IntVar(&o.batchPatches, "batch-patches", server.DefaultBatchPatches, "in-process server: -batch-patches")
	fs.IntVar(&o.minPixels, "min-pixels", 0, "in-process server: -min-pixels (0: the checkpoint's)")
	fs.IntVar(&o.maxPixels, "max-pixels", server.DefaultMaxPixels, "in-process server: -max-pixels (0: the checkpoint's)")
	fs.DurationVar(&o.timeout, "timeout", server.DefaultTimeout, "in-process server: -timeout")
	fs.DurationVar(&o.clientTO, "client-timeout", 5*time.Minute, "client-side time limit of one request")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (in-process server included) to this file")
	fs.Parse(os.Args[1:])
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.clients < 1 || o.clients > 1024 {
		return fmt.Errorf("-clients %d: want 1..1024", o.clients)
	}
	if o.duration <= 0 || o.duration > 10*time.Minute {
		return fmt.Errorf("-duration %v: want (0, 10m]", o.duration)
	}
	if o.maxRequests < 1 {
		return fmt.Errorf("-max-requests %d: want ≥ 1", o.maxRequests)
	}
	switch o.accept {
	case "safetensors":
		o.accept = "application/octet-stream"
	case "json":
		o.accept = "application/json"
	default:
		return fmt.Errorf("-accept %q: want safetensors or json", o.accept)
	}
	small, err := makeImage(o.small, 1)
	if err != nil {
		return err
	}
	large, err := makeImage(o.large, 2)
	if err != nil {
		return err
	}
	if o.compare {
		if o.addr != "" {
			return errors.New("-compare runs its own servers; drop -addr")
		}
		return compare(ctx, o, small)
	}
	if o.soak || o.soakChat {
		if o.addr == "" {
			return errors.New("-soak and -soak-chat need -addr (and -pid) of a running qwen3vl serve")
		}
		if err := checkLoopback(o.addr); err != nil {
			return err
		}
		if o.soakChat {
			if o.chatTokens < 1 {
				return fmt.Errorf("-soak-chat-tokens %d: want ≥ 1", o.chatTokens)
			}
			return soakChat(ctx, o, "http://"+o.addr, o.pid)
		}
		return soak(ctx, o, "http://"+o.addr, o.pid)
	}
	if o.addr != "" {
		if err := checkLoopback(o.addr); err != nil {
			return err
		}
		fmt.Printf("target: http://%s (external server)\n", o.addr)
		rep, err := drive(ctx, o, "http://"+o.addr, small, large, nil)
		if err != nil {
			return err
		}
		rep.print(os.Stdout)
		return nil
	}
	srv, url, stopServer, err := startServer(ctx, o, o.batchPatches)
	if err != nil {
		return err
	}
	fmt.Printf("target: %s (in-process, model %s, GOMAXPROCS %d)\n", url, o.model, threadsOf(o))
	rep, err := drive(ctx, o, url, small, large, srv)
	if err2 := stopServer(); err == nil {
		err = err2
	}
	if err != nil {
		return err
	}
	rep.print(os.Stdout)
	return nil
}

func threadsOf(o options) int {
	if o.threads > 0 {
		return o.threads
	}
	return runtime.GOMAXPROCS(0)
}

// compare measures small-image throughput with batching off, then on.
func compare(ctx context.Context, o options, small []byte) error {
	o.largeEvery = 0
	// One small image's patches: ask a throwaway server? Simpler: compute from the budget.
	patches, err := patchesOf(ctx, o, small)
	if err != nil {
		return err
	}
	var reps []*report
	for _, bp := range []int{patches, o.batchPatches} {
		srv, url, stopServer, err := startServer(ctx, o, bp)
		if err != nil {
			return err
		}
		label := "batching on"
		if bp == patches {
			label = "batching off"
		}
		fmt.Printf("== %s: -batch-patches %d (one small image = %d patches), %d clients, %v\n", label, bp, patches, o.clients, o.duration)
		rep, err := drive(ctx, o, url, small, nil, srv)
		stopServer()
		if err != nil {
			return err
		}
		rep.label = label
		rep.print(os.Stdout)
		reps = append(reps, rep)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	off, on := reps[0], reps[1]
	fmt.Printf("\nsmall images (%s, %d patches each): batching off %.2f img/s, on %.2f img/s (×%.2f); mean batch %.2f vs %.2f requests\n",
		o.small, patches, off.imagesPerSec(), on.imagesPerSec(), on.imagesPerSec()/math.Max(off.imagesPerSec(), 1e-9), off.meanBatch, on.meanBatch)
	return nil
}

// startServer starts an in-process server on 127.0.0.1 with the model of o (loaded once
// and shared between servers).
func startServer(ctx context.Context, o options, batchPatches int) (*server.Server, string, func() error, error) {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Model = o.model
	cfg.Threads = o.threads
	cfg.Queue = o.queue
	cfg.BatchWait = o.batchWait
	cfg.BatchPatches = batchPatches
	cfg.MinPixels, cfg.MaxPixels = o.minPixels, o.maxPixels
	cfg.Timeout = o.timeout
	cfg.DrainDelay = 0 // no load balancer in front
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := server.New(cfg)
	if err != nil {
		return nil, "", nil, err
	}
	start := time.Now()
	if err := loadShared(ctx, s); err != nil {
		return nil, "", nil, err
	}
	if d := time.Since(start); d > time.Second {
		fmt.Printf("model %s loaded in %.1fs\n", o.model, d.Seconds())
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, "", nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(sctx, ln) }()
	stop := func() error {
		cancel()
		return <-done
	}
	return s, "http://" + ln.Addr().String(), stop, nil
}

var (
	modelMu   sync.Mutex
	modelFrom *server.Server
)

// loadShared loads the model into s, reusing the one a previous server loaded.
func loadShared(ctx context.Context, s *server.Server) error {
	modelMu.Lock()
	defer modelMu.Unlock()
	if modelFrom != nil {
		return s.SetModel(modelFrom.Model())
	}
	if err := s.Load(ctx); err != nil {
		return err
	}
	modelFrom = s
	return nil
}

// patchesOf returns the patches one image gets under the budget of o, by asking a throwaway
// in-process server's /v1/models for the budget.
func patchesOf(ctx context.Context, o options, img []byte) (int, error) {
	cfgImg, _, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return 0, err
	}
	srv, _, stop, err := startServer(ctx, o, o.batchPatches)
	if err != nil {
		return 0, err
	}
	defer stop()
	_, pre := srv.Model()
	h, w, err := imageproc.SmartResize(cfgImg.Height, cfgImg.Width, pre.Factor(), pre.MinPixels, pre.MaxPixels)
	if err != nil {
		return 0, err
	}
	return h * w / (pre.PatchSize * pre.PatchSize), nil
}

// checkLoopback refuses any address that is not on this machine's loopback interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", addr)
}

// makeImage returns a PNG of the given WxH size with synthetic content.
func makeImage(size string, seed int) ([]byte, error) {
	ws, hs, ok := strings.Cut(size, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w < 1 || h < 1 || w*h > 50_000_000 {
		return nil, fmt.Errorf("image size %q: want WxH, e.g. 224x224", size)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*3 + seed*40), uint8(y*5 + x*y/64), uint8((x ^ y) * seed), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sample is one request's outcome.
type sample struct {
	large   bool
	status  int
	latency time.Duration
	err     bool
}

// report summarises a run.
type report struct {
	label                string
	elapsed              time.Duration
	samples              []sample
	retries429           int
	rssStart, rssPeak    int64
	rssQuartiles         [4]int64
	meanBatch            float64
	batches              float64
	serverPatchesPerSec  float64
	images, smallN, bigN int
}

func (r *report) imagesPerSec() float64 { return float64(r.images) / r.elapsed.Seconds() }

// drive runs the clients against url until the duration or the request budget is spent.
func drive(ctx context.Context, o options, url string, small, large []byte, srv *server.Server) (*report, error) {
	client := &http.Client{
		Timeout:   o.clientTO,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients, DisableCompression: true},
	}
	if err := waitReady(ctx, client, url); err != nil {
		return nil, err
	}
	before, _ := scrape(client, url)

	// Resident memory, sampled every 100 ms (of this process when the server is in-process,
	// else from the server's /metrics).
	var rssMu sync.Mutex
	var rss []int64
	stopRSS := make(chan struct{})
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var v int64
			if srv != nil {
				v = selfRSS()
			} else if m, err := scrape(client, url); err == nil {
				v = int64(m["process_resident_memory_bytes"])
			}
			rssMu.Lock()
			rss = append(rss, v)
			rssMu.Unlock()
			select {
			case <-t.C:
			case <-stopRSS:
				return
			}
		}
	}()

	runCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var samples []sample
	var retries atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range o.clients {
		wg.Go(func() {
			for runCtx.Err() == nil {
				i := next.Add(1)
				if i > int64(o.maxRequests) {
					return
				}
				isLarge := large != nil && o.largeEvery > 0 && i%int64(o.largeEvery) == 0
				body := small
				if isLarge {
					body = large
				}
				// Requests started before the end run to completion (within -client-timeout),
				// so that every request is accounted for.
				s, retryAfter := post(ctx, client, url, body, o.accept)
				s.large = isLarge
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
				if s.status == http.StatusTooManyRequests {
					retries.Add(1)
					select {
					case <-time.After(retryAfter):
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
	after, _ := scrape(client, url)

	r := &report{elapsed: elapsed, samples: samples, retries429: int(retries.Load())}
	for _, s := range samples {
		if s.status == 200 {
			r.images++
			if s.large {
				r.bigN++
			} else {
				r.smallN++
			}
		}
	}
	rssMu.Lock()
	if len(rss) > 0 {
		r.rssStart = rss[0]
		for q := range 4 {
			r.rssQuartiles[q] = rss[min(len(rss)-1, (q+1)*len(rss)/4)]
		}
		r.rssPeak = slices.Max(rss)
	}
	rssMu.Unlock()
	if before != nil && after != nil {
		r.batches = after["qwen3vl_batches_total"] - before["qwen3vl_batches_total"]
		if n := after["qwen3vl_batch_requests_count"] - before["qwen3vl_batch_requests_count"]; n > 0 {
			r.meanBatch = (after["qwen3vl_batch_requests_sum"] - before["qwen3vl_batch_requests_sum"]) / n
		}
		r.serverPatchesPerSec = (after["qwen3vl_patches_total"] - before["qwen3vl_patches_total"]) / elapsed.Seconds()
	}
	return r, nil
}

// post sends one image and reads the whole response.
func post(ctx context.Context, c *http.Client, url string, body []byte, accept string) (sample, time.Duration) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/encode", bytes.NewReader(body))
	if err != nil {
		return sample{err: true}, 0
	}
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Accept", accept)
	resp, err := c.Do(req)
	if err != nil {
		return sample{err: true, latency: time.Since(start)}, 0
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s := sample{status: resp.StatusCode, latency: time.Since(start), err: err != nil}
	retry := 200 * time.Millisecond
	if v, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && v > 0 {
		retry = time.Duration(v) * time.Second
	}
	return s, retry
}

func waitReady(ctx context.Context, c *http.Client, url string) error {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		resp, err := c.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not ready", url)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// scrape reads the server's /metrics into name{labels} → value.
func scrape(c *http.Client, url string) (map[string]float64, error) {
	resp, err := c.Get(url + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// selfRSS reads this process's resident set size (Linux), 0 elsewhere.
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func (r *report) print(w io.Writer) {
	statuses := map[int]int{}
	errs := 0
	var latSmall, latLarge, latAll []time.Duration
	for _, s := range r.samples {
		if s.err {
			errs++
			continue
		}
		statuses[s.status]++
		if s.status == 200 {
			latAll = append(latAll, s.latency)
			if s.large {
				latLarge = append(latLarge, s.latency)
			} else {
				latSmall = append(latSmall, s.latency)
			}
		}
	}
	codes := make([]int, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	fmt.Fprintf(w, "requests: %d in %.1fs (sending stopped at -duration; the last ones were waited for); transport errors: %d\n", len(r.samples), r.elapsed.Seconds(), errs)
	fmt.Fprint(w, "status:")
	fiveXX := 0
	for _, c := range codes {
		fmt.Fprintf(w, " %d×%d", c, statuses[c])
		if c >= 500 {
			fiveXX += statuses[c]
		}
	}
	fmt.Fprintf(w, "\n429: %d answered, %d retried after Retry-After; 5xx: %d\n", statuses[429], r.retries429, fiveXX)
	fmt.Fprintf(w, "throughput: %.2f images/s (%d small, %d large), server %.0f patches/s; %0.f batches, mean batch %.2f requests\n",
		r.imagesPerSec(), r.smallN, r.bigN, r.serverPatchesPerSec, r.batches, r.meanBatch)
	for _, l := range []struct {
		name string
		d    []time.Duration
	}{{"all", latAll}, {"small", latSmall}, {"large", latLarge}} {
		if len(l.d) == 0 {
			continue
		}
		slices.Sort(l.d)
		fmt.Fprintf(w, "latency %-5s n=%-5d p50 %7.0f ms  p99 %7.0f ms  max %7.0f ms\n", l.name, len(l.d),
			ms(pct(l.d, 0.50)), ms(pct(l.d, 0.99)), ms(l.d[len(l.d)-1]))
	}
	fmt.Fprintf(w, "RSS: start %s, at 25/50/75/100%% of the run %s / %s / %s / %s, peak %s\n",
		mib(r.rssStart), mib(r.rssQuartiles[0]), mib(r.rssQuartiles[1]), mib(r.rssQuartiles[2]), mib(r.rssQuartiles[3]), mib(r.rssPeak))
}

func pct(d []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(len(d)-1, i))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
