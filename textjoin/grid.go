package textjoin

import "fmt"

// Grid is an item's patch grid as the processor reports it (image_grid_thw / video_grid_thw):
// T temporal patches (1 for an image, frames/2 for a video), H rows and W columns of patches.
// It has the same fields as vision.Grid.
type Grid struct {
	T int `json:"t"`
	H int `json:"h"`
	W int `json:"w"`
}

func (g Grid) String() string { return fmt.Sprintf("(%d, %d, %d)", g.T, g.H, g.W) }

// Merged is the grid the language model sees: (T, H/m, W/m).
func (g Grid) Merged(m int) Grid { return Grid{g.T, g.H / m, g.W / m} }

// Tokens is the number of pad tokens (and pooler rows) of the item: T·H·W/m², computed as
// T·(H/m)·(W/m) (the same for a valid grid, whose H and W are multiples of m, and no larger
// than MaxTokens once the grid is checked, so it cannot overflow).
func (g Grid) Tokens(m int) int { return g.T * (g.H / m) * (g.W / m) }

// MaxTokens bounds the pad tokens of one call, so that a lying grid cannot make the expansion
// allocate without limit (2²⁴ tokens is 64 times Qwen3-VL's longest context). Each grid's
// T·(H/m)·(W/m), and their sum, is checked against it without overflowing (boundedProduct).
const MaxTokens = 1 << 24

// boundedProduct returns the product of factors when every factor is at least 1 and the product
// is at most limit (limit ≥ 1); otherwise ok is false. It never overflows: each step checks
// p·f ≤ limit as p ≤ limit/f before multiplying.
func boundedProduct(limit int, factors ...int) (p int, ok bool) {
	p = 1
	for _, f := range factors {
		if f < 1 || p > limit/f {
			return 0, false
		}
		p *= f
	}
	return p, true
}

// check validates one grid against the merge size; what names it in errors.
func (g Grid) check(m int, what string) error {
	if g.T < 1 || g.H < 1 || g.W < 1 {
		return fmt.Errorf("textjoin: %s: grid %v has a size below 1", what, g)
	}
	if g.H%m != 0 || g.W%m != 0 {
		return fmt.Errorf("textjoin: %s: grid %v: h and w must be multiples of the merge size %d", what, g, m)
	}
	if _, ok := boundedProduct(MaxTokens, g.T, g.H/m, g.W/m); !ok {
		return fmt.Errorf("textjoin: %s: grid %v gives t·(h/%d)·(w/%d), more than %d tokens", what, g, m, m, MaxTokens)
	}
	return nil
}

// checkGrids validates every grid and bounds their total tokens.
func checkGrids(images []Grid, videos []Video, m int) error {
	total := 0
	for i, g := range images {
		if err := g.check(m, fmt.Sprintf("image %d", i)); err != nil {
			return err
		}
		if total += g.Tokens(m); total > MaxTokens {
			return fmt.Errorf("textjoin: the items give more than %d tokens", MaxTokens)
		}
	}
	for i, v := range videos {
		if err := v.Grid.check(m, fmt.Sprintf("video %d", i)); err != nil {
			return err
		}
		if len(v.Timestamps) != v.Grid.T {
			return fmt.Errorf("textjoin: video %d: grid %v has %d temporal groups but %d timestamps", i, v.Grid, v.Grid.T, len(v.Timestamps))
		}
		if total += v.Grid.Tokens(m); total > MaxTokens {
			return fmt.Errorf("textjoin: the items give more than %d tokens", MaxTokens)
		}
	}
	return nil
}
