package textjoin

import "strings"

// The prompt marks accepted by [Expand] and [Describe] (and `qwen3vl prompt`).
//
//   - "<image>" stands for one image and "<video>" for one video, in the order of the items
//     given. Each becomes what the chat template emits for the item:
//     vision_start + pad + vision_end ("<|vision_start|><|image_pad|><|vision_end|>").
//   - The literal chat-template form is accepted as is, as are bare pad tokens: like the
//     processor, expansion counts and replaces every pad token text in the prompt.
//   - A backslash right before a mark makes it literal text: `\<image>` is the text "<image>".
//     No other backslash is special (so a literal backslash cannot directly precede a mark).
//     [EscapeMarks] escapes every mark in a text.
//
// Marks are matched exactly (case-sensitive, no spaces).
const (
	ImageMark = "<image>"
	VideoMark = "<video>"
)

// ReplaceMarks rewrites the marks of prompt into the chat-template form of tok and unescapes
// escaped marks. Everything else is kept byte for byte.
func ReplaceMarks(prompt string, tok Tokens) string {
	if !strings.Contains(prompt, ImageMark) && !strings.Contains(prompt, VideoMark) {
		return prompt
	}
	var b strings.Builder
	b.Grow(len(prompt) + 64)
	for _, s := range SplitMarks(prompt) {
		switch s.Kind {
		case KindImage:
			b.WriteString(tok.VisionStart.Text + tok.ImagePad.Text + tok.VisionEnd.Text)
		case KindVideo:
			b.WriteString(tok.VisionStart.Text + tok.VideoPad.Text + tok.VisionEnd.Text)
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// Segment is one piece of a prompt cut at its marks: text (Kind KindText, escaped marks
// already unescaped), or one "<image>" or "<video>" mark (Kind KindImage or KindVideo, Text
// empty).
type Segment struct {
	Kind Kind
	Text string
}

// SplitMarks cuts prompt at its marks, in order. Text segments are never empty, and two never
// follow each other; "" gives no segments. Joining the text segments with every mark written
// back escaped gives prompt with its escapes normalised.
func SplitMarks(prompt string) []Segment {
	var out []Segment
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, Segment{Kind: KindText, Text: text.String()})
			text.Reset()
		}
	}
	for i := 0; i < len(prompt); {
		j := strings.IndexByte(prompt[i:], '<')
		if j < 0 {
			text.WriteString(prompt[i:])
			break
		}
		j += i
		rest := prompt[j:]
		mark, kind := "", KindText
		switch {
		case strings.HasPrefix(rest, ImageMark):
			mark, kind = ImageMark, KindImage
		case strings.HasPrefix(rest, VideoMark):
			mark, kind = VideoMark, KindVideo
		}
		switch {
		case kind == KindText:
			text.WriteString(prompt[i : j+1])
		case j > i && prompt[j-1] == '\\': // escaped: drop the backslash, keep the mark as text
			text.WriteString(prompt[i : j-1])
			text.WriteString(mark)
		default:
			text.WriteString(prompt[i:j])
			flush()
			out = append(out, Segment{Kind: kind})
		}
		i = j + max(len(mark), 1)
	}
	flush()
	return out
}

// EscapeMarks returns text with every mark escaped, so that ReplaceMarks(EscapeMarks(s)) == s.
func EscapeMarks(text string) string {
	r := strings.NewReplacer(ImageMark, `\`+ImageMark, VideoMark, `\`+VideoMark)
	return r.Replace(text)
}
