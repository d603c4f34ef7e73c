package generate_test

import (
	"context"
	"fmt"
	"log"
	"path/filepath"

	"github.com/qwen3vl/qwen3vl/generate"
	"github.com/qwen3vl/qwen3vl/tokenizer"
)

func ExampleParseGenerationConfig() {
	// Qwen3-VL Instruct's generation_config.json.
	cfg, err := generate.ParseGenerationConfig([]byte(`{"do_sample": true, "top_k": 20, "top_p": 0.8,
		"temperature": 0.7, "repetition_penalty": 1.0, "eos_token_id": [151645, 151643]}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.DoSample, cfg.TopK, cfg.TopP, cfg.Temperature, cfg.EOS, cfg.Budget(100))
	// Output: true 20 0.8 0.7 [151645 151643] 20
}

func ExampleProcessors() {
	cfg := generate.DefaultConfig()
	cfg.DoSample, cfg.TopK, cfg.Temperature = true, 2, 0.5
	p, err := generate.NewProcessors(cfg, 5)
	if err != nil {
		log.Fatal(err)
	}
	logits := []float32{1, 4, 2, 3, 0}
	if err := p.Apply(logits, nil, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Println(logits)
	fmt.Printf("%.4f\n", generate.Softmax(logits))
	// Output:
	// [-Inf 8 -Inf 6 -Inf]
	// [0.0000 0.8808 0.0000 0.1192 0.0000]
}

func ExampleRun() {
	tok, err := tokenizer.Load(filepath.Join("..", "testdata", "tokenizer", "qwen3vl"))
	if err != nil {
		log.Fatal(err)
	}
	answer, _ := tok.Encode("Hello, 世界!")
	answer = append(answer, tok.Specials().IMEnd)
	// A stand-in model whose every row makes the next id of answer the argmax.
	next := 0
	row := func() []float32 {
		r := make([]float32, 151936)
		r[answer[next]] = 1
		return r
	}
	step := func(ctx context.Context, id int32) ([]float32, error) {
		next++
		return row(), nil
	}
	cfg := generate.DefaultConfig() // greedy
	cfg.EOS, cfg.MaxNewTokens = tok.Specials().EOS, 64
	prompt := []int32{151644, 872, 198}
	var pieces []string
	res, err := generate.Run(context.Background(), cfg, tok, prompt, row(), step, func(s string) error {
		pieces = append(pieces, s) // a terminal would print s now
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n%q %s %d\n", pieces, res.Text, res.Reason, res.GeneratedTokens)
	// Output:
	// ["Hello" "," " " "世界" "!"]
	// "Hello, 世界!" eos 6
}
