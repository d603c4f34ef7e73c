package vision

// Cost is the size and work of one module of the tower for one Encode.
type Cost struct {
	// Module is the module instance: "patch_embed", "pos_embed", "blocks.B", "merger",
	// "deepstack_merger_list.K" (TensorSpec.Module).
	Module string
	// Params is the number of parameters of the module's tensors.
	Params int64
	// FLOPs is its floating-point work (a multiply-add counts as two): its matrix
	// multiplications and, in a block, the attention products; norms, activations and the
	// position interpolation are left out.
	FLOPs int64
	// Attention is the part of FLOPs spent in the attention products (blocks only).
	Attention int64
	// Activations is the number of float32 values in the buffers the module works in (the
	// blocks share theirs: each block's is the same buffer).
	Activations int64
}

// Costs returns the cost of every module of the tower, in the order of Tensors, for one Encode
// of grids. Parameters and Linear work come from the parameter table: a Linear of weight
// [out, in…] multiplies the N patches (patch embedding, blocks) or the N/m² merged tokens
// (mergers), 2·rows·out·in FLOPs; attention over a segment of s patches adds 2·s²·D for the
// scores and 2·s²·D for the weighted sum.
func Costs(c Config, grids []Grid) []Cost {
	d, i, o, md := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.OutHiddenSize), int64(c.MergedDim())
	var n, squares int64
	for _, g := range grids {
		s := int64(g.H * g.W)
		n += int64(g.T) * s
		squares += int64(g.T) * s * s // per segment: s² scores, each head_dim long, summed over heads = s²·D
	}
	tokens := n * d / md
	var costs []Cost
	for _, mod := range c.modules(new(Model)) {
		rows := n
		cost := Cost{Module: mod.name}
		switch mod.kind {
		case patchEmbedModule, posEmbedModule:
			cost.Activations = n * d
		case blockModule:
			cost.Attention = 2 * 2 * squares * d
			cost.Activations = n * (3*d + d + i) // qkv, the normalised input / attention output, the MLP
		case mergerModule, deepstackModule:
			rows = tokens
			cost.Activations = n*d + tokens*md + tokens*o
		}
		cost.FLOPs = cost.Attention
		for _, p := range mod.params {
			size := int64(numel(p.Shape))
			cost.Params += size
			if p.lin != nil {
				cost.FLOPs += 2 * rows * size
			}
		}
		costs = append(costs, cost)
	}
	return costs
}

// FLOPs is the floating-point work of one Encode of grids (a multiply-add counts as two):
// every matrix multiplication and the attention products; norms and activations are left out.
// It is the sum of Costs.
func FLOPs(c Config, grids []Grid) int64 {
	var f int64
	for _, cost := range Costs(c, grids) {
		f += cost.FLOPs
	}
	return f
}
