package text_test

import (
	"context"
	"fmt"

	"github.com/qwen3vl/qwen3vl/text"
)

// A prompt, then greedy decoding, on a decoder with synthetic weights.
func Example() {
	cfg, _ := text.Preset("tiny")
	cfg.VocabSize = 1000 // a smaller table, for a quick example
	m, err := text.Random(cfg, 1, text.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	cache, _ := m.NewCache(16)
	prompt := []int32{1, 2, 3, 4}
	logits, err := m.Prefill(ctx, cache, text.Input{IDs: prompt})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("logits", logits.Rows, "×", logits.Cols)
	row := logits.Data
	for range 3 {
		next := int32(0)
		for i, v := range row {
			if v > row[next] {
				next = int32(i)
			}
		}
		// Text only: the MRoPE position is the cache position.
		if row, err = m.Decode(ctx, cache, next, cache.Len()); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("cached positions", cache.Len())
	// Output:
	// logits 1 × 1000
	// cached positions 7
}

func ExampleConfig_ParamCount() {
	cfg, _ := text.Preset("qwen3-vl-2b")
	fmt.Printf("%.2fB parameters\n", float64(cfg.ParamCount())/1e9)
	// Output: 1.72B parameters
}
