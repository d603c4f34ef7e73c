package vision

import "fmt"

// tensorSpec names one checkpoint tensor (without the "model.visual." prefix) and its shape.
type tensorSpec struct {
	name  string
	shape []int
}

// tensorSpecs lists every tensor the tower needs, in load order, with the shapes the config
// implies. Linear weights are [out, in] (PyTorch's layout); the patch embedding is the Conv3d
// kernel [D, C, T, P, P].
func (c Config) tensorSpecs() []tensorSpec {
	d, i, o, md := c.HiddenSize, c.IntermediateSize, c.OutHiddenSize, c.MergedDim()
	specs := []tensorSpec{
		{"patch_embed.proj.weight", []int{d, c.InChannels, c.TemporalPatchSize, c.PatchSize, c.PatchSize}},
		{"patch_embed.proj.bias", []int{d}},
		{"pos_embed.weight", []int{c.NumPositionEmbeddings, d}},
	}
	for b := 0; b < c.Depth; b++ {
		p := fmt.Sprintf("blocks.%d.", b)
		specs = append(specs,
			tensorSpec{p + "norm1.weight", []int{d}}, tensorSpec{p + "norm1.bias", []int{d}},
			tensorSpec{p + "attn.qkv.weight", []int{3 * d, d}}, tensorSpec{p + "attn.qkv.bias", []int{3 * d}},
			tensorSpec{p + "attn.proj.weight", []int{d, d}}, tensorSpec{p + "attn.proj.bias", []int{d}},
			tensorSpec{p + "norm2.weight", []int{d}}, tensorSpec{p + "norm2.bias", []int{d}},
			tensorSpec{p + "mlp.linear_fc1.weight", []int{i, d}}, tensorSpec{p + "mlp.linear_fc1.bias", []int{i}},
			tensorSpec{p + "mlp.linear_fc2.weight", []int{d, i}}, tensorSpec{p + "mlp.linear_fc2.bias", []int{d}},
		)
	}
	merger := func(p string, normDim int) []tensorSpec {
		return []tensorSpec{
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
	for _, s := range c.tensorSpecs() {
		n += int64(numel(s.shape))
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
