// Command genjpegs writes a folder of generated JPEGs for measuring batch jobs: smooth
// gradients with noise (so they compress like photographs, not like flat colour), sizes drawn
// between -min-mp and -max-mp megapixels with aspect ratios from 1:2 to 2:1, deterministic for
// a -seed.
//
//	go run ./tools/genjpegs -n 1000 -min-mp 1 -max-mp 12 -o /tmp/jpegs
package main

import (
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	n := flag.Int("n", 1000, "number of images")
	minMP := flag.Float64("min-mp", 1, "smallest size in megapixels")
	maxMP := flag.Float64("max-mp", 12, "largest size in megapixels")
	seed := flag.Uint64("seed", 1, "seed")
	quality := flag.Int("quality", 90, "JPEG quality")
	out := flag.String("o", "", "output folder (created)")
	flag.Parse()
	if *out == "" || *n < 1 || *minMP <= 0 || *maxMP < *minMP {
		fmt.Fprintln(os.Stderr, "genjpegs: want -o DIR, -n ≥ 1 and 0 < -min-mp ≤ -max-mp")
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "genjpegs:", err)
		os.Exit(1)
	}
	rng := rand.New(rand.NewPCG(*seed, 7))
	for i := range *n {
		mp := *minMP + rng.Float64()*(*maxMP-*minMP)
		aspect := math.Pow(2, 2*rng.Float64()-1)
		w := int(math.Sqrt(mp * 1e6 * aspect))
		h := int(mp * 1e6 / float64(w))
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		c0 := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
		c1 := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
		for y := range h {
			for x := range w {
				t := (float64(x)/float64(w) + float64(y)/float64(h)) / 2
				o := img.PixOffset(x, y)
				for c := range 3 {
					v := c0[c]*(1-t) + c1[c]*t + float64(rng.IntN(33)-16)
					img.Pix[o+c] = uint8(min(255, max(0, v)))
				}
				img.Pix[o+3] = 255
			}
		}
		path := filepath.Join(*out, fmt.Sprintf("%05d.jpg", i))
		f, err := os.Create(path)
		if err == nil {
			err = jpeg.Encode(f, img, &jpeg.Options{Quality: *quality})
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "genjpegs:", err)
			os.Exit(1)
		}
	}
}
