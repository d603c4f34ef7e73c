package imageproc

import (
	"fmt"
	"math"
)

// Frame sampling and the time of each temporal group, as the Hugging Face video processor and
// processor compute them. textjoin writes the times into the prompt ("<t seconds>", see
// textjoin.TimestampText), so they are part of both the pixel values' layout and the text.

// DefaultVideoFPS is the frame rate the processor assumes when a video's metadata has none
// (processing_qwen3_vl.py replace_video_token: `24 if metadata.fps is None`).
const DefaultVideoFPS = 24

// GroupTimestamps is the processor's _calculate_timestamps: the sampled frame indices are padded
// to a multiple of temporalPatch by repeating the last one, each becomes index/fps seconds, and a
// group's time is the mean of its first and last frame's. fps ≤ 0 means unknown (24 is used).
func GroupTimestamps(frameIndices []int, fps float64, temporalPatch int) []float64 {
	if fps <= 0 || math.IsNaN(fps) {
		fps = DefaultVideoFPS
	}
	if temporalPatch < 1 {
		temporalPatch = 1
	}
	idx := append([]int(nil), frameIndices...)
	if r := len(idx) % temporalPatch; r != 0 {
		last := idx[len(idx)-1]
		for range temporalPatch - r {
			idx = append(idx, last)
		}
	}
	out := make([]float64, 0, len(idx)/temporalPatch)
	for i := 0; i < len(idx); i += temporalPatch {
		a := float64(idx[i]) / fps
		b := float64(idx[i+temporalPatch-1]) / fps
		out = append(out, (a+b)/2)
	}
	return out
}

// SampleFrameIndices is Qwen3VLVideoProcessor.sample_frames with a target rate: from a video of
// total frames at videoFPS (≤ 0: unknown, 24 is used) it keeps
// n = int(total/videoFPS·fps) frames, clamped to [minFrames, min(maxFrames, total)], at
// round(linspace(0, total−1, n)) (NumPy's linspace, rounded half to even). The checkpoint's
// video processor uses fps 2, minFrames 4, maxFrames 768.
func SampleFrameIndices(total int, videoFPS, fps float64, minFrames, maxFrames int) ([]int, error) {
	if total < 0 {
		return nil, fmt.Errorf("imageproc: a video of %d frames", total)
	}
	if fps <= 0 || math.IsNaN(fps) || math.IsInf(fps, 0) {
		return nil, fmt.Errorf("imageproc: sampling rate %v frames per second", fps)
	}
	if videoFPS <= 0 || math.IsNaN(videoFPS) {
		videoFPS = DefaultVideoFPS
	}
	x := float64(total) / videoFPS * fps
	n := 0
	if x >= float64(total) {
		n = total // the clamp below keeps at most total frames; this also avoids overflow
	} else {
		n = int(x) // Python int(): toward zero
	}
	n = min(max(n, minFrames), maxFrames, total)
	if n < 0 {
		n = 0
	}
	out := make([]int, n)
	if n <= 1 {
		return out, nil // linspace of one sample is [0]
	}
	stop := float64(total - 1)
	step := stop / float64(n-1)
	for i := range out {
		var y float64
		if step == 0 {
			y = float64(i) / float64(n-1) * stop
		} else {
			y = float64(i) * step
		}
		if i == n-1 {
			y = stop
		}
		out[i] = int(math.RoundToEven(y))
	}
	return out, nil
}
