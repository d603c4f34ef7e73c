package text

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// The goldens of testdata/text/tiny (tools/reference/text_goldens.py, transformers 5.24.0, see
// testdata/text/README.md when present): a tiny random Qwen3-VL whose weights follow the synth
// rules (seed 7), five prompts (text, image, two images, video, multi-turn) with the logits of
// every prompt position and 32 greedy decode steps on a vocabulary subset (plus the full-vocab
// argmax), and 64 greedy tokens.

const goldenDir = "../testdata/text/tiny"

// goldenTolerance bounds the error of every compared logit relative to the largest logit
// magnitude of its case: |got − want| ≤ goldenTolerance · max|want|.
const goldenTolerance = 1e-5

type goldenCase struct {
	Name          string     `json:"name"`
	PromptLength  int        `json:"prompt_length"`
	InputIDs      []int32    `json:"input_ids"`
	RopeDeltas    int        `json:"rope_deltas"`
	DecodePos     [][]int    `json:"decode_position_ids"` // [text, T, H, W] of decode steps 1…
	DecodeSteps   int        `json:"decode_steps"`
	GeneratedIDs  []int32    `json:"generated_ids"`
	MinMargin     float64    `json:"min_margin"`
	File          string     `json:"file"`
	ImageGrids    [][3]int   `json:"image_grid_thw"`
	VideoGrids    [][3]int   `json:"video_grid_thw"`
	DeepstackSets []int      `json:"deepstack_layers"`
	Tensors       goldenMeta `json:"tensors"`
}

type goldenMeta map[string]json.RawMessage

type goldenFile struct {
	WeightsSeed uint64       `json:"weights_seed"`
	Cases       []goldenCase `json:"cases"`
}

func readGoldens(t *testing.T) (Config, *goldenFile) {
	t.Helper()
	cfg, err := ReadConfig(filepath.Join(goldenDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(goldenDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	return cfg, &g
}

// goldenTensors is one case's safetensors file.
type goldenTensors struct {
	t *testing.T
	f *safetensors.File
}

func (g goldenTensors) f32(name string) []float32 {
	v, err := g.f.Float32(name)
	if err != nil {
		g.t.Fatal(err)
	}
	return v
}

func (g goldenTensors) ints(name string) []int {
	v, err := g.f.Int64(name)
	if err != nil {
		g.t.Fatal(err)
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func (g goldenTensors) has(name string) bool {
	_, ok := g.f.Info(name)
	return ok
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// TestGoldenDecoder runs the decoder on the reference's own inputs (inputs_embeds with the
// visual rows scattered, the MRoPE positions, the visual mask and DeepStack rows it fed
// Qwen3VLTextModel), prefill then 32 decode steps of the generated tokens, and compares the
// logits on the subset at every row, the full-vocabulary argmax and max at every row, the
// hidden states after every layer, and then 64 greedy tokens.
func TestGoldenDecoder(t *testing.T) {
	cfg, g := readGoldens(t)
	m, err := Random(cfg, g.WeightsSeed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			f, err := safetensors.Open(filepath.Join(goldenDir, c.File))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			gt := goldenTensors{t, f}
			n, d := c.PromptLength, cfg.HiddenSize
			ids := c.InputIDs
			if len(ids) != n {
				t.Fatalf("%d ids, prompt length %d", len(ids), n)
			}
			// Our embeddings of the text rows are the reference's, exactly.
			ref := gt.f32("inputs_embeds")
			ours, err := m.Embed(ids)
			if err != nil {
				t.Fatal(err)
			}
			var visual []bool
			if gt.has("visual_pos_mask") {
				visual = make([]bool, n)
				for i, v := range gt.ints("visual_pos_mask") {
					visual[i] = v != 0
				}
			}
			for i := 0; i < n; i++ {
				if visual != nil && visual[i] {
					continue
				}
				for k := 0; k < d; k++ {
					if ours.Data[i*d+k] != ref[i*d+k] {
						t.Fatalf("embedding of token %d (row %d) differs from the reference's", ids[i], i)
					}
				}
			}
			p := gt.ints("position_ids")
			pos := textjoin.Positions{p[:n], p[n : 2*n], p[2*n:]}
			var ds []Matrix
			for k := range c.DeepstackSets {
				v := gt.f32("deepstack." + string(rune('0'+k)))
				ds = append(ds, Matrix{Rows: len(v) / d, Cols: d, Data: v})
			}
			hidden := map[int][]float32{}
			tctx := WithTrace(ctx, func(tr Trace) {
				if tr.Name == "layer_out" || tr.Name == "deepstack" {
					hidden[tr.Layer] = append([]float32(nil), tr.Matrix.Data...)
				}
			})
			cache, err := m.NewCache(n + 64)
			if err != nil {
				t.Fatal(err)
			}
			embeds := Matrix{Rows: n, Cols: d, Data: ref}
			logits, err := m.Prefill(tctx, cache, Input{IDs: ids, Embeds: &embeds, Positions: pos, Visual: visual, Deepstack: ds, AllLogits: true})
			if err != nil {
				t.Fatal(err)
			}
			for l := 0; l < cfg.NumLayers; l++ {
				want := gt.f32("hidden." + string(rune('0'+l)))
				scale := 0.0
				for _, w := range want {
					scale = max(scale, math.Abs(float64(w)))
				}
				t.Logf("hidden after layer %d: max abs error %.3g (max |h| %.3g)", l, maxAbsDiff(hidden[l], want), scale)
			}
			rows := make([][]float32, 0, n+c.DecodeSteps)
			for i := 0; i < n; i++ {
				rows = append(rows, logits.Row(i))
			}
			for k := 0; k < c.DecodeSteps; k++ {
				at := textjoin.DecodePosition(n+k, c.RopeDeltas)
				if dp := c.DecodePos[k]; dp[0] != n+k || dp[1] != at || dp[2] != at || dp[3] != at {
					t.Fatalf("decode step %d: the reference fed positions %v, DecodePosition gives %d", k+1, dp, at)
				}
				row, err := m.Decode(ctx, cache, c.GeneratedIDs[k], at)
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, row)
			}
			sub := gt.ints("subset_ids")
			want := gt.f32("logits_subset")
			wantMax := gt.f32("logits_max")
			wantArg := gt.ints("logits_argmax")
			var scale, worst float64
			for _, w := range want {
				scale = max(scale, math.Abs(float64(w)))
			}
			argDiff := 0
			for r, row := range rows {
				for j, id := range sub {
					worst = max(worst, math.Abs(float64(row[id])-float64(want[r*len(sub)+j])))
				}
				worst = max(worst, math.Abs(float64(row[argmax(row)])-float64(wantMax[r])))
				if argmax(row) != wantArg[r] {
					argDiff++
				}
			}
			rel := worst / scale
			t.Logf("%d rows (%d prompt, %d decode): max abs error %.3g, relative to max |logit| %.3g: %.3g; argmax differs at %d rows",
				len(rows), n, c.DecodeSteps, worst, scale, rel, argDiff)
			if rel > goldenTolerance {
				t.Errorf("logits: relative error %.3g > %g", rel, goldenTolerance)
			}
			if argDiff != 0 {
				t.Errorf("argmax differs at %d of %d rows", argDiff, len(rows))
			}

			// Greedy: 64 tokens from a fresh cache.
			cache.Reset()
			last, err := m.Prefill(ctx, cache, Input{IDs: ids, Embeds: &embeds, Positions: pos, Visual: visual, Deepstack: ds})
			if err != nil {
				t.Fatal(err)
			}
			next := int32(argmax(last.Data))
			for k := 0; k < len(c.GeneratedIDs); k++ {
				if next != c.GeneratedIDs[k] {
					t.Fatalf("greedy token %d: %d, want %d", k, next, c.GeneratedIDs[k])
				}
				if k == len(c.GeneratedIDs)-1 {
					break
				}
				row, err := m.Decode(ctx, cache, next, textjoin.DecodePosition(n+k, c.RopeDeltas))
				if err != nil {
					t.Fatal(err)
				}
				next = int32(argmax(row))
			}
		})
	}
}
