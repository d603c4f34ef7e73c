package text

import (
	"fmt"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
)

// The decoder's parameters are declared once, here, as a table of modules and their tensors
// (the vision tower's scheme, vision/tensors.go). Everything that depends on the list of
// tensors walks this table: the presence and shape check at load (checkTensors), the binding of
// the weights to a Model's fields (build), the synthetic weights (Random), ParamCount and the
// FLOP costs (Costs).

// Prefix is the name prefix of the language model's tensors in a Qwen3-VL checkpoint.
const Prefix = "model.language_model."

// LMHead is the output projection's tensor, absent when the embeddings are tied.
const LMHead = "lm_head.weight"

// TensorSpec names one checkpoint tensor (its full state_dict name), its shape and the module it
// belongs to.
type TensorSpec struct {
	Name  string
	Shape []int
	// AltShape, when set, is the other layout Load accepts for the tensor: a sparse layer's
	// fused experts are [E, out, in] in transformers' modules (Shape, what its save_pretrained
	// writes) and [E, in, out] in the released Qwen3-VL MoE checkpoints (AltShape). Load reads
	// either, as transformers 5.24 does (a shape equal to Shape is read as Shape's layout).
	AltShape []int
	// Module is "embed_tokens", "layers.N", "norm" or "lm_head".
	Module string
}

// Tensors lists every tensor the decoder needs, in load order, with the shapes the config
// implies: what Load checks a checkpoint against. Linear weights are [out, in] (PyTorch's
// layout); there are no biases. A sparse layer (Config.Sparse) has, instead of mlp.gate_proj,
// up_proj and down_proj, the router mlp.gate.weight [E, D] and two fused expert tensors:
// mlp.experts.gate_up_proj [E, 2·I_e, D] (expert e's gate_proj rows, then its up_proj rows)
// and mlp.experts.down_proj [E, D, I_e] (or their AltShape).
func (c Config) Tensors() []TensorSpec {
	var specs []TensorSpec
	for _, mod := range c.modules(new(Model)) {
		for _, p := range mod.params {
			specs = append(specs, p.TensorSpec)
		}
	}
	return specs
}

// ParamCount is the number of parameters of the decoder: the elements of every tensor Tensors
// lists (a tied lm_head counts once, as embed_tokens).
func (c Config) ParamCount() int64 {
	var n int64
	for _, s := range c.Tensors() {
		n += numel(s.Shape)
	}
	return n
}

// moduleKind says what a module computes (see Costs).
type moduleKind int

const (
	embedModule  moduleKind = iota // the embedding table: a lookup (and, tied, the output projection)
	layerModule                    // a decoder layer
	normModule                     // the final RMSNorm
	lmHeadModule                   // the output projection
)

// module is one row group of the parameter table: a module instance and its tensors, in load
// order; also the unit of parallel loading.
type module struct {
	name   string
	kind   moduleKind
	params []param
}

// param is one tensor of the table and where a Model keeps it: exactly one destination is set.
type param struct {
	TensorSpec
	vec     *[]float32       // held as float32: the RMSNorm weights
	lin     **kernels.Linear // a Linear's weight [out, in] (no bias)
	embed   *embedding       // the embedding table [V, D]
	experts *moeBlock        // one fused tensor (part) of a sparse layer's experts
	part    expertPart
	// router marks the MoE router's Linear: it multiplies in float32 whatever the Compute
	// (bf16 weights are widened exactly), so bf16 products do not flip expert choices.
	router bool
}

// modules is the parameter table of a decoder of this config, with destinations in m (it sizes
// m.layers). Only the shapes are needed for checks and counts: pass a new Model.
func (c Config) modules(m *Model) []module {
	d, i, v, hd := c.HiddenSize, c.IntermediateSize, c.VocabSize, c.HeadDim
	vec := func(name string, dst *[]float32, n int) param {
		return param{TensorSpec: TensorSpec{Name: name, Shape: []int{n}}, vec: dst}
	}
	lin := func(name string, dst **kernels.Linear, out, in int) param {
		return param{TensorSpec: TensorSpec{Name: name, Shape: []int{out, in}}, lin: dst}
	}
	routerLin := func(name string, dst **kernels.Linear, out, in int) param {
		p := lin(name, dst, out, in)
		p.router = true
		return p
	}
	mod := func(name string, kind moduleKind, params ...param) module {
		for k := range params {
			params[k].Module = name
		}
		return module{name: name, kind: kind, params: params}
	}
	mods := []module{mod("embed_tokens", embedModule,
		param{TensorSpec: TensorSpec{Name: Prefix + "embed_tokens.weight", Shape: []int{v, d}}, embed: &m.embed})}
	m.layers = make([]layer, max(c.NumLayers, 0)) // an invalid config makes no layers, not a panic
	for l := range m.layers {
		name, ly := fmt.Sprintf("layers.%d", l), &m.layers[l]
		p := Prefix + name + "."
		params := []param{
			vec(p+"input_layernorm.weight", &ly.inputNorm, d),
			lin(p+"self_attn.q_proj.weight", &ly.q, c.QDim(), d),
			lin(p+"self_attn.k_proj.weight", &ly.k, c.KVDim(), d),
			lin(p+"self_attn.v_proj.weight", &ly.v, c.KVDim(), d),
			lin(p+"self_attn.o_proj.weight", &ly.o, d, c.QDim()),
			vec(p+"self_attn.q_norm.weight", &ly.qNorm, hd),
			vec(p+"self_attn.k_norm.weight", &ly.kNorm, hd),
			vec(p+"post_attention_layernorm.weight", &ly.postNorm, d),
		}
		if c.Sparse(l) {
			e, ie := c.MoE.NumExperts, c.MoE.IntermediateSize
			ly.moe = &moeBlock{experts: make([]expert, e), topK: c.MoE.TopK, inter: ie}
			fused := func(name string, part expertPart, out, in int) param {
				return param{TensorSpec: TensorSpec{Name: name, Shape: []int{e, out, in}, AltShape: []int{e, in, out}},
					experts: ly.moe, part: part}
			}
			params = append(params,
				routerLin(p+"mlp.gate.weight", &ly.moe.router, e, d),
				fused(p+"mlp.experts.gate_up_proj", gateUpPart, 2*ie, d),
				fused(p+"mlp.experts.down_proj", downPart, d, ie))
		} else {
			params = append(params,
				lin(p+"mlp.gate_proj.weight", &ly.gate, i, d),
				lin(p+"mlp.up_proj.weight", &ly.up, i, d),
				lin(p+"mlp.down_proj.weight", &ly.down, d, i))
		}
		mods = append(mods, mod(name, layerModule, params...))
	}
	mods = append(mods, mod("norm", normModule, vec(Prefix+"norm.weight", &m.norm, d)))
	if !c.TieWordEmbeddings {
		mods = append(mods, mod("lm_head", lmHeadModule, lin(LMHead, &m.lmHead, v, d)))
	}
	return mods
}

func numel(shape []int) int64 {
	n := int64(1)
	for _, s := range shape {
		n *= int64(s)
	}
	return n
}
