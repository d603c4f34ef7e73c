package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/qwen3vl/qwen3vl/hub"
	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Options configure Resolve and Load. The zero value reads the checkpoint's own preprocessing
// options, loads the weights in their automatic form on every CPU, and logs nothing.
type Options struct {
	// Vision is passed to vision.Load or vision.Random (threads, weights form).
	Vision vision.Options
	// Hub resolves Hub specs (and checks Folder specs): caches, endpoint, token, progress.
	// Shells usually pass hub.OptionsFromEnv(); its Logf is set from Logf when nil.
	Hub hub.Options
	// Preprocess overrides the checkpoint's preprocessing options.
	Preprocess Overrides
	// Logf receives one-line notes (synthetic weights, which cache a model came from), without a
	// trailing newline; nil discards them.
	Logf func(format string, a ...any)
}

// Overrides replace parts of a checkpoint's preprocessor_config.json and
// video_preprocessor_config.json. Zero fields keep the checkpoint's values (or Qwen3-VL's
// released defaults when the checkpoint has no such file).
type Overrides struct {
	// MinPixels and MaxPixels bound an image's area after resizing (images only: a video's
	// budget is its whole clip's and stays the checkpoint's).
	MinPixels, MaxPixels int
	// MaxDecodePixels refuses, before decoding, an image whose header declares more pixels
	// (0: imageproc.DefaultMaxDecodePixels). It applies to video frames too.
	MaxDecodePixels int64
	// PIL resizes as the reference's PIL backend instead of its default torchvision backend.
	PIL bool
	// VideoFPS is the rate frames are sampled at; FramesFPS the frame rate of a folder of
	// frames (0: unknown, the reference then assumes 24).
	VideoFPS, FramesFPS float64
}

// Validate reports overrides that are wrong whatever the checkpoint: negative values, or a
// MinPixels above MaxPixels when both are given. Resolve checks the merged options again.
func (o Overrides) Validate() error {
	var errs []error
	if o.MinPixels < 0 {
		errs = append(errs, fmt.Errorf("min pixels %d is negative", o.MinPixels))
	}
	if o.MaxPixels < 0 {
		errs = append(errs, fmt.Errorf("max pixels %d is negative", o.MaxPixels))
	}
	if o.MinPixels > 0 && o.MaxPixels > 0 && o.MinPixels > o.MaxPixels {
		errs = append(errs, fmt.Errorf("min pixels %d is larger than max pixels %d", o.MinPixels, o.MaxPixels))
	}
	if o.MaxDecodePixels < 0 {
		errs = append(errs, fmt.Errorf("max decode pixels %d is negative", o.MaxDecodePixels))
	}
	if !(o.VideoFPS >= 0) || o.VideoFPS > 1000 {
		errs = append(errs, fmt.Errorf("video fps %v is not in [0, 1000] (0: the checkpoint's)", o.VideoFPS))
	}
	if !(o.FramesFPS >= 0) || o.FramesFPS > 1000 {
		errs = append(errs, fmt.Errorf("frames fps %v is not in [0, 1000] (0: unknown)", o.FramesFPS))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	return nil
}

// Checkpoint is a resolved model spec: everything known before the weights are read.
type Checkpoint struct {
	Spec Spec
	// Dir is the local checkpoint folder; empty for a Random or GGUF spec.
	Dir string
	// File is a GGUF spec's mmproj file and Types its tensor types (as "F32", "Q8_0"); empty
	// for the other kinds.
	File  string
	Types []string
	// Config is the vision tower's configuration.
	Config vision.Config
	// Image and Video are the preprocessing options: the checkpoint's, with the overrides
	// applied, checked against Config.
	Image imageproc.Options
	Video imageproc.VideoOptions
	opts  Options
}

// Resolve turns a spec into a Checkpoint: a Hub spec is looked up in the caches or its vision
// tower downloaded, a folder is checked, config.json and the preprocessing configs are read
// and checked to fit each other; a GGUF spec's file is opened and its metadata read (the
// configuration and the image normalization; the other preprocessing options are Qwen3-VL's
// released ones). No weights are read.
func Resolve(ctx context.Context, spec Spec, opts Options) (*Checkpoint, error) {
	if err := opts.Preprocess.Validate(); err != nil {
		return nil, err
	}
	c := &Checkpoint{Spec: spec, opts: opts}
	image, video := imageproc.DefaultOptions(), imageproc.DefaultVideoOptions()
	switch spec.Kind {
	case Random:
		c.Config = spec.Config
	case Folder, Hub:
		h := opts.Hub
		if h.Logf == nil {
			h.Logf = opts.logf
		}
		resolve := hub.Resolve
		if spec.Default {
			resolve = func(ctx context.Context, _ string, o hub.Options) (string, error) { return hub.ResolveDefault(ctx, o) }
		}
		dir, err := resolve(ctx, spec.Text, h)
		if err != nil {
			return nil, reword(err, "pipeline: ", "hub: ")
		}
		c.Dir = dir
		if _, err := os.Stat(filepath.Join(dir, "config.json")); errors.Is(err, fs.ErrNotExist) {
			if m, _ := filepath.Glob(filepath.Join(dir, "mmproj-*.gguf")); len(m) > 0 {
				return nil, fmt.Errorf("pipeline: %s is not a checkpoint folder: it has no config.json (for a llama.cpp mmproj file, give the file: %s)", dir, strings.Join(m, ", "))
			}
			return nil, fmt.Errorf("pipeline: %s is not a checkpoint folder: it has no config.json", dir)
		}
		if c.Config, err = vision.ReadConfig(filepath.Join(dir, "config.json")); err != nil {
			return nil, reword(err, "pipeline: ", "vision: ")
		}
		if image, err = readImageOptions(dir); err != nil {
			return nil, err
		}
		if video, err = readVideoOptions(dir); err != nil {
			return nil, err
		}
	case GGUF:
		var err error
		c.File = spec.Path
		if c.Config, image, video, c.Types, err = resolveGGUF(spec.Path, opts.logf); err != nil {
			if spec.Manifest != "" { // the blob's name says nothing of the model
				return nil, reword(err, "pipeline: model "+spec.Text+": ", "pipeline: ")
			}
			return nil, err
		}
	default:
		return nil, fmt.Errorf("pipeline: model spec %q has no kind (use ParseSpec)", spec.Text)
	}
	var err error
	if c.Image, c.Video, err = opts.Preprocess.apply(image, video); err != nil {
		return nil, err
	}
	if err := Fits(c.Image, c.Config); err != nil {
		return nil, err
	}
	if err := Fits(c.Video.Options, c.Config); err != nil {
		return nil, err
	}
	return c, nil
}

// readImageOptions reads dir/preprocessor_config.json, or returns the released defaults when
// the checkpoint has none.
func readImageOptions(dir string) (imageproc.Options, error) {
	p := filepath.Join(dir, "preprocessor_config.json")
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return imageproc.DefaultOptions(), nil
	}
	o, err := imageproc.ReadPreprocessorConfig(p)
	if err != nil {
		return o, reword(err, "pipeline: ", "imageproc: ")
	}
	return o, nil
}

// readVideoOptions reads the checkpoint's video processor config, or returns the released
// defaults when it has none.
func readVideoOptions(dir string) (imageproc.VideoOptions, error) {
	o, _, err := imageproc.ReadVideoPreprocessorConfigDir(dir)
	switch {
	case err == nil:
		return o, nil
	case errors.Is(err, fs.ErrNotExist):
		return imageproc.DefaultVideoOptions(), nil
	}
	return o, reword(err, "pipeline: ", "imageproc: ")
}

// apply returns the options with the overrides in place, validated.
func (o Overrides) apply(image imageproc.Options, video imageproc.VideoOptions) (imageproc.Options, imageproc.VideoOptions, error) {
	if o.MinPixels > 0 {
		image.MinPixels = o.MinPixels
	}
	if o.MaxPixels > 0 {
		image.MaxPixels = o.MaxPixels
	}
	switch {
	case image.MinPixels <= image.MaxPixels:
	case o.MaxPixels > 0 && o.MinPixels == 0:
		return image, video, fmt.Errorf("pipeline: max pixels %d is below the checkpoint's minimum area of %d pixels (lower min pixels too)", image.MaxPixels, image.MinPixels)
	case o.MinPixels > 0 && o.MaxPixels == 0:
		return image, video, fmt.Errorf("pipeline: min pixels %d is above the checkpoint's maximum area of %d pixels (raise max pixels too)", image.MinPixels, image.MaxPixels)
	default:
		return image, video, fmt.Errorf("pipeline: min pixels %d is larger than max pixels %d", image.MinPixels, image.MaxPixels)
	}
	decode := o.MaxDecodePixels
	if decode == 0 {
		decode = imageproc.DefaultMaxDecodePixels
	}
	image.MaxDecodePixels, video.MaxDecodePixels = decode, decode
	if o.PIL {
		image.Resampler, video.Resampler = imageproc.ResamplePillow, imageproc.ResamplePillow
	}
	if o.VideoFPS > 0 {
		video.FPS = o.VideoFPS
	}
	video.FramesFPS = o.FramesFPS
	if err := image.Validate(); err != nil {
		return image, video, reword(err, "pipeline: image preprocessing: ", "imageproc: ")
	}
	if err := video.Validate(); err != nil {
		return image, video, reword(err, "pipeline: video preprocessing: ", "imageproc: ")
	}
	return image, video, nil
}

// Fits checks that preprocessing options produce the patches the tower takes.
func Fits(o imageproc.Options, c vision.Config) error {
	if o.PatchSize != c.PatchSize || o.MergeSize != c.SpatialMergeSize || o.TemporalPatchSize != c.TemporalPatchSize || o.PatchDim() != c.PatchDim() {
		return fmt.Errorf("pipeline: the preprocessor (patch %d, merge %d, temporal patch %d) does not fit the model (patch %d, merge %d, temporal patch %d, %d channels)",
			o.PatchSize, o.MergeSize, o.TemporalPatchSize, c.PatchSize, c.SpatialMergeSize, c.TemporalPatchSize, c.InChannels)
	}
	return nil
}

func (o Options) logf(format string, a ...any) {
	if o.Logf != nil {
		o.Logf(format, a...)
	}
}

// Pipeline is a loaded model with its preprocessing options. It is read-only: Prepare and
// Encode may be called from many goroutines.
type Pipeline struct {
	*Checkpoint
	Model *vision.Model
}

// Load reads the checkpoint's weights (or makes the synthetic ones of a Random spec; or reads a
// GGUF spec's mmproj file with vision.LoadGGUF, which widens F16 and Q8_0 tensors to float32).
func (c *Checkpoint) Load(ctx context.Context) (*Pipeline, error) {
	var m *vision.Model
	var err error
	switch c.Spec.Kind {
	case Random:
		c.opts.logf("NOTE: model %s has synthetic random weights (seed %d): its features mean nothing", c.Spec.Text, c.Spec.Seed)
		m, err = vision.Random(c.Config, c.Spec.Seed, c.opts.Vision)
	case GGUF:
		if m, err = vision.LoadGGUF(ctx, c.File, c.opts.Vision); err == nil {
			c.noteGGUF(m)
		}
	default:
		m, err = vision.Load(ctx, c.Dir, c.opts.Vision)
	}
	if err != nil {
		return nil, reword(err, "pipeline: ", "vision: ")
	}
	return &Pipeline{Checkpoint: c, Model: m}, nil
}

// Open parses, resolves and loads a model spec: ParseSpec, Resolve and Load in one call.
func Open(ctx context.Context, spec string, opts Options) (*Pipeline, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	c, err := Resolve(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	return c.Load(ctx)
}

// Defaults is the Checkpoint of no particular model: Qwen3-VL's released preprocessing options
// (which every released size shares) with the overrides, for work that needs no weights (as
// preprocessing files for later). Its Spec is empty and its Config the 2B tower's.
func Defaults(opts Options) (*Checkpoint, error) {
	cfg, err := vision.Preset("qwen3-vl-2b")
	if err != nil {
		return nil, err
	}
	spec := Spec{Kind: Random, Preset: "qwen3-vl-2b", Config: cfg}
	c, err := Resolve(context.Background(), spec, opts)
	if err != nil {
		return nil, err
	}
	c.Spec = Spec{Config: cfg}
	return c, nil
}
