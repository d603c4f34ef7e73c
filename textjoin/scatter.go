package textjoin

import (
	"fmt"

	"github.com/qwen3vl/qwen3vl/internal/matrix"
)

// Matrix is a row-major float32 matrix [Rows, Cols]: internal/matrix's, the same type as
// vision.Matrix, so the tower's outputs are used as they are.
type Matrix = matrix.Matrix

// checkMatrix checks that m's data fits its shape.
func checkMatrix(m Matrix, what string) error {
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("textjoin: %s: %d values for a [%d, %d] matrix", what, len(m.Data), m.Rows, m.Cols)
	}
	return nil
}

// Features are the encoder outputs of all items of one kind, concatenated in item order:
// Pooler is pooler_output [n, O] (n = Σ t·h·w/m²) and Deepstack the DeepStack features, each
// [n, O] (deepstack_features; k = len(deepstack_visual_indexes) of them).
type Features struct {
	Pooler    Matrix
	Deepstack []Matrix
}

// Placement is what the language model needs besides the embeddings after [Scatter].
type Placement struct {
	// Visual is visual_pos_masks: true at the pads of the kinds placed (image pads when image
	// features were given, video pads when video features were given). Nil when neither was.
	Visual []bool
	// Deepstack are deepstack_visual_embeds: k matrices [count(Visual), O] whose rows follow the
	// visual positions in sequence order (image and video rows interleaved as they occur).
	Deepstack []Matrix
	// Images and Videos are the numbers of rows placed of each kind.
	Images, Videos int
}

// Scatter is the placement in Qwen3VLModel.forward: the rows of images.Pooler replace, in
// order, the rows of embeds [len(ids), O] at the image pads (masked_scatter), and the rows of
// videos.Pooler those at the video pads. embeds is modified in place (the rows are copied
// exactly). images or videos may be nil (that kind is not placed). It also builds
// visual_pos_masks and the DeepStack rows aligned to it. The number of pads of a kind must
// equal its feature rows (the reference's "Image features and image tokens do not match").
func Scatter(embeds Matrix, ids []int32, images, videos *Features, tok Tokens) (*Placement, error) {
	return ScatterBatch(embeds, [][]int32{ids}, images, videos, tok)
}

// ScatterBatch is [Scatter] for a batch: embeds holds the sequences one after another
// ([B, seq, O] is [B·seq, O]) and ids[b] the tokens of sequence b. Items are placed in order
// across the batch, and Visual is indexed like the rows of embeds.
func ScatterBatch(embeds Matrix, ids [][]int32, images, videos *Features, tok Tokens) (*Placement, error) {
	if err := tok.Validate(); err != nil {
		return nil, err
	}
	if err := checkMatrix(embeds, "embeddings"); err != nil {
		return nil, err
	}
	rows := 0
	for _, r := range ids {
		rows += len(r)
	}
	if rows != embeds.Rows {
		return nil, fmt.Errorf("textjoin: %d token ids for %d embedding rows", rows, embeds.Rows)
	}
	nImg, nVid := 0, 0
	for _, r := range ids {
		for _, id := range r {
			switch id {
			case tok.ImagePad.ID:
				nImg++
			case tok.VideoPad.ID:
				nVid++
			}
		}
	}
	if err := images.check("Image", "image", nImg, embeds.Cols); err != nil {
		return nil, err
	}
	if err := videos.check("Video", "video", nVid, embeds.Cols); err != nil {
		return nil, err
	}
	if images != nil && videos != nil && len(images.Deepstack) != len(videos.Deepstack) {
		return nil, fmt.Errorf("textjoin: %d DeepStack features for the images but %d for the videos", len(images.Deepstack), len(videos.Deepstack))
	}
	p := &Placement{}
	if images == nil && videos == nil {
		return p, nil
	}
	k := 0
	if images != nil {
		k = len(images.Deepstack)
	} else {
		k = len(videos.Deepstack)
	}
	nVis := 0
	if images != nil {
		nVis += nImg
	}
	if videos != nil {
		nVis += nVid
	}
	p.Visual = make([]bool, rows)
	p.Deepstack = make([]Matrix, k)
	for j := range p.Deepstack {
		p.Deepstack[j] = Matrix{Rows: nVis, Cols: embeds.Cols, Data: make([]float32, nVis*embeds.Cols)}
	}
	cols := embeds.Cols
	r, vis := 0, 0 // embedding row, visual rows so far
	for _, seq := range ids {
		for _, id := range seq {
			var f *Features
			var src int
			switch {
			case id == tok.ImagePad.ID && images != nil:
				f, src = images, p.Images
				p.Images++
			case id == tok.VideoPad.ID && videos != nil:
				f, src = videos, p.Videos
				p.Videos++
			}
			if f != nil {
				p.Visual[r] = true
				copy(embeds.Data[r*cols:(r+1)*cols], f.Pooler.Data[src*cols:(src+1)*cols])
				for j, d := range f.Deepstack {
					copy(p.Deepstack[j].Data[vis*cols:(vis+1)*cols], d.Data[src*cols:(src+1)*cols])
				}
				vis++
			}
			r++
		}
	}
	return p, nil
}

// check validates the features of one kind against its pad count n and the embedding width.
func (f *Features) check(title, kind string, n, cols int) error {
	if f == nil {
		return nil
	}
	if err := checkMatrix(f.Pooler, kind+" pooler output"); err != nil {
		return err
	}
	if f.Pooler.Rows != n {
		return fmt.Errorf("textjoin: %s features and %s tokens do not match, tokens: %d, features: %d", title, kind, n, f.Pooler.Rows)
	}
	if f.Pooler.Cols != cols {
		return fmt.Errorf("textjoin: %s features have %d columns but the embeddings %d", kind, f.Pooler.Cols, cols)
	}
	for j, d := range f.Deepstack {
		if err := checkMatrix(d, fmt.Sprintf("%s DeepStack feature %d", kind, j)); err != nil {
			return err
		}
		if d.Rows != n || d.Cols != cols {
			return fmt.Errorf("textjoin: %s DeepStack feature %d is [%d, %d], want [%d, %d]", kind, j, d.Rows, d.Cols, n, cols)
		}
	}
	return nil
}

// AddDeepstack is Qwen3VLTextModel._deepstack_process: after decoder layer j (j < k), the rows of
// deepstack[j] are added (float32) to the hidden states [len(visual), O] at the visual
// positions, in order.
func AddDeepstack(hidden Matrix, visual []bool, deepstack Matrix) error {
	if err := checkMatrix(hidden, "hidden states"); err != nil {
		return err
	}
	if err := checkMatrix(deepstack, "DeepStack rows"); err != nil {
		return err
	}
	if len(visual) != hidden.Rows {
		return fmt.Errorf("textjoin: a visual mask of %d rows for %d hidden rows", len(visual), hidden.Rows)
	}
	n := 0
	for _, v := range visual {
		if v {
			n++
		}
	}
	if n != deepstack.Rows || deepstack.Cols != hidden.Cols {
		return fmt.Errorf("textjoin: DeepStack rows are [%d, %d] for %d visual positions of width %d", deepstack.Rows, deepstack.Cols, n, hidden.Cols)
	}
	cols := hidden.Cols
	j := 0
	for r, v := range visual {
		if !v {
			continue
		}
		h := hidden.Data[r*cols : (r+1)*cols]
		d := deepstack.Data[j*cols : (j+1)*cols]
		for c := range h {
			h[c] += d[c]
		}
		j++
	}
	return nil
}
