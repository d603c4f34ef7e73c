package vision

// FLOPs is the floating-point work of one Encode of grids (a multiply-add counts as two):
// every matrix multiplication and the attention products; norms and activations are left out.
func FLOPs(c Config, grids []Grid) int64 {
	d, i, o, md := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.OutHiddenSize), int64(c.MergedDim())
	var n, attn int64
	for _, g := range grids {
		s := int64(g.H * g.W)
		n += int64(g.T) * s
		attn += int64(g.T) * s * s // per segment: s² scores, each head_dim long, summed over heads = s²·D
	}
	tokens := n * d / md
	perBlock := 2*n*d*(3*d) + 2*n*d*d + 2*n*d*i*2 + 2*2*attn*d
	mergers := int64(1+len(c.DeepstackVisualIndexes)) * (2*tokens*md*md + 2*tokens*md*o)
	return 2*n*int64(c.PatchDim())*d + int64(c.Depth)*perBlock + mergers
}
