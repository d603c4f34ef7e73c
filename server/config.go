package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/vision"
)

// Config holds every setting of the service. Start from DefaultConfig; RegisterFlags and
// ApplyEnv fill it from a command line and the environment.
type Config struct {
	// Addr is the TCP address Run listens on (host:port).
	Addr string
	// Model is the model to serve: "random:PRESET[@SEED]" (synthetic weights of a preset
	// shape) or a checkpoint folder, or anything Resolve turns into one.
	Model string
	// ModelID is the id /v1/models and the responses report; empty means Model.
	ModelID string
	// Threads is the number of goroutines the kernels split an encode over; 0 means GOMAXPROCS.
	Threads int
	// Weights is how the model holds its weights in memory (vision.Options.Weights); the zero
	// value, auto, keeps a bf16 checkpoint in bf16.
	Weights vision.Weights

	// MaxBody bounds a request body in bytes (413 beyond it).
	MaxBody int64
	// MaxImages bounds the images of one request (413 beyond it).
	MaxImages int
	// MinPixels and MaxPixels are the default resize budget of an image (its area after
	// resizing, in pixels); 0 takes the checkpoint's preprocessor_config.json (65536 and
	// 16777216 for the released models). MaxPixels is also the largest max_pixels a request
	// may ask for.
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
	// Timeout bounds one encode request from its arrival to its response (504 beyond it).
	Timeout time.Duration
	// ShutdownTimeout bounds the graceful drain after the context of Run is cancelled; the
	// requests still running then are aborted.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout and IdleTimeout are passed to the http.Server of Run.
	ReadHeaderTimeout, IdleTimeout time.Duration

	// LogFormat is "text" or "json" (the log/slog handler Run writes to stderr with).
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string

	// Logger receives the request and lifecycle logs; nil builds one from LogFormat and
	// LogLevel writing to os.Stderr. Not set by flags.
	Logger *slog.Logger
	// Resolve maps a Model that is not "random:…" to a local checkpoint folder (for example a
	// Hugging Face Hub id resolved through a cache); nil uses Model as the folder. Not set by
	// flags.
	Resolve func(ctx context.Context, spec string) (dir string, err error)

	fs *flag.FlagSet // the flag set of RegisterFlags, so ApplyEnv does not override flags
}

// Defaults of Config.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultMaxBody         = 64 << 20
	DefaultMaxImages       = 16
	DefaultMaxDecodePixels = 89478485 // Pillow's Image.MAX_IMAGE_PIXELS
	DefaultQueue           = 32
	DefaultBatchWait       = 5 * time.Millisecond
	DefaultBatchPatches    = 16384
	DefaultTimeout         = 120 * time.Second
	DefaultShutdownTimeout = 60 * time.Second
)

// DefaultConfig returns the defaults: listen on 127.0.0.1:8080, 64 MiB bodies, 16 images per
// request, the checkpoint's pixel budget, 89478485 decoded pixels per image, 32 admitted
// requests, 5 ms batch wait, 16384 patches per batch, 120 s per request, 60 s to drain.
func DefaultConfig() Config {
	return Config{
		Addr:              DefaultAddr,
		MaxBody:           DefaultMaxBody,
		MaxImages:         DefaultMaxImages,
		MaxDecodePixels:   DefaultMaxDecodePixels,
		Queue:             DefaultQueue,
		BatchWait:         DefaultBatchWait,
		BatchPatches:      DefaultBatchPatches,
		Timeout:           DefaultTimeout,
		ShutdownTimeout:   DefaultShutdownTimeout,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		LogFormat:         "text",
		LogLevel:          "info",
	}
}

// setting is one configurable field: its flag, its environment variable and its usage.
type setting struct {
	flag, env, usage string
	value            flag.Value
}

// EnvPrefix starts the name of every environment variable the server reads.
const EnvPrefix = "QWEN3VL_"

func (c *Config) settings() []setting {
	s := func(name, usage string, v flag.Value) setting {
		return setting{flag: name, env: EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_")), usage: usage, value: v}
	}
	return []setting{
		s("addr", "address to listen on, `host:port` (use :8080 to listen on every interface)", (*stringValue)(&c.Addr)),
		s("model", "checkpoint folder, or random:PRESET[@SEED] for synthetic weights (`model`)", (*stringValue)(&c.Model)),
		s("model-id", "model `id` reported by /v1/models and responses (default: the -model value)", (*stringValue)(&c.ModelID)),
		s("threads", "`goroutines` for the kernels (0: all CPUs)", (*intValue)(&c.Threads)),
		s("weights", "weights in `memory`: auto (bf16 for a checkpoint stored in bf16, else f32), f32 or bf16", (*weightsValue)(&c.Weights)),
		s("max-body", "largest request body in `bytes`; suffixes K, M, G (KiB, MiB, GiB) allowed", (*bytesValue)(&c.MaxBody)),
		s("max-images", "most `images` in one request", (*intValue)(&c.MaxImages)),
		s("min-pixels", "default minimum resized image area in `pixels` (0: the checkpoint's preprocessor_config.json)", (*intValue)(&c.MinPixels)),
		s("max-pixels", "default and largest allowed maximum resized image area in `pixels` (0: the checkpoint's preprocessor_config.json)", (*intValue)(&c.MaxPixels)),
		s("max-decode-pixels", "largest image in `pixels` (width × height, as its header declares) that is decoded at all", (*int64Value)(&c.MaxDecodePixels)),
		s("queue", "most encode `requests` admitted at once (reading, preprocessing, queued or encoding); more get 429", (*intValue)(&c.Queue)),
		s("batch-wait", "how long a batch waits for more requests after its first (0: take only what is queued) (a `duration`)", (*durationValue)(&c.BatchWait)),
		s("batch-patches", "most `patches` (16×16 pixel blocks) in one batch; a larger request runs alone", (*intValue)(&c.BatchPatches)),
		s("timeout", "time limit of one encode request, from arrival to response (504 beyond it) (a `duration`)", (*durationValue)(&c.Timeout)),
		s("shutdown-timeout", "on SIGTERM/SIGINT, how long to let in-flight requests finish before aborting them (a `duration`)", (*durationValue)(&c.ShutdownTimeout)),
		s("read-header-timeout", "time limit for reading a request's headers (a `duration`)", (*durationValue)(&c.ReadHeaderTimeout)),
		s("idle-timeout", "how long an idle keep-alive connection is kept open (a `duration`)", (*durationValue)(&c.IdleTimeout)),
		s("log-format", "log `format` on stderr: text or json", (*stringValue)(&c.LogFormat)),
		s("log-level", "log `level`: debug, info, warn or error", (*stringValue)(&c.LogLevel)),
	}
}

// RegisterFlags defines a flag on fs for every setting, with the current values of c as
// defaults; fs.Parse then stores into c. Each flag's usage names its environment variable.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.fs = fs
	for _, s := range c.settings() {
		fs.Var(s.value, s.flag, fmt.Sprintf("%s (env %s)", s.usage, s.env))
	}
}

// ApplyEnv sets every field whose environment variable (QWEN3VL_ADDR, QWEN3VL_MAX_BODY, …: the
// flag name in upper case with "-" as "_", prefixed with QWEN3VL_) is set and not empty.
// A flag given explicitly on the flag set of RegisterFlags wins over its variable, whether
// ApplyEnv is called before or after parsing. Errors name the variable.
func (c *Config) ApplyEnv() error { return c.applyEnv(os.LookupEnv) }

func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	set := map[string]bool{}
	if c.fs != nil && c.fs.Parsed() {
		c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	}
	var errs []error
	for _, s := range c.settings() {
		v, ok := lookup(s.env)
		if !ok || v == "" || set[s.flag] {
			continue
		}
		if err := s.value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %v", s.env, v, err))
		}
	}
	return errors.Join(errs...)
}

// Validate reports settings out of range.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Addr == "" {
		bad("-addr is empty")
	}
	if c.Threads < 0 {
		bad("-threads %d must be ≥ 0", c.Threads)
	}
	if c.MaxBody <= 0 {
		bad("-max-body %d must be positive", c.MaxBody)
	}
	if c.MaxImages <= 0 {
		bad("-max-images %d must be positive", c.MaxImages)
	}
	if c.MinPixels < 0 || c.MaxPixels < 0 {
		bad("-min-pixels %d and -max-pixels %d must be ≥ 0", c.MinPixels, c.MaxPixels)
	}
	if c.MinPixels > 0 && c.MaxPixels > 0 && c.MinPixels > c.MaxPixels {
		bad("-min-pixels %d is above -max-pixels %d", c.MinPixels, c.MaxPixels)
	}
	if c.MaxDecodePixels <= 0 {
		bad("-max-decode-pixels %d must be positive", c.MaxDecodePixels)
	}
	if c.Queue <= 0 {
		bad("-queue %d must be positive", c.Queue)
	}
	if c.BatchWait < 0 {
		bad("-batch-wait %v must be ≥ 0", c.BatchWait)
	}
	if c.BatchPatches <= 0 {
		bad("-batch-patches %d must be positive", c.BatchPatches)
	}
	if c.Timeout <= 0 {
		bad("-timeout %v must be positive", c.Timeout)
	}
	if c.ShutdownTimeout < 0 {
		bad("-shutdown-timeout %v must be ≥ 0", c.ShutdownTimeout)
	}
	if c.ReadHeaderTimeout < 0 || c.IdleTimeout < 0 {
		bad("-read-header-timeout and -idle-timeout must be ≥ 0")
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
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(c.LogFormat) {
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("-log-format %q: want text or json", c.LogFormat)
	}
	if c.Logger != nil {
		return c.Logger, nil
	}
	return slog.New(h), nil
}

type weightsValue vision.Weights

func (v *weightsValue) String() string { return vision.Weights(*v).String() }
func (v *weightsValue) Set(s string) error {
	w, err := vision.ParseWeights(s)
	if err != nil {
		return errors.New("want auto, f32 or bf16")
	}
	*v = weightsValue(w)
	return nil
}

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 0, strconv.IntSize)
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	*v = intValue(n)
	return nil
}

type int64Value int64

func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	*v = int64Value(n)
	return nil
}

// bytesValue is a byte count: an integer with an optional K, M or G suffix (binary units,
// an optional trailing "i" and "B" accepted: 64M, 64MiB, 64MB all mean 64·2²⁰).
type bytesValue int64

func (v *bytesValue) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *bytesValue) Set(s string) error {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "B")
	t = strings.TrimSuffix(t, "I")
	shift := 0
	switch {
	case strings.HasSuffix(t, "K"):
		shift = 10
	case strings.HasSuffix(t, "M"):
		shift = 20
	case strings.HasSuffix(t, "G"):
		shift = 30
	}
	if shift > 0 {
		t = t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return fmt.Errorf("not a byte count: %q (want e.g. 1048576, 512K, 64M, 1G)", s)
	}
	*v = bytesValue(n << shift)
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("not a duration: %q (want e.g. 5ms, 30s, 2m)", s)
	}
	*v = durationValue(d)
	return nil
}
