package textjoin

import (
	"fmt"
	"strings"
)

// Kind is a token's modality, with the values of the processor's mm_token_type_ids.
type Kind int8

const (
	KindText  Kind = 0
	KindImage Kind = 1
	KindVideo Kind = 2
)

func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindImage:
		return "image"
	case KindVideo:
		return "video"
	}
	return fmt.Sprintf("Kind(%d)", int8(k))
}

// MarshalText makes a Kind read as "image" / "video" / "text" in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads "text", "image" or "video".
func (k *Kind) UnmarshalText(b []byte) error {
	for _, c := range []Kind{KindText, KindImage, KindVideo} {
		if string(b) == c.String() {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("textjoin: unknown kind %q", b)
}

// Span is one contiguous run of pad tokens: a whole image, or one temporal group of a video.
type Span struct {
	Kind  Kind `json:"kind"`
	Item  int  `json:"item"`  // index of the image among the images (or video among the videos)
	Group int  `json:"group"` // temporal group within the video; 0 for an image
	// Grid is the item's patch grid (the whole video's for a video group); Merged the grid of
	// this span's tokens as the language model sees them: (T, H/m, W/m), T = 1 for a video group.
	Grid   Grid `json:"grid"`
	Merged Grid `json:"merged"`
	Pads   int  `json:"pads"` // number of pad tokens: Merged.T·Merged.H·Merged.W
	// Feature is the span's first row in the concatenated pooler output of its kind (all images'
	// rows in item order, or all videos').
	Feature int `json:"feature"`
	// Timestamp is the group's time in seconds (video groups only) and TimestampText its text.
	Timestamp     float64 `json:"timestamp"`
	TimestampText string  `json:"timestamp_text,omitempty"`
	// Byte is the byte offset of the span's first pad in the expanded text (-1 when expanding ids).
	Byte int `json:"byte"`
	// Token is the index of the span's first pad in the token sequence (-1 when not tokenized),
	// and Position its MRoPE start s (T = s+t, H = s+row, W = s+col; -1 when unknown).
	Token    int `json:"token"`
	Position int `json:"position"`
}

// Expansion is one expanded prompt and its spans, in text order.
type Expansion struct {
	Text  string `json:"text"`
	Spans []Span `json:"spans"`
}

// Expand expands one prompt like Qwen3VLProcessor: marks are rewritten ([ReplaceMarks]), then
// each image pad text becomes Grid.Tokens(m) pads, and each video pad text becomes, for each
// temporal group, [TimestampText] + vision_start + H·W/m² video pads + vision_end. Items are
// used in order. As in the pinned processor, the vision_start/vision_end around a video's pad
// are kept, so a chat-template video reads start, "<t seconds>", start, pads, end, …, end.
func Expand(prompt string, images []Grid, videos []Video, tok Tokens) (*Expansion, error) {
	e, err := ExpandBatch([]string{prompt}, images, videos, tok)
	if err != nil {
		return nil, err
	}
	return e[0], nil
}

// ExpandBatch expands several prompts; like the processor, the items are counted and used in
// order across the whole batch (prompt 0's items first).
func ExpandBatch(prompts []string, images []Grid, videos []Video, tok Tokens) ([]*Expansion, error) {
	return expandBatch(prompts, images, videos, tok, true)
}

// expandBatch is ExpandBatch; marks false leaves "<image>" and "<video>" as text.
func expandBatch(prompts []string, images []Grid, videos []Video, tok Tokens, marks bool) ([]*Expansion, error) {
	if err := tok.Validate(); err != nil {
		return nil, err
	}
	m := tok.MergeSize
	if err := checkGrids(images, videos, m); err != nil {
		return nil, err
	}
	texts := make([]string, len(prompts))
	nImg, nVid := 0, 0
	for i, p := range prompts {
		texts[i] = p
		if marks {
			texts[i] = ReplaceMarks(p, tok)
		}
		nImg += strings.Count(texts[i], tok.ImagePad.Text)
		nVid += strings.Count(texts[i], tok.VideoPad.Text)
	}
	if err := checkCounts(tok.ImagePad.Text, "images", nImg, len(images)); err != nil {
		return nil, err
	}
	if err := checkCounts(tok.VideoPad.Text, "videos", nVid, len(videos)); err != nil {
		return nil, err
	}
	out := make([]*Expansion, len(prompts))
	var st expandState
	for i, text := range texts {
		out[i] = st.expandText(text, images, videos, tok)
	}
	return out, nil
}

// checkCounts is ProcessorMixin.validate_inputs (processing_utils.py), with its messages.
func checkCounts(pad, items string, inText, passed int) error {
	if passed > 0 && inText != passed {
		return fmt.Errorf("textjoin: The total number of %s tokens in the prompts should be the same as the number of %s passed. Found total %d %s tokens and %d %s.",
			pad, items, inText, pad, passed, items)
	}
	if passed == 0 && inText > 0 {
		return fmt.Errorf("textjoin: Found %d %s tokens in the text but no %s were passed.", inText, pad, items)
	}
	return nil
}

// expandState carries the item cursors and feature-row counters across a batch.
type expandState struct {
	img, vid       int // next image / video
	imgRow, vidRow int // next pooler row of each kind
}

func (st *expandState) imageSpan(g Grid, m int) Span {
	s := Span{Kind: KindImage, Item: st.img, Grid: g, Merged: g.Merged(m), Pads: g.Tokens(m),
		Feature: st.imgRow, Byte: -1, Token: -1, Position: -1}
	st.img++
	st.imgRow += s.Pads
	return s
}

func (st *expandState) videoSpan(v Video, group, m int) Span {
	mg := v.Grid.Merged(m)
	mg.T = 1
	s := Span{Kind: KindVideo, Item: st.vid, Group: group, Grid: v.Grid, Merged: mg, Pads: mg.H * mg.W,
		Feature: st.vidRow, Timestamp: v.Timestamps[group], TimestampText: TimestampText(v.Timestamps[group]),
		Byte: -1, Token: -1, Position: -1}
	st.vidRow += s.Pads
	return s
}

// expandText is ProcessorMixin.get_text_with_replacements for one text: the leftmost pad text
// is replaced first (the image alternative first when both match at one place).
func (st *expandState) expandText(text string, images []Grid, videos []Video, tok Tokens) *Expansion {
	m := tok.MergeSize
	e := &Expansion{}
	var b strings.Builder
	for {
		i := strings.Index(text, tok.ImagePad.Text)
		j := strings.Index(text, tok.VideoPad.Text)
		if i < 0 && j < 0 {
			break
		}
		if i >= 0 && (j < 0 || i <= j) { // image
			b.WriteString(text[:i])
			s := st.imageSpan(images[st.img], m)
			s.Byte = b.Len()
			e.Spans = append(e.Spans, s)
			for range s.Pads {
				b.WriteString(tok.ImagePad.Text)
			}
			text = text[i+len(tok.ImagePad.Text):]
			continue
		}
		b.WriteString(text[:j])
		v := videos[st.vid]
		for g := range v.Grid.T {
			s := st.videoSpan(v, g, m)
			b.WriteString(s.TimestampText)
			b.WriteString(tok.VisionStart.Text)
			s.Byte = b.Len()
			e.Spans = append(e.Spans, s)
			for range s.Pads {
				b.WriteString(tok.VideoPad.Text)
			}
			b.WriteString(tok.VisionEnd.Text)
		}
		st.vid++
		text = text[j+len(tok.VideoPad.Text):]
	}
	b.WriteString(text)
	e.Text = b.String()
	return e
}

// Encoder tokenizes plain text that holds none of the vision tokens (it may hold other special
// tokens, which it must handle as the model's tokenizer does). Hugging Face tokenizers split
// the text at special tokens first, so encoding the pieces between vision tokens one by one
// gives the same ids as encoding the whole text.
type Encoder func(text string) ([]int32, error)

// Encode tokenizes the expanded text: vision token texts become their ids and the text between
// them goes through enc. It fills each span's Token.
func (e *Expansion) Encode(enc Encoder, tok Tokens) ([]int32, error) {
	if enc == nil {
		return nil, fmt.Errorf("textjoin: no encoder")
	}
	specials := []Token{tok.VisionStart, tok.VisionEnd, tok.ImagePad, tok.VideoPad}
	next := make([]int, len(specials)) // next occurrence of each at or after off (-1: none)
	for k := range next {
		next[k] = -2 // not searched yet
	}
	var ids []int32
	text, off, span := e.Text, 0, 0
	for off < len(text) {
		// the leftmost special token; the longest one when several start there
		at, which := len(text), -1
		for k, sp := range specials {
			if next[k] == -2 || (next[k] >= 0 && next[k] < off) {
				next[k] = -1
				if i := strings.Index(text[off:], sp.Text); i >= 0 {
					next[k] = off + i
				}
			}
			if i := next[k]; i >= 0 && (i < at || (i == at && len(sp.Text) > len(specials[which].Text))) {
				at, which = i, k
			}
		}
		if at > off {
			part, err := enc(text[off:at])
			if err != nil {
				return nil, fmt.Errorf("textjoin: encoding %q: %w", text[off:at], err)
			}
			ids = append(ids, part...)
		}
		if which < 0 {
			break
		}
		if span < len(e.Spans) && e.Spans[span].Byte == at {
			e.Spans[span].Token = len(ids)
			span++
		}
		ids = append(ids, specials[which].ID)
		off = at + len(specials[which].Text)
	}
	if span != len(e.Spans) {
		return nil, fmt.Errorf("textjoin: the expanded text does not start its spans with pad tokens (found %d of %d)", span, len(e.Spans))
	}
	return ids, nil
}

// ExpandIDs expands a token sequence holding one image pad id per image and one video pad id
// per video (as tokenizing a chat-template prompt gives): the same result as [Expand] followed
// by tokenization, provided the timestamp text is tokenized on its own (true when the video pad
// follows a special token such as vision_start, as in the chat template). enc tokenizes the
// timestamp texts; it may be nil when there are no videos. Spans carry Token, not Byte.
func ExpandIDs(ids []int32, images []Grid, videos []Video, tok Tokens, enc Encoder) ([]int32, []Span, error) {
	if err := tok.Validate(); err != nil {
		return nil, nil, err
	}
	m := tok.MergeSize
	if err := checkGrids(images, videos, m); err != nil {
		return nil, nil, err
	}
	nImg, nVid := 0, 0
	for _, id := range ids {
		switch id {
		case tok.ImagePad.ID:
			nImg++
		case tok.VideoPad.ID:
			nVid++
		}
	}
	if err := checkCounts(tok.ImagePad.Text, "images", nImg, len(images)); err != nil {
		return nil, nil, err
	}
	if err := checkCounts(tok.VideoPad.Text, "videos", nVid, len(videos)); err != nil {
		return nil, nil, err
	}
	if nVid > 0 && enc == nil {
		return nil, nil, fmt.Errorf("textjoin: expanding videos needs an encoder for the timestamp text")
	}
	var st expandState
	var spans []Span
	out := make([]int32, 0, len(ids))
	for _, id := range ids {
		switch id {
		case tok.ImagePad.ID:
			s := st.imageSpan(images[st.img], m)
			s.Token = len(out)
			spans = append(spans, s)
			for range s.Pads {
				out = append(out, id)
			}
		case tok.VideoPad.ID:
			v := videos[st.vid]
			for g := range v.Grid.T {
				s := st.videoSpan(v, g, m)
				ts, err := enc(s.TimestampText)
				if err != nil {
					return nil, nil, fmt.Errorf("textjoin: encoding %q: %w", s.TimestampText, err)
				}
				out = append(out, ts...)
				out = append(out, tok.VisionStart.ID)
				s.Token = len(out)
				spans = append(spans, s)
				for range s.Pads {
					out = append(out, id)
				}
				out = append(out, tok.VisionEnd.ID)
			}
			st.vid++
		default:
			out = append(out, id)
		}
	}
	return out, spans, nil
}
