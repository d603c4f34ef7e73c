package imageproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/textjoin"
)

// The fixtures under testdata/video were made by tools/reference/video_goldens.py with the
// pinned Qwen3VLVideoProcessor, given the frames under inputs/ as arrays.
const videoTestdata = "../testdata/video"

type videoResult struct {
	Error         string    `json:"error"`
	FPSGiven      *float64  `json:"fps_given"`
	FPSUsed       float64   `json:"fps_used"`
	FrameIndices  []int     `json:"frames_indices"`
	Grid          []int     `json:"grid"`
	Resized       []int     `json:"resized"`
	Timestamps    []float64 `json:"timestamps"`
	TimestampText []string  `json:"timestamp_text"`
	Stored        []string  `json:"stored"`
}

type videoCase struct {
	Note    string                 `json:"note"`
	Frames  int                    `json:"frames"`
	Height  int                    `json:"height"`
	Width   int                    `json:"width"`
	FPS     *float64               `json:"fps"`
	Results map[string]videoResult `json:"results"`
}

type videoManifest struct {
	Versions map[string]string    `json:"versions"`
	Cases    map[string]videoCase `json:"cases"`
}

func readVideoManifest(t testing.TB) videoManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(videoTestdata, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m videoManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Cases) == 0 {
		t.Fatal("no video cases")
	}
	return m
}

func (m videoManifest) names() []string {
	var out []string
	for k := range m.Cases {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func videoConfig(t testing.TB, cfg string) VideoOptions {
	t.Helper()
	o, err := ReadVideoPreprocessorConfig(filepath.Join(videoTestdata, "config_"+cfg, "video_preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// caseFrames decodes every frame of a case (the arrays the reference was given).
func caseFrames(t testing.TB, name string, c videoCase) []*RGB {
	t.Helper()
	var frames []*RGB
	for k := range c.Frames {
		path := filepath.Join(videoTestdata, "inputs", name, fmt.Sprintf("frame_%05d.png", k))
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(context.Background(), f, path, DefaultOptions())
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, img)
	}
	return frames
}

// frameLevels recovers temporal frame k (group k/T, slot k%T) of a video's patch matrix as
// 8-bit levels, inverting NormalizeLUT; a value that is not exactly a level's becomes -1 and
// is counted by the caller through the bad result.
func frameLevels(res *VideoResult, k int, opts VideoOptions) (img *RGB, bad int) {
	lut := NormalizeLUT(opts.Options)
	p, m, tp := opts.PatchSize, opts.MergeSize, opts.TemporalPatchSize
	gh, gw := res.Grid.H, res.Grid.W
	dim := opts.PatchDim()
	img = NewRGB(gw*p, gh*p)
	g, slot := k/tp, k%tp
	row := g * gh * gw
	for bh := 0; bh < gh/m; bh++ {
		for bw := 0; bw < gw/m; bw++ {
			for mh := range m {
				for mw := range m {
					y0, x0 := (bh*m+mh)*p, (bw*m+mw)*p
					v := res.Pixels[row*dim : (row+1)*dim]
					row++
					for c := range 3 {
						for py := range p {
							for px := range p {
								x := v[(c*tp+slot)*p*p+py*p+px]
								l := int(math.Round(float64(x)*127.5 + 127.5))
								l = min(max(l, 0), 255)
								if lut[c][l] != x {
									bad++
								}
								img.Pix[3*((y0+py)*img.Width+x0+px)+c] = uint8(l)
							}
						}
					}
				}
			}
		}
	}
	return img, bad
}

func sameFloat64s(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestVideoGolden runs PreprocessVideo on every case and config of testdata/video and
// compares grids, sampled indices, fps, timestamps (bitwise, and their prompt text) and the
// pixel values: the resized levels of every sampled frame (which the generator checked
// reproduce pixel_values_videos bit for bit), the padding, and pixel_values_videos itself
// where stored. It also runs the same frames as a folder (LoadFrames, PreprocessVideoFile),
// which must give identical results.
func TestVideoGolden(t *testing.T) {
	m := readVideoManifest(t)
	// Equal levels are bitwise-equal pixel values: the normalisation is the reference's.
	refLUT := readSafetensors(t, filepath.Join(videoTestdata, "golden", "normalize_lut.safetensors"))["lut"].f32()
	lut := NormalizeLUT(videoConfig(t, "ckpt").Options)
	for c := range 3 {
		for l := range 256 {
			if math.Float32bits(lut[c][l]) != math.Float32bits(refLUT[256*c+l]) {
				t.Fatalf("NormalizeLUT[%d][%d] = %v, reference %v", c, l, lut[c][l], refLUT[256*c+l])
			}
		}
	}
	pixelValues := 0
	var total diffStats
	var rows []string
	pvBits, pvTotal := 0, 0
	for _, name := range m.names() {
		c := m.Cases[name]
		frames := caseFrames(t, name, c)
		ts := map[string]tensor{}
		if p := filepath.Join(videoTestdata, "golden", name+".safetensors"); fileExists(p) {
			ts = readSafetensors(t, p)
		}
		cfgs := make([]string, 0, len(c.Results))
		for cfg := range c.Results {
			cfgs = append(cfgs, cfg)
		}
		sort.Strings(cfgs)
		for _, cfg := range cfgs {
			want := c.Results[cfg]
			opts := videoConfig(t, cfg)
			fps := 0.0
			if c.FPS != nil {
				fps = *c.FPS
			}
			v := &Video{Frames: frames, FPS: fps, Source: name}
			res, err := PreprocessVideo(v, opts)
			if want.Error != "" {
				switch {
				case strings.Contains(want.Error, "temporal_factor") && errors.Is(err, ErrTooFewFrames),
					strings.Contains(want.Error, "aspect ratio") && errors.Is(err, ErrAspectRatio):
				default:
					t.Errorf("%s %s: reference failed with %q, got %v", name, cfg, want.Error, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: %v", name, cfg, err)
				continue
			}
			if fmt.Sprint(thw(res.Grid)) != fmt.Sprint(want.Grid) {
				t.Errorf("%s %s: grid %v, reference %v", name, cfg, res.Grid, want.Grid)
				continue
			}
			if !slices.Equal(res.FrameIndices, want.FrameIndices) {
				t.Errorf("%s %s: frame indices %v, reference %v", name, cfg, res.FrameIndices, want.FrameIndices)
			}
			if res.FPS != want.FPSUsed {
				t.Errorf("%s %s: fps %v, reference %v", name, cfg, res.FPS, want.FPSUsed)
			}
			if !sameFloat64s(res.Timestamps, want.Timestamps) {
				t.Errorf("%s %s: timestamps %v, reference %v", name, cfg, res.Timestamps, want.Timestamps)
			}
			for k, x := range res.Timestamps {
				if k < len(want.TimestampText) && textjoin.TimestampText(x) != want.TimestampText[k] {
					t.Errorf("%s %s: timestamp text %q, reference %q", name, cfg, textjoin.TimestampText(x), want.TimestampText[k])
				}
			}
			hasWarn := slices.Contains(res.Warnings, WarnUnknownFPS)
			if hasWarn != (c.FPS == nil) {
				t.Errorf("%s %s: unknown-fps warning %v, fps given %v", name, cfg, hasWarn, c.FPS)
			}
			if res.ResizedHeight != want.Resized[0] || res.ResizedWidth != want.Resized[1] {
				t.Errorf("%s %s: resized %dx%d, reference %dx%d", name, cfg, res.ResizedWidth, res.ResizedHeight, want.Resized[1], want.Resized[0])
			}
			// Levels of every sampled frame.
			ref := ts[cfg+".resized"]
			n := len(want.FrameIndices)
			fh, fw := ref.shape[1], ref.shape[2]
			var s diffStats
			for k := range n {
				got, bad := frameLevels(res, k, opts)
				if bad != 0 {
					t.Errorf("%s %s: frame %d: %d values are not normalised levels", name, cfg, k, bad)
				}
				w := &RGB{Pix: ref.data[k*fh*fw*3 : (k+1)*fh*fw*3], Width: fw, Height: fh}
				d, err := compareRGB(got, w)
				if err != nil {
					t.Fatalf("%s %s: frame %d: %v", name, cfg, k, err)
				}
				s.n += d.n
				s.equal += d.equal
				s.over1 += d.over1
				s.sum += d.sum
				s.max = max(s.max, d.max)
			}
			// Padding repeats the last frame.
			last, _ := frameLevels(res, n-1, opts)
			for k := n; k < res.Grid.T*opts.TemporalPatchSize; k++ {
				pad, _ := frameLevels(res, k, opts)
				if d, _ := compareRGB(pad, last); d.equal != d.n {
					t.Errorf("%s %s: padding frame %d is not the last frame", name, cfg, k)
				}
			}
			if pv, ok := ts[cfg+".pixel_values"]; ok {
				ref := pv.f32()
				if len(ref) != len(res.Pixels) {
					t.Errorf("%s %s: %d pixel values, reference %d", name, cfg, len(res.Pixels), len(ref))
				} else {
					eq := 0
					for i := range ref {
						if math.Float32bits(ref[i]) == math.Float32bits(res.Pixels[i]) {
							eq++
						}
					}
					pvBits += eq
					pvTotal += len(ref)
					if eq != len(ref) {
						t.Errorf("%s %s: %d of %d pixel values differ bitwise", name, cfg, len(ref)-eq, len(ref))
					}
				}
			}
			pixelValues += len(res.Pixels)
			total.n += s.n
			total.equal += s.equal
			total.over1 += s.over1
			total.sum += s.sum
			total.max = max(total.max, s.max)
			rows = append(rows, fmt.Sprintf("%-16s %-7s grid %-11s n=%-3d %s", name, cfg, fmt.Sprint(res.Grid), n, s))
			if s.equal != s.n {
				t.Errorf("%s %s: resized levels differ from the reference: %v", name, cfg, s)
			}

			// The same frames as a folder: LoadFrames, and the streaming PreprocessVideoFile.
			dir := filepath.Join(videoTestdata, "inputs", name)
			lv, err := LoadFrames(context.Background(), dir, fps, opts)
			if err != nil {
				t.Errorf("%s %s: LoadFrames: %v", name, cfg, err)
				continue
			}
			if !slices.Equal(lv.FrameIndices, want.FrameIndices) || lv.TotalFrames != c.Frames {
				t.Errorf("%s %s: LoadFrames sampled %v of %d, reference %v of %d", name, cfg, lv.FrameIndices, lv.TotalFrames, want.FrameIndices, c.Frames)
			}
			r2, err := PreprocessVideo(lv, opts)
			if err != nil {
				t.Errorf("%s %s: PreprocessVideo(LoadFrames): %v", name, cfg, err)
				continue
			}
			fo := opts
			fo.FramesFPS = fps
			r3, err := PreprocessVideoFile(context.Background(), dir, fo)
			if err != nil {
				t.Errorf("%s %s: PreprocessVideoFile: %v", name, cfg, err)
				continue
			}
			for _, r := range []struct {
				name string
				res  *VideoResult
			}{{"PreprocessVideo(LoadFrames)", r2}, {"PreprocessVideoFile", r3}} {
				if r.res.Grid != res.Grid || !slices.Equal(r.res.Pixels, res.Pixels) || !sameFloat64s(r.res.Timestamps, res.Timestamps) ||
					!slices.Equal(r.res.FrameIndices, res.FrameIndices) || r.res.TotalFrames != res.TotalFrames || r.res.FPS != res.FPS ||
					!slices.Equal(r.res.Warnings, res.Warnings) {
					t.Errorf("%s %s: %s differs from PreprocessVideo on the frames", name, cfg, r.name)
				}
			}
		}
	}
	rows = append(rows, fmt.Sprintf("%-16s %-7s %-17s %s", "ALL", "", "", total))
	rows = append(rows, fmt.Sprintf("pixel_values_videos: %d values in all (padding included), each a reference level's normalised value", pixelValues))
	if pvTotal > 0 {
		rows = append(rows, fmt.Sprintf("pixel_values_videos stored: %d of %d values bitwise identical", pvBits, pvTotal))
	}
	t.Logf("video preprocessing vs the reference (resized levels of the sampled frames):\n%s", strings.Join(rows, "\n"))
	if total.n == 0 {
		t.Fatal("nothing compared")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestVideoSmartResizeGolden compares VideoSmartResize, and the patch counts of
// VideoResizedSize with and without the per-frame cap, with the reference on thousands of
// (frames, height, width, budget) cases.
func TestVideoSmartResizeGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(videoTestdata, "smart_resize.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tab struct {
		Rows [][10]int `json:"rows"`
	}
	if err := json.Unmarshal(b, &tab); err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) < 1000 {
		t.Fatalf("only %d rows", len(tab.Rows))
	}
	bad := 0
	for _, r := range tab.Rows {
		n, h, w, mn, mx, tokens := r[0], r[1], r[2], r[3], r[4], r[5]
		rh, rw, err := VideoSmartResize(n, h, w, 2, 32, mn, mx)
		if r[6] < 0 {
			if err == nil {
				t.Errorf("VideoSmartResize%v = %d, %d; reference raised", r[:5], rh, rw)
				bad++
			}
		} else if err != nil || rh != r[6] || rw != r[7] {
			t.Errorf("VideoSmartResize%v = %d, %d, %v; reference %d, %d", r[:5], rh, rw, err, r[6], r[7])
			bad++
		}
		for k, capOn := range []bool{false, true} {
			o := DefaultVideoOptions()
			o.MinPixels, o.MaxPixels = mn, mx
			o.CapPixelsPerFrame, o.MaxVideoTokens = capOn, tokens
			_, _, g, err := VideoResizedSize(n, h, w, o)
			want := r[8+k]
			got := -1
			if err == nil {
				got = g.Patches()
			}
			if got != want {
				t.Errorf("VideoResizedSize%v cap=%v tokens=%d: %d patches, reference %d (%v)", r[:5], capOn, tokens, got, want, err)
				bad++
			}
		}
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
	t.Logf("%d smart_resize cases, %d differences", len(tab.Rows), bad)
}

// TestReadVideoPreprocessorConfigGolden checks the three configs against what the reference
// built from them (manifest "processor").
func TestReadVideoPreprocessorConfigGolden(t *testing.T) {
	if got := videoConfig(t, "ckpt"); got != DefaultVideoOptions() {
		t.Errorf("ckpt config = %+v, want DefaultVideoOptions %+v", got, DefaultVideoOptions())
	}
	b, err := os.ReadFile(filepath.Join(videoTestdata, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Processor map[string]struct {
			Size              map[string]int `json:"size"`
			FPS               float64        `json:"fps"`
			MinFrames         int            `json:"min_frames"`
			MaxFrames         int            `json:"max_frames"`
			DoSampleFrames    bool           `json:"do_sample_frames"`
			CapPixelsPerFrame *bool          `json:"cap_pixels_per_frame"`
			MaxVideoTokens    int            `json:"max_video_tokens"`
			PatchSize         int            `json:"patch_size"`
			TemporalPatchSize int            `json:"temporal_patch_size"`
			MergeSize         int            `json:"merge_size"`
		} `json:"processor"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for cfg, p := range m.Processor {
		o := videoConfig(t, cfg)
		capOn := p.CapPixelsPerFrame != nil && *p.CapPixelsPerFrame
		if o.MinPixels != p.Size["shortest_edge"] || o.MaxPixels != p.Size["longest_edge"] || o.FPS != p.FPS ||
			o.MinFrames != p.MinFrames || o.MaxFrames != p.MaxFrames || o.DoSampleFrames != p.DoSampleFrames ||
			o.CapPixelsPerFrame != capOn || o.MaxVideoTokens != p.MaxVideoTokens || o.PatchSize != p.PatchSize ||
			o.TemporalPatchSize != p.TemporalPatchSize || o.MergeSize != p.MergeSize {
			t.Errorf("config %s: %+v, reference %+v", cfg, o, p)
		}
	}
}
