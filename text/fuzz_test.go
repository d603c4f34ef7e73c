package text

import (
	"os"
	"testing"
)

// FuzzParseConfig: any input is a config or an error, never a panic, and an accepted config
// validates and gives a parameter table without overflow.
func FuzzParseConfig(f *testing.F) {
	if data, err := os.ReadFile("../testdata/text/tiny/config.json"); err == nil {
		f.Add(data)
	}
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
