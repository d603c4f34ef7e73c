package pipeline

import (
	"fmt"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// ReadPixels reads the items of a safetensors file as the Hugging Face processor returns them
// (and preprocess writes them): pixel_values with image_grid_thw (or grid_thw), then
// pixel_values_videos with video_grid_thw. Every grid is checked against the tower's limits
// and the rows it describes against the pixel tensor, so a crafted file is an error naming the
// file and the tensor, never a huge allocation.
func ReadPixels(path string) ([]Item, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, reword(err, "pipeline: ", "safetensors: ")
	}
	defer f.Close()
	var items []Item
	groups := []struct {
		pixels string
		grids  []string
		video  bool
	}{
		{PixelValuesName, []string{ImageGridName, GridName}, false},
		{PixelValuesVideoName, []string{VideoGridName}, true},
	}
	for _, g := range groups {
		if _, ok := f.Info(g.pixels); !ok {
			continue
		}
		its, err := readItems(f, path, g.pixels, g.grids, g.video)
		if err != nil {
			return nil, err
		}
		items = append(items, its...)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("pipeline: %s: no tensor %s (or %s)", path, PixelValuesName, PixelValuesVideoName)
	}
	return items, nil
}

// maxGridSide bounds each of a grid's t, h and w as read from a file; their product is bounded
// by the rows of the pixel tensor, which is checked before any row is read.
const maxGridSide = 1 << 20

// readItems reads one pixel tensor and the first of gridNames that the file has.
func readItems(f *safetensors.File, path, pixelName string, gridNames []string, video bool) ([]Item, error) {
	info, _ := f.Info(pixelName)
	if len(info.Shape) != 2 || info.Shape[1] <= 0 {
		return nil, fmt.Errorf("pipeline: %s: %s has shape %v, want [N, patch dim]", path, pixelName, info.Shape)
	}
	rows, width := info.Shape[0], info.Shape[1]
	gridName := ""
	var gi safetensors.TensorInfo
	for _, n := range gridNames {
		if i, ok := f.Info(n); ok {
			gridName, gi = n, i
			break
		}
	}
	if gridName == "" {
		return nil, fmt.Errorf("pipeline: %s: %s has no grid (want a tensor %s)", path, pixelName, strings.Join(gridNames, " or "))
	}
	if len(gi.Shape) != 2 || gi.Shape[1] != 3 {
		return nil, fmt.Errorf("pipeline: %s: %s has shape %v, want [items, 3]", path, gridName, gi.Shape)
	}
	g, err := f.Int64(gridName)
	if err != nil {
		return nil, reword(err, "pipeline: "+path+": ", "safetensors: ")
	}
	grids := make([]vision.Grid, len(g)/3)
	total := 0
	for i := range grids {
		t, h, w := g[3*i], g[3*i+1], g[3*i+2]
		if t < 1 || h < 1 || w < 1 || t > maxGridSide || h > maxGridSide || w > maxGridSide {
			return nil, fmt.Errorf("pipeline: %s: %s row %d = [%d %d %d] is out of range (each in [1, %d])", path, gridName, i, t, h, w, maxGridSide)
		}
		n := t * h * w // < 2^60: no overflow
		if n > int64(rows-total) {
			return nil, fmt.Errorf("pipeline: %s: %s describes more patches than the %d rows of %s (from row %d on)", path, gridName, rows, pixelName, i)
		}
		total += int(n)
		grids[i] = vision.Grid{T: int(t), H: int(h), W: int(w)}
	}
	if total != rows {
		return nil, fmt.Errorf("pipeline: %s: %s describes %d patches but %s has %d rows", path, gridName, total, pixelName, rows)
	}
	pixels, err := f.Float32(pixelName)
	if err != nil {
		return nil, reword(err, "pipeline: "+path+": ", "safetensors: ")
	}
	items := make([]Item, len(grids))
	r0 := 0
	for i, gr := range grids {
		n := gr.Patches()
		items[i] = Item{Name: fmt.Sprintf("%s:%s[%d]", path, pixelName, i), Video: video, Grid: gr, Pixels: pixels[r0*width : (r0+n)*width : (r0+n)*width]}
		r0 += n
	}
	return items, nil
}
