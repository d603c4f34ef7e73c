package text

import (
	"fmt"
	"slices"
	"sort"
)

// presets are the text decoders of released dense Qwen3-VL sizes, and a tiny one for tests.
//
// Sources: hidden_size of 2B (2048) and 4B (2560) is the vision tower's out_hidden_size in
// vision/presets.go; the other 2B/4B numbers (layers, heads, kv heads, head_dim, intermediate,
// vocab, rope theta 5e6, mrope_section [24, 20, 20], tied embeddings, 256K positions) are those
// of Qwen/Qwen3-VL-2B-Instruct's and Qwen/Qwen3-VL-4B-Instruct's config.json as recalled when
// this table was written — no released config.json is in this repository to check them against,
// so treat them as unverified until one is. 8B and 32B are left out for that reason.
var presets = map[string]Config{
	"qwen3-vl-2b": released(2048, 6144, 28, 16, 8, true),
	"qwen3-vl-4b": released(2560, 9728, 36, 32, 8, true),
	// tiny is the decoder of testdata/text/tiny (tools/reference): hidden 64, 4 heads, 2 kv
	// heads, head_dim 128, intermediate 128, 4 layers, the full vocabulary, tied.
	"tiny": tinyConfig(),
	// tiny-untied is tiny with its own output projection (lm_head.weight): the decoder of
	// testdata/text/tiny-untied, whose greedy tokens do not repeat.
	"tiny-untied": untied(tinyConfig()),
	// tiny-moe is the mixture-of-experts decoder of testdata/text/tiny-moe: tiny-untied with 8
	// experts of width 48 and top-2 routing in every layer but layer 1 (a dense MLP).
	"tiny-moe": withMoE(untied(tinyConfig()), MoE{
		NumExperts: 8, TopK: 2, IntermediateSize: 48, DecoderSparseStep: 1, MLPOnlyLayers: []int{1},
	}),
}

func withMoE(c Config, m MoE) Config {
	c.MoE = &m
	return c
}

// tinyConfig is the tiny preset (a function, so that variants start from a fresh copy).
func tinyConfig() Config {
	return Config{
		VocabSize: 151936, HiddenSize: 64, IntermediateSize: 128, NumLayers: 4, NumHeads: 4,
		NumKVHeads: 2, HeadDim: 128, RMSNormEps: 1e-6, MaxPositionEmbeddings: 262144,
		HiddenAct: "silu", RopeTheta: 5000000, MRopeSection: [3]int{24, 20, 20},
		MRopeInterleaved: true, TieWordEmbeddings: true,
	}
}

func untied(c Config) Config {
	c.TieWordEmbeddings = false
	return c
}

func released(hidden, inter, layers, heads, kvHeads int, tied bool) Config {
	return Config{
		VocabSize: 151936, HiddenSize: hidden, IntermediateSize: inter, NumLayers: layers,
		NumHeads: heads, NumKVHeads: kvHeads, HeadDim: 128, RMSNormEps: 1e-6,
		MaxPositionEmbeddings: 262144, HiddenAct: "silu", RopeTheta: 5000000,
		MRopeSection: [3]int{24, 20, 20}, MRopeInterleaved: true, TieWordEmbeddings: tied,
	}
}

// Preset returns the text decoder configuration of a released size ("qwen3-vl-2b",
// "qwen3-vl-4b") or of a test model of testdata/text ("tiny", "tiny-untied", "tiny-moe").
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("text: unknown preset %q (known: %v)", name, PresetNames())
	}
	if c.MoE != nil { // the caller's own copy
		m := *c.MoE
		m.MLPOnlyLayers = slices.Clone(m.MLPOnlyLayers)
		c.MoE = &m
	}
	return c, nil
}

// PresetNames lists the preset names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
