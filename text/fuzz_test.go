package text

import (
	"os"
	"testing"
)

// FuzzParseConfig: any input is a config or an error, never a panic, and an accepted config
// (dense or mixture of experts) validates and gives a parameter table without overflow.
func FuzzParseConfig(f *testing.F) {
	for _, family := range []string{"tiny", "tiny-moe"} {
		if data, err := os.ReadFile("../testdata/text/" + family + "/config.json"); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(smallMoEJSON))
	f.Add([]byte(`{"model_type": "qwen3_vl_moe_text", "num_hidden_layers": 2, "num_experts": 3, "num_experts_per_tok": 3, "mlp_only_layers": [0, 0], "decoder_sparse_step": 2}`))
	f.Add([]byte(`{"num_hidden_layers": 2, "rope_scaling": {"mrope_section": [1, 1]}}`))
	f.Add([]byte(`{"text_config": {"head_dim": 2, "rope_parameters": {"mrope_section": [1, 0, 0]}}, "tie_word_embeddings": true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		if cfg.ParamCount() <= 0 || cfg.ResidentBytes(WeightsF32) <= 0 {
			t.Fatalf("non-positive sizes for %+v", cfg)
		}
	})
}
