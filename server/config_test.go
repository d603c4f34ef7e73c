package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/vision"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*Config)
		want   string
	}{
		{"Queue", func(c *Config) { c.Queue = 0 }, "Queue 0 must be positive"},
		{"MaxImages", func(c *Config) { c.MaxImages = 0 }, "MaxImages 0 must be positive"},
		{"MaxBody", func(c *Config) { c.MaxBody = 0 }, "MaxBody 0 must be positive"},
		{"MinPixels", func(c *Config) { c.MinPixels, c.MaxPixels = 5000, 4000 }, "MinPixels 5000 is above MaxPixels 4000"},
		{"BatchPatches", func(c *Config) { c.BatchPatches = -1 }, "BatchPatches -1 must be positive"},
		{"BatchWait", func(c *Config) { c.BatchWait = -time.Second }, "BatchWait -1s must be ≥ 0"},
		{"Timeout", func(c *Config) { c.Timeout = 0 }, "Timeout 0s must be positive"},
		{"LogFormat", func(c *Config) { c.LogFormat = "xml" }, `LogFormat "xml" is not text or json`},
		{"LogLevel", func(c *Config) { c.LogLevel = "loud" }, `LogLevel "loud" is not debug, info, warn or error`},
		{"MaxDecodePixels", func(c *Config) { c.MaxDecodePixels = 0 }, "MaxDecodePixels 0 must be positive"},
		{"Threads", func(c *Config) { c.Threads = -2 }, "Threads -2 must be ≥ 0"},
		{"MinUploadRate", func(c *Config) { c.MinUploadRate = -1 }, "MinUploadRate -1 must be ≥ 0"},
		{"DrainDelay", func(c *Config) { c.DrainDelay = -1 }, "DrainDelay -1ns must be ≥ 0"},
		{"Addr", func(c *Config) { c.Addr = "" }, "Addr is empty"},
	} {
		cfg := DefaultConfig()
		tc.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.field, err, tc.want)
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: not a FieldError of %s: %#v", tc.field, tc.field, err)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", tc.field)
		} else if strings.Count(err.Error(), "server:") != 1 {
			t.Errorf("%s: New: %q", tc.field, err)
		}
	}
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if w := cfg.Weights; w != vision.WeightsAuto {
		t.Errorf("default weights %v, want auto", w)
	}
}

func TestSizeString(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 200 << 10: "200 KiB", 1000: "1000 bytes", 1 << 30: "1 GiB", 3<<20 + 1: "3.0 MiB"} {
		if got := sizeString(n); got != want {
			t.Errorf("sizeString(%d) = %q, want %q", n, got, want)
		}
	}
}
