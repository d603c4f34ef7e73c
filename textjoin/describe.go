package textjoin

import "fmt"

// Description is an expanded prompt with its items located: what `qwen3vl prompt` prints.
type Description struct {
	Text  string `json:"text"`
	Spans []Span `json:"spans"`
	// ImageTokens and VideoTokens are the pad counts (= pooler rows of each kind).
	ImageTokens int `json:"image_tokens"`
	VideoTokens int `json:"video_tokens"`
	// With an encoder: the token ids, their MRoPE positions and the rope delta; the spans'
	// Token and Position are filled. Without one these are empty and Token/Position are -1.
	IDs       []int32    `json:"ids,omitempty"`
	Positions *Positions `json:"positions,omitempty"`
	RopeDelta int        `json:"rope_delta"`
}

// Describe expands prompt (marks "<image>" / "<video>", or the chat-template form; see
// [ReplaceMarks]) with the given items, like [Expand], and reports each span: which item and
// temporal group it is, its grid and merged grid, its first pooler row, its byte offset in the
// expanded text and, when enc is not nil, its token index and MRoPE start position.
func Describe(prompt string, images []Grid, videos []Video, tok Tokens, enc Encoder) (*Description, error) {
	return describe(prompt, images, videos, tok, enc, true)
}

// DescribeText is Describe for a text already in the chat-template form, such as a rendered
// conversation: marks are not interpreted, so "<image>" and "<video>" in it stay text (as in
// the processor, which counts only the pad tokens' texts).
func DescribeText(text string, images []Grid, videos []Video, tok Tokens, enc Encoder) (*Description, error) {
	return describe(text, images, videos, tok, enc, false)
}

func describe(prompt string, images []Grid, videos []Video, tok Tokens, enc Encoder, marks bool) (*Description, error) {
	es, err := expandBatch([]string{prompt}, images, videos, tok, marks)
	if err != nil {
		return nil, err
	}
	e := es[0]
	d := &Description{Text: e.Text, Spans: e.Spans}
	for _, s := range e.Spans {
		if s.Kind == KindImage {
			d.ImageTokens += s.Pads
		} else {
			d.VideoTokens += s.Pads
		}
	}
	if enc == nil {
		return d, nil
	}
	ids, err := e.Encode(enc, tok)
	if err != nil {
		return nil, err
	}
	vgrids := make([]Grid, len(videos))
	for i, v := range videos {
		vgrids[i] = v.Grid
	}
	pos, delta, err := RopeIndex(ids, nil, images, vgrids, tok)
	if err != nil {
		return nil, err
	}
	for i := range e.Spans {
		e.Spans[i].Position = pos[1][e.Spans[i].Token] // H of the first row: s
	}
	d.Spans, d.IDs, d.Positions, d.RopeDelta = e.Spans, ids, &pos, delta
	return d, nil
}

// SplitFeatures separates the output of one encoder call over items of both kinds (grids[i] of
// kind kinds[i], in the call's order) into the image and the video features the placement
// takes (the reference encodes images and videos in two calls). A kind without items gives nil.
func SplitFeatures(f Features, grids []Grid, kinds []Kind, m int) (images, videos *Features, err error) {
	if len(grids) != len(kinds) {
		return nil, nil, fmt.Errorf("textjoin: %d grids but %d kinds", len(grids), len(kinds))
	}
	if m < 1 {
		return nil, nil, fmt.Errorf("textjoin: merge size %d", m)
	}
	if err := checkMatrix(f.Pooler, "pooler output"); err != nil {
		return nil, nil, err
	}
	total := 0
	for i, g := range grids {
		if err := g.check(m, fmt.Sprintf("item %d", i)); err != nil {
			return nil, nil, err
		}
		if kinds[i] != KindImage && kinds[i] != KindVideo {
			return nil, nil, fmt.Errorf("textjoin: item %d has kind %v", i, kinds[i])
		}
		total += g.Tokens(m)
	}
	if total != f.Pooler.Rows {
		return nil, nil, fmt.Errorf("textjoin: the grids give %d rows but the pooler output has %d", total, f.Pooler.Rows)
	}
	for j, d := range f.Deepstack {
		if err := checkMatrix(d, fmt.Sprintf("DeepStack feature %d", j)); err != nil {
			return nil, nil, err
		}
		if d.Rows != f.Pooler.Rows || d.Cols != f.Pooler.Cols {
			return nil, nil, fmt.Errorf("textjoin: DeepStack feature %d is [%d, %d], the pooler output [%d, %d]", j, d.Rows, d.Cols, f.Pooler.Rows, f.Pooler.Cols)
		}
	}
	cols := f.Pooler.Cols
	out := map[Kind]*Features{}
	row := 0
	for i, g := range grids {
		n := g.Tokens(m)
		dst := out[kinds[i]]
		if dst == nil {
			dst = &Features{Pooler: Matrix{Rows: 0, Cols: cols, Data: nil}, Deepstack: make([]Matrix, len(f.Deepstack))}
			for j := range dst.Deepstack {
				dst.Deepstack[j].Cols = cols
			}
			out[kinds[i]] = dst
		}
		dst.Pooler.Data = append(dst.Pooler.Data, f.Pooler.Data[row*cols:(row+n)*cols]...)
		dst.Pooler.Rows += n
		for j, d := range f.Deepstack {
			dst.Deepstack[j].Data = append(dst.Deepstack[j].Data, d.Data[row*cols:(row+n)*cols]...)
			dst.Deepstack[j].Rows += n
		}
		row += n
	}
	return out[KindImage], out[KindVideo], nil
}
