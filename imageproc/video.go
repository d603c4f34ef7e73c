package imageproc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Video is a decoded video, or the frames sampled from one, with the
// timing the processor needs.
type Video struct {
	// Frames are the decoded frames, all of one size.
	Frames []*RGB
	// FrameIndices gives the source index of each frame when Frames are
	// frames sampled from a longer source (LoadVideo, LoadFrames). nil
	// means Frames are the whole video (frame i is index i):
	// PreprocessVideo then samples them itself, as the processor does
	// with an array of frames.
	FrameIndices []int
	// TotalFrames is the number of frames of the source; with
	// FrameIndices nil it must be 0 or len(Frames).
	TotalFrames int
	// FPS is the source's frame rate; 0 means unknown, and the reference
	// then assumes 24 frames per second (for sampling and timestamps).
	FPS float64
	// Duration is the source's length in seconds (informational; 0 when
	// unknown).
	Duration float64
	// Source names where the frames came from (for messages).
	Source string
	// Warnings are notes about the loading, such as an assumed frame rate.
	Warnings []string
}

// VideoResult is one preprocessed video: the vision tower's input for it.
type VideoResult struct {
	// Pixels is the [Grid.Patches(), PatchDim] row-major matrix of
	// normalised patches; the reference's pixel_values_videos. Rows are
	// grouped by temporal patch (frames k·T … k·T+T−1 form group k, T =
	// TemporalPatchSize), in merge-window order within a group; each row
	// holds [channel][t][y][x].
	Pixels []float32
	// Grid is the patch grid, the reference's video_grid_thw row. The
	// tower emits Grid.H·Grid.W/MergeSize² tokens per temporal group.
	Grid Grid
	// Timestamps holds the time in seconds of each temporal group (the
	// processor's _calculate_timestamps): the mean of its first and last
	// frame's index/FPS. len(Timestamps) == Grid.T. The prompt text for
	// group k is textjoin.TimestampText(Timestamps[k]).
	Timestamps []float64
	// FrameIndices are the source indices of the sampled frames, before
	// the padding to a multiple of TemporalPatchSize (which repeats the
	// last frame).
	FrameIndices []int
	// TotalFrames and FPS describe the source; FPS is the rate used for
	// sampling and timestamps (24 when the source's was unknown).
	TotalFrames int
	FPS         float64
	// Width and Height are the frames' size; ResizedWidth and ResizedHeight
	// the size every frame was resized to.
	Width, Height               int
	ResizedWidth, ResizedHeight int
	// Warnings are notes for the user, such as an assumed frame rate.
	Warnings []string
}

// ErrNoFrames is returned (wrapped) for a video without frames.
var ErrNoFrames = errors.New("the video has no frames")

// ErrTooFewFrames is returned (wrapped) when fewer frames than
// TemporalPatchSize are sampled (a one-frame video): the reference's
// smart_resize raises "t:1 must be larger than temporal_factor:2".
var ErrTooFewFrames = errors.New("too few frames for one temporal patch")

// WarnUnknownFPS is the warning given when a video's frame rate is unknown.
const WarnUnknownFPS = "the video's frame rate is unknown: assuming 24 frames per second, as the reference does, for frame sampling and timestamps (give the frame rate for accurate timestamps)"

// VideoSmartResize returns the size every frame of a video of numFrames
// frames of height×width is resized to. It is a transcription of
// smart_resize in transformers 5.24.0
// (models/qwen3_vl/video_processing_qwen3_vl.py, lines 75–108), in float64
// as the reference computes it:
//
//	error if numFrames < temporalFactor
//	if h or w < factor: s = max(factor/h, factor/w); h, w = int(h·s), int(w·s)
//	error if max(h,w)/min(h,w) > 200
//	h' = round(h/factor)·factor, w' likewise, t' = round(n/temporalFactor)·temporalFactor
//	if t'·h'·w' > maxPixels: β = √(n·h·w/maxPixels)
//	    h' = max(factor, ⌊h/β/factor⌋·factor), w' likewise
//	elif t'·h'·w' < minPixels: β = √(minPixels/(n·h·w))
//	    h' = ⌈h·β/factor⌉·factor, w' likewise
//
// (round is half to even; the budget test uses t' but β uses n.) Unlike
// the image rule (SmartResize), sides below factor are first scaled up.
func VideoSmartResize(numFrames, height, width, temporalFactor, factor, minPixels, maxPixels int) (h, w int, err error) {
	if height <= 0 || width <= 0 {
		return 0, 0, fmt.Errorf("imageproc: video frame size %dx%d (width x height) is empty", width, height)
	}
	if factor <= 0 || temporalFactor <= 0 {
		return 0, 0, fmt.Errorf("imageproc: resize factors %d, %d must be positive", factor, temporalFactor)
	}
	if minPixels <= 0 || maxPixels <= 0 {
		return 0, 0, fmt.Errorf("imageproc: pixel budget [%d, %d] must be positive", minPixels, maxPixels)
	}
	if numFrames < temporalFactor {
		return 0, 0, fmt.Errorf("imageproc: %w: %d frame(s), the temporal patch is %d", ErrTooFewFrames, numFrames, temporalFactor)
	}
	if height < factor || width < factor {
		ff := float64(factor)
		scale := math.Max(ff/float64(height), ff/float64(width))
		// float64() keeps each product rounded on its own, as in Python.
		height = int(float64(float64(height) * scale))
		width = int(float64(float64(width) * scale))
	}
	hi, lo := max(height, width), min(height, width)
	if lo <= 0 {
		return 0, 0, fmt.Errorf("imageproc: video frames %dx%d (width x height): %w", width, height, ErrAspectRatio)
	}
	if ratio := float64(hi) / float64(lo); ratio > 200 {
		return 0, 0, fmt.Errorf("imageproc: video frames %dx%d (width x height): %w, got %v", width, height, ErrAspectRatio, ratio)
	}
	fh, fw, ff := float64(height), float64(width), float64(factor)
	h = int(math.RoundToEven(fh/ff)) * factor
	w = int(math.RoundToEven(fw/ff)) * factor
	t := int(math.RoundToEven(float64(numFrames)/float64(temporalFactor))) * temporalFactor
	// Python integers do not overflow; these products are float64-exact for
	// any video that fits in memory (< 2^53).
	thw := float64(t) * float64(h) * float64(w)
	nhw := float64(numFrames) * float64(height) * float64(width)
	switch {
	case thw > float64(maxPixels):
		beta := math.Sqrt(nhw / float64(maxPixels))
		h = max(factor, int(math.Floor(fh/beta/ff))*factor)
		w = max(factor, int(math.Floor(fw/beta/ff))*factor)
	case thw < float64(minPixels):
		beta := math.Sqrt(float64(minPixels) / nhw)
		h = int(math.Ceil(float64(fh*beta)/ff)) * factor
		w = int(math.Ceil(float64(fw*beta)/ff)) * factor
	}
	if h <= 0 || w <= 0 {
		return 0, 0, fmt.Errorf("imageproc: video frames %dx%d (width x height) resize to an empty %dx%d with budget [%d, %d]", width, height, w, h, minPixels, maxPixels)
	}
	return h, w, nil
}

// videoBudget returns the maximum pixel budget the resize uses for n
// sampled frames: opts.MaxPixels, or with CapPixelsPerFrame the processor's
// per-frame cap (video_processing_qwen3_vl.py, resize, lines 203–207).
func videoBudget(n int, opts VideoOptions) int {
	if !opts.CapPixelsPerFrame || n <= 0 {
		return opts.MaxPixels
	}
	f := opts.Factor()
	frameCap := opts.MaxVideoTokens * f * f
	floor := int(float64(opts.MinPixels) * 1.05)
	return max(min(frameCap, opts.MaxPixels/n), floor) * n
}

// VideoResizedSize returns the size the frames of a video of numFrames
// sampled frames of height×width are resized to under opts (with the
// per-frame cap when opts.CapPixelsPerFrame), and the patch grid.
func VideoResizedSize(numFrames, height, width int, opts VideoOptions) (h, w int, grid Grid, err error) {
	h, w, err = VideoSmartResize(numFrames, height, width, opts.TemporalPatchSize, opts.Factor(), opts.MinPixels, videoBudget(numFrames, opts))
	if err != nil {
		return 0, 0, grid, err
	}
	if err := checkResized(h, w, opts.Options); err != nil {
		return 0, 0, grid, fmt.Errorf("imageproc: %dx%d video frames %w", width, height, err)
	}
	tp := opts.TemporalPatchSize
	grid = Grid{T: (numFrames + tp - 1) / tp, H: h / opts.PatchSize, W: w / opts.PatchSize}
	return h, w, grid, nil
}

// SampleIndices returns the source indices the processor keeps from a
// video of total frames at sourceFPS (0: unknown, 24 is used):
// SampleFrameIndices with opts' rate and bounds, or every frame
// when opts.DoSampleFrames is false. The second result is the rate used.
func SampleIndices(total int, sourceFPS float64, opts VideoOptions) ([]int, float64, error) {
	fps := sourceFPS
	if !(fps > 0) || math.IsInf(fps, 0) {
		fps = DefaultVideoFPS
	}
	if total <= 0 {
		return nil, fps, ErrNoFrames
	}
	if !opts.DoSampleFrames {
		idx := make([]int, total)
		for i := range idx {
			idx[i] = i
		}
		return idx, fps, nil
	}
	idx, err := SampleFrameIndices(total, fps, opts.FPS, opts.MinFrames, opts.MaxFrames)
	if err != nil {
		return nil, fps, fmt.Errorf("imageproc: %w", err)
	}
	if len(idx) == 0 {
		return nil, fps, ErrNoFrames
	}
	return idx, fps, nil
}

// frameSource yields the frames of a video by index. Calls come with
// non-decreasing indices (an index may repeat).
type frameSource interface {
	frame(i int) (*RGB, error)
}

// memorySource serves the frames of an in-memory video; at maps a source
// index to a position in frames (nil: identity).
type memorySource struct {
	frames []*RGB
	at     map[int]int
}

func (m memorySource) frame(i int) (*RGB, error) {
	if m.at != nil {
		k, ok := m.at[i]
		if !ok {
			return nil, fmt.Errorf("frame %d was not loaded", i)
		}
		i = k
	}
	if i < 0 || i >= len(m.frames) {
		return nil, fmt.Errorf("frame %d of %d", i, len(m.frames))
	}
	return m.frames[i], nil
}

// PreprocessVideo samples (when v.FrameIndices is nil), resizes and
// patchifies a video as Qwen3VLVideoProcessor does with an array of frames
// and its metadata, and computes the temporal groups' timestamps as
// Qwen3VLProcessor does. v is not modified.
func PreprocessVideo(v *Video, opts VideoOptions) (*VideoResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if v == nil || len(v.Frames) == 0 {
		return nil, fmt.Errorf("imageproc: video %s: %w", sourceName(v), ErrNoFrames)
	}
	for i, f := range v.Frames {
		if f == nil || f.Width <= 0 || f.Height <= 0 || len(f.Pix) < 3*f.Width*f.Height {
			return nil, fmt.Errorf("imageproc: video %s: frame %d is empty or malformed", sourceName(v), i)
		}
	}
	var (
		indices []int
		fps     = v.FPS
		src     = memorySource{frames: v.Frames}
		total   = v.TotalFrames
		err     error
	)
	if v.FrameIndices == nil {
		if total != 0 && total != len(v.Frames) {
			return nil, fmt.Errorf("imageproc: video %s: TotalFrames %d but %d frames and no FrameIndices", sourceName(v), total, len(v.Frames))
		}
		total = len(v.Frames)
		indices, fps, err = SampleIndices(total, v.FPS, opts)
		if err != nil {
			return nil, fmt.Errorf("imageproc: video %s: %w", sourceName(v), err)
		}
	} else {
		if len(v.FrameIndices) != len(v.Frames) {
			return nil, fmt.Errorf("imageproc: video %s: %d frame indices for %d frames", sourceName(v), len(v.FrameIndices), len(v.Frames))
		}
		indices = slices.Clone(v.FrameIndices)
		src.at = make(map[int]int, len(indices))
		for k, i := range indices {
			if i < 0 || (total > 0 && i >= total) || (k > 0 && i < indices[k-1]) {
				return nil, fmt.Errorf("imageproc: video %s: frame indices %v are not non-decreasing within [0, %d)", sourceName(v), indices, total)
			}
			src.at[i] = k
		}
		if total == 0 {
			total = indices[len(indices)-1] + 1
		}
		if !(fps > 0) || math.IsInf(fps, 0) {
			fps = DefaultVideoFPS
		}
	}
	res, err := preprocessFrames(context.Background(), src, indices, opts)
	if err != nil {
		return nil, fmt.Errorf("imageproc: video %s: %w", sourceName(v), err)
	}
	res.TotalFrames = total
	res.FPS = fps
	res.Timestamps = GroupTimestamps(indices, fps, opts.TemporalPatchSize)
	res.Warnings = slices.Clone(v.Warnings)
	if !(v.FPS > 0) || math.IsInf(v.FPS, 0) {
		res.Warnings = addWarning(res.Warnings, WarnUnknownFPS)
	}
	return res, nil
}

func sourceName(v *Video) string {
	if v == nil || v.Source == "" {
		return "(in memory)"
	}
	return v.Source
}

func addWarning(ws []string, w string) []string {
	if slices.Contains(ws, w) {
		return ws
	}
	return append(ws, w)
}

// preprocessFrames fetches the frames at indices from src one at a time,
// resizes each to the size VideoResizedSize picks from the first frame's
// size, and writes it into its temporal slot of the patch matrix; the last
// group is completed by repeating the last frame. Only one source frame
// and one resized frame are alive at a time besides the output. It fills
// Pixels, Grid, FrameIndices and the sizes.
// A cancelled ctx stops it before the next frame.
func preprocessFrames(ctx context.Context, src frameSource, indices []int, opts VideoOptions) (*VideoResult, error) {
	n := len(indices)
	if n == 0 {
		return nil, ErrNoFrames
	}
	first, err := src.frame(indices[0])
	if err != nil {
		return nil, err
	}
	fw, fh := first.Width, first.Height
	h, w, grid, err := VideoResizedSize(n, fh, fw, opts)
	if err != nil {
		return nil, err
	}
	dim := opts.PatchDim()
	rows := grid.Patches()
	if rows <= 0 || int64(rows)*int64(dim) > math.MaxInt32*int64(8) {
		return nil, fmt.Errorf("%d×%d patches of %d values are too many", grid.T, grid.H*grid.W, dim)
	}
	out := make([]float32, rows*dim)
	lut := NormalizeLUT(opts.Options)
	tp := opts.TemporalPatchSize
	var (
		lastIdx     = -1
		lastResized *RGB
	)
	for k, idx := range indices {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if idx != lastIdx || lastResized == nil {
			f := first
			first = nil // do not keep the first frame alive for the whole loop
			if f == nil {
				if f, err = src.frame(idx); err != nil {
					return nil, err
				}
			}
			if f.Width != fw || f.Height != fh {
				return nil, fmt.Errorf("frame %d is %dx%d, frame %d is %dx%d: all frames must have one size", idx, f.Width, f.Height, indices[0], fw, fh)
			}
			if lastResized, err = Resize(f, w, h, opts.Resampler); err != nil {
				return nil, err
			}
			lastIdx = idx
		}
		patchifyFrame(out, lastResized, k/tp, k%tp, k%tp+1, opts.Options, &lut)
	}
	for k := n; k < grid.T*tp; k++ {
		patchifyFrame(out, lastResized, k/tp, k%tp, k%tp+1, opts.Options, &lut)
	}
	return &VideoResult{
		Pixels:       out,
		Grid:         grid,
		FrameIndices: slices.Clone(indices),
		Width:        fw, Height: fh,
		ResizedWidth: w, ResizedHeight: h,
	}, nil
}
