package text

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// TestComputeBF16 checks the wiring of Options.Compute: a bf16-compute decoder holds bf16
// weights, reports ComputeBF16, and its prefill and decode logits differ from the float32
// decoder's (the rounding is applied) by bfloat16-sized amounts (a sanity check, not the
// fidelity measurement: docs/FIDELITY.md has that), for the dense and the MoE tiny configs;
// where the CPU or build lacks the instructions, ComputeBF16 is refused with ErrNoBF16.
func TestComputeBF16(t *testing.T) {
	for _, family := range []string{"tiny", "tiny-moe"} {
		t.Run(family, func(t *testing.T) {
			cfg, g := readGoldens(t, family)
			if !kernels.BF16Dot() {
				if _, err := Random(cfg, g.WeightsSeed, Options{Compute: ComputeBF16}); !errors.Is(err, checkpoint.ErrNoBF16) {
					t.Fatalf("ComputeBF16 without the instructions: %v, want ErrNoBF16", err)
				}
				t.Skipf("no AVX512_BF16 assembly here (bf16: %s): only the refusal is tested", kernels.BF16())
			}
			f32, err := Random(cfg, g.WeightsSeed, Options{})
			if err != nil {
				t.Fatal(err)
			}
			bf, err := Random(cfg, g.WeightsSeed, Options{Compute: ComputeBF16})
			if err != nil {
				t.Fatal(err)
			}
			if bf.Compute() != ComputeBF16 || bf.Weights() != WeightsBF16 || f32.Compute() != ComputeF32 {
				t.Fatalf("compute %v weights %v (f32 model: %v)", bf.Compute(), bf.Weights(), f32.Compute())
			}
			if _, err := Random(cfg, g.WeightsSeed, Options{Compute: ComputeBF16, Weights: WeightsF32}); err == nil {
				t.Fatal("ComputeBF16 with WeightsF32 accepted")
			}
			ids := g.Cases[0].InputIDs
			n := len(ids)
			run := func(m *Model) [][]float32 {
				ctx := context.Background()
				cache, err := m.NewCache(n + 4)
				if err != nil {
					t.Fatal(err)
				}
				p := make([]int, n)
				for i := range p {
					p[i] = i
				}
				logits, err := m.Prefill(ctx, cache, Input{IDs: ids, Positions: textjoin.Positions{p, p, p}})
				if err != nil {
					t.Fatal(err)
				}
				rows := [][]float32{logits.Row(logits.Rows - 1)}
				for k := range 4 {
					row, err := m.Decode(ctx, cache, ids[k], n+k)
					if err != nil {
						t.Fatal(err)
					}
					rows = append(rows, row)
				}
				return rows
			}
			want, got := run(f32), run(bf)
			for r := range want {
				var diff, scale float64
				for i, w := range want[r] {
					diff = max(diff, math.Abs(float64(got[r][i])-float64(w)))
					scale = max(scale, math.Abs(float64(w)))
				}
				rel := diff / scale
				t.Logf("row %d: max |bf16 − f32| / max |f32| = %.3g", r, rel)
				if !(rel > 0 && rel < 0.05) {
					t.Errorf("row %d: relative difference %.3g, want in (0, 0.05): bf16 rounding missing or broken", r, rel)
				}
			}
		})
	}
}
