package textjoin

import "fmt"

// Positions are one sequence's MRoPE position ids: rows T (temporal), H (height) and W (width),
// each as long as the sequence (get_rope_index's position_ids[:, b, :]).
type Positions [3][]int

// TokenTypes is the processor's mm_token_type_ids: KindImage at image pads, KindVideo at video
// pads, KindText elsewhere.
func TokenTypes(ids []int32, tok Tokens) []Kind {
	out := make([]Kind, len(ids))
	for i, id := range ids {
		switch id {
		case tok.ImagePad.ID:
			out[i] = KindImage
		case tok.VideoPad.ID:
			out[i] = KindVideo
		}
	}
	return out
}

// RopeIndex is [RopeIndexBatch] for one sequence. mask may be nil (every token attends).
func RopeIndex(ids []int32, mask []bool, images, videos []Grid, tok Tokens) (Positions, int, error) {
	var masks [][]bool
	if mask != nil {
		masks = [][]bool{mask}
	}
	p, d, err := RopeIndexBatch([][]int32{ids}, masks, images, videos, tok)
	if err != nil {
		return Positions{}, 0, err
	}
	return p[0], d[0], nil
}

// RopeIndexBatch is Qwen3VLModel.get_rope_index: the MRoPE position ids of each sequence and its
// rope delta. mask (nil: all true) marks the tokens that attend; masked tokens (left padding)
// are skipped and get position 0 in all three rows. In the unmasked tokens, each maximal run of
// one kind is one item: a text run advances all three rows by one per token; an image run takes
// the next image grid, a video run the next temporal group of the videos (each video of grid
// (t, h, w) is t groups of grid (1, h, w), which the timestamps separate in the text). A visual
// run starting at position s with merged grid (t, h', w') gets T = s+t_i, H = s+row, W = s+col
// (t-major, then rows, then columns), and the text after it starts at s + max(h', w'). The grids
// are used in order across the batch. The delta of a sequence is max(positions)+1 − (unmasked
// length); a later token at unmasked index n has position n + delta in all three rows.
//
// Like the reference, grids left unused are ignored; unlike it, errors have messages (the
// reference raises StopIteration when a run has no grid left, and a tensor-shape error when a
// run's length differs from its grid's token count, as with two images with nothing between).
func RopeIndexBatch(ids [][]int32, mask [][]bool, images, videos []Grid, tok Tokens) ([]Positions, []int, error) {
	if err := tok.Validate(); err != nil {
		return nil, nil, err
	}
	m := tok.MergeSize
	if mask != nil && len(mask) != len(ids) {
		return nil, nil, fmt.Errorf("textjoin: %d attention-mask rows for %d sequences", len(mask), len(ids))
	}
	for i, g := range images {
		if err := g.check(m, fmt.Sprintf("image %d", i)); err != nil {
			return nil, nil, err
		}
	}
	var groups []Grid // every video split into its temporal groups
	for i, g := range videos {
		if err := g.check(m, fmt.Sprintf("video %d", i)); err != nil {
			return nil, nil, err
		}
		for range g.T {
			groups = append(groups, Grid{1, g.H, g.W})
		}
	}
	next := map[Kind]int{}
	grids := map[Kind][]Grid{KindImage: images, KindVideo: groups}

	pos := make([]Positions, len(ids))
	deltas := make([]int, len(ids))
	for b, row := range ids {
		var keep []bool
		if mask != nil {
			keep = mask[b]
			if len(keep) != len(row) {
				return nil, nil, fmt.Errorf("textjoin: sequence %d has %d tokens but %d mask values", b, len(row), len(keep))
			}
		}
		for r := range pos[b] {
			pos[b][r] = make([]int, len(row))
		}
		// the unmasked tokens, in order
		idx := make([]int, 0, len(row))
		for i := range row {
			if keep == nil || keep[i] {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return nil, nil, fmt.Errorf("textjoin: sequence %d has no unmasked tokens", b)
		}
		cur, maxPos := 0, 0
		for start := 0; start < len(idx); {
			kind := kindOf(row[idx[start]], tok)
			end := start + 1
			for end < len(idx) && kindOf(row[idx[end]], tok) == kind {
				end++
			}
			if kind == KindText {
				for k := start; k < end; k++ {
					p := cur + k - start
					pos[b][0][idx[k]], pos[b][1][idx[k]], pos[b][2][idx[k]] = p, p, p
				}
				cur += end - start
				maxPos = max(maxPos, cur-1)
				start = end
				continue
			}
			what := "image"
			if kind == KindVideo {
				what = "video group"
			}
			n := next[kind]
			if n >= len(grids[kind]) {
				return nil, nil, fmt.Errorf("textjoin: sequence %d: the %s run at tokens [%d, %d) has no grid left (%d %s grids given)",
					b, kind, idx[start], idx[end-1]+1, len(grids[kind]), what)
			}
			g := grids[kind][n]
			next[kind]++
			mg := g.Merged(m)
			if want := mg.T * mg.H * mg.W; want != end-start {
				return nil, nil, fmt.Errorf("textjoin: sequence %d: the %s run at tokens [%d, %d) has %d tokens but %s %d (grid %v) has %d",
					b, kind, idx[start], idx[end-1]+1, end-start, what, n, g, want)
			}
			k := start
			for t := range mg.T {
				for y := range mg.H {
					for x := range mg.W {
						i := idx[k]
						pos[b][0][i], pos[b][1][i], pos[b][2][i] = cur+t, cur+y, cur+x
						k++
					}
				}
			}
			maxPos = max(maxPos, cur+mg.T-1, cur+mg.H-1, cur+mg.W-1)
			cur += max(g.H, g.W) / m
			start = end
		}
		deltas[b] = maxPos + 1 - len(idx)
	}
	return pos, deltas, nil
}

func kindOf(id int32, tok Tokens) Kind {
	switch id {
	case tok.ImagePad.ID:
		return KindImage
	case tok.VideoPad.ID:
		return KindVideo
	}
	return KindText
}

// DecodePosition is the MRoPE position (the same in all three rows) of a token generated after
// the prompt: n is the token's index among the sequence's unmasked tokens (its cache position
// when there is no left padding; cache position − padding otherwise) and delta the sequence's
// rope delta from [RopeIndexBatch]. This is what generate() feeds (last position + 1 per step).
func DecodePosition(n, delta int) int { return n + delta }
