package textjoin_test

import (
	"fmt"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

func ExampleLoadTokens() {
	tok, err := textjoin.LoadTokens("../testdata/textjoin/checkpoint")
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.ImagePad.ID, tok.ImagePad.Text, tok.MergeSize)
	// Output: 151655 <|image_pad|> 2
}

func ExampleExpand() {
	tok := textjoin.DefaultTokens()
	// a 64×96 image: grid (1, 4, 6), 6 tokens
	e, err := textjoin.Expand("Describe <image>.", []textjoin.Grid{{T: 1, H: 4, W: 6}}, nil, tok)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.ReplaceAll(e.Text, "<|image_pad|>", "I"))
	s := e.Spans[0]
	fmt.Println(s.Kind, s.Grid, "merged", s.Merged, "pads", s.Pads, "at byte", s.Byte)
	// Output:
	// Describe <|vision_start|>IIIIII<|vision_end|>.
	// image (1, 4, 6) merged (1, 2, 3) pads 6 at byte 25
}

func ExampleExpand_video() {
	tok := textjoin.DefaultTokens()
	// four sampled frames at 30 fps: two temporal groups
	ts := imageproc.GroupTimestamps([]int{0, 15, 30, 45}, 30, 2)
	v := textjoin.Video{Grid: textjoin.Grid{T: 2, H: 2, W: 4}, Timestamps: ts}
	e, err := textjoin.Expand("<video>Summarise.", nil, []textjoin.Video{v}, tok)
	if err != nil {
		panic(err)
	}
	r := strings.NewReplacer("<|video_pad|>", "V", "<|vision_start|>", "[", "<|vision_end|>", "]")
	fmt.Println(r.Replace(e.Text))
	// Output: [<0.2 seconds>[VV]<1.2 seconds>[VV]]Summarise.
}

func ExampleDescribe() {
	tok := textjoin.DefaultTokens()
	// a stand-in tokenizer: one token per byte (a runtime passes its model's tokenizer)
	enc := func(s string) ([]int32, error) {
		ids := make([]int32, len(s))
		for i := range ids {
			ids[i] = int32(s[i])
		}
		return ids, nil
	}
	d, err := textjoin.Describe("A <image> B", []textjoin.Grid{{T: 1, H: 8, W: 4}}, nil, tok, enc)
	if err != nil {
		panic(err)
	}
	s := d.Spans[0]
	fmt.Println("tokens", len(d.IDs), "image pads", s.Pads, "from token", s.Token, "position", s.Position)
	fmt.Println("T", d.Positions[0])
	fmt.Println("H", d.Positions[1])
	fmt.Println("W", d.Positions[2])
	fmt.Println("rope delta", d.RopeDelta)
	// Output:
	// tokens 14 image pads 8 from token 3 position 3
	// T [0 1 2 3 3 3 3 3 3 3 3 7 8 9]
	// H [0 1 2 3 3 4 4 5 5 6 6 7 8 9]
	// W [0 1 2 3 4 3 4 3 4 3 4 7 8 9]
	// rope delta -4
}

func ExampleRopeIndexBatch() {
	tok := textjoin.DefaultTokens()
	I := tok.ImagePad.ID
	// two sequences, the first left-padded; one 2×2-merged image each
	ids := [][]int32{
		{0, 0, 7, I, I, I, I, 8},
		{7, 7, 7, I, I, I, I, 8},
	}
	mask := [][]bool{
		{false, false, true, true, true, true, true, true},
		{true, true, true, true, true, true, true, true},
	}
	grids := []textjoin.Grid{{T: 1, H: 4, W: 4}, {T: 1, H: 4, W: 4}}
	pos, deltas, err := textjoin.RopeIndexBatch(ids, mask, grids, nil, tok)
	if err != nil {
		panic(err)
	}
	for b := range pos {
		fmt.Println(pos[b][1], deltas[b])
	}
	// the next generated token of sequence 0 (6 unmasked tokens so far)
	fmt.Println(textjoin.DecodePosition(6, deltas[0]))
	// Output:
	// [0 0 0 1 1 2 2 3] -2
	// [0 1 2 3 3 4 4 5] -2
	// 4
}

func ExampleScatter() {
	tok := textjoin.DefaultTokens()
	I := tok.ImagePad.ID
	ids := []int32{1, I, I, 2}
	// text embeddings [4, 2] and one image's features [2, 2] with one DeepStack level
	embeds := textjoin.Matrix{Rows: 4, Cols: 2, Data: []float32{0, 0, 0, 0, 0, 0, 0, 0}}
	img := &textjoin.Features{
		Pooler:    textjoin.Matrix{Rows: 2, Cols: 2, Data: []float32{1, 1, 2, 2}},
		Deepstack: []textjoin.Matrix{{Rows: 2, Cols: 2, Data: []float32{10, 10, 20, 20}}},
	}
	p, err := textjoin.Scatter(embeds, ids, img, nil, tok)
	if err != nil {
		panic(err)
	}
	fmt.Println(embeds.Data, p.Visual)
	// after decoder layer 0: hidden += DeepStack level 0 at the visual rows
	hidden := textjoin.Matrix{Rows: 4, Cols: 2, Data: []float32{5, 5, 5, 5, 5, 5, 5, 5}}
	if err := textjoin.AddDeepstack(hidden, p.Visual, p.Deepstack[0]); err != nil {
		panic(err)
	}
	fmt.Println(hidden.Data)
	// Output:
	// [0 0 1 1 2 2 0 0] [false true true false]
	// [5 5 15 15 25 25 5 5]
}

func ExampleReplaceMarks() {
	tok := textjoin.DefaultTokens()
	fmt.Println(textjoin.ReplaceMarks(`<image> vs \<image>`, tok))
	// Output: <|vision_start|><|image_pad|><|vision_end|> vs <image>
}
