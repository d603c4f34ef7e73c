package text

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/internal/synth"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// small is a decoder small enough for exhaustive tests, with every feature of the real ones:
// GQA (4 heads on 2 kv heads), head_dim ≠ D/H, an mrope_section summing to hd/2.
func small(tied bool) Config {
	return Config{
		VocabSize: 300, HiddenSize: 32, IntermediateSize: 48, NumLayers: 3, NumHeads: 4,
		NumKVHeads: 2, HeadDim: 16, RMSNormEps: 1e-6, MaxPositionEmbeddings: 4096,
		HiddenAct: "silu", RopeTheta: 5e6, MRopeSection: [3]int{4, 2, 2},
		MRopeInterleaved: true, TieWordEmbeddings: tied,
	}
}

func TestParseConfig(t *testing.T) {
	data, err := os.ReadFile("../testdata/textjoin/checkpoint/config.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		VocabSize: 151680, HiddenSize: 32, IntermediateSize: 64, NumLayers: 3, NumHeads: 2,
		NumKVHeads: 1, HeadDim: 16, RMSNormEps: 1e-6, MaxPositionEmbeddings: 128000,
		HiddenAct: "silu", RopeTheta: 5e6, MRopeSection: [3]int{4, 2, 2}, MRopeInterleaved: true,
	}
	if cfg != want {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	for _, c := range []struct{ name, json, err string }{
		{"bare", `{"num_hidden_layers": 2, "hidden_size": 8, "num_attention_heads": 2, "num_key_value_heads": null, "head_dim": 4, "rope_parameters": {"rope_theta": 10000, "mrope_section": [1, 1, 0]}}`, ""},
		{"4.x rope_scaling", `{"num_hidden_layers": 2, "hidden_size": 8, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4, "rope_theta": 10000, "rope_scaling": {"type": "mrope", "mrope_section": [1, 1, 0]}}`, ""},
		{"not json", `[`, "not a JSON object"},
		{"kv default", `{"text_config": {"num_attention_heads": 16}}`, "multiple of num_key_value_heads = 32"},
		{"moe kv null", `{"model_type": "qwen3_vl_moe", "text_config": {"num_key_value_heads": null}}`, "num_key_value_heads is null"},
		{"neither", `{"depth": 3}`, "neither"},
		{"moe", `{"model_type": "qwen3_vl_moe", "text_config": {}}`, ""},
		{"other", `{"model_type": "qwen2_5_vl", "text_config": {}}`, "the text decoder runs qwen3_vl and qwen3_vl_moe only"},
		{"zero layers", `{"text_config": {"num_hidden_layers": 0}}`, "num_hidden_layers = 0"},
		{"huge vocab", `{"text_config": {"vocab_size": 1000000000}}`, "vocab_size"},
		{"gqa", `{"text_config": {"num_attention_heads": 32, "num_key_value_heads": 5}}`, "multiple of num_key_value_heads"},
		{"odd head", `{"text_config": {"head_dim": 7}}`, "even head_dim"},
		{"wide", `{"text_config": {"num_attention_heads": 200000, "num_key_value_heads": 1}}`, "num_attention_heads×head_dim"},
		{"section", `{"text_config": {"rope_parameters": {"mrope_section": [24, 20, 21]}}}`, "mrope_section"},
		{"section len", `{"text_config": {"rope_parameters": {"mrope_section": [24, 40]}}}`, "3 values"},
		{"rope type", `{"text_config": {"rope_parameters": {"rope_type": "yarn"}}}`, "rope_type"},
		{"theta", `{"text_config": {"rope_parameters": {"rope_theta": 0}}}`, "rope_theta"},
		{"eps", `{"text_config": {"rms_norm_eps": -1}}`, "rms_norm_eps"},
		{"act", `{"text_config": {"hidden_act": "gelu"}}`, "hidden_act"},
		{"bias", `{"text_config": {"attention_bias": true}}`, "attention_bias"},
		{"type", `{"text_config": {"hidden_size": "big"}}`, "field hidden_size"},
		{"tie type", `{"text_config": {}, "tie_word_embeddings": 1}`, "tie_word_embeddings"},
	} {
		_, err := ParseConfig([]byte(c.json))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.err)
		}
	}
	tied, err := ParseConfig([]byte(`{"text_config": {"tie_word_embeddings": false}, "tie_word_embeddings": true}`))
	if err != nil || !tied.TieWordEmbeddings || tied.NumKVHeads != tied.NumHeads {
		t.Errorf("top-level tie_word_embeddings and kv heads default: %+v, %v", tied, err)
	}
	// num_key_value_heads as transformers 5.24 reads it (checked there): left out, the class
	// default (32; MoE 16); null, the heads (dense only).
	for _, c := range []struct {
		json string
		want int
	}{
		{`{"text_config": {"num_attention_heads": 64}}`, 32},
		{`{"text_config": {"num_attention_heads": 64, "num_key_value_heads": null}}`, 64},
		{`{"model_type": "qwen3_vl_moe", "text_config": {"num_attention_heads": 32, "hidden_size": 4096}}`, 16},
	} {
		if cfg, err := ParseConfig([]byte(c.json)); err != nil || cfg.NumKVHeads != c.want {
			t.Errorf("%s: num_key_value_heads %d (%v), want %d", c.json, cfg.NumKVHeads, err, c.want)
		}
	}
}

func TestPresets(t *testing.T) {
	for _, name := range PresetNames() {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Parameter counts of the released sizes' decoders (tied: embed_tokens once).
	for name, want := range map[string]int64{"qwen3-vl-2b": 1_720_574_976, "qwen3-vl-4b": 4_022_468_096} {
		c, _ := Preset(name)
		if got := c.ParamCount(); got != want {
			t.Errorf("%s: %d parameters, want %d", name, got, want)
		}
	}
	if _, err := Preset("nope"); err == nil {
		t.Error("an unknown preset: no error")
	}
}

func TestTensors(t *testing.T) {
	for _, tied := range []bool{true, false} {
		c := small(tied)
		specs := c.Tensors()
		want := 1 + 11*c.NumLayers + 1
		if !tied {
			want++
		}
		if len(specs) != want {
			t.Fatalf("tied %v: %d tensors, want %d", tied, len(specs), want)
		}
		byName := map[string][]int{}
		var total int64
		for _, s := range specs {
			if _, dup := byName[s.Name]; dup {
				t.Fatalf("%s listed twice", s.Name)
			}
			if !IsTensor(s.Name) {
				t.Errorf("IsTensor(%s) = false", s.Name)
			}
			byName[s.Name] = s.Shape
			total += numel(s.Shape)
		}
		for name, shape := range map[string][]int{
			"model.language_model.embed_tokens.weight":                      {300, 32},
			"model.language_model.layers.2.self_attn.q_proj.weight":         {64, 32},
			"model.language_model.layers.0.self_attn.k_proj.weight":         {32, 32},
			"model.language_model.layers.1.self_attn.o_proj.weight":         {32, 64},
			"model.language_model.layers.1.self_attn.k_norm.weight":         {16},
			"model.language_model.layers.0.mlp.down_proj.weight":            {32, 48},
			"model.language_model.layers.2.post_attention_layernorm.weight": {32},
			"model.language_model.norm.weight":                              {32},
		} {
			if got := byName[name]; fmt.Sprint(got) != fmt.Sprint(shape) {
				t.Errorf("%s: shape %v, want %v", name, got, shape)
			}
		}
		if _, ok := byName[LMHead]; ok == tied {
			t.Errorf("tied %v: lm_head listed %v", tied, ok)
		}
		if c.ParamCount() != total {
			t.Errorf("ParamCount %d, want %d", c.ParamCount(), total)
		}
		// By formula: V·D (+ V·D untied) + D + L·(2D + 2hd + 2·D·H·hd + 2·D·G·hd + 3·D·I).
		d, v, hd, i := int64(32), int64(300), int64(16), int64(48)
		f := v*d + d + 3*(2*d+2*hd+2*d*64+2*d*32+3*d*i)
		if !tied {
			f += v * d
		}
		if total != f {
			t.Errorf("tied %v: %d parameters, formula %d", tied, total, f)
		}
	}
	if IsTensor("model.visual.blocks.0.norm1.weight") {
		t.Error("IsTensor of a vision tensor")
	}
}

func TestSyntheticScale(t *testing.T) {
	for _, c := range []struct {
		name          string
		shape         []int
		scale, offset float32
	}{
		{"model.language_model.layers.0.input_layernorm.weight", []int{64}, 0.1, 1},
		{"model.language_model.layers.3.self_attn.q_norm.weight", []int{128}, 0.1, 1},
		{"model.language_model.norm.weight", []int{64}, 0.1, 1},
		{"model.language_model.embed_tokens.weight", []int{151936, 64}, 1, 0},
		{"model.language_model.layers.0.mlp.down_proj.weight", []int{64, 128}, float32(1 / math.Sqrt(128)), 0},
		{"lm_head.weight", []int{151936, 64}, 0.125, 0},
	} {
		s, o := SyntheticScale(c.name, c.shape)
		if s != c.scale || o != c.offset {
			t.Errorf("%s: %g, %g; want %g, %g", c.name, s, o, c.scale, c.offset)
		}
	}
	// The weights are the synth streams of their full names.
	m, err := Random(small(true), 7, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 16)
	synth.Fill(want, 7, "model.language_model.layers.1.self_attn.k_norm.weight", 0.1, 1)
	if fmt.Sprint(m.layers[1].kNorm) != fmt.Sprint(want) {
		t.Error("k_norm is not its stream")
	}
	row := make([]float32, 32)
	m.embed.row(row, 5)
	all := make([]float32, 300*32)
	synth.Fill(all, 7, "model.language_model.embed_tokens.weight", 1, 0)
	if fmt.Sprint(row) != fmt.Sprint(all[5*32:6*32]) {
		t.Error("embed_tokens row 5 is not its stream")
	}
}

// TestRope compares the tables with the formula written out: frequency j of a token takes the
// position row T, H or W by the interleaved rule, angle = pos·θ^(−2j/hd).
func TestRope(t *testing.T) {
	cfg := small(true)
	cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads = 40, 2, 1 // hd/2 = 20 = 8 + 6 + 6: sections end early
	cfg.MRopeSection = [3]int{8, 6, 6}
	m := &Model{cfg: cfg, invFreq: ropeInvFreq(cfg.RopeTheta, cfg.HeadDim)}
	pos := [3][]int{{0, 5, 5, 9}, {0, 5, 6, 9}, {0, 7, 5, 9}}
	cos, sin := m.ropeTables(pos, 4)
	half := cfg.HeadDim / 2
	for i := 0; i < 4; i++ {
		for j := 0; j < half; j++ {
			axis := 0
			if j%3 == 1 && j < 18 {
				axis = 1
			} else if j%3 == 2 && j < 18 {
				axis = 2
			}
			inv := 1 / math.Pow(5e6, float64(2*j)/float64(cfg.HeadDim))
			angle := float64(pos[axis][i]) * inv
			for _, c := range []int{j, j + half} {
				if d := math.Abs(float64(cos[i*cfg.HeadDim+c]) - math.Cos(angle)); d > 1e-5 {
					t.Fatalf("token %d freq %d: cos %g, want %g", i, j, cos[i*cfg.HeadDim+c], math.Cos(angle))
				}
				if d := math.Abs(float64(sin[i*cfg.HeadDim+c]) - math.Sin(angle)); d > 1e-5 {
					t.Fatalf("token %d freq %d: sin %g, want %g", i, j, sin[i*cfg.HeadDim+c], math.Sin(angle))
				}
			}
		}
	}
	// The layout on the released sizes: T at 0, 3, …; H at 1, 4, …, 58; W at 2, 5, …, 59; T from 60.
	for j, want := range map[int]int{0: 0, 1: 1, 2: 2, 3: 0, 58: 1, 59: 2, 60: 0, 61: 0, 62: 0, 63: 0} {
		if got := ropeAxis(j, [3]int{24, 20, 20}); got != want {
			t.Errorf("frequency %d reads row %d, want %d", j, got, want)
		}
	}
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// TestDecodeMatchesPrefill: prefill of n tokens then a decode of token n+1 gives the logits of
// a prefill of all n+1 at the last row, and a prefill split in chunks those of one prefill.
func TestDecodeMatchesPrefill(t *testing.T) {
	ctx := context.Background()
	for _, tied := range []bool{true, false} {
		m, err := Random(small(tied), 3, Options{Threads: 2})
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
		if _, err := m.Prefill(ctx, c, Input{IDs: ids[:n-3]}); err != nil {
			t.Fatal(err)
		}
		for i := n - 3; i < n; i++ {
			got, err := m.Decode(ctx, c, ids[i], i)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(got, want.Row(i)); d > 1e-5 {
				t.Errorf("tied %v: decode of token %d differs from the prefill by %g", tied, i, d)
			}
		}
		if c.Len() != n {
			t.Errorf("cache holds %d, want %d", c.Len(), n)
		}
		// Chunks of 4, 4, 3, last rows.
		c.Reset()
		var last Matrix
		for lo := 0; lo < n; lo += 4 {
			if last, err = m.Prefill(ctx, c, Input{IDs: ids[lo:min(lo+4, n)]}); err != nil {
				t.Fatal(err)
			}
		}
		if d := maxAbsDiff(last.Data, want.Row(n-1)); d > 1e-5 {
			t.Errorf("tied %v: chunked prefill differs by %g", tied, d)
		}
	}
}

// TestVisualInputs: scattered embeddings, MRoPE positions and DeepStack rows change the logits
// where they should, and a continuation after them matches a full prefill.
func TestVisualInputs(t *testing.T) {
	ctx := context.Background()
	m, err := Random(small(true), 5, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ids := []int32{10, 11, 9, 9, 9, 9, 12, 13}
	visual := []bool{false, false, true, true, true, true, false, false}
	pos := textjoin.Positions{{0, 1, 2, 2, 2, 2, 4, 5}, {0, 1, 2, 2, 3, 3, 4, 5}, {0, 1, 2, 3, 2, 3, 4, 5}}
	emb, _ := m.Embed(ids)
	for r := 2; r < 6; r++ {
		for c := range emb.Row(r) {
			emb.Row(r)[c] = float32(r*c%7) / 7
		}
	}
	ds := []Matrix{{Rows: 4, Cols: 32, Data: make([]float32, 4*32)}, {Rows: 4, Cols: 32, Data: make([]float32, 4*32)}}
	for i := range ds[0].Data {
		ds[0].Data[i], ds[1].Data[i] = 0.5, -0.25
	}
	in := Input{IDs: ids, Embeds: &emb, Positions: pos, Visual: visual, Deepstack: ds, AllLogits: true}
	c, _ := m.NewCache(16)
	full, err := m.Prefill(ctx, c, in)
	if err != nil {
		t.Fatal(err)
	}
	c.Reset()
	noDS := in
	noDS.Deepstack = nil
	plain, _ := m.Prefill(ctx, c, noDS)
	if d := maxAbsDiff(full.Row(0), plain.Row(0)); d != 0 {
		t.Errorf("DeepStack changed a row before the visual ones by %g", d)
	}
	if d := maxAbsDiff(full.Row(7), plain.Row(7)); d == 0 {
		t.Error("DeepStack changed nothing after the visual rows")
	}
	// Continue after the first 7 tokens with the last at its position (5, as rope delta −2).
	c.Reset()
	head := Input{IDs: ids[:7], Embeds: &Matrix{Rows: 7, Cols: 32, Data: emb.Data[:7*32]}, Visual: visual[:7],
		Positions: textjoin.Positions{pos[0][:7], pos[1][:7], pos[2][:7]},
		Deepstack: []Matrix{{Rows: 4, Cols: 32, Data: ds[0].Data}, {Rows: 4, Cols: 32, Data: ds[1].Data}}}
	if _, err := m.Prefill(ctx, c, head); err != nil {
		t.Fatal(err)
	}
	got, err := m.Decode(ctx, c, ids[7], textjoin.DecodePosition(7, -2))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(got, full.Row(7)); d > 1e-5 {
		t.Errorf("decode after visual rows differs by %g", d)
	}
}

func TestPrefillErrors(t *testing.T) {
	ctx := context.Background()
	m, _ := Random(small(true), 1, Options{Threads: 1})
	c, _ := m.NewCache(4)
	other, _ := Random(func() Config { c := small(true); c.NumLayers = 1; return c }(), 1, Options{})
	oc, _ := other.NewCache(4)
	for _, e := range []struct {
		name string
		c    *Cache
		in   Input
		want string
	}{
		{"empty", c, Input{}, "no tokens"},
		{"long", c, Input{IDs: make([]int32, 5)}, "do not fit"},
		{"vocab", c, Input{IDs: []int32{300}}, "outside the vocabulary"},
		{"negative", c, Input{IDs: []int32{-1}}, "outside the vocabulary"},
		{"cache", oc, Input{IDs: []int32{1}}, "not made by this model"},
		{"nil cache", nil, Input{IDs: []int32{1}}, "not made by this model"},
		{"positions", c, Input{IDs: []int32{1, 2}, Positions: textjoin.Positions{{0}, {0}, {0}}}, "position row 0"},
		{"embeds", c, Input{IDs: []int32{1}, Embeds: &Matrix{Rows: 1, Cols: 3, Data: make([]float32, 3)}}, "embeddings are"},
		{"mask", c, Input{IDs: []int32{1}, Visual: []bool{true, false}}, "visual mask"},
		{"deepstack", c, Input{IDs: []int32{1}, Deepstack: []Matrix{{}}}, "without a visual mask"},
		{"deepstack rows", c, Input{IDs: []int32{1}, Visual: []bool{true}, Deepstack: []Matrix{{Rows: 2, Cols: 32, Data: make([]float32, 64)}}}, "DeepStack"},
	} {
		_, err := m.Prefill(ctx, e.c, e.in)
		if err == nil || !strings.Contains(err.Error(), e.want) {
			t.Errorf("%s: err = %v, want one containing %q", e.name, err, e.want)
		}
	}
	if c.Len() != 0 {
		t.Errorf("failed prefills left %d positions", c.Len())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Prefill(cctx, c, Input{IDs: []int32{1}}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %v", err)
	}
	if _, err := m.NewCache(0); err == nil {
		t.Error("NewCache(0): no error")
	}
	if _, err := m.NewCache(1 << 40); err == nil {
		t.Error("NewCache(2⁴⁰): no error")
	}
}

// TestLoad writes a small random checkpoint (f32 and bf16) and loads it back.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	cfg := small(false)
	ref, _ := Random(cfg, 9, Options{Threads: 1})
	src := &syntheticSource{seed: 9, shapes: map[string][]int{}}
	for _, s := range cfg.Tensors() {
		src.shapes[s.Name] = s.Shape
	}
	configJSON := `{"model_type": "qwen3_vl", "tie_word_embeddings": false, "text_config": {
		"vocab_size": 300, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 3,
		"num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "max_position_embeddings": 4096,
		"rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [4, 2, 2], "mrope_interleaved": true}}}`
	var dir string
	for _, bf16 := range []bool{false, true} {
		dir = t.TempDir()
		var ts []safetensors.Tensor
		for _, s := range cfg.Tensors() {
			v, _ := src.float32s(s.Name)
			if bf16 {
				ts = append(ts, safetensors.BF16Tensor(s.Name, s.Shape, v))
			} else {
				ts = append(ts, safetensors.F32Tensor(s.Name, s.Shape, v))
			}
		}
		ts = append(ts, safetensors.F32Tensor("model.visual.patch_embed.proj.weight", []int{2}, []float32{1, 2}))
		if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(configJSON), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(ctx, dir, Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		wantW := WeightsF32
		if bf16 {
			wantW = WeightsBF16
		}
		if m.Weights() != wantW || m.Config() != cfg {
			t.Fatalf("bf16 %v: weights %v, config %+v", bf16, m.Weights(), m.Config())
		}
		ids := []int32{5, 6, 7}
		c1, _ := m.NewCache(3)
		c2, _ := ref.NewCache(3)
		got, _ := m.Prefill(ctx, c1, Input{IDs: ids})
		want, _ := ref.Prefill(ctx, c2, Input{IDs: ids})
		d := maxAbsDiff(got.Data, want.Data)
		if !bf16 && d != 0 {
			t.Errorf("loaded f32 logits differ from Random's by %g", d)
		}
		if bf16 && (d == 0 || d > 0.1) {
			t.Errorf("loaded bf16 logits differ from Random's f32 by %g", d)
		}
	}
	// Too little memory: refused before reading, both sizes said.
	memAvailableFunc = func() (int64, bool) { return 1000, true }
	_, err := Load(ctx, dir, Options{Weights: WeightsF32})
	memAvailableFunc = memAvailable
	need := gib(cfg.ResidentBytes(WeightsF32))
	if err == nil || !strings.Contains(err.Error(), need) || !strings.Contains(err.Error(), gib(1000)) {
		t.Errorf("too little memory: %v (want %s and %s)", err, need, gib(1000))
	}
	if avail, ok := memAvailable(); !ok || avail <= 0 {
		t.Logf("no MemAvailable on this system (%d, %v)", avail, ok)
	}
	// A checkpoint without the language model, and one with a misshaped tensor.
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(configJSON), 0o644)
	safetensors.WriteFile(filepath.Join(dir, "model.safetensors"),
		[]safetensors.Tensor{safetensors.F32Tensor("model.visual.patch_embed.proj.weight", []int{1}, []float32{1})}, nil)
	if _, err := Load(ctx, dir, Options{}); err == nil || !strings.Contains(err.Error(), "no language model weights") {
		t.Errorf("vision-only checkpoint: %v", err)
	}
	safetensors.WriteFile(filepath.Join(dir, "model.safetensors"),
		[]safetensors.Tensor{safetensors.F32Tensor(Prefix+"embed_tokens.weight", []int{300, 31}, make([]float32, 300*31))}, nil)
	_, err = Load(ctx, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "has shape [300 31], want [300 32]") || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("misshaped checkpoint: %v", err)
	}
}

func TestResidentBytes(t *testing.T) {
	c := small(true)
	p := c.ParamCount()
	norms := int64(32 + 3*(2*32+2*16))
	embed := int64(300 * 32)
	if got, want := c.ResidentBytes(WeightsF32), 4*(p+embed); got != want {
		t.Errorf("f32 tied: %d, want %d", got, want)
	}
	if got, want := c.ResidentBytes(WeightsBF16), 2*(p-norms+embed)+4*norms; got != want {
		t.Errorf("bf16 tied: %d, want %d", got, want)
	}
}

func TestTrace(t *testing.T) {
	m, _ := Random(small(true), 2, Options{Threads: 1})
	c, _ := m.NewCache(4)
	var names []string
	ctx := WithTrace(context.Background(), func(tr Trace) {
		names = append(names, fmt.Sprintf("%d.%s%v", tr.Layer, tr.Name, []int{tr.Matrix.Rows, tr.Matrix.Cols}))
	})
	if _, err := m.Prefill(ctx, c, Input{IDs: []int32{1, 2}}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"-1.embed[2 32]", "0.input_norm[2 32]", "0.q[2 64]", "0.k[2 32]", "2.mlp[2 48]", "2.layer_out[2 32]", "-1.norm[1 32]", "-1.logits[1 300]"} {
		if !strings.Contains(got, want) {
			t.Errorf("trace lacks %s: %s", want, got)
		}
	}
	if len(names) != 1+3*9+2 {
		t.Errorf("%d traced tensors, want %d", len(names), 1+3*9+2)
	}
}

func TestCosts(t *testing.T) {
	c := small(true)
	// One layer by hand: q, k, v, o, gate, up, down; attention over 3 queries after 2 cached.
	d, qd, kvd, i := int64(32), int64(64), int64(32), int64(48)
	lin := qd*d + 2*kvd*d + d*qd + 3*i*d
	keys := int64(3 + 4 + 5)
	layer := 2*3*lin + 4*keys*qd
	want := int64(c.NumLayers)*layer + 2*1*300*32
	if got := FLOPs(c, 3, 2, 1); got != want {
		t.Errorf("FLOPs = %d, want %d", got, want)
	}
	var params int64
	for _, cost := range Costs(c, 3, 2, 1) {
		params += cost.Params
	}
	if params != c.ParamCount() {
		t.Errorf("Costs' params sum to %d, ParamCount %d", params, c.ParamCount())
	}
}

// TestCancelMidway: a context cancelled inside the layers stops Prefill with its error and
// leaves the cache as it was; the same prefill then runs normally.
func TestCancelMidway(t *testing.T) {
	m, _ := Random(small(true), 4, Options{Threads: 2})
	c, _ := m.NewCache(8)
	ids := []int32{3, 1, 4, 1, 5}
	if _, err := m.Prefill(context.Background(), c, Input{IDs: ids[:2]}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tctx := WithTrace(ctx, func(tr Trace) {
		if tr.Layer == 1 && tr.Name == "attn_out" {
			cancel()
		}
	})
	_, err := m.Prefill(tctx, c, Input{IDs: ids[2:]})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "layer 1") {
		t.Fatalf("err = %v, want a cancellation in layer 1", err)
	}
	if c.Len() != 2 {
		t.Fatalf("the cache holds %d positions after a cancelled prefill, want 2", c.Len())
	}
	got, err := m.Prefill(context.Background(), c, Input{IDs: ids[2:]})
	if err != nil {
		t.Fatal(err)
	}
	full, _ := m.NewCache(8)
	want, _ := m.Prefill(context.Background(), full, Input{IDs: ids})
	if d := maxAbsDiff(got.Data, want.Data); d > 1e-5 {
		t.Errorf("after a cancelled prefill the logits differ by %g", d)
	}
}

// TestConcurrent: one Model, several sequences on their own caches at once, each as alone.
func TestConcurrent(t *testing.T) {
	m, _ := Random(small(false), 6, Options{Threads: 2})
	seqs := [][]int32{{1, 2, 3}, {9, 8, 7, 6, 5}, {100}, {42, 42}}
	want := make([][]float32, len(seqs))
	for i, s := range seqs {
		c, _ := m.NewCache(8)
		out, err := m.Prefill(context.Background(), c, Input{IDs: s})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out.Data
	}
	errs := make(chan error, len(seqs))
	for i, s := range seqs {
		go func() {
			c, _ := m.NewCache(8)
			out, err := m.Prefill(context.Background(), c, Input{IDs: s})
			if err == nil && maxAbsDiff(out.Data, want[i]) != 0 {
				err = fmt.Errorf("sequence %d differs when run concurrently", i)
			}
			errs <- err
		}()
	}
	for range seqs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestPreset2BMatchesGoldens: the qwen3-vl-2b preset is the text_config of
// testdata/text/2b-short (the reference's 2B text shapes) but for its 2 layers.
func TestPreset2BMatchesGoldens(t *testing.T) {
	cfg, err := ReadConfig("../testdata/text/2b-short/config.json")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Preset("qwen3-vl-2b")
	p.NumLayers = cfg.NumLayers
	if p != cfg {
		t.Errorf("preset %+v\n2b-short %+v", p, cfg)
	}
	for _, name := range []string{"tiny", "tiny-untied", "tiny-moe"} {
		tiny, err := ReadConfig("../testdata/text/" + name + "/config.json")
		if err != nil {
			t.Fatal(err)
		}
		if tp, _ := Preset(name); !tp.Equal(tiny) {
			t.Errorf("preset %s %+v\ntestdata %+v", name, tp, tiny)
		}
	}
}

// TestSyntheticPinned: the first values of a few streams under seed 7, as
// testdata/text/README.md pins them (from tools/reference/synth.py), through SyntheticScale.
func TestSyntheticPinned(t *testing.T) {
	for _, c := range []struct {
		name  string
		shape []int
		bits  [4]uint32
	}{
		{"model.language_model.embed_tokens.weight", []int{151936, 64}, [4]uint32{0xbf06f874, 0x3e529940, 0xbf66d7ee, 0x3c1e5580}},
		{"model.language_model.layers.0.self_attn.q_norm.weight", []int{128}, [4]uint32{0x3f8b6c24, 0x3f6ba297, 0x3f8bf8b4, 0x3f71059b}},
		{"model.language_model.layers.0.mlp.down_proj.weight", []int{64, 128}, [4]uint32{0xbcc78f7e, 0x3da9ac71, 0xbd928061, 0xbd81c905}},
		{"lm_head.weight", []int{151936, 64}, [4]uint32{0xbde2aa08, 0xbd287750, 0xbde8562e, 0xbce574a8}},
	} {
		scale, offset := SyntheticScale(c.name, c.shape)
		v := make([]float32, 4)
		synth.Fill(v, 7, c.name, scale, offset)
		for i, b := range c.bits {
			if math.Float32bits(v[i]) != b {
				t.Errorf("%s[%d] = %#x, want %#x", c.name, i, math.Float32bits(v[i]), b)
			}
		}
	}
}
