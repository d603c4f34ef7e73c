package server

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metrics holds the service's counters, gauges and histograms and writes them in the
// Prometheus text exposition format (version 0.0.4).
type metrics struct {
	mu       sync.Mutex
	requests map[requestKey]uint64 // qwen3vl_http_requests_total{route,code}

	requestSeconds *histogram // qwen3vl_encode_request_duration_seconds
	queueSeconds   *histogram // qwen3vl_queue_wait_seconds
	encodeSeconds  *histogram // qwen3vl_encode_duration_seconds
	batchRequests  *histogram // qwen3vl_batch_requests
	batchPatches   *histogram // qwen3vl_batch_patches

	batches, batchesSkipped, batchErrors atomic.Uint64
	dropped                              atomic.Uint64 // requests dropped before their batch ran
	images, patches, tokens              atomic.Uint64
	nonFinite                            atomic.Uint64 // output values that were NaN or ±Inf
	encodeNanos                          atomic.Uint64 // total time inside Encode

	// Chat completions.
	chatSeconds                        *histogram    // qwen3vl_chat_request_duration_seconds
	chatFirstToken                     *histogram    // qwen3vl_chat_time_to_first_token_seconds
	chatGenerations, chatCancelled     atomic.Uint64 // generations started; cut short by a client gone or a shutdown
	chatPromptTokens, chatOutputTokens atomic.Uint64
	chatInFlight, chatGenerating       atomic.Int64 // admitted chat requests; 1 while generating

	// Images fetched by URL.
	fetches      map[string]uint64 // qwen3vl_image_fetches_total{outcome}, under mu
	fetchSeconds *histogram        // qwen3vl_image_fetch_duration_seconds
	fetchBytes   atomic.Uint64     // qwen3vl_image_fetch_bytes_total

	// The encoding proxy (Config.Upstream).
	proxyEncodeSeconds   *histogram    // qwen3vl_proxy_encode_duration_seconds
	proxyUpstreamSeconds *histogram    // qwen3vl_proxy_upstream_duration_seconds
	proxyUpstreamBytes   atomic.Uint64 // qwen3vl_proxy_upstream_sent_bytes_total

	// vLLM encoder-cache entries (Config.VLLMECDir).
	ecWritten, ecPresent, ecSkipped atomic.Uint64 // qwen3vl_vllm_ec_entries_total{outcome}
	cache                           *featureCache // set by New

	queueDepth atomic.Int64 // requests waiting for a batch
	inFlight   atomic.Int64 // encode requests admitted (holding a queue slot)
	encoding   atomic.Int64 // 1 while a batch is being encoded
}

type requestKey struct {
	route string
	code  int
}

func newMetrics() *metrics {
	return &metrics{
		requests:             map[requestKey]uint64{},
		requestSeconds:       newHistogram(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
		queueSeconds:         newHistogram(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
		encodeSeconds:        newHistogram(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
		batchRequests:        newHistogram(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64),
		batchPatches:         newHistogram(256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072),
		chatSeconds:          newHistogram(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
		chatFirstToken:       newHistogram(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
		fetches:              map[string]uint64{},
		proxyEncodeSeconds:   newHistogram(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
		proxyUpstreamSeconds: newHistogram(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
		fetchSeconds:         newHistogram(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
	}
}

// countFetch counts one fetch of an image by URL with its outcome (fetchOK, …).
func (m *metrics) countFetch(outcome string) {
	m.mu.Lock()
	m.fetches[outcome]++
	m.mu.Unlock()
}

// fetchCount returns qwen3vl_image_fetches_total{outcome}.
func (m *metrics) fetchCount(outcome string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fetches[outcome]
}

func (m *metrics) countRequest(route string, code int) {
	m.mu.Lock()
	m.requests[requestKey{route, code}]++
	m.mu.Unlock()
}

// requestCount returns qwen3vl_http_requests_total{route,code}.
func (m *metrics) requestCount(route string, code int) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[requestKey{route, code}]
}

// histogram is a cumulative Prometheus histogram with fixed upper bounds.
type histogram struct {
	mu     sync.Mutex
	bounds []float64
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newHistogram(bounds ...float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v) // first bound ≥ v: "le" is inclusive
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.n++
	h.mu.Unlock()
}

// snapshot returns the cumulative bucket counts, the sum and the count.
func (h *histogram) snapshot() (cum []uint64, sum float64, n uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cum = make([]uint64, len(h.counts))
	var c uint64
	for i, v := range h.counts {
		c += v
		cum[i] = c
	}
	return cum, h.sum, h.n
}

// promWriter writes the exposition format.
type promWriter struct{ w *bufio.Writer }

func (p promWriter) header(name, typ, help string) {
	fmt.Fprintf(p.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (p promWriter) sample(name, labels string, v float64) {
	p.w.WriteString(name)
	if labels != "" {
		p.w.WriteString("{" + labels + "}")
	}
	p.w.WriteByte(' ')
	p.w.WriteString(formatFloat(v))
	p.w.WriteByte('\n')
}

func (p promWriter) single(name, typ, help string, v float64) {
	p.header(name, typ, help)
	p.sample(name, "", v)
}

func (p promWriter) histogram(name, help string, h *histogram) {
	p.header(name, "histogram", help)
	cum, sum, n := h.snapshot()
	for i, b := range h.bounds {
		p.sample(name+"_bucket", `le="`+formatFloat(b)+`"`, float64(cum[i]))
	}
	p.sample(name+"_bucket", `le="+Inf"`, float64(cum[len(cum)-1]))
	p.sample(name+"_sum", "", sum)
	p.sample(name+"_count", "", float64(n))
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// escapeLabel escapes a label value for the exposition format.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// write writes every metric. ready and draining are the server's state; queueCap its
// Config.Queue; gflops its measured speed.
func (m *metrics) write(out io.Writer, ready, draining bool, queueCap int, gflops float64, modelID string, started time.Time) error {
	bw := bufio.NewWriter(out)
	p := promWriter{bw}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}

	p.header("qwen3vl_http_requests_total", "counter", "HTTP requests answered, by route and status code (499: the client went away).")
	m.mu.Lock()
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b requestKey) int {
		if c := strings.Compare(a.route, b.route); c != 0 {
			return c
		}
		return a.code - b.code
	})
	counts := make([]uint64, len(keys))
	for i, k := range keys {
		counts[i] = m.requests[k]
	}
	m.mu.Unlock()
	for i, k := range keys {
		p.sample("qwen3vl_http_requests_total", fmt.Sprintf(`route="%s",code="%d"`, escapeLabel(k.route), k.code), float64(counts[i]))
	}

	p.histogram("qwen3vl_encode_request_duration_seconds", "Time from arrival to response of POST /v1/encode requests that succeeded.", m.requestSeconds)
	p.histogram("qwen3vl_queue_wait_seconds", "Time an encode request waited between being queued and its batch starting.", m.queueSeconds)
	p.histogram("qwen3vl_encode_duration_seconds", "Time of one batched Encode call.", m.encodeSeconds)
	p.histogram("qwen3vl_batch_requests", "Requests per batch (batch size).", m.batchRequests)
	p.histogram("qwen3vl_batch_patches", "Patches per batch.", m.batchPatches)

	p.single("qwen3vl_batches_total", "counter", "Batches encoded.", float64(m.batches.Load()))
	p.single("qwen3vl_batches_skipped_total", "counter", "Batches skipped or aborted because every caller had gone.", float64(m.batchesSkipped.Load()))
	p.single("qwen3vl_batch_errors_total", "counter", "Batches whose Encode failed.", float64(m.batchErrors.Load()))
	p.single("qwen3vl_requests_dropped_total", "counter", "Queued requests dropped before their batch ran (client gone or timed out).", float64(m.dropped.Load()))
	p.single("qwen3vl_images_total", "counter", "Images encoded.", float64(m.images.Load()))
	p.single("qwen3vl_patches_total", "counter", "Patches encoded (rate() of it is patches per second).", float64(m.patches.Load()))
	p.single("qwen3vl_tokens_total", "counter", "Output tokens (pooler rows) produced.", float64(m.tokens.Load()))
	p.single("qwen3vl_nonfinite_values_total", "counter", "Output values (pooler, DeepStack, last hidden state) that were NaN or infinite: extreme inputs or broken weights.", float64(m.nonFinite.Load()))
	p.single("qwen3vl_encode_seconds_total", "counter", "Time spent inside Encode.", float64(m.encodeNanos.Load())/1e9)

	p.histogram("qwen3vl_chat_request_duration_seconds", "Time from arrival to the end of the answer of chat completions that succeeded.", m.chatSeconds)
	p.histogram("qwen3vl_chat_time_to_first_token_seconds", "Time from a chat generation's start (its turn taken; the images are encoded and the prompt prefilled after it) to its first text.", m.chatFirstToken)
	p.single("qwen3vl_chat_generations_total", "counter", "Chat generations started.", float64(m.chatGenerations.Load()))
	p.single("qwen3vl_chat_generations_cancelled_total", "counter", "Chat generations cut short because the client went away or the server shut down.", float64(m.chatCancelled.Load()))
	p.single("qwen3vl_chat_prompt_tokens_total", "counter", "Prompt tokens of chat generations (image tokens included).", float64(m.chatPromptTokens.Load()))
	p.single("qwen3vl_chat_completion_tokens_total", "counter", "Tokens generated by chat completions (rate() of it is tokens per second).", float64(m.chatOutputTokens.Load()))
	p.single("qwen3vl_chat_requests_in_flight", "gauge", "Chat requests admitted (waiting or generating).", float64(m.chatInFlight.Load()))
	p.single("qwen3vl_chat_generating", "gauge", "1 while a chat generation runs.", float64(m.chatGenerating.Load()))

	p.header("qwen3vl_image_fetches_total", "counter", "Images fetched by URL, by outcome: ok, not_allowed (a redirect off the allow-list, a non-public address), too_large, http_error (a status other than 2xx), timeout, error (DNS, connection, TLS, …), cancelled (the client went away, or another image of the request failed).")
	for _, o := range fetchOutcomes {
		p.sample("qwen3vl_image_fetches_total", `outcome="`+o+`"`, float64(m.fetchCount(o)))
	}
	p.single("qwen3vl_image_fetch_bytes_total", "counter", "Bytes of the images fetched by URL (bodies read, failed fetches included).", float64(m.fetchBytes.Load()))
	p.histogram("qwen3vl_image_fetch_duration_seconds", "Time of one fetch of an image by URL, redirects included, whatever its outcome.", m.fetchSeconds)

	p.histogram("qwen3vl_proxy_encode_duration_seconds", "Time from arrival to the rewritten body of chat completions forwarded upstream (body read, images fetched, decoded and encoded).", m.proxyEncodeSeconds)
	p.histogram("qwen3vl_proxy_upstream_duration_seconds", "Time of one forwarded chat completion, from sending it upstream to the end of the answer's body, whatever its outcome.", m.proxyUpstreamSeconds)
	p.single("qwen3vl_proxy_upstream_sent_bytes_total", "counter", "Bytes of the request bodies sent upstream.", float64(m.proxyUpstreamBytes.Load()))
	p.header("qwen3vl_vllm_ec_entries_total", "counter", "vLLM encoder-cache entries: written, already present, or skipped (an image vLLM would load otherwise, or a write error).")
	p.sample("qwen3vl_vllm_ec_entries_total", `outcome="written"`, float64(m.ecWritten.Load()))
	p.sample("qwen3vl_vllm_ec_entries_total", `outcome="present"`, float64(m.ecPresent.Load()))
	p.sample("qwen3vl_vllm_ec_entries_total", `outcome="skipped"`, float64(m.ecSkipped.Load()))

	if c := m.cache; c != nil {
		bytes, entries := c.stats()
		p.header("qwen3vl_feature_cache_hits_total", "counter", "Images whose encode result came from the feature cache, by tier: memory, or disk (the cache folder).")
		p.sample("qwen3vl_feature_cache_hits_total", `tier="memory"`, float64(c.hitsMemory.Load()))
		p.sample("qwen3vl_feature_cache_hits_total", `tier="disk"`, float64(c.hitsDisk.Load()))
		p.single("qwen3vl_feature_cache_misses_total", "counter", "Distinct images encoded because the feature cache did not hold them (not counted while the cache is off).", float64(c.misses.Load()))
		p.single("qwen3vl_feature_cache_shared_total", "counter", "Images that waited for an identical image's encode in flight for another request instead of being encoded again.", float64(c.shared.Load()))
		p.single("qwen3vl_feature_cache_evictions_total", "counter", "Entries evicted from memory to stay within the byte bound (-cache-bytes).", float64(c.evictions.Load()))
		p.single("qwen3vl_feature_cache_bytes", "gauge", "Bytes of the entries held in memory.", float64(bytes))
		p.single("qwen3vl_feature_cache_entries", "gauge", "Entries held in memory.", float64(entries))
		p.single("qwen3vl_feature_cache_capacity_bytes", "gauge", "The memory bound of the feature cache (-cache-bytes).", float64(c.max))
		p.single("qwen3vl_feature_cache_disk_writes_total", "counter", "Entries written to the cache folder.", float64(c.diskWrites.Load()))
		p.single("qwen3vl_feature_cache_disk_errors_total", "counter", "Entries that could not be written to the cache folder (a full disk, permissions).", float64(c.diskErrors.Load()))
		p.single("qwen3vl_feature_cache_disk_evictions_total", "counter", "Entries removed from the cache folder to stay within its bound (-cache-dir-bytes).", float64(c.diskEvictions.Load()))
		p.single("qwen3vl_feature_cache_disk_corrupt_total", "counter", "Entries of the cache folder found unusable (truncated, corrupt, another format) and removed, never served.", float64(c.diskCorrupt.Load()))
	}

	p.single("qwen3vl_queue_depth", "gauge", "Encode requests waiting for a batch.", float64(m.queueDepth.Load()))
	p.single("qwen3vl_queue_capacity", "gauge", "Most encode requests admitted at once (Config.Queue).", float64(queueCap))
	p.single("qwen3vl_requests_in_flight", "gauge", "Encode requests admitted and not yet answered.", float64(m.inFlight.Load()))
	p.single("qwen3vl_encoding", "gauge", "1 while a batch is being encoded.", float64(m.encoding.Load()))
	p.single("qwen3vl_measured_gflops", "gauge", "This instance's encode speed, GFLOP/s (calibration at load, then the batches encoded), which admission by cost uses.", gflops)
	p.header("qwen3vl_model_ready", "gauge", "1 once the model is loaded, labelled with its id.")
	p.sample("qwen3vl_model_ready", `model="`+escapeLabel(modelID)+`"`, b2f(ready))
	p.single("qwen3vl_draining", "gauge", "1 while shutting down.", b2f(draining))
	p.single("qwen3vl_uptime_seconds", "gauge", "Seconds since the server started.", time.Since(started).Seconds())

	p.single("go_goroutines", "gauge", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.single("go_memstats_heap_inuse_bytes", "gauge", "Bytes in in-use heap spans.", float64(ms.HeapInuse))
	if rss, ok := residentBytes(); ok {
		p.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", float64(rss))
	}
	return bw.Flush()
}

// residentBytes reads the resident set size from /proc/self/statm (Linux only).
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
