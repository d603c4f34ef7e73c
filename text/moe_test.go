package text

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/internal/synth"
)

// smallMoE is a small mixture-of-experts decoder: layers 0 and 2 sparse (6 experts of width 24,
// top-2), layer 1 dense; no expert tensor is square, so a transposed read cannot pass.
func smallMoE() Config {
	c := small(false)
	c.MoE = &MoE{NumExperts: 6, TopK: 2, IntermediateSize: 24, DecoderSparseStep: 1, MLPOnlyLayers: []int{1}}
	return c
}

const smallMoEJSON = `{"model_type": "qwen3_vl_moe", "tie_word_embeddings": false, "text_config": {
	"model_type": "qwen3_vl_moe_text", "vocab_size": 300, "hidden_size": 32, "intermediate_size": 48,
	"num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
	"max_position_embeddings": 4096, "num_local_experts": 6, "num_experts_per_tok": 2,
	"moe_intermediate_size": 24, "decoder_sparse_step": 1, "mlp_only_layers": [1], "norm_topk_prob": true,
	"rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [4, 2, 2], "mrope_interleaved": true}}}`

func TestParseMoEConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(smallMoEJSON))
	if err != nil {
		t.Fatal(err)
	}
	if want := smallMoE(); !cfg.Equal(want) {
		t.Fatalf("parsed %+v %+v\nwant %+v %+v", cfg, cfg.MoE, want, want.MoE)
	}
	for l, sparse := range []bool{true, false, true} {
		if cfg.Sparse(l) != sparse {
			t.Errorf("layer %d sparse = %v", l, !sparse)
		}
	}
	step := smallMoE()
	step.MoE.DecoderSparseStep, step.MoE.MLPOnlyLayers = 2, nil
	if step.Sparse(0) || !step.Sparse(1) || step.Sparse(2) {
		t.Error("decoder_sparse_step 2: want only layer 1 sparse")
	}
	// Defaults of Qwen3VLMoeTextConfig; num_experts spelled either way.
	d, err := ParseConfig([]byte(`{"model_type": "qwen3_vl_moe", "text_config": {"num_experts": 64}}`))
	if err != nil || d.MoE == nil || d.MoE.NumExperts != 64 || d.MoE.TopK != 4 || d.MoE.IntermediateSize != 1408 || d.MoE.DecoderSparseStep != 1 {
		t.Errorf("defaults: %+v %v", d.MoE, err)
	}
	if d.HiddenSize != 2048 || d.NumLayers != 24 || d.NumHeads != 16 || d.NumKVHeads != 16 || d.HeadDim != 128 || d.IntermediateSize != 5632 {
		t.Errorf("Qwen3VLMoeTextConfig's defaults: %+v", d)
	}
	if h, _ := ParseConfig([]byte(`{"model_type": "qwen3_vl_moe", "text_config": {"hidden_size": 1024, "num_attention_heads": 8, "num_key_value_heads": 4}}`)); h.HeadDim != 128 {
		t.Errorf("head_dim left out: %d, want hidden_size // heads = 128", h.HeadDim)
	}
	if dense, _ := ParseConfig([]byte(`{"model_type": "qwen3_vl", "text_config": {"num_experts": 64}}`)); dense.MoE != nil {
		t.Error("a dense config has MoE fields")
	}
	bare, err := ParseConfig([]byte(`{"model_type": "qwen3_vl_moe_text", "num_hidden_layers": 2, "num_experts": 4, "num_experts_per_tok": 4}`))
	if err != nil || bare.MoE == nil || bare.MoE.TopK != 4 {
		t.Errorf("bare MoE text config: %+v %v", bare.MoE, err)
	}
	for _, c := range []struct{ name, edit, err string }{
		{"top-k above experts", `"num_experts_per_tok": 7`, "num_experts_per_tok = 7: more than num_experts = 6"},
		{"no experts", `"num_local_experts": 0`, "num_experts = 0: must be positive"},
		{"top-k zero", `"num_experts_per_tok": 0`, "num_experts_per_tok = 0"},
		{"expert width", `"moe_intermediate_size": -3`, "moe_intermediate_size = -3"},
		{"sparse step", `"decoder_sparse_step": 0`, "decoder_sparse_step = 0"},
		{"layer out of range", `"mlp_only_layers": [1, 3]`, "mlp_only_layers[1] = 3: not a layer of num_hidden_layers = 3"},
		{"negative layer", `"mlp_only_layers": [-1]`, "mlp_only_layers[0] = -1"},
		{"too many experts", `"num_local_experts": 100000`, "num_experts = 100000: larger than"},
		{"too wide", `"num_local_experts": 4000, "moe_intermediate_size": 100000`, "num_experts×moe_intermediate_size"},
		{"two names disagree", `"num_experts": 5`, "num_experts = 5 and num_local_experts = 6 disagree"},
		{"raw weights", `"norm_topk_prob": false`, "norm_topk_prob = false is not supported"},
		{"wrong type", `"mlp_only_layers": "1"`, "field mlp_only_layers"},
		{"text type", `"model_type": "qwen3_vl_text"`, `text_config.model_type "qwen3_vl_text" in a qwen3_vl_moe config`},
	} {
		// The edit's fields replace the originals (a later duplicate key wins in encoding/json).
		data := strings.Replace(smallMoEJSON, `"model_type": "qwen3_vl_moe_text",`, `"model_type": "qwen3_vl_moe_text", `+c.edit+`,`, 1)
		if strings.Contains(c.edit, "model_type") {
			data = strings.Replace(smallMoEJSON, `"model_type": "qwen3_vl_moe_text"`, c.edit, 1)
		}
		data = strings.Replace(data, `"norm_topk_prob": true`, `"norm_topk_prob": true, `+c.edit, 1)
		_, err := ParseConfig([]byte(data))
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.err)
		}
	}
	if _, err := ParseConfig([]byte(`{"model_type": "qwen2_vl", "text_config": {}}`)); err == nil || !strings.Contains(err.Error(), "qwen3_vl_moe") {
		t.Errorf("another model type: %v", err)
	}
}

// layerWeights reads the module-layout weights of a sparse layer of m's synthetic source.
func layerWeights(t *testing.T, cfg Config, seed uint64, l int) moeWeights {
	t.Helper()
	src := newSyntheticSource(cfg, seed)
	p := fmt.Sprintf("%slayers.%d.mlp.", Prefix, l)
	get := func(name string) []float32 {
		v, err := src.float32s(p + name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	m := cfg.MoE
	return moeWeights{e: m.NumExperts, k: m.TopK, d: cfg.HiddenSize, ie: m.IntermediateSize,
		router: get("gate.weight"), gateUp: get("experts.gate_up_proj"), down: get("experts.down_proj")}
}

// TestMoEMatchesReference: the block (routing, grouping by expert, one GEMM per expert over its
// rows, the weighted sum) gives moeRef's output and experts, for a prefill of many rows and
// for each row alone (a decode step, which reads only its k experts).
func TestMoEMatchesReference(t *testing.T) {
	cfg := smallMoE()
	for _, threads := range []int{1, 3} {
		m, err := Random(cfg, 11, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []int{0, 2} {
			b := m.layers[l].moe
			if b == nil || m.layers[l].gate != nil || m.layers[1].moe != nil {
				t.Fatalf("layer %d: the sparse layers are not 0 and 2", l)
			}
			w := layerWeights(t, cfg, 11, l)
			n, d := 37, cfg.HiddenSize
			h := make([]float32, n*d)
			synth.Fill(h, uint64(l), "h", 2, 0)
			copy(h[5*d:6*d], h[2*d:3*d]) // a repeated row routes alike
			want, chosen := moeRef(w, h, n)
			s := newMoEScratch(cfg.MoE, n, d)
			got := make([]float32, n*d)
			if err := b.forward(context.Background(), got, h, s, kernels.SiLUMul, n, d, threads, l, nil); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				sel := make([]int, cfg.MoE.TopK)
				for j := range sel {
					sel[j] = int(s.sel[i*cfg.MoE.TopK+j])
				}
				if !slices.Equal(sel, chosen[i]) {
					t.Fatalf("layer %d token %d: experts %v, the reference's %v", l, i, sel, chosen[i])
				}
			}
			scale := 0.0
			for _, v := range want {
				scale = max(scale, math.Abs(float64(v)))
			}
			if e := maxAbsDiff(got, want) / scale; e > 1e-6 {
				t.Errorf("threads %d layer %d: prefill of %d rows off the reference by %.3g (relative)", threads, l, n, e)
			}
			one := newMoEScratch(cfg.MoE, 1, d)
			for i := 0; i < n; i++ {
				row := make([]float32, d)
				if err := b.forward(context.Background(), row, h[i*d:(i+1)*d], one, kernels.SiLUMul, 1, d, threads, l, nil); err != nil {
					t.Fatal(err)
				}
				if e := maxAbsDiff(row, want[i*d:(i+1)*d]) / scale; e > 1e-6 {
					t.Fatalf("threads %d layer %d: row %d alone off the reference by %.3g", threads, l, i, e)
				}
			}
		}
	}
}

// TestDecodeMatchesPrefillMoE: as TestDecodeMatchesPrefill, for the MoE decoder.
func TestDecodeMatchesPrefillMoE(t *testing.T) {
	ctx := context.Background()
	m, err := Random(smallMoE(), 3, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ids := []int32{1, 17, 299, 42, 42, 8, 100, 3, 250, 0, 77}
	n := len(ids)
	full, _ := m.NewCache(32)
	want, err := m.Prefill(ctx, full, Input{IDs: ids, AllLogits: true})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := m.NewCache(32)
	if _, err := m.Prefill(ctx, c, Input{IDs: ids[:n-4]}); err != nil {
		t.Fatal(err)
	}
	for i := n - 4; i < n; i++ {
		got, err := m.Decode(ctx, c, ids[i], i)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(got, want.Row(i)); d > 1e-5 {
			t.Errorf("decode of token %d differs from the prefill by %g", i, d)
		}
	}
}

// writeMoECheckpoint writes cfg's synthetic weights (seed 9) as a checkpoint folder, the
// experts in the released layout [E, in, out] or the module layout, float32 or bf16; edit may
// change the tensor list first.
func writeMoECheckpoint(t *testing.T, cfg Config, released, bf16 bool, edit func([]safetensors.Tensor) []safetensors.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	src := newSyntheticSource(cfg, 9)
	var ts []safetensors.Tensor
	for _, s := range cfg.Tensors() {
		v, _ := src.float32s(s.Name)
		shape := s.Shape
		if released && s.AltShape != nil {
			shape = s.AltShape
			e, out, in := s.Shape[0], s.Shape[1], s.Shape[2]
			tv := make([]float32, len(v))
			for x := 0; x < e; x++ {
				for o := 0; o < out; o++ {
					for i := 0; i < in; i++ {
						tv[(x*in+i)*out+o] = v[(x*out+o)*in+i]
					}
				}
			}
			v = tv
		}
		if bf16 {
			ts = append(ts, safetensors.BF16Tensor(s.Name, shape, v))
		} else {
			ts = append(ts, safetensors.F32Tensor(s.Name, shape, v))
		}
	}
	if edit != nil {
		ts = edit(ts)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(smallMoEJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLoadMoE: a qwen3_vl_moe checkpoint loads with its experts in either layout (the released
// [E, in, out] and transformers' [E, out, in]) to the weights Random draws, f32 exactly; bf16 is
// kept as bf16; a missing or misshaped expert tensor is refused before any is read, by name.
func TestLoadMoE(t *testing.T) {
	ctx := context.Background()
	cfg := smallMoE()
	ref, _ := Random(cfg, 9, Options{Threads: 1})
	ids := []int32{5, 6, 7, 200, 31}
	c2, _ := ref.NewCache(len(ids))
	want, _ := ref.Prefill(ctx, c2, Input{IDs: ids, AllLogits: true})
	for _, tc := range []struct{ released, bf16 bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		dir := writeMoECheckpoint(t, cfg, tc.released, tc.bf16, nil)
		m, err := Load(ctx, dir, Options{Threads: 2})
		if err != nil {
			t.Fatalf("released %v bf16 %v: %v", tc.released, tc.bf16, err)
		}
		if !m.Config().Equal(cfg) || (m.Weights() == WeightsBF16) != tc.bf16 {
			t.Fatalf("released %v bf16 %v: config %+v, weights %v", tc.released, tc.bf16, m.Config(), m.Weights())
		}
		c1, _ := m.NewCache(len(ids))
		got, err := m.Prefill(ctx, c1, Input{IDs: ids, AllLogits: true})
		if err != nil {
			t.Fatal(err)
		}
		d := maxAbsDiff(got.Data, want.Data)
		if !tc.bf16 && d != 0 {
			t.Errorf("released %v: loaded f32 logits differ from Random's by %g", tc.released, d)
		}
		if tc.bf16 && (d == 0 || d > 0.1) {
			t.Errorf("released %v: loaded bf16 logits differ from Random's f32 by %g", tc.released, d)
		}
	}
	gateUp := Prefix + "layers.2.mlp.experts.gate_up_proj"
	down := Prefix + "layers.0.mlp.experts.down_proj"
	for _, tc := range []struct {
		name string
		edit func([]safetensors.Tensor) []safetensors.Tensor
		want []string
	}{
		{"missing expert tensor", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == gateUp })
		}, []string{"tensor " + gateUp + " is missing (want shape [6 48 32] or [6 32 48]"}},
		{"wrong expert shape", func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i, x := range ts {
				if x.Name == down {
					ts[i] = safetensors.F32Tensor(down, []int{5, 24, 32}, make([]float32, 5*24*32))
				}
			}
			return ts
		}, []string{"tensor " + down + " has shape [5 24 32], want [6 32 24] or [6 24 32]"}},
		{"missing router", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == Prefix+"layers.0.mlp.gate.weight" })
		}, []string{"tensor " + Prefix + "layers.0.mlp.gate.weight is missing (want shape [6 32])"}},
		{"a dense checkpoint", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return strings.Contains(x.Name, "layers.0.mlp.") })
		}, []string{"layers.0.mlp.gate.weight is missing", "layers.0.mlp.experts.down_proj is missing"}},
	} {
		dir := writeMoECheckpoint(t, cfg, true, false, tc.edit)
		_, err := Load(ctx, dir, Options{})
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant one containing %q", tc.name, err, w)
			}
		}
	}
	// Memory: every expert counts, not just the k a token reads.
	memAvailableFunc = func() (int64, bool) { return cfg.ResidentBytes(WeightsF32) - 1, true }
	defer func() { memAvailableFunc = memAvailable }()
	if _, err := Load(ctx, writeMoECheckpoint(t, cfg, true, false, nil), Options{Weights: WeightsF32}); err == nil || !strings.Contains(err.Error(), "MemAvailable") {
		t.Errorf("one byte short of the resident size: %v", err)
	}
}

// TestMoESizes: ParamCount, ResidentBytes and Costs count every expert of every sparse layer
// (and the router), FLOPs the k experts a token runs.
func TestMoESizes(t *testing.T) {
	c := smallMoE()
	d, e, ie, i := int64(32), int64(6), int64(24), int64(48)
	attn := 64*d + 2*32*d + d*64
	norms := 2*d + 2*16
	sparse := attn + e*d + e*3*ie*d + norms
	dense := attn + 3*i*d + norms
	want := 2*300*d + d + 2*sparse + dense
	if got := c.ParamCount(); got != want {
		t.Errorf("ParamCount %d, want %d", got, want)
	}
	allNorms := d + 3*norms
	if got, w := c.ResidentBytes(WeightsBF16), 2*(want-allNorms)+4*allNorms; got != w {
		t.Errorf("ResidentBytes(bf16) %d, want %d", got, w)
	}
	// One token after none: a sparse layer's Linears are q, k, v, o, the router and 2 of the 6
	// experts; attention over one key.
	layer := func(lin int64) int64 { return 2*lin + 4*64 }
	wantF := 2*layer(attn+e*d+2*3*ie*d) + layer(attn+3*i*d) + 2*300*d
	if got := FLOPs(c, 1, 0, 1); got != wantF {
		t.Errorf("FLOPs %d, want %d", got, wantF)
	}
}

func TestTraceMoE(t *testing.T) {
	m, _ := Random(smallMoE(), 2, Options{Threads: 1})
	c, _ := m.NewCache(4)
	var names []string
	ctx := WithTrace(context.Background(), func(tr Trace) {
		names = append(names, fmt.Sprintf("%d.%s%v", tr.Layer, tr.Name, []int{tr.Matrix.Rows, tr.Matrix.Cols}))
	})
	if _, err := m.Prefill(ctx, c, Input{IDs: []int32{1, 2}}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"0.router[2 6]", "0.layer_out[2 32]", "1.mlp[2 48]", "2.router[2 6]"} {
		if !strings.Contains(got, want) {
			t.Errorf("trace lacks %s: %s", want, got)
		}
	}
	if strings.Contains(got, "1.router") || strings.Contains(got, "0.mlp") {
		t.Errorf("a dense layer routes or a sparse one has an MLP: %s", got)
	}
}
