package vision

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/internal/synth"
)

// The goldens under testdata/golden were made by tools/reference/make_goldens.py with the
// pinned Hugging Face transformers (see testdata/README.md); never by this package.
var goldenDirFlag = flag.String("golden-dir", "../testdata/golden", "folder of the goldens and their manifest.json")

// -fidelity FILE writes the measured errors as Markdown table rows (for docs/FIDELITY.md).
var fidelityOut = flag.String("fidelity", "", "write the golden comparison as Markdown rows to this file")

type metric struct {
	MaxAbs float64 `json:"max_abs"`
	RelMax float64 `json:"rel_max"`
	Cosine float64 `json:"cosine"`
}

type goldenCase struct {
	BF16        map[string]metric `json:"bf16_vs_f32"`
	Name        string            `json:"name"`
	Config      string            `json:"config"`
	Checkpoint  string            `json:"checkpoint"`
	Pixels      string            `json:"pixels"`
	WeightsSeed uint64            `json:"weights_seed"`
	PixelsSeed  uint64            `json:"pixels_seed"`
	Grids       [][]int           `json:"grids"`
	File        string            `json:"file"`
	// DeepstackField is false for a family whose reference outputs have no deepstack_features
	// at all (family_goldens.py; absent in the Qwen3-VL manifest).
	DeepstackField *bool `json:"deepstack_features_field"`
	// Dir is the folder of the manifest that lists the case (its files are relative to it).
	Dir string `json:"-"`
}

type goldenManifest struct {
	Cases []goldenCase `json:"cases"`
}

// goldenManifests are the manifests under -golden-dir: the Qwen3-VL tower's (make_goldens.py)
// and the other families' (family/, family_goldens.py).
var goldenManifests = []string{"manifest.json", filepath.Join("family", "manifest.json")}

// readManifest reads every manifest of goldenManifests and returns their cases, each with the
// folder its files are in.
func readManifest(t *testing.T) goldenManifest {
	t.Helper()
	var all goldenManifest
	for _, name := range goldenManifests {
		path := filepath.Join(*goldenDirFlag, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("goldens: %v", err)
		}
		var m goldenManifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("goldens: %s: %v", path, err)
		}
		if len(m.Cases) == 0 {
			t.Fatalf("goldens: %s lists no cases", path)
		}
		for i := range m.Cases {
			m.Cases[i].Dir = filepath.Dir(path)
		}
		all.Cases = append(all.Cases, m.Cases...)
	}
	return all
}

// Targets of the vision tower issue: relative max error (max|Δ| / max|ref|) and cosine.
func targets(c goldenCase) (relMax, cosMin float64) {
	if strings.HasPrefix(c.Config, "tiny") || c.Checkpoint != "" {
		return 1e-5, 0.99999
	}
	return 2e-4, 0.99999
}

// models caches synthetic models across cases of the same config and seed.
var models = struct {
	sync.Mutex
	m map[string]*Model
}{m: map[string]*Model{}}

func goldenModel(t *testing.T, c goldenCase) *Model {
	t.Helper()
	if c.Checkpoint != "" {
		m, err := Load(context.Background(), filepath.Join(c.Dir, c.Checkpoint), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	key := c.Dir + ":" + c.Config + "@" + strconv.FormatUint(c.WeightsSeed, 10)
	models.Lock()
	defer models.Unlock()
	if m, ok := models.m[key]; ok {
		return m
	}
	cfg, err := ReadConfig(filepath.Join(c.Dir, "configs", c.Config+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := Preset(c.Config); err == nil && !configsEqual(p, cfg) {
		t.Fatalf("preset %s = %+v differs from the reference's config %+v", c.Config, p, cfg)
	}
	m, err := Random(cfg, c.WeightsSeed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	clear(models.m) // keep one full-size model in memory at a time
	models.m[key] = m
	return m
}

func configsEqual(a, b Config) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func goldenInputs(t *testing.T, c goldenCase, cfg Config) ([]float32, []Grid) {
	t.Helper()
	var grids []Grid
	n := 0
	for _, g := range c.Grids {
		if len(g) != 3 {
			t.Fatalf("grid %v is not (t, h, w)", g)
		}
		grids = append(grids, Grid{g[0], g[1], g[2]})
		n += g[0] * g[1] * g[2]
	}
	if c.Pixels != "" {
		f, err := safetensors.Open(filepath.Join(c.Dir, c.Pixels))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		px, err := f.Float32("pixel_values")
		if err != nil {
			t.Fatal(err)
		}
		return px, grids
	}
	px := make([]float32, n*cfg.PatchDim())
	synth.Fill(px, c.PixelsSeed, "pixel_values", 1, 0)
	return px, grids
}

// compare returns max|Δ|, max|Δ|/max|ref| and the cosine similarity of got against ref.
func compare(got, ref []float32) (maxAbs, rel, cos float64) {
	var maxRef, dot, ng, nr float64
	for i := range ref {
		g, r := float64(got[i]), float64(ref[i])
		maxAbs = math.Max(maxAbs, math.Abs(g-r))
		maxRef = math.Max(maxRef, math.Abs(r))
		dot += g * r
		ng += g * g
		nr += r * r
	}
	return maxAbs, maxAbs / maxRef, dot / math.Sqrt(ng*nr)
}

func TestGoldens(t *testing.T) {
	var rows []string
	defer func() {
		if *fidelityOut != "" {
			head := "| case | output | max abs Δ | max abs Δ / max abs ref | 1 − cosine | HF bf16 vs f32: rel | 1 − cosine |\n|---|---|---|---|---|---|---|\n"
			if err := os.WriteFile(*fidelityOut, []byte(head+strings.Join(rows, "")), 0o644); err != nil {
				t.Error(err)
			}
		}
	}()
	for _, c := range readManifest(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			if testing.Short() && !strings.HasPrefix(c.Name, "tiny") {
				t.Skip("full-size golden skipped in -short mode")
			}
			if kernels.Name() == "generic" && !strings.HasPrefix(c.Name, "tiny") && filepath.Base(c.Dir) == "family" {
				// The portable kernels at full size are the Qwen3-VL cases' to test (above);
				// the families' own code (no DeepStack, their configs) runs in the tiny cases.
				t.Skip("full-size family golden skipped with the portable kernels (minutes each); it runs in the assembly build")
			}
			m := goldenModel(t, c)
			px, grids := goldenInputs(t, c, m.Config())
			out, ref := encodeGolden(t, m, c, px, grids)
			relMax, cosMin := targets(c)
			check := func(name string, got Matrix) {
				info, ok := ref.Info(name)
				if !ok {
					t.Errorf("%s: not in the golden file", name)
					return
				}
				if len(info.Shape) != 2 || info.Shape[0] != got.Rows || info.Shape[1] != got.Cols {
					t.Errorf("%s: shape [%d %d], golden %v", name, got.Rows, got.Cols, info.Shape)
					return
				}
				want, err := ref.Float32(name)
				if err != nil {
					t.Fatal(err)
				}
				maxAbs, rel, cos := compare(got.Data, want)
				t.Logf("FIDELITY %s %s max|Δ|=%.3g rel=%.3g cos=%.9f", c.Name, name, maxAbs, rel, cos)
				b := c.BF16[name]
				rows = append(rows, fmt.Sprintf("| %s | %s | %.2e | %.2e | %.1e | %.2e | %.1e |\n", c.Name, name, maxAbs, rel, 1-cos, b.RelMax, 1-b.Cosine))
				if !(rel <= relMax) || !(cos >= cosMin) {
					t.Errorf("%s: rel %.3g (target ≤ %.0e), cosine %.9f (target ≥ %v)", name, rel, relMax, cos, cosMin)
				}
			}
			check("pooler_output", out.Pooler)
			check("last_hidden_state", out.LastHidden)
			if c.DeepstackField != nil && !*c.DeepstackField && (len(out.Deepstack) != 0 || len(m.Config().DeepstackVisualIndexes) != 0) {
				t.Fatalf("the reference has no DeepStack outputs; the model has %d (deepstack_visual_indexes %v)", len(out.Deepstack), m.Config().DeepstackVisualIndexes)
			}
			if len(out.Deepstack) != len(m.Config().DeepstackVisualIndexes) {
				t.Fatalf("%d deepstack outputs, want %d", len(out.Deepstack), len(m.Config().DeepstackVisualIndexes))
			}
			for k, d := range out.Deepstack {
				check(fmt.Sprintf("deepstack_features.%d", k), d)
			}
			if _, ok := ref.Info(fmt.Sprintf("deepstack_features.%d", len(out.Deepstack))); ok {
				t.Errorf("golden has more deepstack features than the model produced")
			}
			g, err := ref.Int64("grid_thw")
			if err != nil {
				t.Fatal(err)
			}
			for i, gr := range grids {
				if g[3*i] != int64(gr.T) || g[3*i+1] != int64(gr.H) || g[3*i+2] != int64(gr.W) {
					t.Errorf("grid %d: %v, golden %v", i, gr, g[3*i:3*i+3])
				}
			}
		})
	}
}

// encodeGolden encodes a case's inputs with m and opens the case's golden file (closed when
// the test ends).
func encodeGolden(t *testing.T, m *Model, c goldenCase, px []float32, grids []Grid) (*Output, *safetensors.File) {
	t.Helper()
	out, err := m.Encode(context.Background(), px, grids)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := safetensors.Open(filepath.Join(c.Dir, c.File))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	return out, ref
}
