package textjoin

import (
	"reflect"
	"strings"
	"testing"
)

func TestReplaceMarks(t *testing.T) {
	tok := DefaultTokens()
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"<image>", chatImage},
		{"<video>", chatVideo},
		{"a<image>b<video>c<image>", "a" + chatImage + "b" + chatVideo + "c" + chatImage},
		{`\<image>`, "<image>"},
		{`x \<video> y`, "x <video> y"},
		{`\\<image>`, `\<image>`},
		{`\<image><image>`, "<image>" + chatImage},
		{"<<image>>", "<" + chatImage + ">"},
		{"<imag <Image> <image <images> < image>", "<imag <Image> <image <images> < image>"},
		{`\n\t<b>`, `\n\t<b>`},
		{chatImage, chatImage},               // the chat-template form is kept
		{"<|image_pad|>", "<|image_pad|>"},   // and so is a bare pad
		{"é<image>ü", "é" + chatImage + "ü"}, // UTF-8 around marks
		{"<video><video>", chatVideo + chatVideo},
	}
	for _, tt := range tests {
		if got := ReplaceMarks(tt.in, tok); got != tt.want {
			t.Errorf("ReplaceMarks(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeMarks(t *testing.T) {
	tok := DefaultTokens()
	for _, s := range []string{"", "<image>", `\<image>`, `\\<video>x<image>`, "a <video> b", "<<image>>", `\`} {
		e := EscapeMarks(s)
		if got := ReplaceMarks(e, tok); got != s {
			t.Errorf("ReplaceMarks(EscapeMarks(%q)) = %q (escaped %q)", s, got, e)
		}
	}
}

func pads(tok Token, n int) string { return strings.Repeat(tok.Text, n) }

func TestExpand(t *testing.T) {
	tok := DefaultTokens()
	S, E, I, V := tok.VisionStart.Text, tok.VisionEnd.Text, tok.ImagePad, tok.VideoPad
	tests := []struct {
		name   string
		prompt string
		images []Grid
		videos []Video
		want   string
		spans  []Span
	}{
		{
			name:   "no items",
			prompt: "just text",
			want:   "just text",
		},
		{
			name:   "one image",
			prompt: "Look: <image> ok",
			images: []Grid{{1, 4, 6}},
			want:   "Look: " + S + pads(I, 6) + E + " ok",
			spans: []Span{{Kind: KindImage, Grid: Grid{1, 4, 6}, Merged: Grid{1, 2, 3}, Pads: 6,
				Byte: len("Look: " + S), Token: -1, Position: -1}},
		},
		{
			name:   "tall image and bare pad",
			prompt: "<image> and <|image_pad|>",
			images: []Grid{{1, 28, 4}, {1, 2, 2}},
			want:   S + pads(I, 28) + E + " and " + pads(I, 1),
			spans: []Span{
				{Kind: KindImage, Grid: Grid{1, 28, 4}, Merged: Grid{1, 14, 2}, Pads: 28, Byte: len(S), Token: -1, Position: -1},
				{Kind: KindImage, Item: 1, Grid: Grid{1, 2, 2}, Merged: Grid{1, 1, 1}, Pads: 1, Feature: 28,
					Byte: len(S + pads(I, 28) + E + " and "), Token: -1, Position: -1},
			},
		},
		{
			name:   "video keeps its outer start and end",
			prompt: "<video>!",
			videos: []Video{{Grid{2, 2, 4}, []float64{0.25, 1.75}}},
			want:   S + "<0.2 seconds>" + S + pads(V, 2) + E + "<1.8 seconds>" + S + pads(V, 2) + E + E + "!",
			spans: []Span{
				{Kind: KindVideo, Grid: Grid{2, 2, 4}, Merged: Grid{1, 1, 2}, Pads: 2, Timestamp: 0.25,
					TimestampText: "<0.2 seconds>", Byte: len(S + "<0.2 seconds>" + S), Token: -1, Position: -1},
				{Kind: KindVideo, Group: 1, Grid: Grid{2, 2, 4}, Merged: Grid{1, 1, 2}, Pads: 2, Feature: 2, Timestamp: 1.75,
					TimestampText: "<1.8 seconds>", Byte: len(S + "<0.2 seconds>" + S + pads(V, 2) + E + "<1.8 seconds>" + S),
					Token: -1, Position: -1},
			},
		},
		{
			name:   "bare video pad (vLLM style)",
			prompt: "<|video_pad|>",
			videos: []Video{{Grid{1, 2, 2}, []float64{0}}},
			want:   "<0.0 seconds>" + S + pads(V, 1) + E,
			spans: []Span{{Kind: KindVideo, Grid: Grid{1, 2, 2}, Merged: Grid{1, 1, 1}, Pads: 1,
				TimestampText: "<0.0 seconds>", Byte: len("<0.0 seconds>" + S), Token: -1, Position: -1}},
		},
		{
			name:   "image with t > 1",
			prompt: "<image>",
			images: []Grid{{2, 2, 2}},
			want:   S + pads(I, 2) + E,
			spans: []Span{{Kind: KindImage, Grid: Grid{2, 2, 2}, Merged: Grid{2, 1, 1}, Pads: 2, Byte: len(S),
				Token: -1, Position: -1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Expand(tt.prompt, tt.images, tt.videos, tok)
			if err != nil {
				t.Fatal(err)
			}
			if e.Text != tt.want {
				t.Fatalf("text\n got %q\nwant %q", e.Text, tt.want)
			}
			if !reflect.DeepEqual(e.Spans, tt.spans) {
				t.Fatalf("spans\n got %+v\nwant %+v", e.Spans, tt.spans)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	tok := DefaultTokens()
	img := []Grid{{1, 4, 4}}
	vid := []Video{{Grid{1, 4, 4}, []float64{0}}}
	tests := []struct {
		name   string
		prompt string
		images []Grid
		videos []Video
		tok    Tokens
		want   string
	}{
		{"more marks than images", "<image><image>", img, nil, tok, "Found total 2 <|image_pad|> tokens and 1 images"},
		{"fewer marks than images", "<image>", []Grid{{1, 4, 4}, {1, 2, 2}}, nil, tok, "Found total 1 <|image_pad|> tokens and 2 images"},
		{"images without marks", "text", img, nil, tok, "Found total 0 <|image_pad|> tokens and 1 images"},
		{"marks without images", "<image>", nil, nil, tok, "Found 1 <|image_pad|> tokens in the text but no images were passed"},
		{"video marks without videos", "<video>", nil, nil, tok, "Found 1 <|video_pad|> tokens in the text but no videos were passed"},
		{"more videos than marks", "<video>", nil, append(vid, vid...), tok, "Found total 1 <|video_pad|> tokens and 2 videos"},
		{"odd grid", "<image>", []Grid{{1, 3, 4}}, nil, tok, "multiples of the merge size 2"},
		{"zero grid", "<image>", []Grid{{0, 4, 4}}, nil, tok, "size below 1"},
		{"huge grid", "<image>", []Grid{{1, 1 << 14, 1 << 14}}, nil, tok, "more than"},
		{"huge total", "<image><image>", []Grid{{1, 1 << 12, 1<<13 + 2}, {1, 1 << 12, 1<<13 + 2}}, nil, tok, "the items give more than"},
		{"missing timestamps", "<video>", nil, []Video{{Grid{2, 4, 4}, []float64{0}}}, tok, "2 temporal groups but 1 timestamps"},
		{"bad tokens", "<image>", img, nil, Tokens{}, "has no text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Expand(tt.prompt, tt.images, tt.videos, tt.tok)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestExpandCustomTokens(t *testing.T) {
	tok := Tokens{
		VisionStart: Token{10, "[S]"}, VisionEnd: Token{11, "[E]"},
		ImagePad: Token{12, "[I]"}, VideoPad: Token{13, "[V]"}, MergeSize: 1,
	}
	e, err := Expand("a<image>b<video>", []Grid{{1, 1, 2}}, []Video{{Grid{1, 1, 1}, []float64{3.05}}}, tok)
	if err != nil {
		t.Fatal(err)
	}
	// 3.05 is 3.04999… in binary: "3.0", as Python prints it
	if want := "a[S][I][I][E]b[S]<3.0 seconds>[S][V][E][E]"; e.Text != want {
		t.Fatalf("got %q, want %q", e.Text, want)
	}
	enc := func(s string) ([]int32, error) { return []int32{int32(len(s))}, nil } // one token per piece
	ids, err := e.Encode(enc, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{1, 10, 12, 12, 11, 1, 10, 13, 10, 13, 11, 11}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	if e.Spans[0].Token != 2 || e.Spans[1].Token != 9 {
		t.Fatalf("span tokens %d, %d; want 2, 9", e.Spans[0].Token, e.Spans[1].Token)
	}
}

func TestExpandIDs(t *testing.T) {
	tok := DefaultTokens()
	S, E, I, V := tok.VisionStart.ID, tok.VisionEnd.ID, tok.ImagePad.ID, tok.VideoPad.ID
	enc := func(s string) ([]int32, error) { return []int32{-int32(len(s))}, nil }
	ids, spans, err := ExpandIDs([]int32{1, S, I, E, 2, S, V, E}, []Grid{{1, 2, 4}},
		[]Video{{Grid{2, 2, 2}, []float64{0.5, 1.5}}}, tok, enc)
	if err != nil {
		t.Fatal(err)
	}
	ts := int32(-len("<0.5 seconds>"))
	want := []int32{1, S, I, I, E, 2, S, ts, S, V, E, ts, S, V, E, E}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids\n got %v\nwant %v", ids, want)
	}
	if len(spans) != 3 || spans[0].Token != 2 || spans[1].Token != 9 || spans[2].Token != 13 || spans[2].Feature != 1 {
		t.Fatalf("spans %+v", spans)
	}
	if _, _, err := ExpandIDs([]int32{V}, nil, []Video{{Grid{1, 2, 2}, []float64{0}}}, tok, nil); err == nil {
		t.Fatal("videos without an encoder: no error")
	}
	if _, _, err := ExpandIDs([]int32{I, I}, []Grid{{1, 2, 2}}, nil, tok, nil); err == nil ||
		!strings.Contains(err.Error(), "Found total 2 <|image_pad|> tokens and 1 images") {
		t.Fatalf("error %v", err)
	}
}

func TestDescribe(t *testing.T) {
	tok := DefaultTokens()
	enc := func(s string) ([]int32, error) { return byteEncoder(s) }
	d, err := Describe("hi <image> then <video>", []Grid{{1, 8, 4}}, []Video{{Grid{2, 4, 4}, []float64{0, 2}}}, tok, enc)
	if err != nil {
		t.Fatal(err)
	}
	if d.ImageTokens != 8 || d.VideoTokens != 8 || len(d.Spans) != 3 {
		t.Fatalf("%+v", d)
	}
	// "hi " + start = 4 tokens; the image (merged 4×2) starts at position 4, text resumes at 4+4
	if s := d.Spans[0]; s.Token != 4 || s.Position != 4 {
		t.Fatalf("image span %+v", s)
	}
	checkSpans(t, d.IDs, d.Spans, tok)
	for _, s := range d.Spans {
		for r := range 3 {
			if d.Positions[r][s.Token] != s.Position {
				t.Fatalf("span %+v: row %d starts at %d", s, r, d.Positions[r][s.Token])
			}
		}
	}
	// without an encoder: no ids, unknown token positions
	d, err = Describe("<image>", []Grid{{1, 2, 2}}, nil, tok, nil)
	if err != nil || d.IDs != nil || d.Positions != nil || d.Spans[0].Token != -1 {
		t.Fatalf("%+v, %v", d, err)
	}
}

func TestTimestampText(t *testing.T) {
	for x, want := range map[float64]string{0: "<0.0 seconds>", 0.25: "<0.2 seconds>", 0.35: "<0.3 seconds>",
		0.45: "<0.5 seconds>", 1.125: "<1.1 seconds>", 2.675: "<2.7 seconds>", 12.05: "<12.1 seconds>"} {
		if got := TimestampText(x); got != want {
			t.Errorf("TimestampText(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestKindText(t *testing.T) {
	for _, k := range []Kind{KindText, KindImage, KindVideo} {
		b, _ := k.MarshalText()
		var got Kind
		if err := got.UnmarshalText(b); err != nil || got != k {
			t.Fatalf("%v: %v %v", k, got, err)
		}
	}
	var k Kind
	if err := k.UnmarshalText([]byte("audio")); err == nil {
		t.Fatal("no error")
	}
	if s := Kind(9).String(); s != "Kind(9)" {
		t.Fatal(s)
	}
}

func TestSplitMarks(t *testing.T) {
	img, vid := Segment{Kind: KindImage}, Segment{Kind: KindVideo}
	txt := func(s string) Segment { return Segment{Kind: KindText, Text: s} }
	for _, tt := range []struct {
		in   string
		want []Segment
	}{
		{"", nil},
		{"plain", []Segment{txt("plain")}},
		{"<image>", []Segment{img}},
		{"<image><video>", []Segment{img, vid}},
		{"a <image> b <video>", []Segment{txt("a "), img, txt(" b "), vid}},
		{`a \<image> b`, []Segment{txt("a <image> b")}},
		{`\<video><image>`, []Segment{txt("<video>"), img}},
		{"<imag <image", []Segment{txt("<imag <image")}},
		{"<<image>>", []Segment{txt("<"), img, txt(">")}},
		{"<|image_pad|>", []Segment{txt("<|image_pad|>")}},
	} {
		got := SplitMarks(tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitMarks(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestDescribeTextKeepsMarks: in the chat-template form "<image>" is text, as for the
// processor; Describe reads it as a mark.
func TestDescribeTextKeepsMarks(t *testing.T) {
	tok := DefaultTokens()
	g := []Grid{{T: 1, H: 2, W: 2}}
	text := tok.VisionStart.Text + tok.ImagePad.Text + tok.VisionEnd.Text + " what is <image>?"
	d, err := DescribeText(text, g, nil, tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.ImageTokens != 1 || !strings.Contains(d.Text, " what is <image>?") {
		t.Errorf("DescribeText: %d image tokens, text %q", d.ImageTokens, d.Text)
	}
	if _, err := Describe(text, g, nil, tok, nil); err == nil {
		t.Error("Describe read no mark in the text")
	}
}
