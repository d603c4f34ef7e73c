package imageproc

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

const testdataDir = "../testdata/imageproc"

// tensor is one tensor of a safetensors file.
type tensor struct {
	dtype string
	shape []int
	data  []byte
}

func (t tensor) u8() []uint8 { return t.data }

func (t tensor) i64() []int64 {
	out := make([]int64, len(t.data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.data[8*i:]))
	}
	return out
}

func (t tensor) f32() []float32 {
	out := make([]float32, len(t.data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:]))
	}
	return out
}

// rgb returns a [H, W, 3] uint8 tensor as an image.
func (t tensor) rgb() *RGB {
	if t.dtype != "U8" || len(t.shape) != 3 || t.shape[2] != 3 {
		panic(fmt.Sprintf("not an RGB tensor: %s %v", t.dtype, t.shape))
	}
	return &RGB{Pix: t.data, Width: t.shape[1], Height: t.shape[0]}
}

// readSafetensors reads a whole (small) safetensors file.
func readSafetensors(t testing.TB, path string) map[string]tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	body := b[8+n:]
	out := map[string]tensor{}
	for k, v := range hdr {
		if k == "__metadata__" {
			continue
		}
		var e struct {
			DType   string   `json:"dtype"`
			Shape   []int    `json:"shape"`
			Offsets [2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(v, &e); err != nil {
			t.Fatalf("%s: %s: %v", path, k, err)
		}
		out[k] = tensor{dtype: e.DType, shape: e.Shape, data: body[e.Offsets[0]:e.Offsets[1]]}
	}
	return out
}

type manifestFixture struct {
	File                 string `json:"file"`
	Kind                 string `json:"kind"`
	Note                 string `json:"note"`
	DefaultPathNote      string `json:"default_path_note"`
	DecodedBackendsEqual bool   `json:"decoded_backends_equal"`
	Results              map[string]struct {
		Grid   []int    `json:"grid"`
		Error  string   `json:"error"`
		Stored []string `json:"stored"`
	} `json:"results"`
}

type manifest struct {
	Versions map[string]string          `json:"versions"`
	Fixtures map[string]manifestFixture `json:"fixtures"`
}

func readManifest(t testing.TB) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m manifest) names() []string {
	var out []string
	for k := range m.Fixtures {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// configOptions returns the options of testdata config "ckpt" or "small".
func configOptions(t testing.TB, cfg string, r Resampler) Options {
	t.Helper()
	o, err := ReadPreprocessorConfig(filepath.Join(testdataDir, "config_"+cfg, "preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	o.Resampler = r
	return o
}

// diffStats compares two images of equal size level by level.
type diffStats struct {
	n, equal, over1 int
	sum             int64
	max             int
}

func compareRGB(a, b *RGB) (diffStats, error) {
	var s diffStats
	if a.Width != b.Width || a.Height != b.Height {
		return s, fmt.Errorf("size %dx%d, want %dx%d", a.Width, a.Height, b.Width, b.Height)
	}
	for i := range a.Pix[:3*a.Width*a.Height] {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		s.n++
		if d == 0 {
			s.equal++
		}
		if d > 1 {
			s.over1++
		}
		s.sum += int64(d)
		s.max = max(s.max, d)
	}
	return s, nil
}

func (s diffStats) mean() float64     { return float64(s.sum) / float64(max(s.n, 1)) }
func (s diffStats) equalPct() float64 { return 100 * float64(s.equal) / float64(max(s.n, 1)) }

func (s diffStats) String() string {
	return fmt.Sprintf("%7d values, %8.4f%% equal, mean |Δ| %.4f, max %d", s.n, s.equalPct(), s.mean(), s.max)
}

// thw returns g as the reference writes a grid row: [t, h, w].
func thw(g Grid) []int { return []int{g.T, g.H, g.W} }
