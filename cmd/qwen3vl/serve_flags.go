package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/server"
	"github.com/qwen3vl/qwen3vl/vision"
)

// serveEnvPrefix starts the name of every environment variable `serve` reads.
const serveEnvPrefix = "QWEN3VL_"

// serveSetting is one server.Config field bound to a flag and an environment variable.
type serveSetting struct {
	field, flag, env, usage string
	value                   flag.Value
}

// serveSettings binds the fields of c: the flag is the field's name in kebab case, the
// variable QWEN3VL_ and the flag in upper snake case.
func serveSettings(c *server.Config) []serveSetting {
	s := func(field, name, usage string, v flag.Value) serveSetting {
		return serveSetting{field: field, flag: name, env: serveEnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_")), usage: usage, value: v}
	}
	return []serveSetting{
		s("Addr", "addr", "address to listen on, `host:port` (use :8080 to listen on every interface)", (*stringValue)(&c.Addr)),
		s("Model", "model", "checkpoint folder, hub id, llama.cpp mmproj FILE.gguf (or a folder holding one), ollama:NAME[:TAG] (not with -chat), or random:PRESET[@SEED] for synthetic weights (`model`)", (*stringValue)(&c.Model)),
		s("ModelID", "model-id", "model `id` reported by /v1/models and responses (default: the -model value)", (*stringValue)(&c.ModelID)),
		s("Threads", "threads", "`goroutines` for the kernels (0: all CPUs)", (*intValue)(&c.Threads)),
		s("Weights", "weights", "weights in `memory`: auto (bf16 for a checkpoint stored in bf16, else f32), f32 or bf16", (*weightsValue)(&c.Weights)),
		s("Compute", "compute", "`arithmetic` of the vision tower and the text decoder's Linears: f32 (default), bf16 (bfloat16 products, float32 sums; needs AVX512_BF16) or auto (bf16 where the CPU has it)", (*computeValue)(&c.Compute)),
		s("Chat", "chat", "load the whole model (vision tower, text decoder, tokenizer, chat template) and serve POST /v1/chat/completions (OpenAI-compatible) beside /v1/encode", (*boolValue)(&c.Chat)),
		s("Tokenizer", "tokenizer", "with -chat: folder with tokenizer.json, tokenizer_config.json and a chat template, instead of the checkpoint's (a random: model needs one, e.g. testdata/tokenizer/qwen3vl) (`dir`)", (*stringValue)(&c.Tokenizer)),
		s("ChatQueue", "chat-queue", "most chat `requests` admitted at once (one generates, the others wait); more get 429", (*intValue)(&c.ChatQueue)),
		s("ChatMaxTokens", "chat-max-tokens", "default and largest max_tokens of a chat request (`tokens`)", (*intValue)(&c.ChatMaxTokens)),
		s("Upstream", "upstream", "forward POST /v1/chat/completions to this OpenAI-compatible `URL` (vLLM with --enable-mm-embeds) + /v1/chat/completions, each image_url part encoded here and replaced with its image_embeds part; not with -chat", (*stringValue)(&c.Upstream)),
		s("UpstreamTimeout", "upstream-timeout", "time limit of one forwarded chat completion, from sending it to the end of the answer (a `duration`; 504 if no answer has begun)", (*durationValue)(&c.UpstreamTimeout)),
		s("VLLMECDir", "vllm-ec-dir", "also write every encoded image to vLLM's encoder cache in this `folder` (the shared_storage_path of an ECExampleConnector consumer): FOLDER/{mm_hash}/encoder_cache.safetensors, hashed as vLLM hashes the image", (*stringValue)(&c.VLLMECDir)),
		s("VLLMModel", "vllm-model", "with -vllm-ec-dir: the --model the vLLM consumer is started with (vLLM hashes it with every image) (`model`)", (*stringValue)(&c.VLLMModel)),
		s("VLLMHash", "vllm-hash", "with -vllm-ec-dir: the consumer's --mm-hasher-algorithm, blake3, sha256 or sha512 (`algorithm`)", (*stringValue)(&c.VLLMHash)),
		s("UpstreamEC", "upstream-ec", "with -upstream and -vllm-ec-dir: forward each image as an image_embeds part naming its encoder-cache entry (image_grid_thw and a uuid) instead of the embeddings, for a vLLM EC consumer reading -vllm-ec-dir", (*boolValue)(&c.UpstreamEC)),
		s("AllowURLs", "allow-url", "fetch images given by URL under this `prefix`, an absolute http(s) URL (repeat the flag or separate prefixes with commas; https://*.example.com/ allows subdomains); none by default", &listValue{p: &c.AllowURLs}),
		s("FetchTimeout", "fetch-timeout", "time limit of fetching one image by URL: connecting, the headers and the whole body (a `duration`)", (*durationValue)(&c.FetchTimeout)),
		s("FetchPrivate", "fetch-private", "let image fetches connect to loopback, private, link-local and other non-public addresses (refused by default, after the host name is resolved)", (*boolValue)(&c.FetchPrivate)),
		s("MaxBody", "max-body", "largest request body in `bytes`; suffixes K, M, G (KiB, MiB, GiB) allowed", (*bytesValue)(&c.MaxBody)),
		s("MaxImages", "max-images", "most `images` in one request", (*intValue)(&c.MaxImages)),
		s("MinPixels", "min-pixels", "default minimum resized image area in `pixels` (0: the checkpoint's preprocessor_config.json)", (*intValue)(&c.MinPixels)),
		s("MaxPixels", "max-pixels", "default and largest allowed maximum resized image area in `pixels` (0: the checkpoint's preprocessor_config.json, 16777216 for the released ones)", (*intValue)(&c.MaxPixels)),
		s("MaxDecodePixels", "max-decode-pixels", "largest image in `pixels` (width × height, as its header declares) that is decoded at all", (*int64Value)(&c.MaxDecodePixels)),
		s("Queue", "queue", "most encode `requests` admitted at once (reading, preprocessing, queued or encoding); more get 429", (*intValue)(&c.Queue)),
		s("BatchWait", "batch-wait", "how long a batch waits for more requests after its first (0: take only what is queued) (a `duration`)", (*durationValue)(&c.BatchWait)),
		s("BatchPatches", "batch-patches", "most `patches` (16×16 pixel blocks) in one batch; a larger request runs alone", (*intValue)(&c.BatchPatches)),
		s("Timeout", "timeout", "time limit of one encode request, from arrival to response (504 beyond it; a request estimated to need longer is refused with 413) (a `duration`)", (*durationValue)(&c.Timeout)),
		s("MinUploadRate", "min-upload-rate", "slowest accepted upload, in `bytes` per second averaged over the body once -upload-grace has passed (408 below it; 0: off); suffixes K, M, G allowed", (*bytesValue)(&c.MinUploadRate)),
		s("UploadGrace", "upload-grace", "how long a body may take before -min-upload-rate applies (a `duration`)", (*durationValue)(&c.UploadGrace)),
		s("ShutdownTimeout", "shutdown-timeout", "on SIGTERM/SIGINT, how long the whole shutdown may take: the drain delay, then in-flight requests finishing; what is left is answered 503 (a `duration`)", (*durationValue)(&c.ShutdownTimeout)),
		s("DrainDelay", "drain-delay", "on SIGTERM/SIGINT, how long the listener stays open answering /readyz and new encodes with 503, so a load balancer stops sending (part of -shutdown-timeout) (a `duration`)", (*durationValue)(&c.DrainDelay)),
		s("Page", "page", "serve the page at GET /: drop or paste an image, see its patch grid and feature map, download its features, ask about it with -chat (-page=false: off, 404)", (*boolValue)(&c.Page)),
		s("CacheBytes", "cache-bytes", "most `bytes` of encode results the feature cache keeps in memory (0: none); suffixes K, M, G allowed", (*bytesValue)(&c.CacheBytes)),
		s("CacheDir", "cache-dir", "folder the feature cache also keeps its entries in, which instances may share (written atomically, verified when read) (`dir`)", (*stringValue)(&c.CacheDir)),
		s("CacheDirBytes", "cache-dir-bytes", "most `bytes` of entries in -cache-dir, the least recently used removed past it (0: unbounded); suffixes K, M, G allowed", (*bytesValue)(&c.CacheDirBytes)),
		s("ReadHeaderTimeout", "read-header-timeout", "time limit for reading a request's headers (a `duration`)", (*durationValue)(&c.ReadHeaderTimeout)),
		s("IdleTimeout", "idle-timeout", "how long an idle keep-alive connection is kept open (a `duration`)", (*durationValue)(&c.IdleTimeout)),
		s("LogFormat", "log-format", "log `format` on stderr: text or json", (*stringValue)(&c.LogFormat)),
		s("LogLevel", "log-level", "log `level`: debug, info, warn or error", (*stringValue)(&c.LogLevel)),
	}
}

// serveFlags binds a server.Config to a flag set and to the environment.
type serveFlags struct {
	cfg      *server.Config
	fs       *flag.FlagSet
	settings []serveSetting
}

// bindServeFlags defines a flag on fs for every setting of cfg, with cfg's current values as
// defaults; fs.Parse then stores into cfg. Each flag's usage names its environment variable.
func bindServeFlags(fs *flag.FlagSet, cfg *server.Config) *serveFlags {
	f := &serveFlags{cfg: cfg, fs: fs, settings: serveSettings(cfg)}
	for _, s := range f.settings {
		fs.Var(s.value, s.flag, fmt.Sprintf("%s (env %s)", s.usage, s.env))
	}
	return f
}

// applyEnv sets every field whose environment variable is set and not empty, unless its flag
// was given on the command line (a flag wins, whether applyEnv runs before or after parsing).
// Errors name the variable.
func (f *serveFlags) applyEnv(lookup func(string) (string, bool)) error {
	set := map[string]bool{}
	if f.fs.Parsed() {
		f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	}
	var errs []error
	for _, s := range f.settings {
		v, ok := lookup(s.env)
		if !ok || v == "" || set[s.flag] {
			continue
		}
		set := s.value.Set
		if e, ok := s.value.(envSetter); ok {
			set = e.setEnv
		}
		if err := set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %v", s.env, v, err))
		}
	}
	return errors.Join(errs...)
}

// flagName maps a server.Config field to its flag ("MaxBody" → "-max-body").
func (f *serveFlags) flagName(field string) string {
	for _, s := range f.settings {
		if s.field == field {
			return "-" + s.flag
		}
	}
	return field
}

// describe rewrites the errors of server.Config.Validate with flag names.
func (f *serveFlags) describe(err error) string {
	var parts []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *server.FieldError
		if errors.As(e, &fe) {
			parts = append(parts, fe.Describe(f.flagName))
			return
		}
		parts = append(parts, e.Error())
	}
	walk(err)
	return strings.Join(parts, "; ")
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

type computeValue vision.Compute

func (v *computeValue) String() string { return vision.Compute(*v).String() }
func (v *computeValue) Set(s string) error {
	c, err := vision.ParseCompute(s)
	if err != nil {
		return errors.New("want f32, bf16 or auto")
	}
	*v = computeValue(c)
	return nil
}

// boolValue is a boolean flag: -chat alone means true; the variable takes 1, true, 0, false.
type boolValue bool

func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("not a boolean: %q (want true or false)", s)
	}
	*v = boolValue(b)
	return nil
}

// envSetter is a value that the environment sets differently from a flag (a list, which a
// flag given later replaces rather than extends).
type envSetter interface{ setEnv(string) error }

// listValue is a list of strings: each use of the flag adds its comma-separated items, the
// first use replacing the default (or what the environment set); the variable is one
// comma-separated list. Empty items are dropped.
type listValue struct {
	p       *[]string
	flagSet bool // set from the command line at least once
}

func (v *listValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v *listValue) Set(s string) error {
	if !v.flagSet {
		*v.p, v.flagSet = nil, true
	}
	*v.p = append(*v.p, splitList(s)...)
	return nil
}

func (v *listValue) setEnv(s string) error {
	*v.p = splitList(s)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
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
