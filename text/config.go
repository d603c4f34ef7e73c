package text

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/qwen3vl/qwen3vl/internal/checkpoint"
)

// Config is the shape of a Qwen3-VL text decoder: the "text_config" of a Qwen3-VL checkpoint's
// config.json, with Hugging Face's field names (transformers 5.24's Qwen3VLTextConfig, or
// Qwen3VLMoeTextConfig for the mixture-of-experts models, model_type qwen3_vl_moe).
type Config struct {
	VocabSize             int     `json:"vocab_size"`              // V
	HiddenSize            int     `json:"hidden_size"`             // D
	IntermediateSize      int     `json:"intermediate_size"`       // I, the MLP's width
	NumLayers             int     `json:"num_hidden_layers"`       // L decoder layers
	NumHeads              int     `json:"num_attention_heads"`     // H query heads
	NumKVHeads            int     `json:"num_key_value_heads"`     // G key/value heads (H a multiple of G)
	HeadDim               int     `json:"head_dim"`                // hd, not necessarily D/H
	RMSNormEps            float32 `json:"rms_norm_eps"`            // every RMSNorm's epsilon
	MaxPositionEmbeddings int     `json:"max_position_embeddings"` // the longest sequence trained for
	HiddenAct             string  `json:"hidden_act"`              // "silu"
	AttentionBias         bool    `json:"attention_bias"`          // false in every release; true is refused
	// RopeTheta is the rotary base (rope_parameters.rope_theta, or rope_theta beside rope_scaling
	// in older files).
	RopeTheta float64 `json:"-"`
	// MRopeSection splits the hd/2 rotary frequencies between the T, H and W position rows
	// (rope_parameters.mrope_section; [24, 20, 20] by default); its sum is hd/2.
	MRopeSection [3]int `json:"-"`
	// MRopeInterleaved is rope_parameters.mrope_interleaved. Transformers 5.24 always applies
	// the interleaved layout whatever it says; so does this package (the field is kept for
	// messages and round trips).
	MRopeInterleaved bool `json:"-"`
	// TieWordEmbeddings: the output projection is embed_tokens (no lm_head.weight). Read from
	// the top level of a full config (where 5.24 writes it), else from text_config.
	TieWordEmbeddings bool `json:"tie_word_embeddings"`

	// MoE is the mixture-of-experts part of a qwen3_vl_moe decoder; nil for a dense one.
	MoE *MoE `json:"-"`
}

// MoE is the mixture-of-experts shape of a qwen3_vl_moe text config. A decoder layer l is
// sparse (Qwen3VLMoeTextSparseMoeBlock: a router and NumExperts experts, each token through
// the TopK it routes to) when l is not in MLPOnlyLayers and (l+1) is a multiple of
// DecoderSparseStep; the other layers have the dense MLP of width Config.IntermediateSize.
type MoE struct {
	NumExperts        int   `json:"num_experts"`           // E; 5.24 writes it as num_local_experts
	TopK              int   `json:"num_experts_per_tok"`   // k experts per token, k ≤ E
	IntermediateSize  int   `json:"moe_intermediate_size"` // I_e, each expert's MLP width
	DecoderSparseStep int   `json:"decoder_sparse_step"`   // every step-th layer is sparse
	MLPOnlyLayers     []int `json:"mlp_only_layers"`       // layers kept dense, each in [0, L)
}

// Sparse reports whether decoder layer l has a mixture of experts.
func (c Config) Sparse(l int) bool {
	m := c.MoE
	return m != nil && m.NumExperts > 0 && m.DecoderSparseStep > 0 && (l+1)%m.DecoderSparseStep == 0 && !slices.Contains(m.MLPOnlyLayers, l)
}

// Equal reports whether two configs are the same (Config holds a pointer and a slice, so ==
// does not say).
func (c Config) Equal(o Config) bool {
	a, b := c.MoE, o.MoE
	c.MoE, o.MoE = nil, nil
	if c != o || (a == nil) != (b == nil) {
		return false
	}
	return a == nil || (a.NumExperts == b.NumExperts && a.TopK == b.TopK && a.IntermediateSize == b.IntermediateSize &&
		a.DecoderSparseStep == b.DecoderSparseStep && slices.Equal(a.MLPOnlyLayers, b.MLPOnlyLayers))
}

// Model types of config.json: the dense and the mixture-of-experts Qwen3-VL, top level and
// text_config.
const (
	denseType     = "qwen3_vl"
	moeType       = "qwen3_vl_moe"
	denseTextType = "qwen3_vl_text"
	moeTextType   = "qwen3_vl_moe_text"
)

// defaultMoEConfig holds Qwen3VLMoeTextConfig's defaults for the fields it shares with the
// dense config (transformers 5.24; head_dim, left out, is hidden_size // num_attention_heads).
func defaultMoEConfig() Config {
	return Config{
		VocabSize: 151936, HiddenSize: 2048, IntermediateSize: 5632, NumLayers: 24,
		NumHeads: 16, NumKVHeads: 16, RMSNormEps: 1e-6, MaxPositionEmbeddings: 128000,
		HiddenAct: "silu", RopeTheta: 500000, MRopeSection: [3]int{24, 20, 20},
	}
}

// defaultMoE holds Qwen3VLMoeTextConfig's defaults of the MoE fields (transformers 5.24).
func defaultMoE() MoE {
	return MoE{NumExperts: 60, TopK: 4, IntermediateSize: 1408, DecoderSparseStep: 1}
}

// moeFields are the MoE settings as config.json spells them.
type moeFields struct {
	NumExperts      *int  `json:"num_experts"`
	NumLocalExperts *int  `json:"num_local_experts"` // 5.24's name for num_experts (attribute_map)
	NormTopKProb    *bool `json:"norm_topk_prob"`
}

// defaultConfig holds Qwen3VLTextConfig's defaults, for fields a config.json leaves out.
func defaultConfig() Config {
	return Config{
		VocabSize: 151936, HiddenSize: 4096, IntermediateSize: 22016, NumLayers: 32,
		NumHeads: 32, NumKVHeads: 32, HeadDim: 128, RMSNormEps: 1e-6,
		MaxPositionEmbeddings: 128000, HiddenAct: "silu", RopeTheta: 500000,
		MRopeSection: [3]int{24, 20, 20},
	}
}

// ropeFields are the rotary settings as config.json spells them: rope_parameters (5.x) or
// rope_scaling (4.x), with rope_theta inside or beside.
type ropeFields struct {
	RopeType         *string  `json:"rope_type"`
	Type             *string  `json:"type"` // 4.x's older spelling of rope_type
	RopeTheta        *float64 `json:"rope_theta"`
	MRopeSection     []int    `json:"mrope_section"`
	MRopeInterleaved *bool    `json:"mrope_interleaved"`
}

// ParseConfig reads a config.json: a full Qwen3-VL config with a nested "text_config", or a
// bare text config. Fields left out take the reference's defaults. The result is validated.
func ParseConfig(data []byte) (Config, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Config{}, fmt.Errorf("not a JSON object: %w", err)
	}
	body := data
	var topTie *bool
	moe, bare := false, true
	if tc, ok := top["text_config"]; ok {
		bare = false
		if mt, ok := top["model_type"]; ok {
			var s string
			if err := json.Unmarshal(mt, &s); err != nil {
				return Config{}, fmt.Errorf("field model_type: %w", err)
			}
			if s != denseType && s != moeType {
				return Config{}, fmt.Errorf("model_type %q: the text decoder runs %s and %s only (other families' vision towers encode; their language models are not implemented)", s, denseType, moeType)
			}
			moe = s == moeType
		}
		if t, ok := top["tie_word_embeddings"]; ok {
			topTie = new(bool)
			if err := json.Unmarshal(t, topTie); err != nil {
				return Config{}, fmt.Errorf("field tie_word_embeddings: %w", checkpoint.DescribeJSONError(err))
			}
		}
		body = tc
	} else if _, ok := top["num_hidden_layers"]; !ok {
		return Config{}, errors.New("neither a \"text_config\" nor a bare text config (no \"num_hidden_layers\")")
	}
	var inner struct {
		ModelType *string `json:"model_type"`
	}
	if err := json.Unmarshal(body, &inner); err != nil {
		return Config{}, fmt.Errorf("text config: %w", checkpoint.DescribeJSONError(err))
	}
	if mt := inner.ModelType; mt != nil {
		switch {
		case *mt == moeTextType || (*mt == moeType && bare): // a bare MoE text config
			moe = true
		case *mt == denseTextType || (*mt == denseType && bare):
			if moe {
				return Config{}, fmt.Errorf("text_config.model_type %q in a %s config", *mt, moeType)
			}
		default:
			return Config{}, fmt.Errorf("field model_type = %q of the text config: want %s or %s", *mt, denseTextType, moeTextType)
		}
	}
	cfg := defaultConfig()
	if moe {
		cfg = defaultMoEConfig()
	}
	if err := json.Unmarshal(body, &cfg); err != nil {
		return Config{}, fmt.Errorf("text config: %w", checkpoint.DescribeJSONError(err))
	}
	var extra struct {
		NumKVHeads     json.RawMessage `json:"num_key_value_heads"`
		HeadDim        *int            `json:"head_dim"`
		RopeTheta      *float64        `json:"rope_theta"`
		RopeParameters json.RawMessage `json:"rope_parameters"`
		RopeScaling    json.RawMessage `json:"rope_scaling"`
	}
	if err := json.Unmarshal(body, &extra); err != nil {
		return Config{}, fmt.Errorf("text config: %w", checkpoint.DescribeJSONError(err))
	}
	// num_key_value_heads left out keeps the class default (32 dense, 16 MoE); an explicit null
	// means the heads in the dense config and is refused by the MoE config's strict int field
	// (transformers 5.24).
	if string(extra.NumKVHeads) == "null" {
		if moe {
			return Config{}, fmt.Errorf("field num_key_value_heads is null: %s wants a number", moeTextType)
		}
		cfg.NumKVHeads = cfg.NumHeads
	}
	if extra.HeadDim == nil && moe && cfg.NumHeads > 0 { // Qwen3VLMoeTextConfig: hidden_size // heads
		cfg.HeadDim = cfg.HiddenSize / cfg.NumHeads
	}
	if extra.RopeTheta != nil {
		cfg.RopeTheta = *extra.RopeTheta
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"rope_scaling", extra.RopeScaling}, {"rope_parameters", extra.RopeParameters}} {
		if len(f.raw) == 0 || string(f.raw) == "null" {
			continue
		}
		var r ropeFields
		if err := json.Unmarshal(f.raw, &r); err != nil {
			return Config{}, fmt.Errorf("field %s: %w", f.name, checkpoint.DescribeJSONError(err))
		}
		typ := r.RopeType
		if typ == nil {
			typ = r.Type
		}
		if typ != nil && *typ != "default" && *typ != "mrope" {
			return Config{}, fmt.Errorf("field %s.rope_type = %q is not supported (want default)", f.name, *typ)
		}
		if r.RopeTheta != nil {
			cfg.RopeTheta = *r.RopeTheta
		}
		if r.MRopeSection != nil {
			if len(r.MRopeSection) != 3 {
				return Config{}, fmt.Errorf("field %s.mrope_section = %v: want 3 values (T, H, W)", f.name, r.MRopeSection)
			}
			cfg.MRopeSection = [3]int(r.MRopeSection)
		}
		if r.MRopeInterleaved != nil {
			cfg.MRopeInterleaved = *r.MRopeInterleaved
		}
	}
	if topTie != nil {
		cfg.TieWordEmbeddings = *topTie
	}
	if moe {
		m, err := parseMoE(body)
		if err != nil {
			return Config{}, err
		}
		cfg.MoE = m
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parseMoE reads the MoE fields of a qwen3_vl_moe text config, defaults for those left out.
func parseMoE(body []byte) (*MoE, error) {
	m := defaultMoE()
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("text config: %w", checkpoint.DescribeJSONError(err))
	}
	var f moeFields
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, fmt.Errorf("text config: %w", checkpoint.DescribeJSONError(err))
	}
	switch {
	case f.NumExperts != nil && f.NumLocalExperts != nil && *f.NumExperts != *f.NumLocalExperts:
		return nil, fmt.Errorf("fields num_experts = %d and num_local_experts = %d disagree", *f.NumExperts, *f.NumLocalExperts)
	case f.NumLocalExperts != nil:
		m.NumExperts = *f.NumLocalExperts
	}
	// transformers 5.24's router always renormalises the top-k weights (it has no
	// norm_topk_prob); a config asking for raw softmax weights would be run differently by it
	// than by its authors, so it is refused rather than guessed.
	if f.NormTopKProb != nil && !*f.NormTopKProb {
		return nil, errors.New("field norm_topk_prob = false is not supported (the reference, transformers 5.24, always renormalises the top-k routing weights)")
	}
	return &m, nil
}

// MaxConfigBytes bounds the config.json ReadConfig reads (released ones are a few KiB).
const MaxConfigBytes = checkpoint.MaxConfigBytes

// ReadConfig reads and validates the config.json at path (a regular file of at most
// MaxConfigBytes).
func ReadConfig(path string) (Config, error) {
	cfg, err := checkpoint.ReadConfig(path, ParseConfig)
	if err != nil {
		return Config{}, fmt.Errorf("text: %w", err)
	}
	return cfg, nil
}

// maxDim bounds every size of a config, and maxWidth the projection widths H·hd and G·hd, so
// that nothing computed from a config overflows and a lying config cannot ask for absurd
// allocations (the largest release, 32B, has D = 5120, I = 25600, H·hd = 8192).
const (
	maxDim   = 1 << 18
	maxWidth = 1 << 17
)

// supportedActs are the MLP activations this package runs.
var supportedActs = []string{"silu"}

// Validate reports the first field that makes the config unusable.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumLayers}, {"num_attention_heads", c.NumHeads},
		{"num_key_value_heads", c.NumKVHeads}, {"head_dim", c.HeadDim},
		{"max_position_embeddings", c.MaxPositionEmbeddings},
	} {
		if f.v <= 0 {
			return fmt.Errorf("field %s = %d: must be positive", f.name, f.v)
		}
		if f.v > maxDim {
			return fmt.Errorf("field %s = %d: larger than the supported %d", f.name, f.v, maxDim)
		}
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("field num_attention_heads = %d is not a multiple of num_key_value_heads = %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("field head_dim = %d: the rotary embedding needs an even head_dim", c.HeadDim)
	}
	if c.NumHeads > maxWidth/c.HeadDim {
		return fmt.Errorf("fields num_attention_heads×head_dim = %d×%d is larger than the supported %d", c.NumHeads, c.HeadDim, maxWidth)
	}
	if !(c.RMSNormEps > 0) || c.RMSNormEps > 1 {
		return fmt.Errorf("field rms_norm_eps = %g: want a small positive number", c.RMSNormEps)
	}
	if !(c.RopeTheta > 1) || c.RopeTheta > 1e12 {
		return fmt.Errorf("field rope_theta = %g: want a base above 1", c.RopeTheta)
	}
	sum := 0
	for i, s := range c.MRopeSection {
		if s < 0 || s > c.HeadDim {
			return fmt.Errorf("field mrope_section[%d] = %d: out of range for head_dim %d", i, s, c.HeadDim)
		}
		sum += s
	}
	if sum != c.HeadDim/2 {
		return fmt.Errorf("field mrope_section = %v sums to %d, want head_dim/2 = %d", c.MRopeSection, sum, c.HeadDim/2)
	}
	if !slices.Contains(supportedActs, c.HiddenAct) {
		return fmt.Errorf("field hidden_act = %q is not supported (want one of %v)", c.HiddenAct, supportedActs)
	}
	if c.AttentionBias {
		return errors.New("field attention_bias = true is not supported (no released Qwen3-VL has attention biases)")
	}
	if c.MoE != nil {
		return c.MoE.validate(c)
	}
	return nil
}

// maxExperts bounds num_experts (the largest release, 235B-A22B, has 128), and
// maxExpertsWidth the experts' total width E·I_e (released: 128·768, 128·1536), so that the
// parameter counts of a lying config cannot overflow.
const (
	maxExperts      = 1 << 12
	maxExpertsWidth = 1 << 21
)

func (m *MoE) validate(c Config) error {
	for _, f := range []struct {
		name  string
		v, hi int
	}{
		{"num_experts", m.NumExperts, maxExperts}, {"num_experts_per_tok", m.TopK, maxExperts},
		{"moe_intermediate_size", m.IntermediateSize, maxDim}, {"decoder_sparse_step", m.DecoderSparseStep, maxDim},
	} {
		if f.v <= 0 {
			return fmt.Errorf("field %s = %d: must be positive", f.name, f.v)
		}
		if f.v > f.hi {
			return fmt.Errorf("field %s = %d: larger than the supported %d", f.name, f.v, f.hi)
		}
	}
	if m.NumExperts > maxExpertsWidth/m.IntermediateSize {
		return fmt.Errorf("fields num_experts×moe_intermediate_size = %d×%d: larger than the supported %d", m.NumExperts, m.IntermediateSize, maxExpertsWidth)
	}
	if m.TopK > m.NumExperts {
		return fmt.Errorf("field num_experts_per_tok = %d: more than num_experts = %d", m.TopK, m.NumExperts)
	}
	for i, l := range m.MLPOnlyLayers {
		if l < 0 || l >= c.NumLayers {
			return fmt.Errorf("field mlp_only_layers[%d] = %d: not a layer of num_hidden_layers = %d", i, l, c.NumLayers)
		}
	}
	return nil
}

// QDim is the width of the query projection, H·hd.
func (c Config) QDim() int { return c.NumHeads * c.HeadDim }

// KVDim is the width of the key and value projections, G·hd.
func (c Config) KVDim() int { return c.NumKVHeads * c.HeadDim }
