package textjoin

import (
	"reflect"
	"strings"
	"testing"
)

func TestRopeIndex(t *testing.T) {
	tok := DefaultTokens()
	S, E, I, V := tok.VisionStart.ID, tok.VisionEnd.ID, tok.ImagePad.ID, tok.VideoPad.ID
	rep := func(id int32, n int) []int32 {
		out := make([]int32, n)
		for i := range out {
			out[i] = id
		}
		return out
	}
	cat := func(parts ...[]int32) []int32 {
		var out []int32
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name   string
		ids    []int32
		images []Grid
		videos []Grid
		want   Positions
		delta  int
	}{
		{
			name:  "text only",
			ids:   []int32{5, 6, 7},
			want:  Positions{{0, 1, 2}, {0, 1, 2}, {0, 1, 2}},
			delta: 0,
		},
		{
			// merged 2×3 at s = 2: H = 2,2,2,3,3,3; W = 2,3,4,2,3,4; text resumes at 2+3
			name:   "wide image",
			ids:    cat([]int32{9, S}, rep(I, 6), []int32{E, 9}),
			images: []Grid{{1, 4, 6}},
			want: Positions{
				{0, 1, 2, 2, 2, 2, 2, 2, 5, 6},
				{0, 1, 2, 2, 2, 3, 3, 3, 5, 6},
				{0, 1, 2, 3, 4, 2, 3, 4, 5, 6}},
			delta: 7 - 10,
		},
		{
			// merged 3×1: the next text starts at s + max(3, 1), not s + 1
			name:   "tall image",
			ids:    cat([]int32{S}, rep(I, 3), []int32{E}),
			images: []Grid{{1, 6, 2}},
			want:   Positions{{0, 1, 1, 1, 4}, {0, 1, 2, 3, 4}, {0, 1, 1, 1, 4}},
			delta:  5 - 5,
		},
		{
			// a video of 2 groups, each 1×2, separated by timestamp text (one token here)
			name:   "video groups",
			ids:    cat([]int32{S, 1, S}, rep(V, 2), []int32{E, 1, S}, rep(V, 2), []int32{E, E}),
			videos: []Grid{{2, 2, 4}},
			want: Positions{
				{0, 1, 2, 3, 3, 5, 6, 7, 8, 8, 10, 11},
				{0, 1, 2, 3, 3, 5, 6, 7, 8, 8, 10, 11},
				{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
			delta: 0,
		},
		{
			name:   "unused grids are ignored",
			ids:    []int32{I},
			images: []Grid{{1, 2, 2}, {1, 4, 4}},
			videos: []Grid{{4, 2, 2}},
			want:   Positions{{0}, {0}, {0}},
			delta:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, delta, err := RopeIndex(tt.ids, nil, tt.images, tt.videos, tok)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tt.want) || delta != tt.delta {
				t.Fatalf("got %v delta %d\nwant %v delta %d", pos, delta, tt.want, tt.delta)
			}
			// left padding: padded slots are 0, the rest is unchanged
			padded := append([]int32{0, 0}, tt.ids...)
			mask := make([]bool, len(padded))
			for i := 2; i < len(mask); i++ {
				mask[i] = true
			}
			pp, pd, err := RopeIndex(padded, mask, tt.images, tt.videos, tok)
			if err != nil {
				t.Fatal(err)
			}
			for r := range 3 {
				if pp[r][0] != 0 || pp[r][1] != 0 || !reflect.DeepEqual(pp[r][2:], pos[r]) {
					t.Fatalf("padded row %d: %v", r, pp[r])
				}
			}
			if pd != delta {
				t.Fatalf("padded delta %d, want %d", pd, delta)
			}
		})
	}
}

func TestRopeIndexBatchOrder(t *testing.T) {
	// the grids are used in order across the batch: sequence 1's image is the second grid
	tok := DefaultTokens()
	I := tok.ImagePad.ID
	pos, deltas, err := RopeIndexBatch([][]int32{{I}, {7, I, I, I, I}}, nil, []Grid{{1, 2, 2}, {1, 4, 4}}, nil, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := Positions{{0, 1, 1, 1, 1}, {0, 1, 1, 2, 2}, {0, 1, 2, 1, 2}}
	if !reflect.DeepEqual(pos[1], want) || !reflect.DeepEqual(deltas, []int{0, -2}) {
		t.Fatalf("got %v %v", pos[1], deltas)
	}
}

func TestRopeIndexErrors(t *testing.T) {
	tok := DefaultTokens()
	I, V := tok.ImagePad.ID, tok.VideoPad.ID
	tests := []struct {
		name   string
		ids    [][]int32
		mask   [][]bool
		images []Grid
		videos []Grid
		want   string
	}{
		{"no grid", [][]int32{{I}}, nil, nil, nil, "has no grid"},
		{"no video grid", [][]int32{{V}}, nil, []Grid{{1, 2, 2}}, nil, "video run at tokens [0, 1) has no grid"},
		{"adjacent images", [][]int32{{I, I}}, nil, []Grid{{1, 2, 2}, {1, 2, 2}}, nil, "has 2 tokens but image 0"},
		{"all masked", [][]int32{{1, 2}}, [][]bool{{false, false}}, nil, nil, "no unmasked tokens"},
		{"mask rows", [][]int32{{1}}, [][]bool{}, nil, nil, "0 attention-mask rows for 1 sequences"},
		{"mask length", [][]int32{{1, 2}}, [][]bool{{true}}, nil, nil, "2 tokens but 1 mask values"},
		{"odd grid", [][]int32{{1}}, nil, []Grid{{1, 3, 2}}, nil, "multiples of the merge size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := RopeIndexBatch(tt.ids, tt.mask, tt.images, tt.videos, tok)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodePosition(t *testing.T) {
	// a prompt of 10 unmasked tokens with delta −3: the first generated token is at 7 = max+1
	if got := DecodePosition(10, -3); got != 7 {
		t.Fatalf("got %d", got)
	}
}
