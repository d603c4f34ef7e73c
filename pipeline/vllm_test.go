package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

const vllmDir = "../testdata/vllm"

// readFeatures reads an encode -format safetensors output back into Features (items named as
// in its metadata, images only).
func readFeatures(t *testing.T, path string) Features {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	matrix := func(name string) vision.Matrix {
		info, ok := f.Info(name)
		if !ok {
			t.Fatalf("%s: no tensor %s", path, name)
		}
		data, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		return vision.Matrix{Rows: int(info.Shape[0]), Cols: int(info.Shape[1]), Data: data}
	}
	var names []string
	if err := json.Unmarshal([]byte(f.Header().Metadata["items"]), &names); err != nil {
		t.Fatal(err)
	}
	grids, err := f.Int64(GridName)
	if err != nil {
		t.Fatal(err)
	}
	feats := Features{Pooler: matrix(PoolerName), LastHidden: matrix(LastHiddenName)}
	for k := 0; ; k++ {
		if _, ok := f.Info(DeepstackPrefix + strconv.Itoa(k)); !ok {
			break
		}
		feats.Deepstack = append(feats.Deepstack, matrix(DeepstackPrefix+strconv.Itoa(k)))
	}
	for i, name := range names {
		g := grids[3*i:]
		feats.Items = append(feats.Items, Item{Name: name, Grid: vision.Grid{T: int(g[0]), H: int(g[1]), W: int(g[2])}})
	}
	return feats
}

// TestVLLMJSONGolden: the parts for testdata/vllm/features.safetensors are byte-identical to
// testdata/vllm/parts.json, which tools/reference/vllm_embeds_check.py decoded with vLLM
// 0.34.0's own code to exactly those features (testdata/vllm/verdict.json).
func TestVLLMJSONGolden(t *testing.T) {
	var verdict struct {
		OK bool `json:"all_bit_identical"`
	}
	vb, err := os.ReadFile(vllmDir + "/verdict.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(vb, &verdict); err != nil || !verdict.OK {
		t.Fatalf("verdict.json does not say all_bit_identical (%v)", err)
	}
	want, err := os.ReadFile(vllmDir + "/parts.json")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := readFeatures(t, vllmDir+"/features.safetensors").WriteVLLMJSON(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("parts differ from the golden (%d bytes, want %d)", got.Len(), len(want))
	}
}

// TestVLLMParts checks the layout on hand-made features: rows [pooler | deepstack…] per item,
// the .npy header, the grid, and a model without DeepStack (width O).
func TestVLLMParts(t *testing.T) {
	seq := func(rows, cols int, base float32) vision.Matrix {
		m := vision.Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
		for i := range m.Data {
			m.Data[i] = base + float32(i)
		}
		return m
	}
	items := []Item{{Name: "a", Grid: vision.Grid{T: 1, H: 2, W: 2}}, {Name: "b", Grid: vision.Grid{T: 1, H: 2, W: 4}}}
	tests := []struct {
		name      string
		deepstack []vision.Matrix
		// want[item] are the rows, flattened
		want [][]float32
	}{
		{"deepstack", []vision.Matrix{seq(3, 2, 100), seq(3, 2, 200)}, [][]float32{
			{0, 1, 100, 101, 200, 201},
			{2, 3, 102, 103, 202, 203, 4, 5, 104, 105, 204, 205},
		}},
		{"no deepstack", nil, [][]float32{{0, 1}, {2, 3, 4, 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Features{Items: items, Pooler: seq(3, 2, 0), Deepstack: tt.deepstack, LastHidden: seq(12, 1, 0)}
			parts, err := f.VLLMParts()
			if err != nil {
				t.Fatal(err)
			}
			width := 2 * (1 + len(tt.deepstack))
			for i, p := range parts {
				if p.Type != "image_embeds" || p.Embeds.GridTHW != [3]int{1, items[i].Grid.H, items[i].Grid.W} {
					t.Errorf("part %d: %+v", i, p)
				}
				b, err := base64.StdEncoding.DecodeString(p.Embeds.ImageEmbeds)
				if err != nil {
					t.Fatal(err)
				}
				hlen := int(binary.LittleEndian.Uint16(b[8:]))
				header := string(b[10 : 10+hlen])
				wantShape := "(" + strconv.Itoa(len(tt.want[i])/width) + ", " + strconv.Itoa(width) + ")"
				if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) || !strings.Contains(header, "'descr': '<f4'") || !strings.Contains(header, "'shape': "+wantShape) {
					t.Errorf("part %d: header %q, want shape %s", i, header, wantShape)
				}
				data := b[10+hlen:]
				if len(data) != 4*len(tt.want[i]) {
					t.Fatalf("part %d: %d data bytes, want %d", i, len(data), 4*len(tt.want[i]))
				}
				for j, w := range tt.want[i] {
					if g := math.Float32frombits(binary.LittleEndian.Uint32(data[4*j:])); g != w {
						t.Errorf("part %d value %d = %g, want %g", i, j, g, w)
					}
				}
			}
		})
	}
}

func TestVLLMPartsErrors(t *testing.T) {
	img := Item{Name: "a.png", Grid: vision.Grid{T: 1, H: 2, W: 2}}
	tests := []struct {
		name string
		f    Features
		want string
	}{
		{"video", Features{Items: []Item{{Name: "v.mp4", Video: true, Grid: vision.Grid{T: 2, H: 2, W: 2}}}, Pooler: vision.Matrix{Rows: 2, Cols: 1, Data: make([]float32, 2)}, LastHidden: vision.Matrix{Rows: 8, Cols: 1, Data: make([]float32, 8)}}, "v.mp4 is a video"},
		{"rows missing", Features{Items: []Item{img, img}, Pooler: vision.Matrix{Rows: 1, Cols: 1, Data: make([]float32, 1)}, LastHidden: vision.Matrix{Rows: 4, Cols: 1, Data: make([]float32, 4)}}, "has no token rows"},
		{"no patches", Features{Items: []Item{img}, Pooler: vision.Matrix{Rows: 1, Cols: 1, Data: make([]float32, 1)}}, "cannot place"},
		{"deepstack shape", Features{Items: []Item{img}, Pooler: vision.Matrix{Rows: 1, Cols: 2, Data: make([]float32, 2)}, Deepstack: []vision.Matrix{{Rows: 1, Cols: 3, Data: make([]float32, 3)}}, LastHidden: vision.Matrix{Rows: 4, Cols: 1, Data: make([]float32, 4)}}, "DeepStack feature set 0 is [1, 3]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.VLLMParts()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
