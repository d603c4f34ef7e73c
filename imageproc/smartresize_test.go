package imageproc

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSmartResizeReference replays smart_resize of the pinned transformers
// on ~2000 (size, budget, factor) cases (tools/reference/preprocess_goldens.py).
func TestSmartResizeReference(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testdataDir, "smart_resize.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases [][7]int }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 1000 {
		t.Fatalf("only %d cases", len(f.Cases))
	}
	for _, c := range f.Cases {
		h, w, err := SmartResize(c[0], c[1], c[2], c[3], c[4])
		if c[5] < 0 {
			if !errors.Is(err, ErrAspectRatio) {
				t.Errorf("SmartResize%v: got %d, %d, %v; want an aspect-ratio error", c[:5], h, w, err)
			}
			continue
		}
		if err != nil || h != c[5] || w != c[6] {
			t.Errorf("SmartResize%v = %d, %d, %v; want %d, %d", c[:5], h, w, err, c[5], c[6])
		}
	}
}

func TestSmartResize(t *testing.T) {
	for _, c := range []struct {
		h, w, f, lo, hi int
		wantH, wantW    int
		wantErr         bool
	}{
		{300, 400, 32, 65536, 16777216, 288, 384, false}, // the seed: grid (1, 18, 24)
		{1, 1, 32, 65536, 16777216, 256, 256, false},     // tiny images grow to the minimum
		{2, 398, 32, 65536, 16777216, 32, 3616, false},   // aspect 199
		{1, 200, 32, 65536, 16777216, 32, 3648, false},   // aspect exactly 200 is accepted
		{1, 201, 32, 65536, 16777216, 0, 0, true},        // aspect 201
		{402, 2, 32, 65536, 16777216, 0, 0, true},
		{0, 10, 32, 65536, 16777216, 0, 0, true},
		{10, -1, 32, 65536, 16777216, 0, 0, true},
		{10, 10, 0, 65536, 16777216, 0, 0, true},
		{10, 10, 32, 0, 16777216, 0, 0, true},
		{10, 10, 32, 1, 0, 0, 0, true},
	} {
		h, w, err := SmartResize(c.h, c.w, c.f, c.lo, c.hi)
		if (err != nil) != c.wantErr || h != c.wantH || w != c.wantW {
			t.Errorf("SmartResize(%d, %d, %d, %d, %d) = %d, %d, %v; want %d, %d, error %v",
				c.h, c.w, c.f, c.lo, c.hi, h, w, err, c.wantH, c.wantW, c.wantErr)
		}
	}
}
