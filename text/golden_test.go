package text

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// The goldens of testdata/text/tiny (tools/reference/text_goldens.py, transformers 5.24.0, see
// testdata/text/README.md when present): a tiny random Qwen3-VL whose weights follow the synth
// rules (seed 7), five prompts (text, image, two images, video, multi-turn) with the logits of
// every prompt position and 32 greedy decode steps on a vocabulary subset (plus the full-vocab
// argmax), and 64 greedy tokens.

// goldenFamilies are the folders of testdata/text: tiny (4 layers of width 64, the tiny
// tower, tied embeddings), tiny-untied (the same with its own lm_head: varied greedy tokens)
// tiny-moe (the mixture-of-experts decoder at tiny width: 8 experts, top-2, one dense layer)
// and 2b-short (the 2B text shapes with 2 layers, the released 2B tower; skipped in -short
// mode).
var goldenFamilies = []string{"tiny", "tiny-untied", "tiny-moe", "2b-short"}

// slowFamilies are the golden families -short skips.
var slowFamilies = []string{"2b-short"}

func goldenDir(family string) string { return filepath.Join("../testdata/text", family) }

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

func readGoldens(t *testing.T, family string) (Config, *goldenFile) {
	t.Helper()
	if testing.Short() && slices.Contains(slowFamilies, family) {
		t.Skip("the 2B shapes take seconds")
	}
	cfg, err := ReadConfig(filepath.Join(goldenDir(family), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(goldenDir(family), "cases.json"))
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
	for _, family := range goldenFamilies {
		t.Run(family, func(t *testing.T) { goldenDecoder(t, family) })
	}
}

// goldenInput is the prefill input the reference fed its text model in case gt (ids the
// prompt): the embeddings with the visual rows scattered (goldenEmbeds), the MRoPE positions,
// the visual mask and the DeepStack rows, with logits at every row.
func goldenInput(t *testing.T, m *Model, gt goldenTensors, ids []int32) Input {
	n, d := len(ids), m.cfg.HiddenSize
	var visual []bool
	if gt.has("visual_pos_mask") {
		visual = make([]bool, n)
		for i, v := range gt.ints("visual_pos_mask") {
			visual[i] = v != 0
		}
	}
	embeds := goldenEmbeds(t, m, gt, ids, visual, m.weights == WeightsF32)
	p := gt.ints("position_ids")
	pos := textjoin.Positions{p[:n], p[n : 2*n], p[2*n:]}
	var ds []Matrix
	for k := 0; gt.has("deepstack." + strconv.Itoa(k)); k++ {
		v := gt.f32("deepstack." + strconv.Itoa(k))
		ds = append(ds, Matrix{Rows: len(v) / d, Cols: d, Data: v})
	}
	return Input{IDs: ids, Embeds: &embeds, Positions: pos, Visual: visual, Deepstack: ds, AllLogits: true}
}

// goldenEmbeds returns the reference's inputs_embeds: stored whole (tiny), or rebuilt from
// embed_tokens rows and the stored visual rows (2b-short stores inputs_embeds.visual), after
// checking our text rows against what is stored when exact (a model with float32 weights; in
// bf16 the table is rounded).
func goldenEmbeds(t *testing.T, m *Model, gt goldenTensors, ids []int32, visual []bool, exact bool) Matrix {
	n, d := len(ids), m.cfg.HiddenSize
	ours, err := m.Embed(ids)
	if err != nil {
		t.Fatal(err)
	}
	if gt.has("inputs_embeds") {
		ref := gt.f32("inputs_embeds")
		for i := 0; i < n; i++ {
			if exact && (visual == nil || !visual[i]) && maxAbsDiff(ours.Row(i), ref[i*d:(i+1)*d]) != 0 {
				t.Fatalf("embedding of token %d (row %d) differs from the reference's", ids[i], i)
			}
		}
		return Matrix{Rows: n, Cols: d, Data: ref}
	}
	if exact && maxAbsDiff(ours.Row(n-1), gt.f32("inputs_embeds.last")) != 0 {
		t.Fatalf("embedding of the last token differs from the reference's")
	}
	if visual != nil {
		rows, j := gt.f32("inputs_embeds.visual"), 0
		for i, v := range visual {
			if v {
				copy(ours.Row(i), rows[j*d:(j+1)*d])
				j++
			}
		}
	}
	return ours
}

func goldenDecoder(t *testing.T, family string) {
	cfg, g := readGoldens(t, family)
	m, err := Random(cfg, g.WeightsSeed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			f, err := safetensors.Open(filepath.Join(goldenDir(family), c.File))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			gt := goldenTensors{t, f}
			n, d := c.PromptLength, cfg.HiddenSize
			ids := c.InputIDs
			if distinct := len(distinctIDs(c.GeneratedIDs)); !cfg.TieWordEmbeddings && distinct < len(c.GeneratedIDs)/2 {
				t.Fatalf("an untied family's greedy tokens are %d distinct ids of %d: the golden is degenerate", distinct, len(c.GeneratedIDs))
			}
			if len(ids) != n {
				t.Fatalf("%d ids, prompt length %d", len(ids), n)
			}
			in := goldenInput(t, m, gt, ids)
			hidden, router := map[int][]float32{}, map[int][]float32{}
			tctx := WithTrace(ctx, func(tr Trace) {
				switch tr.Name {
				case "layer_out", "deepstack":
					hidden[tr.Layer] = append([]float32(nil), tr.Matrix.Data...)
				case "router":
					router[tr.Layer] = append([]float32(nil), tr.Matrix.Data...)
				}
			})
			cache, err := m.NewCache(n + len(c.GeneratedIDs))
			if err != nil {
				t.Fatal(err)
			}
			logits, err := m.Prefill(tctx, cache, in)
			if err != nil {
				t.Fatal(err)
			}
			for l := 0; l < cfg.NumLayers; l++ {
				name := "hidden." + strconv.Itoa(l)
				got, want := hidden[l], []float32(nil)
				if gt.has(name) {
					want = gt.f32(name)
				} else {
					got, want = got[(n-1)*d:], gt.f32(name+".last")
				}
				scale := 0.0
				for _, w := range want {
					scale = max(scale, math.Abs(float64(w)))
				}
				t.Logf("hidden after layer %d (%d rows): max abs error %.3g (max |h| %.3g)", l, len(want)/d, maxAbsDiff(got, want), scale)
			}
			goldenRouting(t, m, gt, router, n)
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
			compareLogits(t, gt, rows, n, c.DecodeSteps)

			greedy(t, m, cache, rows, n, c.RopeDeltas, c.GeneratedIDs)
		})
	}
}

// goldenRouting checks every sparse layer's prefill routing against the reference's router
// output (router.l.experts, router.l.weights): the same k experts of every token in the same
// order, weights within 1e-5, from our own router logits (traced).
func goldenRouting(t *testing.T, m *Model, gt goldenTensors, router map[int][]float32, n int) {
	t.Helper()
	cfg := m.cfg
	if cfg.MoE == nil {
		return
	}
	k, checked := cfg.MoE.TopK, 0
	for l := range m.layers {
		name := "router." + strconv.Itoa(l)
		if !cfg.Sparse(l) {
			if gt.has(name + ".experts") {
				t.Fatalf("layer %d is dense here, sparse in the reference", l)
			}
			continue
		}
		s := newMoEScratch(cfg.MoE, n, cfg.HiddenSize)
		copy(s.logits, router[l])
		m.layers[l].moe.route(s, n)
		want, wantW := gt.ints(name+".experts"), gt.f32(name+".weights")
		var worst float64
		for p, x := range want {
			if int(s.sel[p]) != x {
				t.Fatalf("layer %d token %d slot %d: expert %d, the reference's %d", l, p/k, p%k, s.sel[p], x)
			}
			worst = max(worst, math.Abs(float64(s.weight[p])-float64(wantW[p])))
		}
		if worst > 1e-5 {
			t.Errorf("layer %d: routing weights off the reference's by %.3g", l, worst)
		}
		checked++
	}
	t.Logf("routing of %d sparse layers × %d tokens identical (top-%d experts in order)", checked, n, k)
}

// compareLogits checks the rows (prompt rows, then decode steps) against the case's logits:
// the subset at every row and the full-vocabulary max within goldenTolerance of the largest
// |logit|, the argmax equal at every row.
func compareLogits(t *testing.T, gt goldenTensors, rows [][]float32, n, steps int) {
	t.Helper()
	sub, want := gt.ints("subset_ids"), gt.f32("logits_subset")
	wantMax, wantArg := gt.f32("logits_max"), gt.ints("logits_argmax")
	if len(rows) != len(wantArg) {
		t.Fatalf("%d rows, the golden has %d", len(rows), len(wantArg))
	}
	var scale, worst float64
	for _, w := range want {
		scale = max(scale, math.Abs(float64(w)))
	}
	argDiff := 0
	for r, row := range rows {
		for j, id := range sub {
			worst = max(worst, math.Abs(float64(row[id])-float64(want[r*len(sub)+j])))
		}
		a := argmax(row)
		worst = max(worst, math.Abs(float64(row[a])-float64(wantMax[r])))
		if a != wantArg[r] {
			argDiff++
		}
	}
	rel := worst / scale
	t.Logf("%d rows (%d prompt, %d decode): logits max abs error %.3g, relative to max |logit| %.3g: %.3g; argmax differs at %d rows",
		len(rows), n, steps, worst, scale, rel, argDiff)
	if rel > goldenTolerance {
		t.Errorf("logits: relative error %.3g > %g", rel, goldenTolerance)
	}
	if argDiff != 0 {
		t.Errorf("argmax differs at %d of %d rows", argDiff, len(rows))
	}
}

// greedy checks greedy decoding: rows are the logits of the n prompt rows and of the decode
// steps that fed want[0 … steps−1] (cache holds all of them), so row n−1+k must have argmax
// want[k] for k ≤ steps; then it decodes on from the cache, feeding its own argmax, to the end
// of want.
func greedy(t *testing.T, m *Model, cache *Cache, rows [][]float32, n, delta int, want []int32) {
	t.Helper()
	steps := len(rows) - n
	for k := 0; k <= steps && k < len(want); k++ {
		if got := int32(argmax(rows[n-1+k])); got != want[k] {
			t.Fatalf("greedy token %d: %d, want %d", k, got, want[k])
		}
	}
	next := int32(argmax(rows[len(rows)-1]))
	for k := steps + 1; k < len(want); k++ {
		row, err := m.Decode(context.Background(), cache, next, textjoin.DecodePosition(n+k-1, delta))
		if err != nil {
			t.Fatal(err)
		}
		if next = int32(argmax(row)); next != want[k] {
			t.Fatalf("greedy token %d: %d, want %d", k, next, want[k])
		}
	}
	t.Logf("%d greedy tokens identical", len(want))
}

func distinctIDs(ids []int32) map[int32]bool {
	m := map[int32]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}
