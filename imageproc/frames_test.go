package imageproc

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

func TestGroupTimestamps(t *testing.T) {
	tests := []struct {
		idx   []int
		fps   float64
		patch int
		want  []float64
	}{
		{nil, 2, 2, []float64{}},
		{[]int{0, 1, 2, 3}, 2, 2, []float64{0.25, 1.25}},
		{[]int{0, 1, 2}, 2, 2, []float64{0.25, 1}}, // padded with the last index
		{[]int{0, 24}, 0, 2, []float64{0.5}},       // unknown fps: 24
		{[]int{3, 6, 9}, 3, 1, []float64{1, 2, 3}}, // temporal patch 1
		{[]int{0, 1, 2, 3}, 4, 3, []float64{0.25, 0.75}},
	}
	for _, tt := range tests {
		if got := GroupTimestamps(tt.idx, tt.fps, tt.patch); !sameFloat64s(got, tt.want) {
			t.Errorf("GroupTimestamps(%v, %v, %d) = %v, want %v", tt.idx, tt.fps, tt.patch, got, tt.want)
		}
	}
}

func TestSampleFrameIndices(t *testing.T) {
	got, err := SampleFrameIndices(240, 30, 2, 4, 768)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 16, 32, 48, 64, 80, 96, 112, 127, 143, 159, 175, 191, 207, 223, 239}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got, _ := SampleFrameIndices(1, 30, 2, 4, 768); !reflect.DeepEqual(got, []int{0}) {
		t.Fatalf("one frame: %v", got)
	}
	if got, _ := SampleFrameIndices(0, 30, 2, 4, 768); len(got) != 0 {
		t.Fatalf("no frames: %v", got)
	}
	if _, err := SampleFrameIndices(10, 30, 0, 4, 768); err == nil {
		t.Fatal("fps 0: no error")
	}
	if _, err := SampleFrameIndices(-1, 30, 2, 4, 768); err == nil {
		t.Fatal("negative frames: no error")
	}
}

// TestGoldenFrameSampling checks SampleFrameIndices and GroupTimestamps against the
// processor's sample_frames and _calculate_timestamps on the cases of
// testdata/textjoin/timestamps.json (made by tools/reference/textjoin_goldens.py).
func TestGoldenFrameSampling(t *testing.T) {
	var g struct {
		Sampling []struct {
			Total     int     `json:"total"`
			VideoFPS  float64 `json:"video_fps"`
			FPS       float64 `json:"fps"`
			MinFrames int     `json:"min_frames"`
			MaxFrames int     `json:"max_frames"`
			Indices   []int   `json:"indices"`
		} `json:"sampling"`
		Groups []struct {
			Indices    []int     `json:"indices"`
			FPS        float64   `json:"fps"`
			Timestamps []float64 `json:"timestamps"`
		} `json:"groups"`
	}
	b, err := os.ReadFile("../testdata/textjoin/timestamps.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Sampling) == 0 || len(g.Groups) == 0 {
		t.Fatal("timestamps.json is incomplete")
	}
	for _, s := range g.Sampling {
		got, err := SampleFrameIndices(s.Total, s.VideoFPS, s.FPS, s.MinFrames, s.MaxFrames)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s.Indices) && !(len(got) == 0 && len(s.Indices) == 0) {
			t.Errorf("SampleFrameIndices(%d, %v, %v) = %v, reference %v", s.Total, s.VideoFPS, s.FPS, got, s.Indices)
		}
	}
	for _, gr := range g.Groups {
		if got := GroupTimestamps(gr.Indices, gr.FPS, 2); !sameFloat64s(got, gr.Timestamps) {
			t.Errorf("GroupTimestamps(%v, %v) = %v, reference %v", gr.Indices, gr.FPS, got, gr.Timestamps)
		}
	}
}
