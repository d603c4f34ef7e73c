package text

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// hfBF16 is one case of testdata/text/<family>/bf16_vs_f32.json (tools/reference/
// text_bf16_fidelity.py): HF's own bfloat16 decoder against the golden float32 logits.
type hfBF16 struct {
	Cases []struct {
		Name  string `json:"name"`
		HFB16 struct {
			Rel       float64 `json:"rel_max"`
			OneMinCos float64 `json:"one_minus_cos"`
		} `json:"hf_bf16"`
	} `json:"cases"`
}

// TestGoldenDecoderBF16 holds the bf16-compute decoder (Options.Compute = ComputeBF16) to
// HF's own bfloat16 run: on every golden case, the prompt rows' logits on the golden's
// vocabulary subset, from the reference's own inputs, against the golden float32 logits, must be
// no further than HF's bfloat16 decoder is on the same inputs (max|Δ|/max|ref| and 1 − cosine,
// as text_bf16_fidelity.py measures them). Skipped where the CPU or build lacks AVX512_BF16.
func TestGoldenDecoderBF16(t *testing.T) {
	if !kernels.BF16Dot() {
		t.Skipf("no AVX512_BF16 assembly here (bf16: %s)", kernels.BF16())
	}
	for _, family := range goldenFamilies {
		t.Run(family, func(t *testing.T) {
			cfg, g := readGoldens(t, family)
			data, err := os.ReadFile(filepath.Join(goldenDir(family), "bf16_vs_f32.json"))
			if err != nil {
				t.Fatal(err)
			}
			var hf hfBF16
			if err := json.Unmarshal(data, &hf); err != nil {
				t.Fatal(err)
			}
			m, err := Random(cfg, g.WeightsSeed, Options{Compute: ComputeBF16})
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range g.Cases {
				if i >= len(hf.Cases) || hf.Cases[i].Name != c.Name {
					t.Fatalf("bf16_vs_f32.json does not list case %s at %d: rerun text_bf16_fidelity.py", c.Name, i)
				}
				bound := hf.Cases[i].HFB16
				f, err := safetensors.Open(filepath.Join(goldenDir(family), c.File))
				if err != nil {
					t.Fatal(err)
				}
				gt := goldenTensors{t, f}
				n := c.PromptLength
				cache, err := m.NewCache(n)
				if err != nil {
					t.Fatal(err)
				}
				logits, err := m.Prefill(context.Background(), cache, goldenInput(t, m, gt, c.InputIDs))
				if err != nil {
					t.Fatal(err)
				}
				sub, want := gt.ints("subset_ids"), gt.f32("logits_subset")
				var worst, scale, dot, gg, ww float64
				for r := range n {
					row := logits.Row(r)
					for j, id := range sub {
						x, y := float64(row[id]), float64(want[r*len(sub)+j])
						worst, scale = max(worst, math.Abs(x-y)), max(scale, math.Abs(y))
						dot, gg, ww = dot+x*y, gg+x*x, ww+y*y
					}
				}
				rel, omc := worst/scale, 1-dot/math.Sqrt(gg*ww)
				t.Logf("FIDELITY-BF16 %s %s rel=%.3g 1-cos=%.3g (HF bf16: rel=%.3g 1-cos=%.3g)", family, c.Name, rel, omc, bound.Rel, bound.OneMinCos)
				if !(rel <= bound.Rel) || !(omc <= bound.OneMinCos) {
					t.Errorf("%s %s: bf16 compute rel %.3g, 1−cos %.3g: above HF bfloat16's %.3g, %.3g", family, c.Name, rel, omc, bound.Rel, bound.OneMinCos)
				}
				f.Close()
			}
		})
	}
}
