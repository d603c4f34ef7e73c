package text

// Cost is the size and work of one module of the decoder for one forward pass.
type Cost struct {
	// Module is "embed_tokens", "layers.N", "norm" or "lm_head" (TensorSpec.Module). A tied
	// output projection is costed under "lm_head" too, with Params 0 (its parameters are
	// embed_tokens').
	Module string
	// Params is the number of parameters of the module's tensors.
	Params int64
	// FLOPs is its floating-point work (a multiply-add counts as two): the Linears and, in a
	// layer, the attention products; norms, the rotary embedding and activations are left out.
	FLOPs int64
	// Attention is the part of FLOPs spent in the attention products (layers only).
	Attention int64
}

// Costs returns the cost of every module for a forward pass of n new tokens after past cached
// ones, with logits for logitRows of them (1 for the last only, n for all). A Linear of weight
// [out, in] multiplies the n rows, 2·n·out·in FLOPs (lm_head: logitRows rows); attention adds,
// per head, 2·hd FLOPs for each score and 2·hd for each weighted value, over the keys
// past+1 … past+n the n queries see. A sparse layer counts its router and, per token, the k
// experts it routes to (k/E of the experts' parameters).
func Costs(c Config, n, past, logitRows int) []Cost {
	rows, lr := int64(n), int64(logitRows)
	// Σ over the n queries of the keys each sees: Σ_{i=1..n} (past+i).
	keys := rows*int64(past) + rows*(rows+1)/2
	var costs []Cost
	for _, mod := range c.modules(new(Model)) {
		cost := Cost{Module: mod.name}
		if mod.kind == layerModule {
			cost.Attention = 2 * 2 * keys * int64(c.NumHeads) * int64(c.HeadDim)
		}
		cost.FLOPs = cost.Attention
		for _, p := range mod.params {
			size := numel(p.Shape)
			cost.Params += size
			switch {
			case p.lin != nil && mod.kind == lmHeadModule:
				cost.FLOPs += 2 * lr * size
			case p.lin != nil:
				cost.FLOPs += 2 * rows * size
			case p.experts != nil: // each token runs k of the E experts
				cost.FLOPs += 2 * rows * size / int64(c.MoE.NumExperts) * int64(c.MoE.TopK)
			}
		}
		costs = append(costs, cost)
	}
	if c.TieWordEmbeddings {
		costs = append(costs, Cost{Module: "lm_head", FLOPs: 2 * lr * int64(c.VocabSize) * int64(c.HiddenSize)})
	}
	return costs
}

// FLOPs is the sum of Costs: the work of a forward pass of n tokens after past, logits for
// logitRows of them.
func FLOPs(c Config, n, past, logitRows int) int64 {
	var f int64
	for _, cost := range Costs(c, n, past, logitRows) {
		f += cost.FLOPs
	}
	return f
}
