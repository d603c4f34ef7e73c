package imageproc

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// requireFFmpeg skips the test when ffmpeg or ffprobe is not on the PATH.
func requireFFmpeg(t *testing.T) {
	t.Helper()
	if _, _, err := lookFFmpeg(); err != nil {
		t.Skip("ffmpeg/ffprobe not on the PATH (apt-get install ffmpeg to run this test)")
	}
}

func runFFmpeg(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-v", "error", "-nostdin", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// ffmpegFrames decodes every frame of a file with the ffmpeg command, as rgb24.
func ffmpegFrames(t *testing.T, path string, w, h int) []*RGB {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-i", path, "-fps_mode", "passthrough",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1").Output()
	if err != nil {
		t.Fatal(err)
	}
	var frames []*RGB
	for len(out) >= 3*w*h {
		frames = append(frames, &RGB{Pix: out[:3*w*h], Width: w, Height: h})
		out = out[3*w*h:]
	}
	if len(out) != 0 {
		t.Fatalf("%d stray bytes", len(out))
	}
	return frames
}

func goldenCaseFrames(t *testing.T, name string) ([]*RGB, videoCase) {
	t.Helper()
	m := readVideoManifest(t)
	c, ok := m.Cases[name]
	if !ok {
		t.Fatalf("no case %s", name)
	}
	return caseFrames(t, name, c), c
}

func sameResult(t *testing.T, what string, got, want *VideoResult) {
	t.Helper()
	if got.Grid != want.Grid || !slices.Equal(got.FrameIndices, want.FrameIndices) || !sameFloat64s(got.Timestamps, want.Timestamps) ||
		got.TotalFrames != want.TotalFrames || got.ResizedWidth != want.ResizedWidth || got.ResizedHeight != want.ResizedHeight {
		t.Errorf("%s: grid %v indices %v timestamps %v total %d size %dx%d; want %v %v %v %d %dx%d", what,
			got.Grid, got.FrameIndices, got.Timestamps, got.TotalFrames, got.ResizedWidth, got.ResizedHeight,
			want.Grid, want.FrameIndices, want.Timestamps, want.TotalFrames, want.ResizedWidth, want.ResizedHeight)
		return
	}
	if math.Abs(got.FPS-want.FPS) > 1e-9*want.FPS {
		t.Errorf("%s: fps %v, want %v", what, got.FPS, want.FPS)
	}
	if !slices.Equal(got.Pixels, want.Pixels) {
		t.Errorf("%s: pixel values differ", what)
	}
}

// TestFFmpegLossless encodes golden frames losslessly (FFV1, RGB) and checks that the ffmpeg
// path gives exactly what PreprocessVideo gives on the frames (which the goldens pin to the
// reference): metadata from the packet scan, only the sampled frames through the pipe.
func TestFFmpegLossless(t *testing.T) {
	requireFFmpeg(t)
	for _, tc := range []struct {
		name, fps string
		cfgs      []string
	}{{"seven_frames", "2", []string{"ckpt", "small"}}, {"fps_sampled", "30", []string{"ckpt"}}, {"many_frames", "2", []string{"small"}}} {
		frames, c := goldenCaseFrames(t, tc.name)
		path := filepath.Join(t.TempDir(), tc.name+".mkv")
		runFFmpeg(t, "-framerate", tc.fps, "-i", filepath.Join(videoTestdata, "inputs", tc.name, "frame_%05d.png"),
			"-c:v", "ffv1", "-pix_fmt", "bgr0", path)
		for _, cfg := range tc.cfgs {
			opts := videoConfig(t, cfg)
			want, err := PreprocessVideo(&Video{Frames: frames, FPS: *c.FPS}, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := PreprocessVideoFile(context.Background(), path, opts)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.name, cfg, err)
			}
			sameResult(t, tc.name+" "+cfg+" PreprocessVideoFile", got, want)
			if len(got.Warnings) != 0 {
				t.Errorf("%s: warnings %v", tc.name, got.Warnings)
			}
			v, err := LoadVideo(context.Background(), path, opts)
			if err != nil {
				t.Fatal(err)
			}
			for k, i := range v.FrameIndices {
				if d, _ := compareRGB(v.Frames[k], frames[i]); d.equal != d.n {
					t.Errorf("%s: LoadVideo frame %d differs from the encoded frame: %v", tc.name, i, d)
				}
			}
			got2, err := PreprocessVideo(v, opts)
			if err != nil {
				t.Fatal(err)
			}
			sameResult(t, tc.name+" "+cfg+" PreprocessVideo(LoadVideo)", got2, want)
		}
	}
}

// TestFFmpegGenerated makes a short lossy video with ffmpeg (mpeg4, always built in) and
// preprocesses it: 3 s at 30 fps → int(90/30·2) = 6 frames at round(linspace(0, 89, 6)).
func TestFFmpegGenerated(t *testing.T) {
	requireFFmpeg(t)
	path := filepath.Join(t.TempDir(), "testsrc.mp4")
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc=size=96x64:rate=30:duration=3", "-c:v", "mpeg4", "-q:v", "2", path)
	res, err := PreprocessVideoFile(context.Background(), path, DefaultVideoOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.TotalFrames != 90 || res.FPS != 30 || res.Width != 96 || res.Height != 64 {
		t.Errorf("total %d fps %v size %dx%d, want 90, 30, 96x64", res.TotalFrames, res.FPS, res.Width, res.Height)
	}
	if want := []int{0, 18, 36, 53, 71, 89}; !slices.Equal(res.FrameIndices, want) {
		t.Errorf("indices %v, want %v", res.FrameIndices, want)
	}
	if res.Grid != (Grid{T: 3, H: 4, W: 6}) || len(res.Pixels) != 3*4*6*1536 {
		t.Errorf("grid %v, %d values", res.Grid, len(res.Pixels))
	}
	if want := []float64{0.3, 1.4833333333333334, 2.666666666666667}; !sameFloat64s(res.Timestamps, want) {
		t.Errorf("timestamps %v, want %v", res.Timestamps, want)
	}
	// The frames ffmpeg sends through the select filter are the frames it decodes.
	all := ffmpegFrames(t, path, 96, 64)
	v, err := LoadVideo(context.Background(), path, DefaultVideoOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 90 {
		t.Fatalf("ffmpeg decoded %d frames", len(all))
	}
	for k, i := range v.FrameIndices {
		if d, _ := compareRGB(v.Frames[k], all[i]); d.equal != d.n {
			t.Errorf("sampled frame %d differs from ffmpeg's frame %d: %v", k, i, d)
		}
	}
}

// TestFFmpegOlderOptions pretends ffmpeg does not know -fps_mode (FFmpeg 4.x): the source
// restarts it with -vsync passthrough and gets the same frames.
func TestFFmpegOlderOptions(t *testing.T) {
	requireFFmpeg(t)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=2", "-c:v", "mpeg4", path)
	want, err := PreprocessVideoFile(context.Background(), path, DefaultVideoOptions())
	if err != nil {
		t.Fatal(err)
	}
	saved := passthroughArgs[0]
	passthroughArgs[0] = []string{"-fps_mode_not_in_this_ffmpeg", "passthrough"}
	defer func() { passthroughArgs[0] = saved }()
	got, err := PreprocessVideoFile(context.Background(), path, DefaultVideoOptions())
	if err != nil {
		t.Fatal(err)
	}
	sameResult(t, "with -vsync", got, want)
}

// TestFFmpegRotated checks that a rotated stream (display matrix) comes out upright with its
// sides swapped, as ffmpeg (and torchcodec) return it.
func TestFFmpegRotated(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mp4")
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=1", "-c:v", "mpeg4", src)
	rot := filepath.Join(dir, "rot.mp4")
	runFFmpeg(t, "-i", src, "-c", "copy", "-metadata:s:v:0", "rotate=90", rot)
	v, err := LoadVideo(context.Background(), rot, DefaultVideoOptions())
	if err != nil {
		t.Fatal(err)
	}
	if f := v.Frames[0]; f.Width != 64 || f.Height != 96 {
		t.Errorf("rotated frames are %dx%d, want 64x96", f.Width, f.Height)
	}
}

func TestFFmpegBadInput(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mp4")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a video "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PreprocessVideoFile(context.Background(), junk, DefaultVideoOptions()); err == nil || !strings.Contains(err.Error(), "junk.mp4") {
		t.Errorf("junk: %v", err)
	}
	// A valid file cut short: either refused or read without the missing frames, never a hang.
	src := filepath.Join(dir, "src.mkv")
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=4", "-c:v", "ffv1", src)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.mkv")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := PreprocessVideoFile(context.Background(), cut, DefaultVideoOptions())
	t.Logf("truncated video: %v", err)
	if err == nil && res.TotalFrames >= 40 {
		t.Errorf("truncated video read as whole: %d frames", res.TotalFrames)
	}
	// An audio-only file has no video stream.
	audio := filepath.Join(dir, "tone.wav")
	runFFmpeg(t, "-f", "lavfi", "-i", "sine=duration=0.5", audio)
	if _, err := LoadVideo(context.Background(), audio, DefaultVideoOptions()); err == nil || !strings.Contains(err.Error(), "no video stream") {
		t.Errorf("audio only: %v", err)
	}
}

// TestFFmpegMissing hides ffmpeg from the PATH: video files are refused with instructions.
func TestFFmpegMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(path, []byte("\x00\x00\x00\x18ftypmp42"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	for _, f := range []func() error{
		func() error { _, err := LoadVideo(context.Background(), path, DefaultVideoOptions()); return err },
		func() error {
			_, err := PreprocessVideoFile(context.Background(), path, DefaultVideoOptions())
			return err
		},
	} {
		err := f()
		if !errors.Is(err, ErrFFmpegNotFound) || !strings.Contains(err.Error(), "apt-get install ffmpeg") || !strings.Contains(err.Error(), "clip.mp4") {
			t.Errorf("got %v, want ErrFFmpegNotFound naming the file and how to install", err)
		}
	}
}

// ---------------------------------------------------------------- GIF

// testGIF builds an animated GIF exercising delays (0, 1, 5, 20 → 10, 10, 5, 20 hundredths),
// a transparent colour, sub-rectangle frames and the three disposal methods.
func testGIF(t *testing.T, firstTransparent bool) []byte {
	t.Helper()
	pal := color.Palette{
		color.RGBA{200, 30, 40, 255}, color.RGBA{20, 180, 60, 255}, color.RGBA{30, 40, 220, 255},
		color.RGBA{250, 250, 10, 255}, color.RGBA{0, 0, 0, 0}, color.RGBA{90, 90, 90, 255},
	}
	const W, H = 24, 16
	g := &gif.GIF{Config: image.Config{ColorModel: pal, Width: W, Height: H}, BackgroundIndex: 5}
	// An opaque local palette: a frame with no transparent colour.
	opaque := append(color.Palette(nil), pal...)
	opaque[4] = color.RGBA{10, 10, 10, 255}
	add := func(r image.Rectangle, delay int, disposal byte, fill func(x, y int) uint8) {
		p := pal
		if len(g.Image) == 1 {
			p = opaque
		}
		m := image.NewPaletted(r, p)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				m.SetColorIndex(x, y, fill(x, y))
			}
		}
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, delay)
		g.Disposal = append(g.Disposal, disposal)
	}
	first := func(x, y int) uint8 { return uint8((x/3 + y/4) % 4) }
	if firstTransparent {
		first = func(x, y int) uint8 {
			if (x+y)%5 == 0 {
				return 4
			}
			return uint8((x/3 + y/4) % 4)
		}
	}
	add(image.Rect(0, 0, W, H), 0, gif.DisposalNone, first)
	add(image.Rect(4, 3, 14, 11), 1, gif.DisposalBackground, func(x, y int) uint8 { return uint8(1 + (x+y)%2*2) })
	add(image.Rect(8, 2, 20, 9), 5, gif.DisposalPrevious, func(x, y int) uint8 { return 2 })
	add(image.Rect(2, 6, 22, 14), 20, gif.DisposalBackground, func(x, y int) uint8 {
		if x%3 == 0 {
			return 4
		}
		return 3
	})
	add(image.Rect(0, 0, 10, 10), 7, 0, func(x, y int) uint8 { return 0 })
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	// image/gif writes a transparent colour only when the palette entry has alpha 0 — check.
	return buf.Bytes()
}

func TestGIFVideo(t *testing.T) {
	for _, firstTransparent := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "anim.gif")
		if err := os.WriteFile(path, testGIF(t, firstTransparent), 0o644); err != nil {
			t.Fatal(err)
		}
		opts := DefaultVideoOptions()
		opts.DoSampleFrames = false
		v, err := LoadVideo(context.Background(), path, opts)
		if err != nil {
			t.Fatal(err)
		}
		// Delays 0, 1, 5, 20, 7 → 10, 10, 5, 20, 7 hundredths: 52 → 5 frames / 0.52 s.
		if v.TotalFrames != 5 || math.Abs(v.FPS-5/0.52) > 1e-12 || math.Abs(v.Duration-0.52) > 1e-12 {
			t.Errorf("total %d, fps %v, duration %v; want 5, %v, 0.52", v.TotalFrames, v.FPS, v.Duration, 5/0.52)
		}
		if len(v.Frames) != 5 || v.Frames[0].Width != 24 || v.Frames[0].Height != 16 {
			t.Fatalf("%d frames", len(v.Frames))
		}
		// Frame 1 (opaque local palette) draws on frame 0; after its background disposal frame 2
		// sees the background colour there.
		px := func(f *RGB, x, y int) [3]uint8 {
			i := 3 * (y*f.Width + x)
			return [3]uint8{f.Pix[i], f.Pix[i+1], f.Pix[i+2]}
		}
		if got := px(v.Frames[2], 5, 10); got != [3]uint8{90, 90, 90} {
			t.Errorf("after background disposal: %v, want the background colour", got)
		}
		// Frame 3 has a transparent colour: its background disposal leaves transparent white.
		if got := px(v.Frames[4], 15, 12); got != [3]uint8{255, 255, 255} {
			t.Errorf("after background disposal of a frame with transparency: %v, want white", got)
		}
		// Frame 3 sees frame 2's rectangle restored (disposal previous): frame 1's disposal result.
		if got, want := px(v.Frames[3], 18, 3), px(v.Frames[1], 18, 3); got != want {
			t.Errorf("after restore: %v, want %v", got, want)
		}
		if firstTransparent {
			if got := px(v.Frames[0], 0, 0); got != [3]uint8{255, 255, 255} {
				t.Errorf("transparent pixel of the first frame: %v, want white", got)
			}
		}
		if !hasFFmpeg() {
			continue
		}
		// Against ffmpeg's GIF decoder and demuxer.
		all := ffmpegFrames(t, path, 24, 16)
		if len(all) != 5 {
			t.Fatalf("ffmpeg decoded %d frames", len(all))
		}
		for k := range all {
			if d, _ := compareRGB(v.Frames[k], all[k]); d.equal != d.n {
				t.Errorf("transparent first frame %v: frame %d differs from ffmpeg's: %v", firstTransparent, k, d)
			}
		}
		src, err := openFFmpeg(context.Background(), path, opts)
		if err != nil {
			t.Fatal(err)
		}
		if in := src.info(); in.total != 5 || math.Abs(in.fps-v.FPS) > 1e-9 {
			t.Errorf("ffprobe: %d frames at %v fps; GIF reader: %d at %v", in.total, in.fps, v.TotalFrames, v.FPS)
		}
	}
}

func hasFFmpeg() bool { _, _, err := lookFFmpeg(); return err == nil }

func TestGIFBad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.gif")
	if err := os.WriteFile(p, []byte("GIF89a\x10\x00\x10\x00\x80\x00\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadVideo(context.Background(), p, DefaultVideoOptions()); err == nil || !strings.Contains(err.Error(), "bad.gif") {
		t.Errorf("corrupt GIF: %v", err)
	}
	good := testGIF(t, false)
	if err := os.WriteFile(p, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PreprocessVideoFile(context.Background(), p, DefaultVideoOptions()); err == nil {
		t.Error("truncated GIF accepted")
	}
	opts := DefaultVideoOptions()
	opts.MaxDecodePixels = 100
	if err := os.WriteFile(p, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadVideo(context.Background(), p, opts); !errors.Is(err, ErrTooLarge) {
		t.Errorf("GIF over MaxDecodePixels: %v", err)
	}
}

// TestFFmpegCancel: a cancelled ctx stops ffprobe before it runs, and kills ffmpeg between
// frames; the error is the context's.
func TestFFmpegCancel(t *testing.T) {
	requireFFmpeg(t)
	path := filepath.Join(t.TempDir(), "testsrc.mp4")
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc=size=96x64:rate=30:duration=3", "-c:v", "mpeg4", "-q:v", "2", path)
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if _, err := PreprocessVideoFile(done, path, DefaultVideoOptions()); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), path) {
		t.Errorf("cancelled before: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := openFFmpeg(ctx, path, DefaultVideoOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	if err := src.prepare([]int{0, 45, 89}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.frame(0); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := src.frame(45); !errors.Is(err, context.Canceled) {
		t.Errorf("frame after cancel: %v", err)
	}
}
