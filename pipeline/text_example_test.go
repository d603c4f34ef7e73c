package pipeline_test

import (
	"fmt"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// A conversation with one image, rendered by the checkpoint's own chat template, its image
// pad expanded for a 400×300 image (grid 1×18×24: 108 tokens) and tokenized.
func ExampleText_Describe() {
	text, err := pipeline.OpenText("../testdata/tokenizer/qwen3vl")
	if err != nil {
		fmt.Println(err)
		return
	}
	conv, err := chat.ParseConversation([]byte(`[{"role": "user", "content": [
		{"type": "image"}, {"type": "text", "text": "Describe this image."}]}]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	prompt, err := text.Render(conv, chat.Options{AddGenerationPrompt: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", prompt)
	d, err := text.Describe(prompt, []textjoin.Grid{{T: 1, H: 18, W: 24}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := d.Spans[0]
	fmt.Printf("%d ids; image pads at %d..%d; first ids %v\n", len(d.IDs), s.Token, s.Token+s.Pads-1, d.IDs[:5])
	// Output:
	// "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n<|im_start|>assistant\n"
	// 122 ids; image pads at 4..111; first ids [151644 872 198 151652 151655]
}
