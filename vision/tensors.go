package vision

import (
	"fmt"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
)

// The tower's parameters are declared once, here, as a table of modules and their tensors (in
// the spirit of llm.c's fill_in_parameter_sizes). Everything that depends on the list of
// tensors walks this table: the presence and shape check at load (checkTensors), the binding
// of the weights to a Model's fields (build), the parameter count (ParamCount) and the
// per-module costs (Costs, FLOPs).

// TensorSpec names one checkpoint tensor (without the "model.visual." prefix), its shape and the
// module it belongs to.
type TensorSpec struct {
	Name  string
	Shape []int
	// Module is the module instance the tensor belongs to: "patch_embed", "pos_embed",
	// "blocks.B", "merger" or "deepstack_merger_list.K" (the prefix of Name up to it).
	Module string
}

// Tensors lists every tensor the tower needs, in load order, with the shapes the config
// implies: what Load checks a checkpoint against. Linear weights are [out, in] (PyTorch's
// layout); the patch embedding is the Conv3d kernel [D, C, T, P, P].
func (c Config) Tensors() []TensorSpec {
	var specs []TensorSpec
	for _, mod := range c.modules(new(Model)) {
		for _, p := range mod.params {
			specs = append(specs, p.TensorSpec)
		}
	}
	return specs
}

// ParamCount is the number of parameters in the tower: the elements of every tensor Tensors
// lists.
func (c Config) ParamCount() int64 {
	var n int64
	for _, s := range c.Tensors() {
		n += int64(numel(s.Shape))
	}
	return n
}

// moduleKind says what a module computes, which fixes how many rows its Linears multiply and
// which activations it works in (see Costs).
type moduleKind int

const (
	patchEmbedModule moduleKind = iota // Conv3d as a Linear over the patches
	posEmbedModule                     // the learned position table, interpolated
	blockModule                        // a transformer block: attention and MLP over the patches
	mergerModule                       // the main merger: LayerNorm(D), then m² patches → one token
	deepstackModule                    // a DeepStack merger: m² patches → one token, LayerNorm(D·m²)
)

// module is one row group of the parameter table: a module instance and its tensors, in load
// order. A module is also the unit of parallel loading (one goroutine each).
type module struct {
	name   string // "patch_embed", "blocks.3", …: TensorSpec.Module
	kind   moduleKind
	params []param
}

// param is one tensor of the table and where a Model keeps it.
type param struct {
	TensorSpec
	// Exactly one destination is set, except on a Linear's bias (neither): the bias is bound
	// with its weight, the row before it.
	vec *[]float32       // held as float32: LayerNorm parameters, the position table
	lin **kernels.Linear // a Linear's weight [out, in…]; its bias [out] is the next row
}

// modules is the parameter table of a tower of this config, with destinations in m: it sizes
// m.blocks and m.deepstack (and marks the DeepStack mergers post-shuffle) so that every
// destination exists. Only the shapes are needed for checks and counts: pass a new Model.
func (c Config) modules(m *Model) []module {
	d, i, o, md := c.HiddenSize, c.IntermediateSize, c.OutHiddenSize, c.MergedDim()
	vec := func(name string, dst *[]float32, shape ...int) param {
		return param{TensorSpec: TensorSpec{Name: name, Shape: shape}, vec: dst}
	}
	// linear is the weight [out, in…] and bias [out] of prefix.
	linear := func(prefix string, dst **kernels.Linear, out int, in ...int) []param {
		return []param{
			{TensorSpec: TensorSpec{Name: prefix + ".weight", Shape: append([]int{out}, in...)}, lin: dst},
			{TensorSpec: TensorSpec{Name: prefix + ".bias", Shape: []int{out}}},
		}
	}
	mod := func(name string, kind moduleKind, params ...[]param) module {
		mo := module{name: name, kind: kind}
		for _, ps := range params {
			for _, p := range ps {
				p.Module = name
				mo.params = append(mo.params, p)
			}
		}
		return mo
	}
	one := func(p param) []param { return []param{p} }

	mods := []module{
		mod("patch_embed", patchEmbedModule,
			linear("patch_embed.proj", &m.patch, d, c.InChannels, c.TemporalPatchSize, c.PatchSize, c.PatchSize)),
		mod("pos_embed", posEmbedModule, one(vec("pos_embed.weight", &m.posTable, c.NumPositionEmbeddings, d))),
	}
	m.blocks = make([]block, max(c.Depth, 0)) // an invalid config makes no blocks, not a panic
	for b := range m.blocks {
		p, bl := fmt.Sprintf("blocks.%d", b), &m.blocks[b]
		mods = append(mods, mod(p, blockModule,
			one(vec(p+".norm1.weight", &bl.norm1W, d)), one(vec(p+".norm1.bias", &bl.norm1B, d)),
			linear(p+".attn.qkv", &bl.qkv, 3*d, d),
			linear(p+".attn.proj", &bl.proj, d, d),
			one(vec(p+".norm2.weight", &bl.norm2W, d)), one(vec(p+".norm2.bias", &bl.norm2B, d)),
			linear(p+".mlp.linear_fc1", &bl.fc1, i, d),
			linear(p+".mlp.linear_fc2", &bl.fc2, d, i),
		))
	}
	mergerMod := func(p string, kind moduleKind, mg *merger, normDim int) module {
		return mod(p, kind,
			one(vec(p+".norm.weight", &mg.normW, normDim)), one(vec(p+".norm.bias", &mg.normB, normDim)),
			linear(p+".linear_fc1", &mg.fc1, md, md),
			linear(p+".linear_fc2", &mg.fc2, o, md),
		)
	}
	mods = append(mods, mergerMod("merger", mergerModule, &m.merger, d))
	m.deepstack = make([]merger, len(c.DeepstackVisualIndexes))
	for k := range m.deepstack {
		m.deepstack[k].postShuffle = true
		mods = append(mods, mergerMod(fmt.Sprintf("deepstack_merger_list.%d", k), deepstackModule, &m.deepstack[k], md))
	}
	return mods
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
