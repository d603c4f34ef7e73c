package chat_test

import (
	"fmt"

	"github.com/qwen3vl/qwen3vl/chat"
)

func ExampleTemplate_Render() {
	tmpl, err := chat.LoadTemplate("../testdata/tokenizer/qwen3vl") // its chat_template.json
	if err != nil {
		panic(err)
	}
	conv, err := chat.ParseConversation([]byte(`[
		{"role": "user", "content": [
			{"type": "image", "image": "cat.jpg"},
			{"type": "text", "text": "What is this?"}]}]`))
	if err != nil {
		panic(err)
	}
	text, err := tmpl.Render(conv, chat.Options{AddGenerationPrompt: true, Vars: map[string]any{"add_vision_id": true}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", text)
	// Output:
	// "<|im_start|>user\nPicture 1: <|vision_start|><|image_pad|><|vision_end|>What is this?<|im_end|>\n<|im_start|>assistant\n"
}

func ExampleConversation_Counts() {
	conv, err := chat.ParseConversation([]byte(`{"messages": [
		{"role": "user", "content": [
			{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
			{"type": "video", "video": "clip.mp4"},
			{"type": "text", "text": "Compare them."}]}],
		"enable_thinking": false}`))
	if err != nil {
		panic(err)
	}
	images, videos := conv.Counts()
	fmt.Println(images, videos)
	// Output:
	// 1 1
}

func ExampleRenderError() {
	tmpl, err := chat.LoadTemplate("../testdata/tokenizer/qwen3.5")
	if err != nil {
		panic(err)
	}
	conv, _ := chat.ParseConversation([]byte(`[{"role": "user", "content": "hi"}, {"role": "system", "content": "late"}]`))
	_, err = tmpl.Render(conv, chat.Options{})
	if re, ok := err.(*chat.RenderError); ok {
		fmt.Println(re.Message)
	}
	// Output:
	// System message must be at the beginning.
}
