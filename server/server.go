package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/text"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Server is the HTTP encoder service. It is an http.Handler; create it with New, give it a
// model with Load or SetModel, serve it with Serve (or any http.Server), and stop it with
// Close (Serve does that itself when its context is cancelled).
type Server struct {
	cfg     Config
	log     *slog.Logger
	m       *metrics
	started time.Time

	slots        chan struct{} // Config.Queue admission tokens
	decodeSem    chan struct{} // bounds concurrent image decoding (memory of decoded images)
	model        atomic.Pointer[loadedModel]
	draining     atomic.Bool
	noDrainDelay atomic.Bool // the model did not load: stop at once
	setOnce      sync.Mutex
	baseCtx      context.Context // of every batch; cancelled by abort
	abort        context.CancelFunc
	speed        *speedMeter // GFLOP/s of this instance, for admission by cost
	cache        *featureCache
	reclaim      *reclaimer
	closeOnce    sync.Once
	wrapEncode   func(encodeFunc) encodeFunc // tests: wraps the model's Encode
	onBatch      func(requests, patches int) // tests: sees every batch

	allow allowList // Config.AllowURLs parsed
	fetch *fetcher  // nil when allow is empty
	up    *upstream // Config.Upstream; nil without one

	chatSlots  chan struct{}                    // Config.ChatQueue admission tokens
	chatRun    chan struct{}                    // one generation at a time
	onChatEmit func(ctx context.Context, n int) // tests: called before the n-th streamed piece (from 0)
}

// loadedModel is the state SetModel installs.
type loadedModel struct {
	model   *vision.Model
	pipe    *pipeline.Pipeline // the pipeline Load opened; nil after SetModel
	id      string
	vcfg    vision.Config
	pre     imageproc.Options // with the server's default budget and decode limit
	ceiling int               // the largest max_pixels a request may ask for
	batcher *batcher
	// digest identifies the weights in the feature cache's keys (Pipeline.Digest, or
	// Config.ModelDigest); empty, nothing is kept in the cache.
	digest string
	// assistant is the whole model when Config.Chat loaded one (or SetAssistant installed
	// it): POST /v1/chat/completions is served only then.
	assistant *pipeline.Assistant
}

// metadata is the provenance of a safetensors response for items.
func (lm *loadedModel) metadata(items []pipeline.Item) map[string]string {
	md := map[string]string{"format": "pt", "producer": "qwen3vl", "weights": lm.model.Weights().String()}
	if lm.pipe != nil {
		md = lm.pipe.Metadata(items)
	}
	md["model"] = lm.id
	return md
}

// serverError is an error of a package below, worded as the server's: "server: " replaces its
// "pipeline: " prefix (errors.Is and errors.As still see it).
type serverError struct{ err error }

func (e serverError) Error() string {
	return "server: " + strings.TrimPrefix(e.err.Error(), "pipeline: ")
}
func (e serverError) Unwrap() error { return e.err }

func rephrase(err error) error { return serverError{err} }

// New returns a server that is alive (/healthz) but not ready (/readyz 503) until Load or
// SetModel installs a model.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	logger, err := cfg.newLogger(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		log:       logger,
		m:         newMetrics(),
		started:   time.Now(),
		slots:     make(chan struct{}, cfg.Queue),
		decodeSem: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		speed:     &speedMeter{},
		chatSlots: make(chan struct{}, cfg.ChatQueue),
		chatRun:   make(chan struct{}, 1),
	}
	s.reclaim = &reclaimer{inFlight: &s.m.inFlight}
	if s.cache, err = newFeatureCache(cfg.CacheBytes, cfg.CacheDir, cfg.CacheDirBytes, logger); err != nil {
		return nil, err
	}
	s.m.cache = s.cache
	if s.allow, err = parseAllowList(cfg.AllowURLs); err != nil {
		return nil, fmt.Errorf("server: %w", err) // Validate has checked them
	}
	if len(s.allow) > 0 {
		s.fetch = newFetcher(cfg, s.allow, s.m)
	}
	if cfg.Upstream != "" {
		s.up = newUpstream(cfg.Upstream)
	}
	s.baseCtx, s.abort = context.WithCancel(context.Background())
	return s, nil
}

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Load opens the model named by Config.Model through the pipeline (pipeline.Open: the spec
// parsed, a hub id resolved with Config.Hub, config.json and the preprocessing configs read and
// checked, the weights loaded), and installs it with its preprocessing options.
func (s *Server) Load(ctx context.Context) error {
	start := time.Now()
	s.log.Info("loading model", "model", s.cfg.Model, "chat", s.cfg.Chat)
	opts := pipeline.Options{
		Vision: vision.Options{Threads: s.cfg.Threads, Weights: s.cfg.Weights, Compute: s.cfg.Compute},
		Hub:    s.cfg.Hub,
		Logf:   func(format string, a ...any) { s.log.Info(fmt.Sprintf(format, a...)) },
	}
	var p *pipeline.Pipeline
	var a *pipeline.Assistant
	if s.cfg.Chat {
		spec, err := pipeline.ParseSpec(s.cfg.Model)
		if err != nil {
			return rephrase(err)
		}
		a, err = pipeline.OpenAssistant(ctx, spec, pipeline.AssistantOptions{
			Options: opts, Tokenizer: s.cfg.Tokenizer,
			Decoder: text.Options{Threads: s.cfg.Threads, Weights: s.cfg.Weights, Compute: s.cfg.Compute},
		})
		if err != nil {
			return rephrase(err)
		}
		p = a.Pipeline
	} else {
		var err error
		if p, err = pipeline.Open(ctx, s.cfg.Model, opts); err != nil {
			return rephrase(err)
		}
	}
	if err := s.install(p.Model, p.Image, p, a); err != nil {
		return err
	}
	s.log.Info("model loaded", "model", s.modelID(), "weights", p.Model.Weights().String(), "compute", p.Model.Compute().String(), "seconds", time.Since(start).Seconds())
	return nil
}

// SetModel installs m, with pre as its preprocessing options (imageproc.DefaultOptions for the
// released checkpoints), measures its speed with one small calibration encode (for admission
// by cost), starts the batcher and makes the server ready. Config.MinPixels and MaxPixels,
// when set, replace pre's budget, and Config.MaxDecodePixels its decode limit. It may be
// called once.
func (s *Server) SetModel(m *vision.Model, pre imageproc.Options) error {
	return s.install(m, pre, nil, nil)
}

// SetAssistant installs a whole model as SetModel does its vision tower (a.Model with
// a.Image), and serves POST /v1/chat/completions with it. It may be called once, instead of
// SetModel.
func (s *Server) SetAssistant(a *pipeline.Assistant) error {
	if a == nil || a.Pipeline == nil || a.Checkpoint == nil {
		return errors.New("server: SetAssistant: no assistant")
	}
	return s.install(a.Model, a.Image, a.Pipeline, a)
}

// install is SetModel, with the pipeline the model came from when Load opened it (nil for
// SetModel), whose provenance responses carry.
func (s *Server) install(m *vision.Model, pre imageproc.Options, p *pipeline.Pipeline, a *pipeline.Assistant) error {
	s.setOnce.Lock()
	defer s.setOnce.Unlock()
	if s.model.Load() != nil {
		return errors.New("server: a model is already installed")
	}
	if s.draining.Load() {
		return errors.New("server: closed")
	}
	vcfg := m.Config()
	if err := pipeline.Fits(pre, vcfg); err != nil {
		return rephrase(err)
	}
	if s.cfg.MinPixels > 0 {
		pre.MinPixels = s.cfg.MinPixels
	}
	if s.cfg.MaxPixels > 0 {
		pre.MaxPixels = s.cfg.MaxPixels
		if s.cfg.MinPixels == 0 && pre.MinPixels > pre.MaxPixels {
			pre.MinPixels = pre.MaxPixels
		}
	}
	pre.MaxDecodePixels = s.cfg.MaxDecodePixels
	if err := pre.Validate(); err != nil {
		return fmt.Errorf("server: pixel budget: %w", err)
	}
	id := s.cfg.ModelID
	if id == "" {
		id = s.cfg.Model
	}
	digest := s.modelDigest(p)
	if id == "" {
		id = "qwen3vl"
	}
	start := time.Now()
	if err := s.speed.calibrate(s.baseCtx, m); err != nil {
		return fmt.Errorf("server: calibration encode: %w", err)
	}
	s.log.Info("measured the encode speed", "gflops", math.Round(s.speed.gflops()*10)/10, "seconds", time.Since(start).Seconds(), "grid", fmt.Sprint(calibrationGrid))
	encode := encodeFunc(m.Encode)
	if s.wrapEncode != nil {
		encode = s.wrapEncode(encode)
	}
	b := newBatcher(s.baseCtx, s.cfg.BatchWait, s.cfg.BatchPatches, encode, s.m, s.speed)
	b.onBatch = s.onBatch
	b.log = s.log
	go b.run()
	go s.reclaim.run(s.baseCtx)
	s.model.Store(&loadedModel{model: m, pipe: p, id: id, vcfg: vcfg, pre: pre, ceiling: pre.MaxPixels, batcher: b, assistant: a, digest: digest})
	return nil
}

// modelDigest is the digest the feature cache keys the model's results by: Config.ModelDigest,
// else the pipeline's (Pipeline.Digest); empty (nothing cached) for a model installed by
// SetModel without one, or when the cache is off.
func (s *Server) modelDigest(p *pipeline.Pipeline) string {
	if !s.cache.enabled() {
		return ""
	}
	if s.cfg.ModelDigest != "" {
		return s.cfg.ModelDigest
	}
	if p == nil {
		s.log.Warn("the feature cache is off: the model was installed without a digest (Config.ModelDigest)")
		return ""
	}
	start := time.Now()
	d, err := p.Digest(s.baseCtx)
	if err != nil {
		s.log.Warn("the feature cache is off: the model's digest", "err", err)
		return ""
	}
	s.log.Info("feature cache", "model_digest", d, "seconds", time.Since(start).Seconds(), "max_bytes", s.cfg.CacheBytes, "dir", s.cfg.CacheDir)
	return d
}

// Model returns the installed model and its effective preprocessing options (the server's
// pixel budget and decode limit applied), or nil before Load or SetModel.
func (s *Server) Model() (*vision.Model, imageproc.Options) {
	if lm := s.model.Load(); lm != nil {
		return lm.model, lm.pre
	}
	return nil, imageproc.Options{}
}

// Ready reports whether a model is installed and the server is not draining.
func (s *Server) Ready() bool { return s.model.Load() != nil && !s.draining.Load() }

func (s *Server) modelID() string {
	if lm := s.model.Load(); lm != nil {
		return lm.id
	}
	if s.cfg.ModelID != "" {
		return s.cfg.ModelID
	}
	return s.cfg.Model
}

// Drain makes /readyz answer 503 and refuses new encode requests (503 "draining"); requests
// already admitted go on.
func (s *Server) Drain() { s.draining.Store(true) }

// Grace periods after a deadline of the shutdown.
const (
	// abortGrace is how long the requests left when the shutdown times out have to write
	// their 503 before the connections are closed.
	abortGrace = time.Second
	// leaveGrace is how long a cancelled encode may take to notice before the batcher is
	// left behind.
	leaveGrace = time.Second
)

// Close drains the server and lets the batcher finish what is queued, for at most
// Config.ShutdownTimeout; then it cancels what is still running (its requests are answered
// 503) and returns at most a second later, leaving behind an encode that ignores its
// cancellation (logged). Handlers still running after Close answer 503.
func (s *Server) Close() { s.closeBy(time.Now().Add(s.cfg.ShutdownTimeout)) }

// closeBy is Close with the deadline given.
func (s *Server) closeBy(deadline time.Time) {
	s.Drain()
	s.closeOnce.Do(func() {
		if s.fetch != nil {
			defer s.fetch.close()
		}
		if s.up != nil {
			defer s.up.client.CloseIdleConnections()
		}
		s.setOnce.Lock()
		lm := s.model.Load()
		s.setOnce.Unlock()
		if lm == nil {
			s.abort()
			return
		}
		defer s.abort() // handlers still running answer 503; the reclaimer stops
		lm.batcher.close()
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-lm.batcher.stopped:
			return
		case <-t.C:
		}
		s.log.Warn("shutdown deadline reached: cancelling the encodes left", "queued", s.m.queueDepth.Load(), "encoding", s.m.encoding.Load())
		s.abort()
		select {
		case <-lm.batcher.stopped:
		case <-time.After(leaveGrace):
			s.log.Error("an encode ignored its cancellation: leaving it running and stopping anyway")
		}
	})
}

// Serve answers HTTP requests on ln until ctx is cancelled, then shuts down within
// Config.ShutdownTimeout (plus at most two seconds): it drains (/readyz and new encode
// requests 503) with the listener still open for Config.DrainDelay, so that a load balancer
// stops sending; then it closes the listener and waits for the requests in flight to be
// answered; when the time is up it answers those left 503 (draining), closes the connections
// and returns, leaving behind an encode that ignores its cancellation. It returns nil after a
// graceful shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.Drain()
	deadline := time.Now().Add(s.cfg.ShutdownTimeout)
	delay := min(s.cfg.DrainDelay, s.cfg.ShutdownTimeout)
	if s.noDrainDelay.Load() {
		delay = 0
	}
	s.log.Info("draining", "in_flight", s.m.inFlight.Load(), "queued", s.m.queueDepth.Load(), "chat_in_flight", s.m.chatInFlight.Load(), "drain_delay", delay.String(), "shutdown_timeout", s.cfg.ShutdownTimeout.String())
	if delay > 0 {
		time.Sleep(delay) // the listener is open: /readyz says 503
	}
	sctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var err error
	if hs.Shutdown(sctx) != nil && sctx.Err() != nil {
		left := s.m.inFlight.Load()
		s.log.Warn("shutdown timed out: answering the requests left with 503", "in_flight", left)
		s.abort()
		// The handlers answer 503 at once; give them a moment to write it, then close.
		actx, acancel := context.WithTimeout(context.Background(), abortGrace)
		hs.Shutdown(actx)
		acancel()
		hs.Close()
		err = fmt.Errorf("server: shutdown timed out after %v with %d requests in flight", s.cfg.ShutdownTimeout, left)
	}
	s.closeBy(deadline)
	<-errc
	s.abort()
	if err == nil {
		s.log.Info("stopped")
	}
	return err
}

// Run is the whole service: it listens on cfg.Addr, loads cfg.Model in the background
// (/healthz answers at once, /readyz once the model is loaded), serves until ctx is
// cancelled (for example on SIGTERM, with signal.NotifyContext) and shuts down gracefully.
// It returns nil after a graceful shutdown, or the error of listening, loading or shutting
// down.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Model == "" {
		return fmt.Errorf("server: no model: Config.Model names none (a checkpoint folder or random:PRESET; presets: %s)", strings.Join(vision.PresetNames(), ", "))
	}
	s, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.log.Info("listening", "addr", ln.Addr().String())
	return s.run(ctx, ln)
}

// run loads the model and serves on ln. A model that does not load stops the server at once
// (no drain: nothing was served) and is the error returned.
func (s *Server) run(ctx context.Context, ln net.Listener) error {
	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.Serve(serveCtx, ln) }()
	loadErr := make(chan error, 1)
	go func() { loadErr <- s.Load(serveCtx) }()
	select {
	case err := <-loadErr:
		if err != nil && ctx.Err() == nil {
			s.noDrainDelay.Store(true)
			stopServe()
			<-serveErr
			return err
		}
		return <-serveErr
	case err := <-serveErr:
		stopServe()
		<-loadErr
		return err
	}
}

// routes are the route labels of the metrics; any other path is counted as "other".
var routes = map[string]string{
	"/v1/encode":       http.MethodPost,
	explainRoute.path:  http.MethodPost,
	featuresRoute.path: http.MethodPost,
	chatRoute:          http.MethodPost,
	"/v1/models":       http.MethodGet,
	"/healthz":         http.MethodGet,
	"/readyz":          http.MethodGet,
	"/metrics":         http.MethodGet,
	"/":                http.MethodGet, // the page's files, with Config.Page
	"/page.css":        http.MethodGet,
	"/page.js":         http.MethodGet,
	"/favicon.svg":     http.MethodGet,
}

// encodePath reports whether route is on the encode path (its log line has the images,
// patches and tokens).
func encodePath(route string) bool {
	return route == "/v1/encode" || route == explainRoute.path || route == featuresRoute.path
}

// route is the route of a request path: its metrics label and its method, or ok false for a
// path that is not served (the page's files without Config.Page).
func (s *Server) route(p string) (method string, ok bool) {
	method, ok = routes[p]
	if _, page := pageRoutes[p]; page && !s.cfg.Page {
		return "", false
	}
	return method, ok
}

// reqInfo collects what the request log line and metrics report.
type reqInfo struct {
	images, patches, tokens, batch int
	code                           string // error code, if any
	clientGone                     bool
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	info := &reqInfo{}
	route := "other"
	if _, ok := s.route(r.URL.Path); ok {
		route = r.URL.Path
	}
	defer func() {
		p := recover()
		// A handler that cannot answer (the client has gone, or left a response half-way)
		// panics with http.ErrAbortHandler: it is logged here, and re-raised so that net/http
		// closes the connection instead of completing a response.
		abort := p == http.ErrAbortHandler
		if p != nil && !abort {
			buf := make([]byte, 8<<10)
			buf = buf[:runtime.Stack(buf, false)]
			s.log.Error("panic in handler", "panic", fmt.Sprint(p), "stack", string(buf))
			if sw.status == 0 {
				s.fail(sw, info, errorf(http.StatusInternalServerError, CodeInternal, "internal error"))
			}
		}
		status := sw.status
		if info.clientGone {
			status = StatusClientClosedRequest
		}
		if status == 0 {
			status = http.StatusOK
		}
		s.m.countRequest(route, status)
		if route == "/metrics" || route == "/healthz" || route == "/readyz" {
			if status < 400 {
				return // probes and scrapes: not logged unless they fail
			}
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Float64("duration_ms", math.Round(float64(time.Since(start).Microseconds()))/1000),
			slog.String("remote", r.RemoteAddr),
		}
		if encodePath(route) {
			attrs = append(attrs, slog.Int("images", info.images), slog.Int("patches", info.patches), slog.Int("tokens", info.tokens), slog.Int("batch", info.batch), slog.Int64("bytes", sw.bytes))
		}
		if route == chatRoute {
			attrs = append(attrs, slog.Int("images", info.images), slog.Int("completion_tokens", info.tokens), slog.Int64("bytes", sw.bytes))
		}
		if info.code != "" {
			attrs = append(attrs, slog.String("error", info.code))
		}
		level := slog.LevelInfo
		if status >= 500 && status != StatusClientClosedRequest {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(context.WithoutCancel(r.Context()), level, "request", attrs...)
		if abort {
			panic(p)
		}
	}()

	want, ok := s.route(r.URL.Path)
	if !ok {
		page := ""
		if s.cfg.Page {
			page = ", GET / (the page)"
		}
		s.fail(sw, info, errorf(http.StatusNotFound, CodeNotFound, "no route %s; the routes are POST /v1/encode, POST /v1/explain.png, POST /v1/features.png, POST /v1/chat/completions (with a whole model), GET /v1/models, /healthz, /readyz, /metrics%s", r.URL.Path, page))
		return
	}
	if r.Method != want && !(want == http.MethodGet && r.Method == http.MethodHead) {
		allow := want
		if want == http.MethodGet {
			allow = "GET, HEAD"
		}
		sw.Header().Set("Allow", allow)
		e := errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s %s: use %s", r.Method, r.URL.Path, allow)
		if r.URL.Path == chatRoute {
			s.failChat(sw, info, e)
		} else {
			s.fail(sw, info, e)
		}
		return
	}
	switch r.URL.Path {
	case "/healthz":
		writeJSON(sw, http.StatusOK, map[string]string{"status": "ok"})
	case "/readyz":
		if e := s.notReady(); e != nil {
			s.fail(sw, info, e)
			return
		}
		writeJSON(sw, http.StatusOK, map[string]string{"status": "ready", "model": s.modelID()})
	case "/metrics":
		sw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		sw.WriteHeader(http.StatusOK)
		lm := s.model.Load()
		s.m.write(sw, lm != nil, s.draining.Load(), s.cfg.Queue, s.speed.gflops(), s.modelID(), s.started)
	case "/v1/models":
		s.handleModels(sw, info)
	case "/v1/encode":
		s.handleEncode(sw, r, info)
	case explainRoute.path:
		s.serveEncode(sw, r, info, explainRoute)
	case featuresRoute.path:
		s.serveEncode(sw, r, info, featuresRoute)
	case "/", "/page.css", "/page.js", "/favicon.svg":
		s.servePage(sw, r, pageRoutes[r.URL.Path])
	case chatRoute:
		if s.up != nil {
			s.handleProxy(sw, r, info)
			return
		}
		s.handleChat(sw, r, info)
	}
}

// fail answers with e and records its code.
func (s *Server) fail(w http.ResponseWriter, info *reqInfo, e *apiError) {
	info.code = e.code
	writeError(w, e)
}

// notReady returns the 503 of a server without a model or draining, or nil.
func (s *Server) notReady() *apiError {
	if s.draining.Load() {
		e := errorf(http.StatusServiceUnavailable, CodeDraining, "the server is shutting down")
		e.retryAfter = 1
		return e
	}
	if s.model.Load() == nil {
		e := errorf(http.StatusServiceUnavailable, CodeNotReady, "the model is still loading")
		e.retryAfter = 1
		return e
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, CodeInternal, "encoding the response: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// ModelInfo is one entry of GET /v1/models.
type ModelInfo struct {
	ID           string        `json:"id"`
	Object       string        `json:"object"` // "model"
	OwnedBy      string        `json:"owned_by"`
	Config       vision.Config `json:"config"`
	Preprocessor Preprocessor  `json:"preprocessor"`
	Limits       Limits        `json:"limits"`
	// Chat is present when the server answers POST /v1/chat/completions.
	Chat *ChatInfo `json:"chat,omitempty"`
}

// ChatInfo describes the chat endpoint of a whole model.
type ChatInfo struct {
	ContextLength int `json:"context_length"` // the decoder's positions (prompt + answer)
	MaxTokens     int `json:"max_tokens"`     // the default and largest max_tokens
	Queue         int `json:"queue"`          // chat requests admitted at once
}

// Preprocessor describes the image preprocessing of a served model.
type Preprocessor struct {
	MinPixels         int        `json:"min_pixels"` // the default budget
	MaxPixels         int        `json:"max_pixels"`
	PatchSize         int        `json:"patch_size"`
	MergeSize         int        `json:"merge_size"`
	TemporalPatchSize int        `json:"temporal_patch_size"`
	ImageMean         [3]float32 `json:"image_mean"`
	ImageStd          [3]float32 `json:"image_std"`
	RescaleFactor     float64    `json:"rescale_factor"`
	Resampler         string     `json:"resampler"`
}

// Limits are the server's request limits.
type Limits struct {
	MaxBodyBytes    int64   `json:"max_body_bytes"`
	MaxImages       int     `json:"max_images"`
	MaxPixels       int     `json:"max_pixels"` // the largest max_pixels a request may ask for
	MaxDecodePixels int64   `json:"max_decode_pixels"`
	Queue           int     `json:"queue"`
	BatchPatches    int     `json:"batch_patches"`
	BatchWaitMS     float64 `json:"batch_wait_ms"`
	TimeoutSeconds  float64 `json:"timeout_seconds"`
	// MinUploadRate is the slowest accepted upload in bytes/s, once UploadGraceSeconds have
	// passed (0: no minimum).
	MinUploadRate      int64   `json:"min_upload_rate"`
	UploadGraceSeconds float64 `json:"upload_grace_seconds"`
	// MeasuredGFLOPS is this instance's encode speed: a request estimated to need more than
	// TimeoutSeconds at it is refused (413 too_much_work).
	MeasuredGFLOPS float64 `json:"measured_gflops"`
}

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string      `json:"object"` // "list"
	Data   []ModelInfo `json:"data"`
}

func (s *Server) handleModels(w http.ResponseWriter, info *reqInfo) {
	lm := s.model.Load()
	if lm == nil {
		s.fail(w, info, s.notReady())
		return
	}
	resampler := "torchvision"
	if lm.pre.Resampler == imageproc.ResamplePillow {
		resampler = "pillow"
	}
	var ci *ChatInfo
	if lm.assistant != nil {
		ci = &ChatInfo{ContextLength: lm.assistant.Decoder.Config().MaxPositionEmbeddings, MaxTokens: s.cfg.ChatMaxTokens, Queue: s.cfg.ChatQueue}
	}
	writeJSON(w, http.StatusOK, ModelList{Object: "list", Data: []ModelInfo{{
		Chat: ci,
		ID:   lm.id, Object: "model", OwnedBy: "qwen3vl",
		Config: lm.vcfg,
		Preprocessor: Preprocessor{
			MinPixels: lm.pre.MinPixels, MaxPixels: lm.pre.MaxPixels,
			PatchSize: lm.pre.PatchSize, MergeSize: lm.pre.MergeSize, TemporalPatchSize: lm.pre.TemporalPatchSize,
			ImageMean: lm.pre.Mean, ImageStd: lm.pre.Std, RescaleFactor: lm.pre.RescaleFactor, Resampler: resampler,
		},
		Limits: Limits{
			MaxBodyBytes: s.cfg.MaxBody, MaxImages: s.cfg.MaxImages, MaxPixels: lm.ceiling,
			MaxDecodePixels: s.cfg.MaxDecodePixels, Queue: s.cfg.Queue, BatchPatches: s.cfg.BatchPatches,
			BatchWaitMS:    float64(s.cfg.BatchWait) / float64(time.Millisecond),
			TimeoutSeconds: s.cfg.Timeout.Seconds(),
			MinUploadRate:  s.cfg.MinUploadRate, UploadGraceSeconds: s.cfg.UploadGrace.Seconds(),
			MeasuredGFLOPS: math.Round(s.speed.gflops()*10) / 10,
		},
	}}})
}
