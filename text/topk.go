package text

import "github.com/qwen3vl/qwen3vl/internal/torchorder"

// topK returns the indices of the k largest of vals in the order torch.topk(vals, k) (largest,
// sorted, a float32 CPU row) returns them, ties included (torchorder.TopK): which of two equal
// router probabilities wins decides an expert. idx is scratch of len(vals); the result is
// idx[:k].
func topK(vals []float32, k int, idx []int32) []int32 { return torchorder.TopK(vals, k, idx) }
