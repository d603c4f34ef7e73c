package vision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
)

// Config is the shape of a Qwen3-VL vision tower: the "vision_config" of the config.json of a
// checkpoint of one of the families (ModelTypes: Qwen3-VL, Qwen3-VL-MoE, Qwen3.5, Qwen3.5-MoE,
// Qwen4-Exp, CohereCompass), with Hugging Face's field names.
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

// Families are the model types whose vision tower this package runs. In the pinned transformers
// (5.24.0) each of these vision configs derives from Qwen3VLVisionConfig and each vision model
// from Qwen3VLVisionModel, with the same patch embedding, position table, rotary blocks and
// mergers; Qwen3.5, Qwen3.5-MoE (also the Qwen3.6 releases) and Qwen4-Exp delete the DeepStack
// mergers. (LFM3-VL's Lfm3VlVisionConfig also derives from Qwen3VLVisionConfig, but its vision
// model is another network, so it is refused.)
var families = []struct {
	ModelType string // the full model's model_type; the bare vision config's is ModelType+"_vision"
	Deepstack bool   // whether the tower has DeepStack mergers
}{
	{"qwen3_vl", true}, {"qwen3_vl_moe", true},
	{"qwen3_5", false}, {"qwen3_5_moe", false}, {"qwen4_exp", false},
	{"cohere_compass", true},
}

// ModelTypes lists the supported full-model model_type values, in the order of families.
func ModelTypes() []string {
	out := make([]string, len(families))
	for i, f := range families {
		out[i] = f.ModelType
	}
	return out
}

// family finds the family of a full-model ("qwen3_5") or vision-only ("qwen3_5_vision")
// model_type.
func family(modelType string) (deepstack, ok bool) {
	for _, f := range families {
		if modelType == f.ModelType || modelType == f.ModelType+"_vision" {
			return f.Deepstack, true
		}
	}
	return false, false
}

// ParseConfig reads a config.json: either a full config with a nested "vision_config" (of a
// supported model_type: ModelTypes), or a bare vision config (model_type, if any, the
// "…_vision" one of a supported family). Fields left out take the reference's defaults; the
// families without DeepStack get an empty deepstack_visual_indexes whatever the file says (the
// reference deletes the field and the mergers; released Qwen3.5 configs carry []). A
// rope_parameters object (transformers 5 writes {"rope_theta": 10000.0, "rope_type": "axial"})
// must name the axial type and θ = RopeTheta, the only ones the reference's vision models build.
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
	deepstack := true
	if vc, ok := top["vision_config"]; ok {
		if modelType != "" {
			ds, known := family(modelType)
			if !known || strings.HasSuffix(modelType, "_vision") {
				return Config{}, fmt.Errorf("model_type %q is not a supported model (want one of %v)", modelType, ModelTypes())
			}
			deepstack = ds
		}
		body = vc
	} else if _, ok := top["depth"]; !ok {
		return Config{}, errors.New("neither a \"vision_config\" nor a bare vision config (no \"depth\")")
	} else if modelType != "" {
		ds, known := family(modelType)
		if !known {
			return Config{}, fmt.Errorf("vision config model_type %q is not supported (want one of %v, or the full model's config)", modelType, visionModelTypes())
		}
		deepstack = ds
	}
	cfg := defaultConfig()
	cfg.DeepstackVisualIndexes = nil
	var probe struct {
		Deepstack      *[]int          `json:"deepstack_visual_indexes"`
		RopeParameters json.RawMessage `json:"rope_parameters"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("vision config: %w", checkpoint.DescribeJSONError(err))
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return Config{}, fmt.Errorf("vision config: %w", checkpoint.DescribeJSONError(err))
	}
	if !deepstack {
		cfg.DeepstackVisualIndexes = nil
	} else if probe.Deepstack == nil {
		cfg.DeepstackVisualIndexes = defaultConfig().DeepstackVisualIndexes
	}
	if err := checkRopeParameters(probe.RopeParameters); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// visionModelTypes lists the supported bare vision configs' model_type values.
func visionModelTypes() []string {
	out := ModelTypes()
	for i := range out {
		out[i] += "_vision"
	}
	return out
}

// checkRopeParameters checks a vision config's rope_parameters (absent or null is the default).
func checkRopeParameters(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var rp struct {
		RopeTheta *float64 `json:"rope_theta"`
		RopeType  *string  `json:"rope_type"`
	}
	if err := json.Unmarshal(raw, &rp); err != nil {
		return fmt.Errorf("vision config: field rope_parameters: %w", checkpoint.DescribeJSONError(err))
	}
	if rp.RopeType != nil && *rp.RopeType != "axial" {
		return fmt.Errorf("vision config: field rope_parameters.rope_type = %q: the vision tower's rotary embedding is \"axial\"", *rp.RopeType)
	}
	if rp.RopeTheta != nil && *rp.RopeTheta != RopeTheta {
		return fmt.Errorf("vision config: field rope_parameters.rope_theta = %g is not supported (the released towers use %d)", *rp.RopeTheta, RopeTheta)
	}
	return nil
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
