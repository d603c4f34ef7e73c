package server

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/vision"
)

func TestConfigFlagsAndEnv(t *testing.T) {
	env := map[string]string{
		"QWEN3VL_ADDR":       "0.0.0.0:9000",
		"QWEN3VL_MAX_BODY":   "8M",
		"QWEN3VL_BATCH_WAIT": "7ms",
		"QWEN3VL_QUEUE":      "5",
		"QWEN3VL_MAX_IMAGES": "", // empty: ignored
		"QWEN3VL_WEIGHTS":    "bf16",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	// Flags win over the environment, whether ApplyEnv runs before or after Parse.
	for _, envFirst := range []bool{true, false} {
		cfg := DefaultConfig()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		if envFirst {
			if err := cfg.applyEnv(lookup); err != nil {
				t.Fatal(err)
			}
		}
		cfg.RegisterFlags(fs)
		if err := fs.Parse([]string{"-queue", "9", "-model", "random:tiny", "-timeout", "3s", "-max-pixels", "1048576"}); err != nil {
			t.Fatal(err)
		}
		if !envFirst {
			if err := cfg.applyEnv(lookup); err != nil {
				t.Fatal(err)
			}
		}
		if cfg.Addr != "0.0.0.0:9000" || cfg.MaxBody != 8<<20 || cfg.BatchWait != 7*time.Millisecond || cfg.Queue != 9 ||
			cfg.Model != "random:tiny" || cfg.Timeout != 3*time.Second || cfg.MaxPixels != 1048576 || cfg.MaxImages != DefaultMaxImages ||
			cfg.Weights != vision.WeightsBF16 {
			t.Errorf("envFirst=%v: %+v", envFirst, cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	}

	// Every flag names its variable in its usage.
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		want := "QWEN3VL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if !strings.Contains(f.Usage, "(env "+want+")") {
			t.Errorf("-%s usage %q does not name %s", f.Name, f.Usage, want)
		}
	})
	if n < 12 {
		t.Errorf("only %d flags", n)
	}

	// Bad values name the variable.
	cfg = DefaultConfig()
	err := cfg.applyEnv(func(k string) (string, bool) {
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

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"queue", func(c *Config) { c.Queue = 0 }},
		{"max-images", func(c *Config) { c.MaxImages = 0 }},
		{"max-body", func(c *Config) { c.MaxBody = 0 }},
		{"min-pixels", func(c *Config) { c.MinPixels, c.MaxPixels = 5000, 4000 }},
		{"batch-patches", func(c *Config) { c.BatchPatches = -1 }},
		{"batch-wait", func(c *Config) { c.BatchWait = -time.Second }},
		{"timeout", func(c *Config) { c.Timeout = 0 }},
		{"log-format", func(c *Config) { c.LogFormat = "xml" }},
		{"log-level", func(c *Config) { c.LogLevel = "loud" }},
		{"max-decode-pixels", func(c *Config) { c.MaxDecodePixels = 0 }},
		{"threads", func(c *Config) { c.Threads = -2 }},
	} {
		cfg := DefaultConfig()
		tc.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", tc.name)
		}
	}
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
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
	if w := DefaultConfig().Weights; w != vision.WeightsAuto {
		t.Errorf("default weights %v, want auto", w)
	}
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
