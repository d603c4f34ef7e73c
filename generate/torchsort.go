package generate

import "github.com/qwen3vl/qwen3vl/internal/torchorder"

// torchSort sorts idx by ascending key[idx[i]] exactly as torch.sort(descending=False) orders a
// float32 CPU row, ties included (torchorder.Sort): top-p's result at a tie depends on that
// order. idx must hold the row's indices in order (0, 1, …, n−1) on entry.
func torchSort(idx []int32, key []float32) { torchorder.Sort(idx, key) }
