package imageproc

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// solidFrames returns n frames of w×h whose every level encodes the frame number.
func solidFrames(n, w, h int) []*RGB {
	var out []*RGB
	for k := range n {
		f := NewRGB(w, h)
		for i := range f.Pix {
			f.Pix[i] = uint8(10*k + i%3)
		}
		out = append(out, f)
	}
	return out
}

func writePNGFrames(t *testing.T, dir string, frames []*RGB, name func(k int) string) {
	t.Helper()
	for k, f := range frames {
		fh, err := os.Create(filepath.Join(dir, name(k)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(fh, f); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
}

func TestVideoSmartResize(t *testing.T) {
	for _, c := range []struct {
		n, h, w, min, max int
		wantH, wantW      int
	}{
		{4, 45, 100, 4096, 25165824, 32, 96},
		{5, 45, 100, 4096, 25165824, 32, 96}, // t' = round(2.5)·2 = 4
		{4, 20, 13, 4096, 25165824, 64, 32},  // 13·(32/13) = 31.999… → 31 → 32
		{4, 40, 56, 16384, 65536, 64, 96},    // ceil path
		{8, 100, 120, 16384, 65536, 64, 96},  // floor path
		{2, 1, 1, 4096, 25165824, 64, 64},    // 1×1 scaled to 32×32, then the minimum
		{768, 1080, 1920, 4096, 25165824, 128, 224},
	} {
		h, w, err := VideoSmartResize(c.n, c.h, c.w, 2, 32, c.min, c.max)
		if err != nil || h != c.wantH || w != c.wantW {
			t.Errorf("VideoSmartResize(%d, %d, %d, [%d, %d]) = %d, %d, %v; want %d, %d", c.n, c.h, c.w, c.min, c.max, h, w, err, c.wantH, c.wantW)
		}
	}
	if _, _, err := VideoSmartResize(1, 64, 64, 2, 32, 4096, 25165824); !errors.Is(err, ErrTooFewFrames) {
		t.Errorf("one frame: %v", err)
	}
	if _, _, err := VideoSmartResize(4, 2, 402, 2, 32, 4096, 25165824); !errors.Is(err, ErrAspectRatio) {
		t.Errorf("aspect 201: %v", err)
	}
	for _, bad := range [][7]int{{4, 0, 10, 2, 32, 1, 2}, {4, 10, 10, 0, 32, 1, 2}, {4, 10, 10, 2, 32, 0, 2}} {
		if _, _, err := VideoSmartResize(bad[0], bad[1], bad[2], bad[3], bad[4], bad[5], bad[6]); err == nil {
			t.Errorf("VideoSmartResize%v accepted", bad)
		}
	}
}

func TestVideoBudgetCap(t *testing.T) {
	o := DefaultVideoOptions()
	if got := videoBudget(4, o); got != o.MaxPixels {
		t.Errorf("uncapped budget %d", got)
	}
	o.CapPixelsPerFrame = true
	// min(768·32², 25165824/4) = 786432 per frame.
	if got := videoBudget(4, o); got != 4*786432 {
		t.Errorf("capped budget for 4 frames %d", got)
	}
	// 25165824/768 = 32768 per frame, above the floor int(4096·1.05) = 4300.
	if got := videoBudget(768, o); got != 25165824 {
		t.Errorf("capped budget for 768 frames %d", got)
	}
	o.MaxVideoTokens = 1
	if got := videoBudget(4, o); got != 4*4300 {
		t.Errorf("floored budget %d", got)
	}
}

func TestPreprocessVideoSampling(t *testing.T) {
	frames := solidFrames(30, 40, 24)
	o := DefaultVideoOptions()
	// Unknown fps: 24 assumed, n = max(int(30/24·2), 4) = 4 at round(linspace(0, 29, 4)).
	res, err := PreprocessVideo(&Video{Frames: frames}, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.FrameIndices, []int{0, 10, 19, 29}) || res.FPS != 24 || res.TotalFrames != 30 {
		t.Errorf("indices %v fps %v total %d", res.FrameIndices, res.FPS, res.TotalFrames)
	}
	if !slices.Contains(res.Warnings, WarnUnknownFPS) {
		t.Errorf("no unknown-fps warning: %v", res.Warnings)
	}
	if want := []float64{(0.0/24 + 10.0/24) / 2, (19.0/24 + 29.0/24) / 2}; !sameFloat64s(res.Timestamps, want) {
		t.Errorf("timestamps %v, want %v", res.Timestamps, want)
	}
	// Frame k of the result is source frame FrameIndices[k] (levels 10·i + c).
	for k, i := range res.FrameIndices {
		img, bad := frameLevels(res, k, o)
		if bad != 0 || img.Pix[0] != uint8(10*i) || img.Pix[1] != uint8(10*i+1) {
			t.Errorf("frame %d holds %v, want source frame %d", k, img.Pix[:3], i)
		}
	}
	// Known fps, no sampling: every frame, padded to an even count.
	o.DoSampleFrames = false
	res, err = PreprocessVideo(&Video{Frames: frames[:7], FPS: 7}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FrameIndices) != 7 || res.Grid.T != 4 || len(res.Warnings) != 0 {
		t.Errorf("no sampling: %v grid %v warnings %v", res.FrameIndices, res.Grid, res.Warnings)
	}
	last, _ := frameLevels(res, 6, o)
	pad, _ := frameLevels(res, 7, o)
	if !slices.Equal(last.Pix, pad.Pix) {
		t.Error("the padding frame is not the last frame")
	}
	// Pre-sampled frames keep their indices; timestamps come from them.
	res, err = PreprocessVideo(&Video{Frames: frames[:3], FrameIndices: []int{0, 50, 100}, TotalFrames: 101, FPS: 25}, DefaultVideoOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !sameFloat64s(res.Timestamps, []float64{1, 4}) || res.TotalFrames != 101 || res.Grid.T != 2 {
		t.Errorf("pre-sampled: timestamps %v total %d grid %v", res.Timestamps, res.TotalFrames, res.Grid)
	}
}

func TestPreprocessVideoBadInput(t *testing.T) {
	o := DefaultVideoOptions()
	frames := solidFrames(4, 40, 24)
	odd := append(slices.Clone(frames[:3]), NewRGB(24, 40))
	for name, c := range map[string]struct {
		v    *Video
		want string
	}{
		"nil":            {nil, "no frames"},
		"empty":          {&Video{}, "no frames"},
		"nil frame":      {&Video{Frames: []*RGB{frames[0], nil}}, "malformed"},
		"short pixels":   {&Video{Frames: []*RGB{{Pix: make([]uint8, 5), Width: 4, Height: 4}}}, "malformed"},
		"one frame":      {&Video{Frames: frames[:1], FPS: 2}, "too few frames"},
		"sizes differ":   {&Video{Frames: odd, FPS: 2}, "one size"},
		"indices length": {&Video{Frames: frames, FrameIndices: []int{0, 1}}, "frame indices"},
		"indices order":  {&Video{Frames: frames[:2], FrameIndices: []int{5, 1}}, "non-decreasing"},
		"indices range":  {&Video{Frames: frames[:2], FrameIndices: []int{1, 9}, TotalFrames: 5}, "non-decreasing"},
		"total mismatch": {&Video{Frames: frames, TotalFrames: 9}, "TotalFrames"},
	} {
		_, err := PreprocessVideo(c.v, o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
	bad := o
	bad.FPS = 0
	if _, err := PreprocessVideo(&Video{Frames: frames}, bad); err == nil {
		t.Error("fps 0 accepted")
	}
	huge := o
	huge.MinPixels, huge.MaxPixels = 1<<44, 1<<45
	if _, err := PreprocessVideo(&Video{Frames: frames, FPS: 2}, huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("video budget 2^44: %v, want ErrTooLarge", err)
	}
}

func TestLoadFramesFolder(t *testing.T) {
	dir := t.TempDir()
	frames := solidFrames(12, 40, 24)
	// Names sort byte-wise; extensions in any case; other files and dot files are skipped.
	writePNGFrames(t, dir, frames, func(k int) string { return fmt.Sprintf("f%03d.PNG", k) })
	for _, junk := range []string{"notes.txt", ".hidden.png"} {
		if err := os.WriteFile(filepath.Join(dir, junk), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := LoadFrames(context.Background(), dir, 4, DefaultVideoOptions())
	if err != nil {
		t.Fatal(err)
	}
	// n = int(12/4·2) = 6 → round(linspace(0, 11, 6)) = 0, 2, 4, 7, 9, 11 (2.2 → 2, 6.6 → 7, 8.8 → 9).
	if !slices.Equal(v.FrameIndices, []int{0, 2, 4, 7, 9, 11}) || v.TotalFrames != 12 || v.FPS != 4 || v.Duration != 3 {
		t.Errorf("indices %v total %d fps %v duration %v", v.FrameIndices, v.TotalFrames, v.FPS, v.Duration)
	}
	for k, i := range v.FrameIndices {
		if !slices.Equal(v.Frames[k].Pix, frames[i].Pix) {
			t.Errorf("frame %d is not file %d", k, i)
		}
	}
	if len(v.Warnings) != 0 {
		t.Errorf("warnings %v", v.Warnings)
	}
	v, err = LoadFrames(context.Background(), dir, 0, DefaultVideoOptions())
	if err != nil || !slices.Contains(v.Warnings, WarnUnknownFPS) {
		t.Errorf("unknown fps: %v %v", err, v)
	}
	// A corrupt frame is reported, naming the file, when it is sampled ...
	if err := os.WriteFile(filepath.Join(dir, "f004.PNG"), []byte("\x89PNG\r\n\x1a\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := DefaultVideoOptions()
	o.FramesFPS = 4
	if _, err := PreprocessVideoFile(context.Background(), dir, o); err == nil || !strings.Contains(err.Error(), "f004.PNG") {
		t.Errorf("corrupt sampled frame: %v", err)
	}
	// ... and not decoded when it is not (index 5 is not among 0, 2, 4, 7, 9, 11).
	writePNGFrames(t, dir, frames[4:5], func(int) string { return "f004.PNG" })
	if err := os.WriteFile(filepath.Join(dir, "f005.PNG"), []byte("\x89PNG\r\n\x1a\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFrames(context.Background(), dir, 4, DefaultVideoOptions()); err != nil {
		t.Errorf("corrupt frame that is not sampled: %v", err)
	}
	// Unreadable (permission) frame.
	if os.Getuid() != 0 {
		p := filepath.Join(dir, "f000.PNG")
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadFrames(context.Background(), dir, 4, DefaultVideoOptions()); err == nil || !strings.Contains(err.Error(), "f000.PNG") {
			t.Errorf("unreadable frame: %v", err)
		}
		os.Chmod(p, 0o644)
	}
	o.MaxFrameFiles = 3
	if _, err := LoadVideo(context.Background(), dir, o); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("MaxFrameFiles: %v", err)
	}
}

func TestLoadFramesBad(t *testing.T) {
	empty := t.TempDir()
	if _, err := LoadFrames(context.Background(), empty, 2, DefaultVideoOptions()); !errors.Is(err, ErrNoFrames) {
		t.Errorf("empty folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(empty, "readme.md"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PreprocessVideoFile(context.Background(), empty, DefaultVideoOptions()); !errors.Is(err, ErrNoFrames) {
		t.Errorf("folder without images: %v", err)
	}
	if _, err := LoadFrames(context.Background(), filepath.Join(empty, "missing"), 2, DefaultVideoOptions()); err == nil {
		t.Error("missing folder accepted")
	}
	if _, err := LoadFrames(context.Background(), empty, -1, DefaultVideoOptions()); err == nil {
		t.Error("negative fps accepted")
	}
	if _, err := LoadVideo(context.Background(), filepath.Join(empty, "missing.mp4"), DefaultVideoOptions()); err == nil {
		t.Error("missing file accepted")
	}
	// Frames of two sizes.
	dir := t.TempDir()
	writePNGFrames(t, dir, append(solidFrames(3, 40, 24), solidFrames(1, 24, 40)...), func(k int) string { return fmt.Sprintf("%02d.png", k) })
	if _, err := LoadFrames(context.Background(), dir, 2, DefaultVideoOptions()); err == nil || !strings.Contains(err.Error(), "one size") {
		t.Errorf("mixed sizes: %v", err)
	}
	o := DefaultVideoOptions()
	o.FramesFPS = 2
	if _, err := PreprocessVideoFile(context.Background(), dir, o); err == nil || !strings.Contains(err.Error(), "one size") {
		t.Errorf("mixed sizes (streaming): %v", err)
	}
	// One frame: the reference's smart_resize refuses it.
	one := t.TempDir()
	writePNGFrames(t, one, solidFrames(1, 40, 24), func(int) string { return "a.png" })
	if _, err := PreprocessVideoFile(context.Background(), one, o); !errors.Is(err, ErrTooFewFrames) {
		t.Errorf("one frame: %v", err)
	}
}

func TestParseVideoPreprocessorConfig(t *testing.T) {
	o, err := parseVideoPreprocessorConfig([]byte(`{}`))
	if err != nil || o != ClassDefaultVideoOptions() {
		t.Errorf("{}: %+v %v", o, err)
	}
	o, err = parseVideoPreprocessorConfig([]byte(`{"size": {"shortest_edge": 100, "longest_edge": 5000}, "min_pixels": 1, "max_pixels": 2,
		"fps": 1.5, "min_frames": 2, "max_frames": 9, "do_sample_frames": false, "cap_pixels_per_frame": true, "max_video_tokens": 5,
		"num_frames": null, "image_mean": 0.25, "resample": 3, "do_center_crop": true}`))
	if err != nil || o.MinPixels != 100 || o.MaxPixels != 5000 || o.FPS != 1.5 || o.MinFrames != 2 || o.MaxFrames != 9 ||
		o.DoSampleFrames || !o.CapPixelsPerFrame || o.MaxVideoTokens != 5 || o.Mean != [3]float32{0.25, 0.25, 0.25} {
		t.Errorf("full config: %+v %v", o, err)
	}
	for _, c := range []struct{ json, field string }{
		{`[]`, "JSON object"},
		{`null`, "JSON object"},
		{`{"patch_size": 16} {"patch_size": 0}`, "JSON object"},
		{`{"size": {"shortest_edge": 100}}`, "size"},
		{`{"size": {"min_pixels": 1, "max_pixels": 2}}`, "size"},
		{`{"size": 3}`, "size"},
		{`{"fps": null}`, "fps"},
		{`{"fps": "2"}`, "fps"},
		{`{"fps": 0}`, "fps"},
		{`{"num_frames": 8}`, "num_frames"},
		{`{"max_frames": 0}`, "max_frames"},
		{`{"min_frames": -1}`, "min_frames"},
		{`{"min_frames": 1.5}`, "min_frames"},
		{`{"do_sample_frames": "yes"}`, "do_sample_frames"},
		{`{"cap_pixels_per_frame": 1}`, "cap_pixels_per_frame"},
		{`{"cap_pixels_per_frame": true, "max_video_tokens": 0}`, "max_video_tokens"},
		{`{"do_normalize": false}`, "do_normalize"},
		{`{"resample": 2}`, "resample"},
		{`{"patch_size": 0}`, "patch_size"},
		{`{"image_std": [1, 0, 1]}`, "image_std"},
	} {
		_, err := parseVideoPreprocessorConfig([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want an error naming %s", c.json, err, c.field)
		}
	}
	if _, err := ReadVideoPreprocessorConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestReadVideoPreprocessorConfigDir(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := ReadVideoPreprocessorConfigDir(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty folder: %v", err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The image config is the last resort, read with the video class defaults.
	write("preprocessor_config.json", `{"size": {"shortest_edge": 65536, "longest_edge": 16777216}}`)
	o, file, err := ReadVideoPreprocessorConfigDir(dir)
	if err != nil || filepath.Base(file) != "preprocessor_config.json" || o.MaxPixels != 16777216 || o.FPS != 2 {
		t.Errorf("image config: %+v %s %v", o, file, err)
	}
	write("video_preprocessor_config.json", `{"size": {"shortest_edge": 4096, "longest_edge": 25165824}}`)
	o, file, err = ReadVideoPreprocessorConfigDir(dir)
	if err != nil || filepath.Base(file) != "video_preprocessor_config.json" || o != DefaultVideoOptions() {
		t.Errorf("video config: %+v %s %v", o, file, err)
	}
	write("processor_config.json", `{"image_processor": {}}`)
	if _, file, _ = ReadVideoPreprocessorConfigDir(dir); filepath.Base(file) != "video_preprocessor_config.json" {
		t.Errorf("processor_config.json without video_processor was used: %s", file)
	}
	write("processor_config.json", `{"video_processor": {"size": {"shortest_edge": 10, "longest_edge": 20}, "fps": 1}}`)
	o, file, err = ReadVideoPreprocessorConfigDir(dir)
	if err != nil || filepath.Base(file) != "processor_config.json" || o.MaxPixels != 20 || o.FPS != 1 {
		t.Errorf("nested config: %+v %s %v", o, file, err)
	}
	write("processor_config.json", `{"video_processor": {"fps": "x"}}`)
	if _, _, err = ReadVideoPreprocessorConfigDir(dir); err == nil || !strings.Contains(err.Error(), "fps") {
		t.Errorf("bad nested config: %v", err)
	}
	// A processor_config.json that is not one JSON object is an error, not skipped (the
	// reference fails on null and on trailing data too; a JSON array it would skip).
	for _, body := range []string{`null`, `[]`, `{"image_processor": {}} {}`} {
		write("processor_config.json", body)
		if _, file, err := ReadVideoPreprocessorConfigDir(dir); err == nil || filepath.Base(file) != "processor_config.json" ||
			!strings.Contains(err.Error(), "processor_config.json") {
			t.Errorf("processor_config.json %s: %s %v, want an error naming it", body, file, err)
		}
	}
}
