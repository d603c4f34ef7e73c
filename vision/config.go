package vision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
)

// Config is the shape of a Qwen3-VL vision tower: the "vision_config" of a Qwen3-VL (or
// Qwen3-VL-MoE) checkpoint's config.json, with Hugging Face's field names.
type Config struct {
	Depth                  int    `json:"depth"`                    // transformer blocks
	HiddenSize             int    `json:"hidden_size"`              // D
	IntermediateSize       int    `json:"intermediate_size"`        // I, the block MLP's width
	NumHeads               int    `json:"num_heads"`                // attention heads; head_dim = D / heads
	OutHiddenSize          int    `json:"out_hidden_size"`          // O, the text model's width
	PatchSize              int    `json:"patch_size"`               // 16
	TemporalPatchSize      int    `json:"temporal_patch_size"`      // 2
	SpatialMergeSize       int    `json:"spatial_merge_size"`       // m = 2: m×m patches make one token
	InChannels             int    `json:"in_channels"`              // 3
	NumPositionEmbeddings  int    `json:"num_position_embeddings"`  // a square: 2304 = 48×48
	HiddenAct              string `json:"hidden_act"`               // the block MLP's activation
	DeepstackVisualIndexes []int  `json:"deepstack_visual_indexes"` // blocks whose outputs feed the DeepStack mergers
}

// LayerNormEps is the epsilon of every LayerNorm in the tower (fixed in the reference code, not
// a config field).
const LayerNormEps = 1e-6

// RopeTheta is the base of the tower's 2-D rotary embedding (fixed in the reference code).
const RopeTheta = 10000

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.HiddenSize / c.NumHeads }

// PatchDim is the length of one row of pixel values: channels × temporal patch × patch².
func (c Config) PatchDim() int {
	return c.InChannels * c.TemporalPatchSize * c.PatchSize * c.PatchSize
}

// MergedDim is the width of a merged token before the mergers' MLP: D·m².
func (c Config) MergedDim() int { return c.HiddenSize * c.SpatialMergeSize * c.SpatialMergeSize }

// PositionGridSide is the side of the square learned position table.
func (c Config) PositionGridSide() int { return int(math.Sqrt(float64(c.NumPositionEmbeddings))) }

// defaultConfig holds the reference class's defaults (Qwen3VLVisionConfig), used for fields a
// config.json leaves out.
func defaultConfig() Config {
	return Config{
		Depth: 27, HiddenSize: 1152, IntermediateSize: 4304, NumHeads: 16, OutHiddenSize: 3584,
		PatchSize: 16, TemporalPatchSize: 2, SpatialMergeSize: 2, InChannels: 3,
		NumPositionEmbeddings: 2304, HiddenAct: "gelu_pytorch_tanh",
		DeepstackVisualIndexes: []int{8, 16, 24},
	}
}

// supportedModelTypes are the top-level model_type values whose vision tower this package runs.
// In transformers 5.24.0 the Qwen3.5, Qwen3.5-MoE (also the Qwen3.6 releases) and Qwen4-Exp
// vision models derive from Qwen3VLVisionModel without DeepStack.
var supportedModelTypes = []string{"qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe", "qwen4_exp"}

// noDeepstack are the model types (full, and vision-only "…_vision") whose tower has no
// DeepStack mergers: their configs have no deepstack_visual_indexes, so the list is empty.
var noDeepstack = map[string]bool{
	"qwen3_5": true, "qwen3_5_moe": true, "qwen4_exp": true,
	"qwen3_5_vision": true, "qwen3_5_moe_vision": true, "qwen4_exp_vision": true,
}

// ParseConfig reads a config.json: either a full Qwen3-VL / Qwen3-VL-MoE config with a nested
// "vision_config", or a bare vision config. Fields left out take the reference's defaults.
// The result is validated.
func ParseConfig(data []byte) (Config, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Config{}, fmt.Errorf("not a JSON object: %w", err)
	}
	body := data
	modelType := ""
	if mt, ok := top["model_type"]; ok {
		if err := json.Unmarshal(mt, &modelType); err != nil {
			return Config{}, fmt.Errorf("field model_type: %w", err)
		}
	}
	if vc, ok := top["vision_config"]; ok {
		if modelType != "" && !slices.Contains(supportedModelTypes, modelType) {
			return Config{}, fmt.Errorf("model_type %q is not a supported model (want one of %v)", modelType, supportedModelTypes)
		}
		body = vc
	} else if _, ok := top["depth"]; !ok {
		return Config{}, errors.New("neither a \"vision_config\" nor a bare vision config (no \"depth\")")
	} else if modelType != "" && !noDeepstack[modelType] && !slices.Contains(supportedModelTypes, modelType) &&
		!slices.Contains([]string{"qwen3_vl_vision", "qwen3_vl_moe_vision"}, modelType) {
		return Config{}, fmt.Errorf("vision config model_type %q is not supported (want one of qwen3_vl_vision, qwen3_vl_moe_vision, qwen3_5_vision, qwen3_5_moe_vision, qwen4_exp_vision)", modelType)
	}
	cfg := defaultConfig()
	cfg.DeepstackVisualIndexes = nil
	var probe struct {
		Deepstack *[]int `json:"deepstack_visual_indexes"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("vision config: %w", checkpoint.DescribeJSONError(err))
	}
	if noDeepstack[modelType] {
		// The reference deletes the field and the DeepStack mergers for these models.
		cfg.DeepstackVisualIndexes = nil
	} else if err := json.Unmarshal(body, &probe); err == nil && probe.Deepstack == nil {
		cfg.DeepstackVisualIndexes = defaultConfig().DeepstackVisualIndexes
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// MaxConfigBytes bounds the config.json ReadConfig reads (released ones are a few KiB).
const MaxConfigBytes = checkpoint.MaxConfigBytes

// ReadConfig reads and validates the config.json at path (a regular file of at most
// MaxConfigBytes).
func ReadConfig(path string) (Config, error) {
	cfg, err := checkpoint.ReadConfig(path, ParseConfig)
	if err != nil {
		return Config{}, fmt.Errorf("vision: %w", err)
	}
	return cfg, nil
}

// maxDim bounds every size in a config, and the two products of sizes the tower uses as widths
// (the pixel row length PatchDim and the merged width MergedDim), so that no size computed from
// a config overflows and a lying config cannot ask for absurd allocations. The products are
// checked without overflowing (boundedProduct).
const maxDim = 1 << 16

// Validate reports the first field that makes the config unusable.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"depth", c.Depth}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_heads", c.NumHeads}, {"out_hidden_size", c.OutHiddenSize}, {"patch_size", c.PatchSize},
		{"temporal_patch_size", c.TemporalPatchSize}, {"spatial_merge_size", c.SpatialMergeSize},
		{"in_channels", c.InChannels}, {"num_position_embeddings", c.NumPositionEmbeddings},
	} {
		if f.v <= 0 {
			return fmt.Errorf("field %s = %d: must be positive", f.name, f.v)
		}
		if f.v > maxDim {
			return fmt.Errorf("field %s = %d: larger than the supported %d", f.name, f.v, maxDim)
		}
	}
	if c.HiddenSize%c.NumHeads != 0 {
		return fmt.Errorf("field hidden_size = %d is not divisible by num_heads = %d", c.HiddenSize, c.NumHeads)
	}
	if hd := c.HeadDim(); hd%4 != 0 {
		return fmt.Errorf("head_dim = hidden_size/num_heads = %d: the 2-D rotary embedding needs a multiple of 4", hd)
	}
	if _, ok := activations[c.HiddenAct]; !ok {
		return fmt.Errorf("field hidden_act = %q is not supported (want one of %v)", c.HiddenAct, activationNames())
	}
	if s := c.PositionGridSide(); s*s != c.NumPositionEmbeddings {
		return fmt.Errorf("field num_position_embeddings = %d is not a square number (the position table is a square grid)", c.NumPositionEmbeddings)
	}
	if _, ok := boundedProduct(maxDim, c.InChannels, c.TemporalPatchSize, c.PatchSize, c.PatchSize); !ok {
		return fmt.Errorf("fields in_channels×temporal_patch_size×patch_size² = %d×%d×%d² (the pixel row length) is larger than the supported %d",
			c.InChannels, c.TemporalPatchSize, c.PatchSize, maxDim)
	}
	if _, ok := boundedProduct(maxDim, c.HiddenSize, c.SpatialMergeSize, c.SpatialMergeSize); !ok {
		return fmt.Errorf("fields hidden_size×spatial_merge_size² = %d×%d² (the merged width) is larger than the supported %d",
			c.HiddenSize, c.SpatialMergeSize, maxDim)
	}
	seen := map[int]bool{}
	for i, l := range c.DeepstackVisualIndexes {
		if l < 0 || l >= c.Depth {
			return fmt.Errorf("field deepstack_visual_indexes[%d] = %d: not a block index (depth is %d)", i, l, c.Depth)
		}
		if seen[l] {
			return fmt.Errorf("field deepstack_visual_indexes[%d] = %d: listed twice", i, l)
		}
		seen[l] = true
	}
	return nil
}
