package vision

import (
	"sort"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
)

// activations maps a Hugging Face hidden_act name to its in-place kernel.
var activations = map[string]func(x []float32, threads int){
	"gelu_pytorch_tanh": kernels.GELUTanh,
	"gelu_new":          kernels.GELUTanh, // the same tanh approximation
	"gelu":              kernels.GELUErf,
}

func activationNames() []string {
	names := make([]string, 0, len(activations))
	for n := range activations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
