package jpeg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzDecode checks that arbitrary input never panics and that a successful
// decode agrees with DecodeConfig. Inputs whose header declares more than
// 4M pixels are only run through DecodeConfig, keeping memory and time per
// input bounded. The corpus is seeded with every fixture, Huffman- and
// arithmetic-coded (SOF9, SOF10, DAC, restart intervals).
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.jpg"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return
		}
		if cfg.Width*cfg.Height > 4<<20 {
			return
		}
		// Bounded time: a hang crashes the worker, so the fuzzer keeps the
		// input.
		timer := time.AfterFunc(20*time.Second, func() { panic("Decode did not finish in 20s") })
		defer timer.Stop()
		img, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
			t.Fatalf("Decode size %v, DecodeConfig %dx%d", b, cfg.Width, cfg.Height)
		}
	})
}
