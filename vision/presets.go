package vision

import (
	"fmt"
	"slices"
	"sort"
)

// presets are the vision towers of every released Qwen3-VL size, and a tiny one for tests.
var presets = map[string]Config{
	"qwen3-vl-2b":        released(24, 1024, 4096, 2048, []int{5, 11, 17}),
	"qwen3-vl-4b":        released(24, 1024, 4096, 2560, []int{5, 11, 17}),
	"qwen3-vl-8b":        released(27, 1152, 4304, 4096, []int{8, 16, 24}),
	"qwen3-vl-32b":       released(27, 1152, 4304, 5120, []int{8, 16, 24}),
	"qwen3-vl-30b-a3b":   released(27, 1152, 4304, 2048, []int{8, 16, 24}),
	"qwen3-vl-235b-a22b": released(27, 1152, 4304, 4096, []int{8, 16, 24}),
	"tiny":               tiny(),
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

// Preset returns the vision tower configuration of a released size ("qwen3-vl-2b", "qwen3-vl-4b",
// "qwen3-vl-8b", "qwen3-vl-32b", "qwen3-vl-30b-a3b", "qwen3-vl-235b-a22b") or "tiny" (also
// named "tiny-untied" and "tiny-moe", the tower of those test models).
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
