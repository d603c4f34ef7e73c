package imageproc

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// VideoOptions are the video preprocessing parameters: those of the
// reference's Qwen3VLVideoProcessor. Build them with DefaultVideoOptions or
// ReadVideoPreprocessorConfig; the zero value is not usable.
type VideoOptions struct {
	// Options holds what videos share with images: patch, merge and
	// temporal patch sizes, normalisation, resampler, decode limit. Its
	// MinPixels and MaxPixels are the video budget, size.shortest_edge and
	// size.longest_edge of video_preprocessor_config.json, and bound the
	// whole clip, frames × height × width, not one frame.
	Options
	// FPS is the rate frames are sampled at (the processor's fps): a video
	// of total frames at source rate r keeps n = int(total/r·FPS) frames,
	// clamped to [MinFrames, min(MaxFrames, total)].
	FPS float64
	// MinFrames and MaxFrames bound the number of sampled frames.
	MinFrames, MaxFrames int
	// DoSampleFrames false keeps every frame of the source, as the
	// processor does with do_sample_frames false.
	DoSampleFrames bool
	// CapPixelsPerFrame is the processor's cap_pixels_per_frame: the
	// budget becomes n · max(min(MaxVideoTokens·Factor()², MaxPixels/n),
	// int(1.05·MinPixels)) for n sampled frames. Off in the pinned
	// reference unless the config turns it on (it warns that the default
	// will change).
	CapPixelsPerFrame bool
	// MaxVideoTokens is the per-frame token ceiling of CapPixelsPerFrame.
	MaxVideoTokens int
	// FramesFPS is the frame rate of a folder of frames given to LoadVideo
	// or PreprocessVideoFile, which carries no timing of its own. 0 means
	// unknown: the reference then assumes 24 and a warning is returned.
	FramesFPS float64
	// MaxFrameFiles refuses a folder holding more frame files than this
	// (0: no limit). Only the sampled frames are ever decoded.
	MaxFrameFiles int
}

// DefaultVideoOptions returns the values of the released Qwen3-VL
// checkpoints' video_preprocessor_config.json ("size": shortest_edge 4096,
// longest_edge 25165824; patch 16, merge 2, temporal patch 2, mean = std =
// 0.5) over the class defaults of the pinned Qwen3VLVideoProcessor (fps 2,
// 4 to 768 frames, frames sampled, no per-frame cap, 768 tokens per frame
// for the cap, bicubic, rescale 1/255), with the torchvision resampler of
// the default backend.
func DefaultVideoOptions() VideoOptions {
	o := ClassDefaultVideoOptions()
	o.MinPixels, o.MaxPixels = 4096, 25165824
	return o
}

// ClassDefaultVideoOptions returns the class defaults of the reference's
// Qwen3VLVideoProcessor, which ReadVideoPreprocessorConfig uses for fields
// a config leaves out. They differ from DefaultVideoOptions only in the
// budget: size = {shortest_edge: 128·32·32, longest_edge: 32·32·768}.
func ClassDefaultVideoOptions() VideoOptions {
	o := DefaultOptions()
	o.MinPixels, o.MaxPixels = 128*32*32, 32*32*768
	return VideoOptions{
		Options:        o,
		FPS:            2,
		MinFrames:      4,
		MaxFrames:      768,
		DoSampleFrames: true,
		MaxVideoTokens: 768,
	}
}

// Validate reports the first unusable field.
func (o VideoOptions) Validate() error {
	if err := o.Options.Validate(); err != nil {
		return err
	}
	switch {
	case o.DoSampleFrames && (!(o.FPS > 0) || math.IsInf(o.FPS, 0)):
		return fmt.Errorf("imageproc: video options: fps %v must be positive and finite", o.FPS)
	case o.MinFrames < 0:
		return fmt.Errorf("imageproc: video options: min_frames %d must not be negative", o.MinFrames)
	case o.MaxFrames < 1:
		return fmt.Errorf("imageproc: video options: max_frames %d must be at least 1", o.MaxFrames)
	case o.CapPixelsPerFrame && o.MaxVideoTokens <= 0:
		return fmt.Errorf("imageproc: video options: max_video_tokens %d must be positive", o.MaxVideoTokens)
	case o.FramesFPS < 0 || math.IsNaN(o.FramesFPS) || math.IsInf(o.FramesFPS, 0):
		return fmt.Errorf("imageproc: video options: frames fps %v must be finite and not negative (0: unknown)", o.FramesFPS)
	case o.MaxFrameFiles < 0:
		return fmt.Errorf("imageproc: video options: MaxFrameFiles %d must not be negative", o.MaxFrameFiles)
	}
	return nil
}

// ReadVideoPreprocessorConfig reads a Hugging Face
// video_preprocessor_config.json and returns the options the pinned
// reference builds from it (AutoVideoProcessor.from_pretrained →
// Qwen3VLVideoProcessor): fields the file omits take the class defaults
// (ClassDefaultVideoOptions), so a released Qwen3-VL file yields
// DefaultVideoOptions. Top-level "min_pixels" / "max_pixels" are ignored,
// as the reference ignores them for videos; the budget is "size". Settings
// this package does not implement (num_frames, a null fps, do_resize,
// do_rescale, do_normalize or do_convert_rgb false, a resample other than
// 3 = bicubic) are errors, as is any field of the wrong type or out of
// range; each error names the field.
func ReadVideoPreprocessorConfig(path string) (VideoOptions, error) {
	data, err := readConfig(path)
	if err != nil {
		return VideoOptions{}, err
	}
	o, err := parseVideoPreprocessorConfig(data)
	if err != nil {
		return VideoOptions{}, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	return o, nil
}

// ReadVideoPreprocessorConfigDir finds a checkpoint folder's video
// processor settings the way the reference's from_pretrained does
// (video_processing_utils.py, get_video_processor_dict): the
// "video_processor" object of processor_config.json if there is one, else
// video_preprocessor_config.json, else preprocessor_config.json (read as a
// video config: its "size" becomes the T×H×W budget). It returns the
// options and the file they came from; when none of the files exists the
// error wraps fs.ErrNotExist (callers may then use DefaultVideoOptions).
func ReadVideoPreprocessorConfigDir(dir string) (VideoOptions, string, error) {
	nested := filepath.Join(dir, "processor_config.json")
	if data, err := readConfig(nested); err == nil {
		outer, err := decodeObject(data)
		if err != nil {
			return VideoOptions{}, nested, fmt.Errorf("imageproc: %s: %w", nested, err)
		}
		if v, ok := outer["video_processor"]; ok && string(v) != "null" {
			o, err := parseVideoPreprocessorConfig(v)
			if err != nil {
				return VideoOptions{}, nested, fmt.Errorf("imageproc: %s: video_processor: %w", nested, err)
			}
			return o, nested, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return VideoOptions{}, nested, err
	}
	for _, name := range []string{"video_preprocessor_config.json", "preprocessor_config.json"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		o, err := ReadVideoPreprocessorConfig(p)
		return o, p, err
	}
	return VideoOptions{}, "", fmt.Errorf("imageproc: %s: no processor_config.json with a video_processor, video_preprocessor_config.json or preprocessor_config.json: %w", dir, fs.ErrNotExist)
}
