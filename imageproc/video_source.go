package imageproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// videoSource is an opened video: its metadata and its frames, served in
// increasing index order.
type videoSource interface {
	frameSource
	info() sourceInfo
	// prepare is told, before the first frame is asked for, which indices
	// will be asked for (sorted), so a source can skip the others cheaply.
	prepare(indices []int) error
	close() error
}

type sourceInfo struct {
	total    int     // frames in the source
	fps      float64 // 0: unknown
	duration float64 // seconds, 0: unknown
	warnings []string
}

// frameExtensions are the file name extensions LoadFrames takes as frames.
var frameExtensions = []string{".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}

// openVideo opens path as a folder of frames (at opts.FramesFPS), an
// animated GIF (decoded here) or any other video file (through ffmpeg).
// Any other path that is not a regular file (a FIFO, a device) is refused.
func openVideo(ctx context.Context, path string, opts VideoOptions) (videoSource, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %w", err)
	}
	if st.IsDir() {
		return openFrames(ctx, path, opts.FramesFPS, opts)
	}
	f, _, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	var magic [6]byte
	n, _ := io.ReadFull(f, magic[:])
	f.Close()
	if sniff(magic[:n]) == "gif" {
		return openGIF(ctx, path, opts)
	}
	return openFFmpeg(ctx, path, opts)
}

// LoadVideo opens a video and returns the frames the processor samples
// from it (opts' rate and frame bounds; every frame when
// opts.DoSampleFrames is false), with their indices and the source's
// timing. path may be:
//
//   - a folder of frames: the image files in it, sorted by name, at
//     opts.FramesFPS frames per second (see LoadFrames);
//   - an animated GIF, decoded here: frames composed as ffmpeg's GIF
//     decoder does, timing from the frame delays;
//   - any other video file, decoded by ffmpeg (ffprobe and ffmpeg on the
//     PATH; ErrFFmpegNotFound otherwise).
//
// Only the sampled frames are kept, at their decoded size: a long video is
// never held whole, but the sampled frames are (up to MaxFrames of them).
// PreprocessVideoFile resizes each frame as it arrives instead, holding
// one decoded frame at a time.
//
// A cancelled ctx stops the reading (between frames, between reads of a
// file, and by killing ffmpeg). Image files and GIFs are read as Decode
// reads them, up to MaxFileBytes; video files are read by ffmpeg, whose
// frames are bounded by MaxDecodePixels and MaxFrames. path must be a
// folder or a regular file (not a FIFO or a device).
func LoadVideo(ctx context.Context, path string, opts VideoOptions) (*Video, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	src, err := openVideo(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	return loadSampled(ctx, src, path, opts)
}

// LoadFrames opens a folder of frames as a video at fps frames per second
// (0: unknown; the reference then assumes 24, and the Video carries a
// warning) and returns the sampled frames, as LoadVideo does. Frames are
// the folder's image files (extensions .png, .jpg, .jpeg, .webp, .bmp,
// .gif, .tif, .tiff, any case; names starting with "." are skipped) in
// byte-wise name order: number them with leading zeros. Only the sampled
// files are decoded (with DecodeFile); all must have the same size.
func LoadFrames(ctx context.Context, dir string, fps float64, opts VideoOptions) (*Video, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	src, err := openFrames(ctx, dir, fps, opts)
	if err != nil {
		return nil, err
	}
	return loadSampled(ctx, src, dir, opts)
}

// PreprocessVideoFile preprocesses the video at path (a folder of frames
// at opts.FramesFPS, an animated GIF or a video file, as LoadVideo) as
// PreprocessVideo(LoadVideo(path, opts), opts) would, but streaming: each
// sampled frame is resized and patchified as soon as it is decoded, so
// memory holds the output, one decoded frame and one resized frame. ctx
// cancels as in LoadVideo.
func PreprocessVideoFile(ctx context.Context, path string, opts VideoOptions) (*VideoResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	src, err := openVideo(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	defer src.close()
	in := src.info()
	indices, fps, err := SampleIndices(in.total, in.fps, opts)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	if err := src.prepare(uniqueSorted(indices)); err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	res, err := preprocessFrames(ctx, src, indices, opts)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	if err := src.close(); err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	res.TotalFrames = in.total
	res.FPS = fps
	res.Timestamps = GroupTimestamps(indices, fps, opts.TemporalPatchSize)
	res.Warnings = slices.Clone(in.warnings)
	if !(in.fps > 0) {
		res.Warnings = addWarning(res.Warnings, WarnUnknownFPS)
	}
	return res, nil
}

func loadSampled(ctx context.Context, src videoSource, name string, opts VideoOptions) (*Video, error) {
	defer src.close()
	in := src.info()
	indices, _, err := SampleIndices(in.total, in.fps, opts)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", name, err)
	}
	if err := src.prepare(uniqueSorted(indices)); err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", name, err)
	}
	frames := make([]*RGB, len(indices))
	for k, i := range indices {
		if k > 0 && i == indices[k-1] {
			frames[k] = frames[k-1]
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("imageproc: %s: %w", name, err)
		}
		f, err := src.frame(i)
		if err != nil {
			return nil, fmt.Errorf("imageproc: %s: %w", name, err)
		}
		if k > 0 && (f.Width != frames[0].Width || f.Height != frames[0].Height) {
			return nil, fmt.Errorf("imageproc: %s: frame %d is %dx%d, frame %d is %dx%d: all frames must have one size", name, i, f.Width, f.Height, indices[0], frames[0].Width, frames[0].Height)
		}
		frames[k] = f
	}
	if err := src.close(); err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", name, err)
	}
	v := &Video{
		Frames:       frames,
		FrameIndices: indices,
		TotalFrames:  in.total,
		FPS:          in.fps,
		Duration:     in.duration,
		Source:       name,
		Warnings:     slices.Clone(in.warnings),
	}
	if !(in.fps > 0) {
		v.Warnings = addWarning(v.Warnings, WarnUnknownFPS)
	}
	return v, nil
}

func uniqueSorted(indices []int) []int {
	out := slices.Clone(indices)
	slices.Sort(out)
	return slices.Compact(out)
}

// ---------------------------------------------------------------- folder

type folderSource struct {
	ctx   context.Context
	dir   string
	files []string
	fps   float64
	opts  Options
}

func openFrames(ctx context.Context, dir string, fps float64, opts VideoOptions) (*folderSource, error) {
	if fps < 0 || math.IsNaN(fps) || math.IsInf(fps, 0) {
		return nil, fmt.Errorf("imageproc: %s: frame rate %v must be finite and not negative (0: unknown)", dir, fps)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("imageproc: %w", err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		if !slices.Contains(frameExtensions, strings.ToLower(filepath.Ext(name))) {
			continue
		}
		files = append(files, name)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("imageproc: %s: %w (no %s files in the folder)", dir, ErrNoFrames, strings.Join(frameExtensions, ", "))
	}
	if opts.MaxFrameFiles > 0 && len(files) > opts.MaxFrameFiles {
		return nil, fmt.Errorf("imageproc: %s: %d frame files, over the limit of %d", dir, len(files), opts.MaxFrameFiles)
	}
	sort.Strings(files)
	return &folderSource{ctx: ctx, dir: dir, files: files, fps: fps, opts: opts.Options}, nil
}

func (s *folderSource) info() sourceInfo {
	in := sourceInfo{total: len(s.files), fps: s.fps}
	if s.fps > 0 {
		in.duration = float64(len(s.files)) / s.fps
	}
	return in
}

func (s *folderSource) prepare([]int) error { return nil }
func (s *folderSource) close() error        { return nil }

func (s *folderSource) frame(i int) (*RGB, error) {
	if i < 0 || i >= len(s.files) {
		return nil, fmt.Errorf("frame %d of %d", i, len(s.files))
	}
	path := filepath.Join(s.dir, s.files[i])
	img, err := DecodeFile(s.ctx, path, s.opts)
	if err != nil {
		return nil, fmt.Errorf("frame %d: %w", i, err)
	}
	return img, nil
}

// errSourceClosed is returned when a source is read after close.
var errSourceClosed = errors.New("video source closed")
