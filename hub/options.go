package hub

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"
)

// DefaultEndpoint is the Hugging Face Hub, used when neither Options.Endpoint nor HF_ENDPOINT
// is set.
const DefaultEndpoint = "https://huggingface.co"

// Options configure Resolve. The zero value is usable: empty Endpoint, CacheDir and
// HFCacheDir take their defaults (DefaultEndpoint, DefaultCacheDir, DefaultHFCacheDir);
// everything else is off. OptionsFromEnv fills them from the environment.
type Options struct {
	// Endpoint is the hub's base URL, without a trailing slash (HF_ENDPOINT).
	Endpoint string
	// Token is sent as "Authorization: Bearer <Token>" to the hub (never to the CDN it
	// redirects to); empty means anonymous (HF_TOKEN).
	Token string
	// CacheDir is where downloaded checkpoints are kept: vision-only ones under
	// models/Org--Name/<commit>/, full ones (Text) under models/Org--Name/full/<commit>/
	// (QWEN3VL_CACHE).
	CacheDir string
	// Text asks for the whole model: the language model's tensors (text.IsTensor:
	// model.language_model.* and lm_head.weight) as well as the vision tower's. A download
	// then takes both, and a cached snapshot is used only if it holds both; a vision-only
	// download never satisfies it. False (the default) asks for the vision tower only, which
	// a full snapshot also satisfies.
	Text bool
	// HFCacheDir is a Hugging Face hub cache to reuse, read-only (HF_HUB_CACHE). A folder
	// that does not exist is simply not used.
	HFCacheDir string
	// Offline forbids any network access: only cached models resolve (HF_HUB_OFFLINE).
	Offline bool
	// Progress receives a progress bar (bytes, rate, ETA) while weights download, redrawn
	// in place with "\r"; nil disables it. Give it a terminal only.
	Progress io.Writer
	// HTTPClient makes the requests; nil means a client with sensible timeouts.
	// Resolve uses a copy whose redirect policy drops the Authorization header when a
	// redirect leaves the hub's host.
	HTTPClient *http.Client
	// Logf, if not nil, receives one-line notes: which cache was used, what is downloaded,
	// retries, fallbacks. Lines have no trailing newline.
	Logf func(format string, args ...any)

	// Tuning knobs for tests; zero means the default.
	retries      int           // attempts without progress before a range download fails (5)
	backoff      time.Duration // first wait between attempts, doubled each time (1s)
	stallTimeout time.Duration // a response body silent this long is dropped and retried (60s)
	lockPoll     time.Duration // how often a waiting process retries the download lock (500ms)
}

// OptionsFromEnv returns Options filled from the environment, with the names and defaults
// huggingface_hub uses:
//
//   - Endpoint: HF_ENDPOINT, else DefaultEndpoint.
//   - Token: HF_TOKEN, else HUGGING_FACE_HUB_TOKEN.
//   - CacheDir: DefaultCacheDir (QWEN3VL_CACHE, else the user cache folder + "/qwen3vl").
//   - HFCacheDir: DefaultHFCacheDir.
//   - Offline: HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is 1, ON, YES or TRUE.
//   - Progress: os.Stderr if it is a terminal, else nil.
//
// HTTPClient and Logf are left nil: set Logf to show what Resolve does (which cache it
// used, what it downloads), which matters most when there is no progress bar.
func OptionsFromEnv() Options {
	o := Options{
		Endpoint:   strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"),
		Token:      strings.TrimSpace(firstEnv("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")),
		HFCacheDir: DefaultHFCacheDir(),
		Offline:    envTrue("HF_HUB_OFFLINE") || envTrue("TRANSFORMERS_OFFLINE"),
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	if dir, err := DefaultCacheDir(); err == nil {
		o.CacheDir = dir
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		o.Progress = os.Stderr
	}
	return o
}

// DefaultCacheDir returns QWEN3VL_CACHE if set, else os.UserCacheDir()/qwen3vl.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("QWEN3VL_CACHE"); d != "" {
		return expandHome(d), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", errors.New("hub: no cache folder: set QWEN3VL_CACHE to a folder for downloaded models (" + err.Error() + ")")
	}
	return filepath.Join(d, "qwen3vl"), nil
}

// DefaultHFCacheDir returns the Hugging Face hub cache folder as huggingface_hub computes
// it: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. It returns "" if no home
// folder is known.
func DefaultHFCacheDir() string {
	if d := firstEnv("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"); d != "" {
		return expandHome(d)
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(expandHome(d), "hub")
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(expandHome(d), "huggingface", "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

// firstEnv returns the first non-empty value among the named environment variables.
func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// envTrue reports whether the variable holds one of huggingface_hub's true values.
func envTrue(name string) bool {
	switch strings.ToUpper(strings.TrimSpace(os.Getenv(name))) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// expandHome replaces a leading "~" or "~/" with the user's home folder.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~\`) {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}

// withDefaults returns o with empty fields defaulted.
func (o Options) withDefaults() (Options, error) {
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	if o.CacheDir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return o, err
		}
		o.CacheDir = d
	}
	if o.HFCacheDir == "" {
		o.HFCacheDir = DefaultHFCacheDir()
	}
	if o.retries <= 0 {
		o.retries = 5
	}
	if o.backoff <= 0 {
		o.backoff = time.Second
	}
	if o.stallTimeout <= 0 {
		o.stallTimeout = 60 * time.Second
	}
	if o.lockPoll <= 0 {
		o.lockPoll = 500 * time.Millisecond
	}
	return o, nil
}

// wants reports whether the requested tensor set holds the named tensor: the vision tower's,
// and with Text the language model's too.
func (o *Options) wants(name string) bool {
	return isVisionTensor(name) || (o.Text && isTextTensor(name))
}

// logf calls o.Logf if set.
func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}
