package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/qwen3vl/qwen3vl/tokenizer"
)

func Example_encode() {
	tk, err := tokenizer.Load("../testdata/tokenizer/qwen3vl")
	if err != nil {
		log.Fatal(err)
	}
	ids, err := tk.Encode("<|im_start|>user\nHello world<|im_end|>")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ids)
	for _, id := range ids {
		p, _ := tk.Piece(id)
		fmt.Printf("%q ", p)
	}
	fmt.Println()
	// Output:
	// [151644 872 198 9707 1879 151645]
	// "<|im_start|>" "user" "Ċ" "Hello" "Ġworld" "<|im_end|>"
}

func Example_decode() {
	tk, err := tokenizer.Load("../testdata/tokenizer/qwen3vl")
	if err != nil {
		log.Fatal(err)
	}
	ids := []int32{151644, 872, 198, 9707, 1879, 151645}
	all, _ := tk.Decode(ids, false)
	text, _ := tk.Decode(ids, true)
	fmt.Printf("%q\n%q\n", all, text)
	// Output:
	// "<|im_start|>user\nHello world<|im_end|>"
	// "user\nHello world"
}

func ExampleTokenizer_NewStream() {
	tk, err := tokenizer.Load("../testdata/tokenizer/qwen3vl")
	if err != nil {
		log.Fatal(err)
	}
	ids, _ := tk.Encode("a𓀀b")
	s := tk.NewStream(false)
	for _, id := range ids {
		chunk, _ := s.Next(id)
		p, _ := tk.Piece(id)
		fmt.Printf("%d %q -> %q\n", id, p, chunk)
	}
	// Output:
	// 64 "a" -> "a"
	// 124373 "ðĵ" -> ""
	// 222 "Ģ" -> ""
	// 222 "Ģ" -> "𓀀"
	// 65 "b" -> "b"
}

func ExampleTokenizer_Specials() {
	tk, err := tokenizer.Load("../testdata/tokenizer/qwen3vl")
	if err != nil {
		log.Fatal(err)
	}
	s := tk.Specials()
	fmt.Println(s.EOS, s.Pad, s.IMStart, s.VisionStart, s.ImagePad, tk.Len())
	// Output:
	// [151645 151643] 151643 151644 151652 151655 151669
}
