package server

import (
	"errors"
	"fmt"
	"github.com/qwen3vl/qwen3vl/hub"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/mmhash"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Config holds every setting of the service. Start from DefaultConfig and change fields; a
// command line binds its flags and environment variables to them (cmd/qwen3vl does).
type Config struct {
	// Addr is the TCP address Run listens on (host:port).
	Addr string
	// Model is the model to serve: "random:PRESET[@SEED]" (synthetic weights of a preset
	// shape), a checkpoint folder, a hub id Org/Name[@revision] (see Hub), or a llama.cpp
	// mmproj GGUF file or "ollama:NAME[:TAG]" (a vision tower only: not with Chat):
	// pipeline.ParseSpec's grammar.
	Model string
	// ModelID is the id /v1/models and the responses report; empty means Model.
	ModelID string
	// Threads is the number of goroutines the kernels split an encode over; 0 means GOMAXPROCS.
	Threads int
	// Weights is how the model holds its weights in memory (vision.Options.Weights); the zero
	// value, auto, keeps a bf16 checkpoint in bf16.
	Weights vision.Weights
	// Compute is the arithmetic of the vision tower and, with a full checkpoint, of the text
	// decoder's Linears (vision.Options.Compute, text.Options.Compute); the zero value is
	// vision.ComputeF32. vision.ComputeBF16 fails the load where the CPU lacks AVX512_BF16.
	Compute vision.Compute

	// MaxBody bounds a request body in bytes (413 beyond it).
	MaxBody int64
	// MaxImages bounds the images of one request (413 beyond it).
	MaxImages int
	// MinPixels and MaxPixels are the default resize budget of an image (its area after
	// resizing, in pixels); 0 takes the checkpoint's preprocessor_config.json (65536 and
	// 16777216 for the released models). MaxPixels is also the largest max_pixels a request
	// may ask for. DefaultConfig sets MaxPixels to DefaultMaxPixels, below the released
	// checkpoints' 16777216 (see DefaultMaxPixels).
	MinPixels, MaxPixels int
	// MaxDecodePixels refuses (422) an image whose header declares more pixels than this,
	// before its pixels are decoded.
	MaxDecodePixels int64

	// Queue bounds the encode requests admitted at once (reading, preprocessing, waiting for
	// a batch or being encoded); one more gets 429 with Retry-After, before its body is read.
	Queue int
	// BatchWait is how long the batcher waits for more requests after the first one of a
	// batch arrives; 0 takes only what is already queued.
	BatchWait time.Duration
	// BatchPatches bounds the patches (16×16 pixel rows) of one batch. A single request
	// larger than this runs in a batch of its own.
	BatchPatches int
	// Timeout bounds one encode request from its arrival to its response (504 beyond it). A
	// request whose estimated work cannot finish within it at this instance's measured speed
	// is refused at once (413 too_much_work).
	Timeout time.Duration
	// MinUploadRate is the slowest a request body may arrive, in bytes per second averaged
	// from the start of the body, once UploadGrace has passed; a slower upload is answered
	// 408 and gives its queue slot back. 0 turns the check off (the body then only has to
	// arrive within Timeout).
	MinUploadRate int64
	// UploadGrace is how long a body may take before MinUploadRate applies.
	UploadGrace time.Duration
	// ShutdownTimeout bounds the whole shutdown after the context of Run or Serve is
	// cancelled (or Close is called): the drain period, the requests in flight finishing,
	// and then the requests still running are answered 503 and the server stops, even if
	// an encode ignores its cancellation (it is left behind, and logged).
	ShutdownTimeout time.Duration
	// DrainDelay is the first part of the shutdown: the listener stays open, /readyz answers
	// 503 and new encode requests 503 draining, so that a load balancer stops sending before
	// the connections close. It is cut to ShutdownTimeout.
	DrainDelay time.Duration
	// Chat loads the whole model (pipeline.OpenAssistant: tower, text decoder, tokenizer and
	// chat template) instead of the vision tower alone, and serves POST /v1/chat/completions
	// beside /v1/encode.
	Chat bool
	// Tokenizer is a folder with tokenizer.json, tokenizer_config.json and a chat template
	// to use instead of the checkpoint's (a random spec has none); only with Chat.
	Tokenizer string
	// ChatQueue bounds the chat requests admitted at once (waiting or generating); one more
	// gets 429 with Retry-After. One generation runs at a time.
	ChatQueue int
	// ChatMaxTokens is the default and the largest max_tokens of a chat request.
	ChatMaxTokens int

	// Upstream is the base URL (http or https, without query or fragment) of an
	// OpenAI-compatible server that takes vLLM image_embeds parts (vLLM started with
	// --enable-mm-embeds): POST /v1/chat/completions then encodes the request's images here,
	// replaces each image_url part with its image_embeds part and forwards the request to
	// Upstream + "/v1/chat/completions", streaming the answer back (see the package
	// documentation). Not with Chat.
	Upstream string
	// UpstreamTimeout bounds one forwarded request, from sending it to the end of the
	// answer's body (504 if no answer has begun by then; the connection is closed if one
	// has).
	UpstreamTimeout time.Duration

	// VLLMECDir, when set, is the shared_storage_path of vLLM's example EC connector
	// (ECExampleConnector): every image encoded (POST /v1/encode, and the images of forwarded
	// chat completions) is also written there as VLLMECDir/{mm_hash}/encoder_cache.safetensors,
	// the hash computed as vLLM 0.34.0 computes it for the same bytes (pipeline.VLLMImageHash),
	// so that a vLLM consumer (ec_role "ec_consumer") reading that folder skips its encoder.
	// The folder must exist. An image vLLM would load otherwise (transparent pixels, 16-bit
	// gray) or a failed write is skipped and logged; the request is answered all the same.
	VLLMECDir string
	// VLLMModel is the --model the vLLM consumer is started with: vLLM hashes it with every
	// image. Required with VLLMECDir.
	VLLMModel string
	// VLLMHash is the consumer's --mm-hasher-algorithm: blake3 (vLLM's default), sha256 or
	// sha512.
	VLLMHash string
	// UpstreamEC (with Upstream and VLLMECDir) forwards each image as an image_embeds part that
	// names its encoder-cache entry, {"image_embeds": {"image_grid_thw": [t, h, w]}, "uuid":
	// HASH}, instead of carrying the embeddings: the upstream, a vLLM EC consumer reading
	// VLLMECDir, loads them from there. An image without an entry (one vLLM would load
	// otherwise, a failed write) is sent with its embeddings.
	UpstreamEC bool

	// AllowURLs lists the URL prefixes whose images requests may give by URL (the url and
	// image_url fields of /v1/encode, remote image_url parts of a chat request); empty, the
	// default, fetches nothing. An entry is an absolute http or https URL without user info,
	// query or fragment: "https://cdn.example.com/images/". A URL is allowed when its scheme,
	// host and port are the entry's (scheme and host compared in lower case, a missing port
	// taken as the scheme's default, a trailing dot of the host dropped) and its path, percent-
	// decoded with its dot segments resolved, is the entry's path or below it on a segment
	// boundary ("/img" allows "/img" and "/img/a.png", not "/img-private"). A host allows that
	// host only; "https://*.example.com/" allows its subdomains at any depth, not example.com
	// itself. Every redirect target must be allowed too.
	AllowURLs []string
	// FetchTimeout bounds the fetch of one image by URL: connecting, the answer's headers and
	// its whole body.
	FetchTimeout time.Duration
	// FetchPrivate lets fetches connect to addresses that are not public (loopback, private,
	// link-local such as the cloud metadata address 169.254.169.254, carrier-grade NAT,
	// reserved): without it such a connection is refused after the host name is resolved,
	// whatever name was allowed.
	FetchPrivate bool

	// Page serves the page at GET / (with /page.css, /page.js, /favicon.svg): drop, paste or
	// choose an image, see its explain picture and feature map, download its features and,
	// with Chat, ask about it. Off, those paths are 404; the API's routes are the same.
	Page bool
	// CacheBytes bounds the feature cache in memory: encode results by the bytes of their
	// image, the preprocessing options and the model's weights digest, least recently used
	// evicted first (0: nothing kept in memory). See the package documentation's Feature cache.
	CacheBytes int64
	// CacheDir is a folder the feature cache also keeps its entries in, which several
	// instances may share (empty: none). Entries are written atomically and verified when
	// read.
	CacheDir string
	// CacheDirBytes bounds CacheDir: past it, the entries used least recently are removed
	// (each instance counts its own writes and rescans the folder at least once a minute, so
	// with several instances the folder may pass the bound by what the others wrote since);
	// 0 leaves the folder unbounded.
	CacheDirBytes int64
	// ModelDigest identifies the model's weights in the cache's keys; empty, Load computes it
	// (pipeline.Pipeline.Digest). A model installed by SetModel or SetAssistant without one is
	// not cached (identical images in flight are still encoded once).
	ModelDigest string

	// ReadHeaderTimeout and IdleTimeout are passed to the http.Server of Run.
	ReadHeaderTimeout, IdleTimeout time.Duration

	// LogFormat is "text" or "json" (the log/slog handler Run writes to stderr with).
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string

	// Logger receives the request and lifecycle logs; nil builds one from LogFormat and
	// LogLevel writing to os.Stderr.
	Logger *slog.Logger
	// Hub resolves a Model that is a hub id (the caches, endpoint and token: the command fills it
	// from the environment with hub.OptionsFromEnv); the zero value uses hub's defaults.
	Hub hub.Options
}

// Defaults of Config.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultMaxBody   = 64 << 20
	DefaultMaxImages = 16
	// DefaultMaxPixels is the default largest resized image: 1003520 pixels (1280 tokens of
	// 28×28, Qwen2-VL's classic max_pixels), at most 3,920 patches. The released checkpoints
	// allow 16777216 (65,536 patches: 465 TFLOP for the 2B/4B tower), which two cores need
	// about 55 minutes for (a 1365×2048 image, 11,008 patches and 19 TFLOP, takes 135 s
	// there, 142 GFLOP/s); an image at 1003520 is about 4 TFLOP, 28 s, so a request with one
	// finishes well within DefaultTimeout even behind a few others.
	DefaultMaxPixels       = 1003520
	DefaultMaxDecodePixels = 89478485 // Pillow's Image.MAX_IMAGE_PIXELS
	DefaultQueue           = 32
	DefaultBatchWait       = 5 * time.Millisecond
	DefaultBatchPatches    = 16384
	DefaultTimeout         = 120 * time.Second
	DefaultMinUploadRate   = 32 << 10 // 32 KiB/s
	DefaultUploadGrace     = 5 * time.Second
	DefaultShutdownTimeout = 60 * time.Second
	DefaultDrainDelay      = 5 * time.Second
	DefaultChatQueue       = 4
	DefaultChatMaxTokens   = 512
	DefaultFetchTimeout    = 10 * time.Second
	DefaultUpstreamTimeout = 10 * time.Minute
	// DefaultCacheBytes is the default bound of the feature cache in memory: 512 MiB, about
	// ten images at DefaultMaxPixels with the 2B tower (its 3,920 patches make 48 MB of
	// pooler, DeepStack and last hidden rows) or 170 images of 512×512.
	DefaultCacheBytes = 512 << 20
)

// DefaultConfig returns the defaults: listen on 127.0.0.1:8080, 64 MiB bodies, 16 images per
// request, the checkpoint's minimum pixel budget and at most DefaultMaxPixels per image,
// 89478485 decoded pixels per image, 32 admitted requests, 5 ms batch wait, 16384 patches per
// batch, 120 s per request, uploads of at least 32 KiB/s after 5 s, 60 s to shut down of
// which the first 5 s keep the listener open, no image fetched by URL (10 s per fetch once
// AllowURLs allows some, non-public addresses refused), no upstream (10 minutes per forwarded
// request once Upstream is set), the page served at GET /, a feature cache of 512 MiB in memory
// and no cache folder.
func DefaultConfig() Config {
	return Config{
		Addr:              DefaultAddr,
		MaxBody:           DefaultMaxBody,
		MaxImages:         DefaultMaxImages,
		MaxPixels:         DefaultMaxPixels,
		MaxDecodePixels:   DefaultMaxDecodePixels,
		Queue:             DefaultQueue,
		BatchWait:         DefaultBatchWait,
		BatchPatches:      DefaultBatchPatches,
		Timeout:           DefaultTimeout,
		MinUploadRate:     DefaultMinUploadRate,
		UploadGrace:       DefaultUploadGrace,
		ShutdownTimeout:   DefaultShutdownTimeout,
		DrainDelay:        DefaultDrainDelay,
		ChatQueue:         DefaultChatQueue,
		ChatMaxTokens:     DefaultChatMaxTokens,
		FetchTimeout:      DefaultFetchTimeout,
		UpstreamTimeout:   DefaultUpstreamTimeout,
		Page:              true,
		VLLMHash:          string(mmhash.Blake3),
		CacheBytes:        DefaultCacheBytes,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		LogFormat:         "text",
		LogLevel:          "info",
	}
}

// FieldError is one Config field out of range, as Validate reports it. Its message names
// fields by their Go names ("MaxBody 0 must be positive"); Describe names them otherwise (a
// command line by its flags).
type FieldError struct {
	Field   string // the Config field: "MaxBody"
	Value   any    // its value
	Problem string // "must be positive", "is above"
	// Other and OtherValue name the field the value is compared with, if any.
	Other      string
	OtherValue any
}

func (e *FieldError) Error() string { return e.Describe(func(f string) string { return f }) }

// Describe is the message with every field named by name(field).
func (e *FieldError) Describe(name func(field string) string) string {
	var b strings.Builder
	b.WriteString(name(e.Field))
	if e.Value != nil {
		fmt.Fprintf(&b, " %v", e.Value)
	}
	b.WriteString(" " + e.Problem)
	if e.Other != "" {
		fmt.Fprintf(&b, " %s %v", name(e.Other), e.OtherValue)
	}
	return b.String()
}

// Validate reports the fields out of range: each as a *FieldError, joined (errors.Join).
func (c *Config) Validate() error {
	var errs []error
	bad := func(field string, v any, problem string) {
		errs = append(errs, &FieldError{Field: field, Value: v, Problem: problem})
	}
	if c.Addr == "" {
		errs = append(errs, &FieldError{Field: "Addr", Problem: "is empty"})
	}
	if c.Threads < 0 {
		bad("Threads", c.Threads, "must be ≥ 0")
	}
	if c.MaxBody <= 0 {
		bad("MaxBody", c.MaxBody, "must be positive")
	}
	if c.MaxImages <= 0 {
		bad("MaxImages", c.MaxImages, "must be positive")
	}
	if c.MinPixels < 0 {
		bad("MinPixels", c.MinPixels, "must be ≥ 0")
	}
	if c.MaxPixels < 0 {
		bad("MaxPixels", c.MaxPixels, "must be ≥ 0")
	}
	if c.MinPixels > 0 && c.MaxPixels > 0 && c.MinPixels > c.MaxPixels {
		errs = append(errs, &FieldError{Field: "MinPixels", Value: c.MinPixels, Problem: "is above", Other: "MaxPixels", OtherValue: c.MaxPixels})
	}
	if c.MaxDecodePixels <= 0 {
		bad("MaxDecodePixels", c.MaxDecodePixels, "must be positive")
	}
	if c.Queue <= 0 {
		bad("Queue", c.Queue, "must be positive")
	}
	if c.BatchWait < 0 {
		bad("BatchWait", c.BatchWait, "must be ≥ 0")
	}
	if c.BatchPatches <= 0 {
		bad("BatchPatches", c.BatchPatches, "must be positive")
	}
	if c.Timeout <= 0 {
		bad("Timeout", c.Timeout, "must be positive")
	}
	if c.MinUploadRate < 0 {
		bad("MinUploadRate", c.MinUploadRate, "must be ≥ 0")
	}
	if c.UploadGrace < 0 {
		bad("UploadGrace", c.UploadGrace, "must be ≥ 0")
	}
	if c.ShutdownTimeout < 0 {
		bad("ShutdownTimeout", c.ShutdownTimeout, "must be ≥ 0")
	}
	if c.DrainDelay < 0 {
		bad("DrainDelay", c.DrainDelay, "must be ≥ 0")
	}
	if c.ChatQueue <= 0 {
		bad("ChatQueue", c.ChatQueue, "must be positive")
	}
	if c.ChatMaxTokens <= 0 {
		bad("ChatMaxTokens", c.ChatMaxTokens, "must be positive")
	}
	if c.Tokenizer != "" && !c.Chat {
		errs = append(errs, &FieldError{Field: "Tokenizer", Value: c.Tokenizer, Problem: "needs", Other: "Chat", OtherValue: true})
	}
	if c.Upstream != "" {
		if err := checkUpstream(c.Upstream); err != nil {
			errs = append(errs, &FieldError{Field: "Upstream", Value: fmt.Sprintf("%q", c.Upstream), Problem: err.Error()})
		}
		if c.Chat {
			errs = append(errs, &FieldError{Field: "Upstream", Value: c.Upstream, Problem: "cannot be used with", Other: "Chat", OtherValue: true})
		}
	}
	if c.UpstreamTimeout <= 0 {
		bad("UpstreamTimeout", c.UpstreamTimeout, "must be positive")
	}
	if c.VLLMECDir != "" {
		if fi, err := os.Stat(c.VLLMECDir); err != nil || !fi.IsDir() {
			errs = append(errs, &FieldError{Field: "VLLMECDir", Value: fmt.Sprintf("%q", c.VLLMECDir), Problem: "must be an existing folder"})
		}
		if c.VLLMModel == "" {
			errs = append(errs, &FieldError{Field: "VLLMModel", Problem: "is required (the --model vLLM is started with: vLLM hashes it with every image) with", Other: "VLLMECDir", OtherValue: c.VLLMECDir})
		}
	}
	if c.UpstreamEC && c.Upstream == "" {
		errs = append(errs, &FieldError{Field: "UpstreamEC", Value: true, Problem: "needs", Other: "Upstream", OtherValue: "(the vLLM EC consumer's URL)"})
	}
	if c.UpstreamEC && c.VLLMECDir == "" {
		errs = append(errs, &FieldError{Field: "UpstreamEC", Value: true, Problem: "needs", Other: "VLLMECDir", OtherValue: "(the consumer's shared_storage_path)"})
	}
	if _, err := mmhash.Algorithm(c.VLLMHash).New(); err != nil {
		errs = append(errs, &FieldError{Field: "VLLMHash", Value: fmt.Sprintf("%q", c.VLLMHash), Problem: "must be blake3, sha256 or sha512"})
	}
	for _, u := range c.AllowURLs {
		if _, err := parsePrefix(u); err != nil {
			errs = append(errs, &FieldError{Field: "AllowURLs", Problem: err.Error()})
		}
	}
	if c.FetchTimeout <= 0 {
		bad("FetchTimeout", c.FetchTimeout, "must be positive")
	}
	if c.CacheBytes < 0 {
		bad("CacheBytes", c.CacheBytes, "must be ≥ 0")
	}
	if c.CacheDirBytes < 0 {
		bad("CacheDirBytes", c.CacheDirBytes, "must be ≥ 0")
	}
	if c.ReadHeaderTimeout < 0 {
		bad("ReadHeaderTimeout", c.ReadHeaderTimeout, "must be ≥ 0")
	}
	if c.IdleTimeout < 0 {
		bad("IdleTimeout", c.IdleTimeout, "must be ≥ 0")
	}
	if _, err := c.newLogger(io.Discard); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// newLogger builds the logger of LogFormat and LogLevel, or returns Logger when set.
func (c *Config) newLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "info", "":
		level = slog.LevelInfo
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, &FieldError{Field: "LogLevel", Value: fmt.Sprintf("%q", c.LogLevel), Problem: "is not debug, info, warn or error"}
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(c.LogFormat) {
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, &FieldError{Field: "LogFormat", Value: fmt.Sprintf("%q", c.LogFormat), Problem: "is not text or json"}
	}
	if c.Logger != nil {
		return c.Logger, nil
	}
	return slog.New(h), nil
}
