package vision

import "fmt"

// Grid is the patch grid of one item: T temporal patches (1 for an image, frames/2 for a
// video), H rows and W columns of 16-pixel patches. H and W are multiples of the merge size.
type Grid struct{ T, H, W int }

// Patches is the number of pixel rows the item contributes: T·H·W.
func (g Grid) Patches() int { return g.T * g.H * g.W }

func (g Grid) String() string { return fmt.Sprintf("(%d, %d, %d)", g.T, g.H, g.W) }

// maxPatches bounds the patches of one call (2²⁶ rows of 1536 values is 384 GiB of input), so
// that sizes computed from a lying grid cannot overflow: every grid's t·h·w, and their sum, is
// checked against it without overflowing (boundedProduct).
const maxPatches = 1 << 26

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

// checkGrids validates grids against the config and returns the total number of patches.
func (c Config) checkGrids(grids []Grid) (int, error) {
	if len(grids) == 0 {
		return 0, fmt.Errorf("no items: grid_thw is empty")
	}
	m := c.SpatialMergeSize
	total := 0
	for i, g := range grids {
		if g.T < 1 || g.H < 1 || g.W < 1 {
			return 0, fmt.Errorf("item %d: grid %v has a size below 1", i, g)
		}
		if g.H%m != 0 || g.W%m != 0 {
			return 0, fmt.Errorf("item %d: grid %v: h and w must be multiples of the merge size %d", i, g, m)
		}
		p, ok := boundedProduct(maxPatches, g.T, g.H, g.W)
		if !ok {
			return 0, fmt.Errorf("item %d: grid %v: t·h·w is more than the %d patches in one call", i, g, maxPatches)
		}
		if p > maxPatches-total {
			return 0, fmt.Errorf("item %d: grid %v: with the items before it, more than the %d patches in one call", i, g, maxPatches)
		}
		total += p
	}
	return total, nil
}
