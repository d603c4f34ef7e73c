package vision

import "fmt"

// TensorSpec names one checkpoint tensor (without the "model.visual." prefix) and its shape.
type TensorSpec struct {
	Name  string
	Shape []int
}

// Tensors lists every tensor the tower needs, in load order, with the shapes the config
// implies: what Load checks a checkpoint against. Linear weights are [out, in] (PyTorch's
// layout); the patch embedding is the Conv3d kernel [D, C, T, P, P].
func (c Config) Tensors() []TensorSpec {
	d, i, o, md := c.HiddenSize, c.IntermediateSize, c.OutHiddenSize, c.MergedDim()
	specs := []TensorSpec{
		{"patch_embed.proj.weight", []int{d, c.InChannels, c.TemporalPatchSize, c.PatchSize, c.PatchSize}},
		{"patch_embed.proj.bias", []int{d}},
		{"pos_embed.weight", []int{c.NumPositionEmbeddings, d}},
	}
	for b := 0; b < c.Depth; b++ {
		p := fmt.Sprintf("blocks.%d.", b)
		specs = append(specs,
			TensorSpec{p + "norm1.weight", []int{d}}, TensorSpec{p + "norm1.bias", []int{d}},
			TensorSpec{p + "attn.qkv.weight", []int{3 * d, d}}, TensorSpec{p + "attn.qkv.bias", []int{3 * d}},
			TensorSpec{p + "attn.proj.weight", []int{d, d}}, TensorSpec{p + "attn.proj.bias", []int{d}},
			TensorSpec{p + "norm2.weight", []int{d}}, TensorSpec{p + "norm2.bias", []int{d}},
			TensorSpec{p + "mlp.linear_fc1.weight", []int{i, d}}, TensorSpec{p + "mlp.linear_fc1.bias", []int{i}},
			TensorSpec{p + "mlp.linear_fc2.weight", []int{d, i}}, TensorSpec{p + "mlp.linear_fc2.bias", []int{d}},
		)
	}
	merger := func(p string, normDim int) []TensorSpec {
		return []TensorSpec{
			{p + "norm.weight", []int{normDim}}, {p + "norm.bias", []int{normDim}},
			{p + "linear_fc1.weight", []int{md, md}}, {p + "linear_fc1.bias", []int{md}},
			{p + "linear_fc2.weight", []int{o, md}}, {p + "linear_fc2.bias", []int{o}},
		}
	}
	specs = append(specs, merger("merger.", d)...)
	for k := range c.DeepstackVisualIndexes {
		specs = append(specs, merger(fmt.Sprintf("deepstack_merger_list.%d.", k), md)...)
	}
	return specs
}

// ParamCount is the number of parameters in the tower.
func (c Config) ParamCount() int64 {
	var n int64
	for _, s := range c.Tensors() {
		n += int64(numel(s.Shape))
	}
	return n
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
