package imageproc

import "fmt"

// Grid is an item's patch grid, the reference's image_grid_thw / video_grid_thw row: T temporal
// patches (1 for an image, frames/TemporalPatchSize rounded up for a video), H rows and W
// columns of PatchSize-pixel patches. It has exactly the fields of vision.Grid and
// textjoin.Grid, so vision.Grid(g) and textjoin.Grid(g) convert one.
type Grid struct{ T, H, W int }

// Patches is the number of pixel rows the item contributes: T·H·W.
func (g Grid) Patches() int { return g.T * g.H * g.W }

func (g Grid) String() string { return fmt.Sprintf("(%d, %d, %d)", g.T, g.H, g.W) }
