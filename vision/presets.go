package vision

import (
	"fmt"
	"slices"
	"sort"
)

// presets are the vision towers of every released Qwen3-VL size, of the released Qwen3.5 and
// Qwen3.5-MoE sizes found in public sources (below), and a tiny one for tests.
var presets = map[string]Config{
	"qwen3-vl-2b":        released(24, 1024, 4096, 2048, []int{5, 11, 17}),
	"qwen3-vl-4b":        released(24, 1024, 4096, 2560, []int{5, 11, 17}),
	"qwen3-vl-8b":        released(27, 1152, 4304, 4096, []int{8, 16, 24}),
	"qwen3-vl-32b":       released(27, 1152, 4304, 5120, []int{8, 16, 24}),
	"qwen3-vl-30b-a3b":   released(27, 1152, 4304, 2048, []int{8, 16, 24}),
	"qwen3-vl-235b-a22b": released(27, 1152, 4304, 4096, []int{8, 16, 24}),
	// Qwen3.5 (model_type qwen3_5) and Qwen3.5-MoE (qwen3_5_moe): no DeepStack. The hub is out
	// of reach here; the values come from public GitHub sources, each size from at least the
	// first of these, cited per line where more agree:
	//   [M] NVIDIA/Megatron-LM examples/multimodal_dev/models/qwen35_vl/configuration.py,
	//       _VISION_VARIANT_CONFIGS: three towers (small 12×768, 12 heads, FFN 3072; medium
	//       24×1024, 16 heads, FFN 4096; large 27×1152, 16 heads, FFN 4304; patch 16, merge 2,
	//       temporal 2, 2304 positions) and out_hidden_size per size ("equals the language
	//       model's hidden_size").
	//   [C] released config.json files (or their re-uploads) quoted verbatim in public
	//       repositories: unsloth/Qwen3.5-9B, Intel/Qwen3.6-27B-int4-mlx-AutoRound (a
	//       quantization of Qwen/Qwen3.6-27B), each with "deepstack_visual_indexes": [] and
	//       vision model_type "qwen3_5"; a Qwen3.5-35B-A3B-shaped qwen3_5_moe config (40 layers,
	//       256 experts) with vision out_hidden_size 2048.
	//   [O] p-doom/omegalax omegalax/models/qwen3_5/config.py: Qwen/Qwen3.5-397B-A17B on the
	//       class defaults (27×1152, 4304, out 4096); a later version also lists
	//       Qwen/Qwen3.5-35B-A3B (out 2048) and Qwen/Qwen3.5-122B-A10B (out 3072).
	//   [S] THUDM/slime scripts/models/qwen3.5-{0.8B,4B,27B,35B-A3B}.sh: the text widths
	//       1024, 2560, 5120, 2048 (= out_hidden_size).
	//   [V] a public test's "OFFICIAL_VISION_CONTRACTS" for Qwen3.5-0.8B and -4B (full vision
	//       configs, matching [M]).
	// Qwen4-Exp (qwen4_exp) and CohereCompass (cohere_compass) have no preset: no released
	// config was found.
	"qwen3.5-0.8b":      small35(1024),  // [M], [V], [S]
	"qwen3.5-2b":        medium35(2048), // [M] only
	"qwen3.5-4b":        medium35(2560), // [M], [V], [S]
	"qwen3.5-9b":        large35(4096),  // [M], [C] unsloth/Qwen3.5-9B
	"qwen3.5-27b":       large35(5120),  // [M], [S]
	"qwen3.5-35b-a3b":   large35(2048),  // [M], [O], [S], [C]
	"qwen3.5-122b-a10b": large35(3072),  // [M], [O]
	"qwen3.5-397b-a17b": large35(4096),  // [M], [O]
	"qwen3.6-27b":       large35(5120),  // [C] Intel/Qwen3.6-27B-int4-mlx-AutoRound
	"tiny":              tiny(),
	// tiny-untied and tiny-moe name the tiny tower too: random:tiny-untied is the tiny full
	// model of testdata/text/tiny-untied, random:tiny-moe that of testdata/text/tiny-moe
	// (pipeline.OpenAssistant narrows the tower to the decoder).
	"tiny-untied": tiny(),
	"tiny-moe":    tiny(),
}

// tiny is the tiny tower for tests.
func tiny() Config {
	return Config{
		Depth: 4, HiddenSize: 64, IntermediateSize: 200, NumHeads: 4, OutHiddenSize: 96,
		PatchSize: 16, TemporalPatchSize: 2, SpatialMergeSize: 2, InChannels: 3,
		NumPositionEmbeddings: 36, HiddenAct: "gelu_pytorch_tanh", DeepstackVisualIndexes: []int{1, 2},
	}
}

func released(depth, hidden, inter, out int, deepstack []int) Config {
	return Config{
		Depth: depth, HiddenSize: hidden, IntermediateSize: inter, NumHeads: 16, OutHiddenSize: out,
		PatchSize: 16, TemporalPatchSize: 2, SpatialMergeSize: 2, InChannels: 3,
		NumPositionEmbeddings: 2304, HiddenAct: "gelu_pytorch_tanh", DeepstackVisualIndexes: deepstack,
	}
}

// qwen35 is a Qwen3.5 tower: the Qwen3-VL layout without DeepStack.
func qwen35(depth, hidden, heads, inter, out int) Config {
	return Config{
		Depth: depth, HiddenSize: hidden, IntermediateSize: inter, NumHeads: heads, OutHiddenSize: out,
		PatchSize: 16, TemporalPatchSize: 2, SpatialMergeSize: 2, InChannels: 3,
		NumPositionEmbeddings: 2304, HiddenAct: "gelu_pytorch_tanh",
	}
}

func small35(out int) Config  { return qwen35(12, 768, 12, 3072, out) }
func medium35(out int) Config { return qwen35(24, 1024, 16, 4096, out) }
func large35(out int) Config  { return qwen35(27, 1152, 16, 4304, out) }

// Preset returns the vision tower configuration of a released size ("qwen3-vl-2b", "qwen3-vl-4b",
// "qwen3-vl-8b", "qwen3-vl-32b", "qwen3-vl-30b-a3b", "qwen3-vl-235b-a22b"; "qwen3.5-0.8b",
// "qwen3.5-2b", "qwen3.5-4b", "qwen3.5-9b", "qwen3.5-27b", "qwen3.5-35b-a3b",
// "qwen3.5-122b-a10b", "qwen3.5-397b-a17b", "qwen3.6-27b") or "tiny" (also named
// "tiny-untied" and "tiny-moe", the tower of those test models).
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("vision: unknown preset %q (known: %v)", name, PresetNames())
	}
	c.DeepstackVisualIndexes = slices.Clone(c.DeepstackVisualIndexes)
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
