package imageproc

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Fixtures where this package deliberately follows the PIL backend's
// decoder (load_image) rather than torchvision's: torchvision ignores the
// EXIF chunk of a WebP file, load_image applies it.
var followPILDecode = map[string]bool{"webp_orient6": true}

// decodeFixture decodes a fixture with Decode.
func decodeFixture(t testing.TB, f manifestFixture) *RGB {
	t.Helper()
	path := filepath.Join(testdataDir, "inputs", f.File)
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := Decode(context.Background(), r, path, DefaultOptions())
	if err != nil {
		t.Fatalf("Decode(context.Background(), %s): %v", f.File, err)
	}
	return img
}

// referenceDecoded returns the image the reference decoded from a fixture:
// default.decoded, pil.decoded for followPILDecode, or the file's own
// pixels for plain RGB PNGs (not stored).
func referenceDecoded(t testing.TB, name string, f manifestFixture, ts map[string]tensor) *RGB {
	t.Helper()
	if followPILDecode[name] {
		return ts["pil.decoded"].rgb()
	}
	if d, ok := ts["default.decoded"]; ok {
		return d.rgb()
	}
	r, err := os.Open(filepath.Join(testdataDir, "inputs", f.File))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := png.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	nrgba, ok := m.(*image.RGBA)
	if !ok {
		nrgba = image.NewRGBA(m.Bounds())
		for y := m.Bounds().Min.Y; y < m.Bounds().Max.Y; y++ {
			for x := m.Bounds().Min.X; x < m.Bounds().Max.X; x++ {
				nrgba.Set(x, y, m.At(x, y))
			}
		}
	}
	out := NewRGB(nrgba.Rect.Dx(), nrgba.Rect.Dy())
	copy4to3(out, nrgba.Pix, nrgba.Stride, 0, 4)
	return out
}

// TestGoldenDecode compares Decode with what the reference decoded: exact for every format,
// JPEG included (internal/jpeg reproduces libjpeg-turbo) and lossy WebP (a port of libwebp's
// upsampler and YUV→RGB).
func TestGoldenDecode(t *testing.T) {
	m := readManifest(t)
	var lossy []string
	for _, name := range m.names() {
		f := m.Fixtures[name]
		ts := readSafetensors(t, filepath.Join(testdataDir, "golden", name+".safetensors"))
		got := decodeFixture(t, f)
		want := referenceDecoded(t, name, f, ts)
		s, err := compareRGB(got, want)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if f.Kind == "jpeg" || f.Kind == "webp" {
			lossy = append(lossy, fmt.Sprintf("%-24s %v", name, s))
		}
		if s.equal != s.n {
			t.Errorf("%s: decoded pixels differ from the reference: %v", name, s)
		}
	}
	t.Logf("lossy decodes vs the reference (Pillow = torchvision):\n%s", strings.Join(lossy, "\n"))
}

// TestGoldenGrid checks image_grid_thw (and the errors) for every fixture,
// config and backend, from the decoded size.
func TestGoldenGrid(t *testing.T) {
	m := readManifest(t)
	for _, name := range m.names() {
		f := m.Fixtures[name]
		img := decodeFixture(t, f)
		for key, res := range f.Results {
			cfg, backend, _ := strings.Cut(key, ".")
			if backend == "default" && followPILDecode[name] {
				continue // torchvision did not rotate this one
			}
			opts := configOptions(t, cfg, ResampleTorchvision)
			h, w, err := SmartResize(img.Height, img.Width, opts.Factor(), opts.MinPixels, opts.MaxPixels)
			if res.Error != "" {
				if !errors.Is(err, ErrAspectRatio) {
					t.Errorf("%s %s: reference failed with %q, SmartResize returned %v", name, key, res.Error, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: %v", name, key, err)
				continue
			}
			got := []int{1, h / opts.PatchSize, w / opts.PatchSize}
			if fmt.Sprint(got) != fmt.Sprint(res.Grid) {
				t.Errorf("%s %s: grid %v, want %v", name, key, got, res.Grid)
			}
		}
	}
}

// TestGoldenResize resizes the reference's decoded image with both
// resamplers and compares with both backends' resized images; the matching
// pair must be identical, the crossed pair is reported.
func TestGoldenResize(t *testing.T) {
	m := readManifest(t)
	type row struct {
		name   string
		ok     bool
		cells  [4]diffStats // tv→default, pil→pil, tv→pil, pil→default
		filled [4]bool
	}
	var rows []row
	var total [4]diffStats
	for _, name := range m.names() {
		f := m.Fixtures[name]
		ts := readSafetensors(t, filepath.Join(testdataDir, "golden", name+".safetensors"))
		src := referenceDecoded(t, name, f, ts)
		for _, cfg := range []string{"small", "ckpt"} {
			r := row{name: name + "/" + cfg}
			for i, c := range []struct {
				backend string
				res     Resampler
			}{{"default", ResampleTorchvision}, {"pil", ResamplePillow}, {"pil", ResampleTorchvision}, {"default", ResamplePillow}} {
				want, ok := ts[cfg+"."+c.backend+".resized"]
				if !ok {
					continue
				}
				in := src
				if d, ok := ts[c.backend+".decoded"]; ok && c.backend == "pil" {
					in = d.rgb() // the PIL backend decoded differently
				}
				if c.backend == "default" && followPILDecode[name] {
					in = ts["default.decoded"].rgb()
				}
				wantImg := want.rgb()
				got, err := Resize(in, wantImg.Width, wantImg.Height, c.res)
				if err != nil {
					t.Fatal(err)
				}
				s, err := compareRGB(got, wantImg)
				if err != nil {
					t.Fatal(name, err)
				}
				r.cells[i], r.filled[i] = s, true
				total[i].n += s.n
				total[i].equal += s.equal
				total[i].over1 += s.over1
				total[i].sum += s.sum
				total[i].max = max(total[i].max, s.max)
				if i < 2 && s.equal != s.n {
					t.Errorf("%s %s %s: resize differs: %v", name, cfg, c.backend, s)
				}
			}
			if r.filled[0] || r.filled[1] {
				rows = append(rows, r)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-30s %-22s %-22s %-22s %-22s\n", "fixture/config", "torchvision→default", "pillow→pil", "torchvision→pil", "pillow→default")
	cell := func(s diffStats, ok bool) string {
		if !ok {
			return "-"
		}
		return fmt.Sprintf("%.3f%% max %d", s.equalPct(), s.max)
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "%-30s", r.name)
		for i := range 4 {
			fmt.Fprintf(&b, " %-22s", cell(r.cells[i], r.filled[i]))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-30s", "TOTAL")
	for i := range 4 {
		fmt.Fprintf(&b, " %-22s", cell(total[i], true))
	}
	t.Logf("resized levels equal (resampler→reference backend):\n%s", b.String())
}

// TestGoldenPipeline runs PreprocessFile on every fixture, with each
// resampler, and compares the resized levels recovered from Pixels with the
// matching backend's (pixel_values bit for bit where stored). Lossless
// inputs must match exactly, except where the PIL backend decodes
// differently by design (pil.decoded stored: colour keys composited on
// white, GIF transparency, 16-bit gray clipped).
func TestGoldenPipeline(t *testing.T) {
	m := readManifest(t)
	type key struct{ kind, backend string }
	byKind := map[key]*diffStats{}
	var lines []string
	for _, name := range m.names() {
		f := m.Fixtures[name]
		ts := readSafetensors(t, filepath.Join(testdataDir, "golden", name+".safetensors"))
		path := filepath.Join(testdataDir, "inputs", f.File)
		for _, cfg := range []string{"small", "ckpt"} {
			line := fmt.Sprintf("%-24s %-5s", name, cfg)
			printed := false
			for _, be := range []struct {
				name string
				r    Resampler
			}{{"default", ResampleTorchvision}, {"pil", ResamplePillow}} {
				res := f.Results[cfg+"."+be.name]
				opts := configOptions(t, cfg, be.r)
				img, err := PreprocessFile(context.Background(), path, opts)
				if res.Error != "" {
					if !errors.Is(err, ErrAspectRatio) || !strings.Contains(err.Error(), path) {
						t.Errorf("%s %s: want an aspect-ratio error naming the file, got %v", name, cfg, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s %s: %v", name, cfg, err)
					continue
				}
				decodedAlike := be.name == "default" && !followPILDecode[name] ||
					be.name == "pil" && (followPILDecode[name] || ts["pil.decoded"].data == nil)
				if decodedAlike && fmt.Sprint(thw(img.Grid)) != fmt.Sprint(res.Grid) {
					t.Errorf("%s %s %s: grid %v, want %v", name, cfg, be.name, img.Grid, res.Grid)
				}
				if pv, ok := ts[cfg+"."+be.name+".pixel_values"]; ok {
					want := pv.f32()
					if len(want) != len(img.Pixels) {
						t.Errorf("%s %s: %d pixel values, want %d", name, cfg, len(img.Pixels), len(want))
					} else {
						bad := 0
						for i := range want {
							if math.Float32bits(want[i]) != math.Float32bits(img.Pixels[i]) {
								bad++
							}
						}
						if bad != 0 {
							t.Errorf("%s %s: %d of %d pixel values differ bitwise", name, cfg, bad, len(want))
						}
					}
				}
				want, ok := ts[cfg+"."+be.name+".resized"]
				if !ok {
					continue
				}
				s, err := compareRGB(levelsFromPixels(img, opts), want.rgb())
				if err != nil {
					if decodedAlike {
						t.Errorf("%s %s %s: %v", name, cfg, be.name, err)
					}
					line += fmt.Sprintf("  %-7s %-38s", be.name, err)
					printed = true
					continue
				}
				line += fmt.Sprintf("  %-7s %8.4f%% equal, mean %.4f, max %-3d", be.name, s.equalPct(), s.mean(), s.max)
				printed = true
				k := key{f.Kind, be.name}
				if !decodedAlike {
					k.kind += " (decoded differently)"
				}
				if byKind[k] == nil {
					byKind[k] = &diffStats{}
				}
				a := byKind[k]
				a.n += s.n
				a.equal += s.equal
				a.over1 += s.over1
				a.sum += s.sum
				a.max = max(a.max, s.max)
				if decodedAlike && s.equal != s.n {
					t.Errorf("%s %s %s: pipeline output differs from the reference: %v", name, cfg, be.name, s)
				}
			}
			if printed {
				lines = append(lines, line)
			}
		}
	}
	var keys []key
	for k := range byKind {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].kind+keys[i].backend < keys[j].kind+keys[j].backend
	})
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("ALL %-7s %-34s %v", k.backend, k.kind, *byKind[k]))
	}
	t.Logf("PreprocessFile (torchvision resampler vs default backend, Pillow resampler vs PIL backend), resized levels:\n%s", strings.Join(lines, "\n"))
}

// levelsFromPixels inverts Patchify (frame 0) and the normalisation.
func levelsFromPixels(img *Image, opts Options) *RGB {
	lut := NormalizeLUT(opts)
	p, m := opts.PatchSize, opts.MergeSize
	gh, gw := img.Grid.H, img.Grid.W
	out := NewRGB(gw*p, gh*p)
	dim := opts.PatchDim()
	row := 0
	for bh := 0; bh < gh/m; bh++ {
		for bw := 0; bw < gw/m; bw++ {
			for mh := range m {
				for mw := range m {
					y0, x0 := (bh*m+mh)*p, (bw*m+mw)*p
					v := img.Pixels[row*dim:]
					row++
					for c := range 3 {
						for py := range p {
							for px := range p {
								x := v[c*opts.TemporalPatchSize*p*p+py*p+px]
								l := int(math.Round(float64(x)*127.5 + 127.5))
								l = min(max(l, 0), 255)
								if lut[c][l] != x {
									l = -1 // not a level; leave 0 so the comparison fails
								}
								if l >= 0 {
									out.Pix[3*((y0+py)*out.Width+x0+px)+c] = uint8(l)
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}
