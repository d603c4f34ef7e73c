package synth

import (
	"math"
	"testing"
)

// The expected values were computed independently from the definition in the package comment
// (splitmix64 by hand in Python's arbitrary-precision integers); they pin the stream so that a
// change on either side is caught.
func TestFillPinned(t *testing.T) {
	if got := FNV1a64(""); got != 0xcbf29ce484222325 {
		t.Fatalf("FNV1a64(\"\") = %#x", got)
	}
	if got := FNV1a64("a"); got != 0xaf63dc4c8601ec8c {
		t.Fatalf("FNV1a64(\"a\") = %#x", got)
	}
	got := make([]float32, 4)
	Fill(got, 0, "", 1, 0)
	// splitmix64 from state 0xcbf29ce484222325.
	want := pinned
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("value %d = %v (%#08x), want %v", i, got[i], math.Float32bits(got[i]), want[i])
		}
	}
}

func TestFillChunksMatchSequential(t *testing.T) {
	n := 3*chunk + 17
	par := make([]float32, n)
	Fill(par, 7, "w", 1, 0)
	seq := make([]float32, n)
	fill(seq, 7^FNV1a64("w"), 1, 0)
	for i := range seq {
		if math.Float32bits(seq[i]) != math.Float32bits(par[i]) {
			t.Fatalf("value %d: parallel %v, sequential %v", i, par[i], seq[i])
		}
	}
}

func TestFillRange(t *testing.T) {
	v := make([]float32, 100000)
	Fill(v, 42, "x", 0.5, 1)
	var sum float64
	for _, x := range v {
		if x < 0.5 || x >= 1.5 {
			t.Fatalf("value %v out of [0.5, 1.5)", x)
		}
		sum += float64(x)
	}
	if mean := sum / float64(len(v)); math.Abs(mean-1) > 0.01 {
		t.Fatalf("mean %v, want ≈ 1", mean)
	}
}

var pinned = []float32{
	math.Float32frombits(0x3f0702f8), // 0.5273890495300293
	math.Float32frombits(0xbf5fe64c), // -0.8746078014373779
	math.Float32frombits(0xbeacf16c), // -0.3377794027328491
	math.Float32frombits(0xbf2734dc), // -0.6531503200531006
}
