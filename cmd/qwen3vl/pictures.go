package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/picture"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// featurePNGs writes encode -png's pictures: for the i-th item encoded (counting from 0, in
// output order), DIR/I-BASE.png, BASE the item's file name without its extension (characters
// other than letters, digits, '.', '_' and '-' replaced by '_').
type featurePNGs struct {
	dir  string
	opts imageproc.Options
	maps picture.MapOptions
	n    int // items written
}

// checkPNGDir vets encode's -png folder before any work: it is a folder, or a new one whose
// parent exists (it is made then).
func checkPNGDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return usagef("-png %s is not a folder", dir)
	case err == nil:
		return nil
	}
	parent := filepath.Dir(filepath.Clean(dir)) // "pics/" is the folder pics
	if pi, err := os.Stat(parent); err != nil || !pi.IsDir() {
		return usagef("-png %s: the folder %s does not exist", dir, parent)
	}
	return nil
}

// write draws every item of the encoded batch b (res its result): the image as resized, read
// back from the item's pixel rows (imageproc.Unpatchify), and its feature maps.
func (w *featurePNGs) write(b *pipeline.Batch, res *pipeline.Result) error {
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return fmt.Errorf("-png %s: %w", w.dir, err)
	}
	dim := w.opts.PatchDim()
	pix := b.Pixels()
	row := 0
	for i, g := range b.Grids() {
		f := res.Items(i, i+1)
		it := f.Items[0]
		rows := pix[row*dim : (row+g.Patches())*dim]
		row += g.Patches()
		if it.Video || g.T != 1 {
			return fmt.Errorf("%s is a video: encode -png draws images only", it.Name)
		}
		img, err := imageproc.Unpatchify(rows, imageproc.Grid(g), 0, w.opts)
		if err != nil {
			return fmt.Errorf("%s: %w", it.Name, err)
		}
		path := filepath.Join(w.dir, fmt.Sprintf("%d-%s.png", w.n, pngBase(it.Name)))
		if err := fsutil.WriteFile(path, func(out io.Writer) error { return picture.Features(out, img, f, w.maps) }); err != nil {
			return err
		}
		w.n++
	}
	return nil
}

// pngBase is name's last element without its extension, with every character other than
// letters, digits, '.', '_' and '-' replaced by '_'.
func pngBase(name string) string {
	base := filepath.Base(name)
	if ext := filepath.Ext(base); len(ext) < len(base) {
		base = strings.TrimSuffix(base, ext)
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, base)
}
