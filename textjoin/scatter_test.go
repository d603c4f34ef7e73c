package textjoin

import (
	"reflect"
	"strings"
	"testing"
)

// rowsOf builds a [len(vals), cols] matrix whose row i is vals[i] repeated.
func rowsOf(cols int, vals ...float32) Matrix {
	m := Matrix{Rows: len(vals), Cols: cols, Data: make([]float32, len(vals)*cols)}
	for i, v := range vals {
		for c := range cols {
			m.Data[i*cols+c] = v
		}
	}
	return m
}

func firstCol(m Matrix) []float32 {
	out := make([]float32, m.Rows)
	for i := range out {
		out[i] = m.Data[i*m.Cols]
	}
	return out
}

func TestScatter(t *testing.T) {
	tok := DefaultTokens()
	I, V := tok.ImagePad.ID, tok.VideoPad.ID
	ids := []int32{1, V, I, 2, I, V, 3}
	images := &Features{Pooler: rowsOf(2, 10, 11), Deepstack: []Matrix{rowsOf(2, 110, 111), rowsOf(2, 210, 211)}}
	videos := &Features{Pooler: rowsOf(2, 20, 21), Deepstack: []Matrix{rowsOf(2, 120, 121), rowsOf(2, 220, 221)}}
	tests := []struct {
		name           string
		images, videos *Features
		embeds         []float32
		visual         []bool
		deepstack      [][]float32
	}{
		{"both", images, videos, []float32{0, 20, 10, 0, 11, 21, 0},
			[]bool{false, true, true, false, true, true, false},
			[][]float32{{120, 110, 111, 121}, {220, 210, 211, 221}}},
		{"images only", images, nil, []float32{0, 0, 10, 0, 11, 0, 0},
			[]bool{false, false, true, false, true, false, false},
			[][]float32{{110, 111}, {210, 211}}},
		{"videos only", nil, videos, []float32{0, 20, 0, 0, 0, 21, 0},
			[]bool{false, true, false, false, false, true, false},
			[][]float32{{120, 121}, {220, 221}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := rowsOf(2, 0, 0, 0, 0, 0, 0, 0)
			p, err := Scatter(e, ids, tt.images, tt.videos, tok)
			if err != nil {
				t.Fatal(err)
			}
			if got := firstCol(e); !reflect.DeepEqual(got, tt.embeds) {
				t.Fatalf("embeddings %v, want %v", got, tt.embeds)
			}
			if !reflect.DeepEqual(p.Visual, tt.visual) {
				t.Fatalf("visual %v, want %v", p.Visual, tt.visual)
			}
			for j, d := range p.Deepstack {
				if got := firstCol(d); !reflect.DeepEqual(got, tt.deepstack[j]) {
					t.Fatalf("deepstack %d: %v, want %v", j, got, tt.deepstack[j])
				}
			}
		})
	}
	// nothing to place
	p, err := Scatter(rowsOf(2, 0), []int32{1}, nil, nil, tok)
	if err != nil || p.Visual != nil || p.Deepstack != nil {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestScatterBatch(t *testing.T) {
	tok := DefaultTokens()
	I := tok.ImagePad.ID
	e := rowsOf(1, 0, 0, 0, 0, 0)
	p, err := ScatterBatch(e, [][]int32{{0, I}, {I, I, 0}}, &Features{Pooler: rowsOf(1, 1, 2, 3)}, nil, tok)
	if err != nil {
		t.Fatal(err)
	}
	if got := firstCol(e); !reflect.DeepEqual(got, []float32{0, 1, 2, 3, 0}) || p.Images != 3 || len(p.Deepstack) != 0 {
		t.Fatalf("%v %+v", got, p)
	}
}

func TestScatterErrors(t *testing.T) {
	tok := DefaultTokens()
	I, V := tok.ImagePad.ID, tok.VideoPad.ID
	one := &Features{Pooler: rowsOf(2, 1)}
	tests := []struct {
		name           string
		embeds         Matrix
		ids            []int32
		images, videos *Features
		want           string
	}{
		{"too few image rows", rowsOf(2, 0, 0), []int32{I, I}, one, nil, "Image features and image tokens do not match, tokens: 2, features: 1"},
		{"too many video rows", rowsOf(2, 0), []int32{1}, nil, one, "Video features and video tokens do not match, tokens: 0, features: 1"},
		{"width", rowsOf(3, 0), []int32{I}, one, nil, "2 columns but the embeddings 3"},
		{"ids", rowsOf(2, 0, 0), []int32{I}, one, nil, "1 token ids for 2 embedding rows"},
		{"ragged", Matrix{Rows: 2, Cols: 2, Data: make([]float32, 3)}, []int32{I, 1}, one, nil, "3 values for a [2, 2] matrix"},
		{"deepstack rows", rowsOf(2, 0), []int32{I}, &Features{Pooler: rowsOf(2, 1), Deepstack: []Matrix{rowsOf(2, 1, 2)}}, nil, "DeepStack feature 0 is [2, 2], want [1, 2]"},
		{"deepstack count", rowsOf(2, 0, 0), []int32{I, V}, &Features{Pooler: rowsOf(2, 1), Deepstack: []Matrix{rowsOf(2, 1)}}, one, "1 DeepStack features for the images but 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Scatter(tt.embeds, tt.ids, tt.images, tt.videos, tok)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestAddDeepstack(t *testing.T) {
	h := rowsOf(2, 1, 2, 3)
	if err := AddDeepstack(h, []bool{true, false, true}, rowsOf(2, 10, 20)); err != nil {
		t.Fatal(err)
	}
	if got := firstCol(h); !reflect.DeepEqual(got, []float32{11, 2, 23}) {
		t.Fatalf("got %v", got)
	}
	if err := AddDeepstack(h, []bool{true, false, true}, rowsOf(2, 10)); err == nil {
		t.Fatal("row count mismatch: no error")
	}
	if err := AddDeepstack(h, []bool{true}, rowsOf(2, 10)); err == nil {
		t.Fatal("mask length mismatch: no error")
	}
}

func TestSplitFeatures(t *testing.T) {
	// one call over image (1,2,4) → 2 rows, video (2,2,2) → 2 rows, image (1,2,2) → 1 row
	f := Features{Pooler: rowsOf(1, 1, 2, 3, 4, 5), Deepstack: []Matrix{rowsOf(1, 11, 12, 13, 14, 15)}}
	img, vid, err := SplitFeatures(f, []Grid{{1, 2, 4}, {2, 2, 2}, {1, 2, 2}}, []Kind{KindImage, KindVideo, KindImage}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(firstCol(img.Pooler), []float32{1, 2, 5}) || !reflect.DeepEqual(firstCol(img.Deepstack[0]), []float32{11, 12, 15}) ||
		!reflect.DeepEqual(firstCol(vid.Pooler), []float32{3, 4}) || !reflect.DeepEqual(firstCol(vid.Deepstack[0]), []float32{13, 14}) {
		t.Fatalf("images %+v videos %+v", img, vid)
	}
	img, vid, err = SplitFeatures(Features{Pooler: rowsOf(1, 1)}, []Grid{{1, 2, 2}}, []Kind{KindImage}, 2)
	if err != nil || vid != nil || img.Pooler.Rows != 1 {
		t.Fatalf("%+v %+v %v", img, vid, err)
	}
	if _, _, err := SplitFeatures(f, []Grid{{1, 2, 2}}, []Kind{KindImage}, 2); err == nil {
		t.Fatal("row count mismatch: no error")
	}
	if _, _, err := SplitFeatures(f, []Grid{{1, 2, 2}}, nil, 2); err == nil {
		t.Fatal("kinds mismatch: no error")
	}
}
