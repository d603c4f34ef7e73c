package vision

import (
	"context"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	full := `{"model_type": "qwen3_vl", "architectures": ["Qwen3VLForConditionalGeneration"],
		"vision_config": {"depth": 24, "hidden_size": 1024, "intermediate_size": 4096, "num_heads": 16,
		"out_hidden_size": 2560, "deepstack_visual_indexes": [5, 11, 17], "model_type": "qwen3_vl"},
		"text_config": {"hidden_size": 2560}}`
	cfg, err := ParseConfig([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Preset("qwen3-vl-4b")
	if !configsEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	// A bare vision config; fields left out take the reference class's defaults (8B-like).
	cfg, err = ParseConfig([]byte(`{"depth": 27, "out_hidden_size": 4096}`))
	if err != nil {
		t.Fatal(err)
	}
	want, _ = Preset("qwen3-vl-8b")
	if !configsEqual(cfg, want) {
		t.Errorf("bare: got %+v\nwant %+v", cfg, want)
	}
	// The MoE models share the vision tower.
	if _, err := ParseConfig([]byte(`{"model_type": "qwen3_vl_moe", "vision_config": {"depth": 27}}`)); err != nil {
		t.Errorf("qwen3_vl_moe: %v", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{"not json", `{`, "not a JSON object"},
		{"array", `[1]`, "not a JSON object"},
		{"no vision", `{"model_type": "qwen3_vl"}`, "neither"},
		{"other model", `{"model_type": "qwen2_5_vl", "vision_config": {}}`, `model_type "qwen2_5_vl"`},
		{"bad type", `{"depth": "24"}`, "field depth"},
		{"unknown act", `{"depth": 4, "hidden_act": "relu6"}`, "hidden_act"},
		{"heads", `{"depth": 4, "hidden_size": 1000, "num_heads": 16}`, "not divisible by num_heads"},
		{"head dim", `{"depth": 4, "hidden_size": 96, "num_heads": 16}`, "multiple of 4"},
		{"deepstack", `{"depth": 4, "deepstack_visual_indexes": [1, 4]}`, "deepstack_visual_indexes[1] = 4"},
		{"deepstack negative", `{"depth": 4, "deepstack_visual_indexes": [-1]}`, "deepstack_visual_indexes[0] = -1"},
		{"deepstack twice", `{"depth": 4, "deepstack_visual_indexes": [1, 1]}`, "listed twice"},
		{"table", `{"depth": 4, "num_position_embeddings": 2300}`, "not a square"},
		{"zero", `{"depth": 0}`, "field depth = 0"},
		{"negative", `{"depth": 4, "patch_size": -16}`, "field patch_size"},
		{"huge", `{"depth": 4, "hidden_size": 99999999}`, "field hidden_size"},
		{"rope type", `{"depth": 4, "rope_parameters": {"rope_type": "default"}}`, "rope_parameters.rope_type"},
		{"rope theta", `{"depth": 4, "rope_parameters": {"rope_theta": 5000.0, "rope_type": "axial"}}`, "rope_parameters.rope_theta = 5000"},
		{"rope not an object", `{"depth": 4, "rope_parameters": [1]}`, "rope_parameters"},
		// Each factor within bounds, the product past them: 2¹⁶·2¹⁶·(2¹⁶)² wraps to 0, and
		// 2¹⁵·2¹⁶·(2¹⁶)² to a negative int.
		{"patch dim wraps to 0", `{"depth": 27, "in_channels": 65536, "temporal_patch_size": 65536, "patch_size": 65536}`, "in_channels×temporal_patch_size×patch_size²"},
		{"patch dim wraps negative", `{"depth": 27, "in_channels": 32768, "temporal_patch_size": 65536, "patch_size": 65536}`, "in_channels×temporal_patch_size×patch_size²"},
		{"patch dim too long", `{"depth": 4, "in_channels": 3, "temporal_patch_size": 2, "patch_size": 105}`, "= 3×2×105²"},
		{"merged width", `{"depth": 27, "hidden_size": 65536, "spatial_merge_size": 65536}`, "hidden_size×spatial_merge_size²"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to mention %q", err, tc.want)
			}
		})
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
	if _, err := Preset("qwen3-vl-3b"); err == nil {
		t.Error("unknown preset accepted")
	}
	// Preset returns a copy: changing it must not change the table.
	c, _ := Preset("qwen3-vl-4b")
	c.DeepstackVisualIndexes[0] = 99
	if c2, _ := Preset("qwen3-vl-4b"); c2.DeepstackVisualIndexes[0] != 5 {
		t.Error("Preset shares its deepstack slice")
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"depth": 4, "hidden_size": 64, "num_heads": 4, "num_position_embeddings": 36, "deepstack_visual_indexes": [1]}`))
	f.Add([]byte(`{"model_type": "qwen3_vl", "vision_config": {"depth": 24}}`))
	f.Add([]byte(`{"model_type": "qwen3_5", "vision_config": {"model_type": "qwen3_5", "deepstack_visual_indexes": [], "depth": 27, "rope_parameters": {"rope_theta": 10000.0, "rope_type": "axial"}}}`))
	// Products of sizes that overflow int (each size within bounds).
	f.Add([]byte(`{"depth": 27, "in_channels": 65536, "temporal_patch_size": 65536, "patch_size": 65536}`))
	f.Add([]byte(`{"depth": 27, "in_channels": 32768, "temporal_patch_size": 65536, "patch_size": 65536}`))
	f.Add([]byte(`{"depth": 27, "hidden_size": 65536, "spatial_merge_size": 65536}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		// The widths computed from the config are exact (no wrap-around) and within maxDim.
		for _, w := range []struct {
			name    string
			got     int
			factors []int
		}{
			{"PatchDim", cfg.PatchDim(), []int{cfg.InChannels, cfg.TemporalPatchSize, cfg.PatchSize, cfg.PatchSize}},
			{"MergedDim", cfg.MergedDim(), []int{cfg.HiddenSize, cfg.SpatialMergeSize, cfg.SpatialMergeSize}},
		} {
			exact := 1.0
			for _, f := range w.factors {
				exact *= float64(f)
			}
			if w.got < 1 || w.got > maxDim || float64(w.got) != exact {
				t.Fatalf("accepted config %+v: %s = %d, exactly %g (limit %d)", cfg, w.name, w.got, exact, maxDim)
			}
		}
	})
}

func TestParseRandom(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		ok       bool
		seed     uint64
		wantErr  bool
		wantSize int
	}{
		{"random:tiny", true, DefaultRandomSeed, false, 64},
		{"random:qwen3-vl-8b@42", true, 42, false, 1152},
		{"random:tiny@x", true, 0, true, 0},
		{"random:nope", true, 0, true, 0},
		{"/models/qwen", false, 0, false, 0},
	} {
		cfg, seed, ok, err := ParseRandom(tc.spec)
		if ok != tc.ok || (err != nil) != tc.wantErr || (err == nil && ok && (seed != tc.seed || cfg.HiddenSize != tc.wantSize)) {
			t.Errorf("ParseRandom(%q) = %d, %d, %v, %v", tc.spec, cfg.HiddenSize, seed, ok, err)
		}
	}
}

func TestParseConfigFamilies(t *testing.T) {
	for _, tc := range []struct {
		json      string
		deepstack int
		err       bool
	}{
		{`{"model_type":"qwen3_5","vision_config":{"depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}}`, 0, false},
		{`{"model_type":"qwen3_5_moe","vision_config":{"depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}}`, 0, false},
		{`{"model_type":"qwen4_exp","vision_config":{"depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}}`, 0, false},
		{`{"model_type":"qwen3_5_vision","depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}`, 0, false},
		{`{"model_type":"qwen3_vl","vision_config":{"depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32,"deepstack_visual_indexes":[1]}}`, 1, false},
		{`{"model_type":"qwen3_5_moe_vision","depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}`, 0, false},
		{`{"model_type":"qwen4_exp_vision","depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}`, 0, false},
		// A released Qwen3.5 config: the nested vision_config says "qwen3_5" and carries [].
		{`{"model_type":"qwen3_5","vision_config":{"model_type":"qwen3_5","deepstack_visual_indexes":[],"depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}}`, 0, false},
		// The list is empty for these families whatever the file says (the reference deletes it).
		{`{"model_type":"qwen3_5","vision_config":{"deepstack_visual_indexes":[0],"depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}}`, 0, false},
		// CohereCompass keeps DeepStack (its default list when the file has none).
		{`{"model_type":"cohere_compass","vision_config":{"depth":27,"deepstack_visual_indexes":[8,16,24]}}`, 3, false},
		{`{"model_type":"cohere_compass_vision","depth":27}`, 3, false},
		{`{"model_type":"qwen3_5_vision","depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32,"rope_parameters":{"rope_theta":10000.0,"rope_type":"axial"}}`, 0, false},
		{`{"model_type":"llava","vision_config":{"depth":2}}`, 0, true},
		// LFM3-VL's vision config derives from Qwen3VLVisionConfig, its tower is another network.
		{`{"model_type":"lfm3_vl","vision_config":{"depth":2}}`, 0, true},
		{`{"model_type":"lfm3_vl_vision","depth":2}`, 0, true},
		// A vision-only model_type is not a full model's.
		{`{"model_type":"qwen3_5_vision","vision_config":{"depth":2}}`, 0, true},
		{`{"model_type":"siglip_vision","depth":2}`, 0, true},
	} {
		cfg, err := ParseConfig([]byte(tc.json))
		if (err != nil) != tc.err {
			t.Errorf("%s: err = %v, want error %v", tc.json, err, tc.err)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), "qwen3_5") {
				t.Errorf("%s: error %q does not list the supported types", tc.json, err)
			}
			continue
		}
		if len(cfg.DeepstackVisualIndexes) != tc.deepstack {
			t.Errorf("%s: deepstack %v, want %d entries", tc.json, cfg.DeepstackVisualIndexes, tc.deepstack)
		}
	}
}

// TestEncodeNoDeepstack: a tower of a family without DeepStack (Qwen3.5) encodes and returns no
// DeepStack features, only the pooler and the last hidden state.
func TestEncodeNoDeepstack(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"model_type":"qwen3_5","vision_config":{"depth":2,"hidden_size":64,"num_heads":4,"intermediate_size":96,"out_hidden_size":32}}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Random(cfg, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	grid := Grid{1, 4, 6}
	pixels := make([]float32, grid.Patches()*cfg.PatchDim())
	for i := range pixels {
		pixels[i] = float32(i%7) / 7
	}
	out, err := m.Encode(context.Background(), pixels, []Grid{grid})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deepstack) != 0 {
		t.Errorf("%d DeepStack features, want none", len(out.Deepstack))
	}
	if out.Pooler.Rows != grid.Patches()/4 || out.Pooler.Cols != 32 {
		t.Errorf("pooler %dx%d, want %dx32", out.Pooler.Rows, out.Pooler.Cols, grid.Patches()/4)
	}
}
