package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/server"
	"github.com/qwen3vl/qwen3vl/vision"
)

func TestServeFlagsAndEnv(t *testing.T) {
	env := map[string]string{
		"QWEN3VL_ADDR":            "0.0.0.0:9000",
		"QWEN3VL_MAX_BODY":        "8M",
		"QWEN3VL_BATCH_WAIT":      "7ms",
		"QWEN3VL_QUEUE":           "5",
		"QWEN3VL_MAX_IMAGES":      "", // empty: ignored
		"QWEN3VL_WEIGHTS":         "bf16",
		"QWEN3VL_MIN_UPLOAD_RATE": "1K",
		"QWEN3VL_CHAT":            "true",
		"QWEN3VL_CHAT_MAX_TOKENS": "77",
		"QWEN3VL_CACHE_BYTES":     "64M",
		"QWEN3VL_CACHE_DIR":       "/var/cache/features",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	// Flags win over the environment, whether the environment is read before or after Parse.
	for _, envFirst := range []bool{true, false} {
		cfg := server.DefaultConfig()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := bindServeFlags(fs, &cfg)
		if envFirst {
			if err := f.applyEnv(lookup); err != nil {
				t.Fatal(err)
			}
		}
		if err := fs.Parse([]string{"-queue", "9", "-model", "random:tiny", "-timeout", "3s", "-max-pixels", "1048576", "-drain-delay", "1s"}); err != nil {
			t.Fatal(err)
		}
		if !envFirst {
			if err := f.applyEnv(lookup); err != nil {
				t.Fatal(err)
			}
		}
		if cfg.Addr != "0.0.0.0:9000" || cfg.MaxBody != 8<<20 || cfg.BatchWait != 7*time.Millisecond || cfg.Queue != 9 ||
			cfg.Model != "random:tiny" || cfg.Timeout != 3*time.Second || cfg.MaxPixels != 1048576 || cfg.MaxImages != server.DefaultMaxImages ||
			cfg.Weights != vision.WeightsBF16 || cfg.MinUploadRate != 1024 || cfg.DrainDelay != time.Second ||
			!cfg.Chat || cfg.ChatMaxTokens != 77 || cfg.ChatQueue != server.DefaultChatQueue ||
			cfg.CacheBytes != 64<<20 || cfg.CacheDir != "/var/cache/features" {
			t.Errorf("envFirst=%v: %+v", envFirst, cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	}

	// Every flag names its variable in its usage, and every Config field that is a plain
	// value has a flag.
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := bindServeFlags(fs, &cfg)
	n := 0
	fs.VisitAll(func(fl *flag.Flag) {
		n++
		want := "QWEN3VL_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if !strings.Contains(fl.Usage, "(env "+want+")") {
			t.Errorf("-%s usage %q does not name %s", fl.Name, fl.Usage, want)
		}
	})
	if n != 40 {
		t.Errorf("%d flags, want 40", n)
	}

	// Validate's messages read with flag names.
	cfg.MinPixels, cfg.MaxPixels, cfg.Queue = 5000, 4000, 0
	if got, want := f.describe(cfg.Validate()), "-min-pixels 5000 is above -max-pixels 4000; -queue 0 must be positive"; got != want {
		t.Errorf("describe: %q, want %q", got, want)
	}

	// Bad values name the variable.
	cfg = server.DefaultConfig()
	f = bindServeFlags(flag.NewFlagSet("serve", flag.ContinueOnError), &cfg)
	err := f.applyEnv(func(k string) (string, bool) {
		switch k {
		case "QWEN3VL_QUEUE":
			return "many", true
		case "QWEN3VL_TIMEOUT":
			return "10", true
		}
		return "", false
	})
	if err == nil || !strings.Contains(err.Error(), "QWEN3VL_QUEUE") || !strings.Contains(err.Error(), "QWEN3VL_TIMEOUT") {
		t.Errorf("bad env: %v", err)
	}
}

// TestPageFlag: the page is on by default; -page=false and QWEN3VL_PAGE=false turn it off, and
// the flag wins over the variable.
func TestPageFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  string
		want bool
	}{
		{nil, "", true},
		{[]string{"-page=false"}, "", false},
		{nil, "false", false},
		{nil, "0", false},
		{[]string{"-page"}, "false", true},
		{[]string{"-page=false"}, "true", false},
	} {
		cfg := server.DefaultConfig()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := bindServeFlags(fs, &cfg)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if err := f.applyEnv(func(k string) (string, bool) { return c.env, k == "QWEN3VL_PAGE" }); err != nil {
			t.Fatal(err)
		}
		if cfg.Page != c.want {
			t.Errorf("%v with QWEN3VL_PAGE=%q: Page %v, want %v", c.args, c.env, cfg.Page, c.want)
		}
	}
}

// TestVLLMECFlags: -vllm-ec-dir, -vllm-model and -vllm-hash (and their variables) set the
// Config fields; the checks read with flag names.
func TestVLLMECFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := bindServeFlags(fs, &cfg)
	env := map[string]string{"QWEN3VL_VLLM_MODEL": "Qwen/Qwen3-VL-2B-Instruct", "QWEN3VL_VLLM_HASH": "sha256"}
	if err := f.applyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"-model", "random:tiny", "-vllm-ec-dir", dir}); err != nil {
		t.Fatal(err)
	}
	if cfg.VLLMECDir != dir || cfg.VLLMModel != "Qwen/Qwen3-VL-2B-Instruct" || cfg.VLLMHash != "sha256" {
		t.Fatalf("%q %q %q", cfg.VLLMECDir, cfg.VLLMModel, cfg.VLLMHash)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	cfg.VLLMModel, cfg.VLLMHash = "", "md5"
	got := f.describe(cfg.Validate())
	for _, want := range []string{"-vllm-model is required (the --model vLLM is started with: vLLM hashes it with every image) with -vllm-ec-dir " + dir, `-vllm-hash "md5" must be blake3, sha256 or sha512`} {
		if !strings.Contains(got, want) {
			t.Errorf("describe: %q, want %q", got, want)
		}
	}
}

// TestAllowURLFlag: -allow-url repeats and splits on commas; the variable is one list, which
// the flag replaces whether it is read before or after the command line.
func TestAllowURLFlag(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "QWEN3VL_ALLOW_URL" {
			return "https://env.example/a, https://env.example/b", true
		}
		return "", false
	}
	for _, c := range []struct {
		args     []string
		envFirst bool
		want     string
	}{
		{nil, false, "https://env.example/a|https://env.example/b"},
		{[]string{"-allow-url", "https://a.example/x,https://b.example/", "-allow-url", "http://127.0.0.1:9/"}, true, "https://a.example/x|https://b.example/|http://127.0.0.1:9/"},
		{[]string{"-allow-url", "https://a.example/x"}, false, "https://a.example/x"},
		{[]string{"-allow-url", "https://a.example/x", "-fetch-timeout", "3s", "-fetch-private"}, true, "https://a.example/x"},
	} {
		cfg := server.DefaultConfig()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := bindServeFlags(fs, &cfg)
		if c.envFirst {
			if err := f.applyEnv(env); err != nil {
				t.Fatal(err)
			}
		}
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if !c.envFirst {
			if err := f.applyEnv(env); err != nil {
				t.Fatal(err)
			}
		}
		if got := strings.Join(cfg.AllowURLs, "|"); got != c.want {
			t.Errorf("%q (env first %v): %s, want %s", c.args, c.envFirst, got, c.want)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%q: %v", c.args, err)
		}
		if len(c.args) > 2 && c.args[3] == "3s" && (cfg.FetchTimeout != 3*time.Second || !cfg.FetchPrivate) {
			t.Errorf("%q: fetch timeout %v, private %v", c.args, cfg.FetchTimeout, cfg.FetchPrivate)
		}
	}
	if d := server.DefaultConfig(); len(d.AllowURLs) != 0 || d.FetchTimeout != server.DefaultFetchTimeout || d.FetchPrivate {
		t.Errorf("defaults: %v %v %v", d.AllowURLs, d.FetchTimeout, d.FetchPrivate)
	}
	cfg := server.DefaultConfig()
	cfg.AllowURLs = []string{"ftp://a.example/"}
	f := bindServeFlags(flag.NewFlagSet("serve", flag.ContinueOnError), &cfg)
	if got, want := f.describe(cfg.Validate()), `-allow-url "ftp://a.example/" has scheme ftp: only http and https URLs are fetched`; got != want {
		t.Errorf("describe: %q, want %q", got, want)
	}
}

func TestBytesValue(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "512K": 512 << 10, "64M": 64 << 20, "64MiB": 64 << 20, "1g": 1 << 30, "2GB": 2 << 30} {
		var v bytesValue
		if err := v.Set(in); err != nil || int64(v) != want {
			t.Errorf("%s: %d, %v", in, v, err)
		}
	}
	for _, in := range []string{"", "x", "-1", "1T", "99999999999G"} {
		var v bytesValue
		if err := v.Set(in); err == nil {
			t.Errorf("%q accepted as %d", in, v)
		}
	}
}

func TestWeightsValue(t *testing.T) {
	var v weightsValue
	for _, s := range []string{"auto", "f32", "bf16"} {
		if err := v.Set(s); err != nil || v.String() != s {
			t.Errorf("Set(%q): %v, String() = %q", s, err, v.String())
		}
	}
	if err := v.Set("fp16"); err == nil {
		t.Error("Set(fp16): no error")
	}
}

// TestServeErrors runs the command with a bad configuration and a bad model: one message
// each, with flag names and no repeated prefixes.
func TestServeErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-model", "random:tiny", "-queue", "0", "-min-pixels", "5000", "-max-pixels", "4000"}, 2, "qwen3vl serve: -min-pixels 5000 is above -max-pixels 4000; -queue 0 must be positive\n"},
		{[]string{"-model", "random:nope", "-addr", "127.0.0.1:0", "-log-level", "error"}, 2, `qwen3vl serve: model random:nope: unknown preset "nope"`},
		{[]string{"-model", t.TempDir(), "-addr", "127.0.0.1:0", "-log-level", "error"}, 1, `qwen3vl serve: `},
		{[]string{"-addr", "127.0.0.1:0"}, 2, "qwen3vl serve: -model is required"},
		{[]string{"-model", "random:tiny@7", "-tokenizer", "x", "-chat-queue", "0"}, 2, "qwen3vl serve: -chat-queue 0 must be positive; -tokenizer x needs -chat true"},
		{[]string{"-model", "random:tiny@7", "-chat", "-upstream", "http://127.0.0.1:8000"}, 2, "qwen3vl serve: -upstream http://127.0.0.1:8000 cannot be used with -chat true\n"},
		{[]string{"-model", "random:tiny@7", "-upstream", "ftp://h/", "-upstream-timeout", "0s"}, 2, `qwen3vl serve: -upstream "ftp://h/" is not an http or https URL; -upstream-timeout 0s must be positive`},
		{[]string{"-model", "random:tiny@7", "-chat", "-addr", "127.0.0.1:0", "-log-level", "error"}, 1, "qwen3vl serve: model random:tiny@7 has synthetic weights and no tokenizer"},
	} {
		code, stderr := runCmd(t, append([]string{"serve"}, tc.args...)...)
		if code != tc.code || !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("serve %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		for _, stutter := range []string{"serve: serve:", "serve: server:", "server: server:", "pipeline:", "vision:", "hub:"} {
			if strings.Contains(stderr, stutter) {
				t.Errorf("serve %q: %q stutters", tc.args, stderr)
			}
		}
	}
}

// TestUpstreamEnv: QWEN3VL_UPSTREAM and QWEN3VL_UPSTREAM_TIMEOUT set Config.Upstream and
// Config.UpstreamTimeout.
func TestUpstreamEnv(t *testing.T) {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := bindServeFlags(fs, &cfg)
	env := map[string]string{"QWEN3VL_UPSTREAM": "http://gpu:8000", "QWEN3VL_UPSTREAM_TIMEOUT": "90s"}
	if err := f.applyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if cfg.Upstream != "http://gpu:8000" || cfg.UpstreamTimeout != 90*time.Second {
		t.Errorf("Upstream %q UpstreamTimeout %v", cfg.Upstream, cfg.UpstreamTimeout)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
}
