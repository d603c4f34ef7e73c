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
	for i := 0; i < len(prompt); {
		j := strings.IndexByte(prompt[i:], '<')
		if j < 0 {
			b.WriteString(prompt[i:])
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
		if kind == KindText {
			b.WriteString(prompt[i : j+1])
			i = j + 1
			continue
		}
		if j > i && prompt[j-1] == '\\' { // escaped: drop the backslash, keep the mark as text
			b.WriteString(prompt[i : j-1])
			b.WriteString(mark)
			i = j + len(mark)
			continue
		}
		b.WriteString(prompt[i:j])
		pad := tok.ImagePad.Text
		if kind == KindVideo {
			pad = tok.VideoPad.Text
		}
		b.WriteString(tok.VisionStart.Text)
		b.WriteString(pad)
		b.WriteString(tok.VisionEnd.Text)
		i = j + len(mark)
	}
	return b.String()
}

// EscapeMarks returns text with every mark escaped, so that ReplaceMarks(EscapeMarks(s)) == s.
func EscapeMarks(text string) string {
	r := strings.NewReplacer(ImageMark, `\`+ImageMark, VideoMark, `\`+VideoMark)
	return r.Replace(text)
}
