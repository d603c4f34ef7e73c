package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/gguf"
	"github.com/qwen3vl/qwen3vl/vision"
)

// A GGUF spec is a llama.cpp mmproj file: the vision tower alone, its hyperparameters and image
// normalization in the file's metadata (vision.ConfigFromGGUF, vision.GGUFImageNorm,
// vision.GGUFPixels), its tensors read by vision.LoadGGUF. It has no preprocessor config
// files: the released Qwen3-VL preprocessing options are used with the file's values in place.

// isGGUFName reports whether a spec names a GGUF file by its extension.
func isGGUFName(text string) bool { return strings.EqualFold(filepath.Ext(text), ".gguf") }

// isDir reports whether path is an existing folder (or a link to one).
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// isFile reports whether path is an existing regular file (or a link to one).
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// isMMProjName reports whether a file name is llama.cpp's (and the GGUF repositories') name of
// a projector file: mmproj-….gguf.
func isMMProjName(name string) bool {
	return strings.HasPrefix(name, "mmproj-") && isGGUFName(name)
}

// folderMMProj returns the mmproj-*.gguf file of dir when dir holds no checkpoint (no
// config.json, no safetensors) and exactly one such file; "" when dir is a checkpoint folder
// or holds none (it is then taken as a checkpoint folder, and Resolve says what it lacks);
// an error listing them when it holds more than one.
func folderMMProj(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		name := e.Name()
		if name == "config.json" || strings.HasSuffix(name, ".safetensors") || name == "model.safetensors.index.json" {
			return "", nil
		}
		if isMMProjName(name) {
			if isFile(filepath.Join(dir, name)) {
				found = append(found, name)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return filepath.Join(dir, found[0]), nil
	}
	slices.Sort(found)
	return "", fmt.Errorf("the folder holds %d mmproj GGUF files (%s) and no checkpoint: give the file to use, as in %s",
		len(found), strings.Join(found, ", "), filepath.Join(dir, found[0]))
}

// resolveGGUF reads what Resolve needs from the mmproj file of a GGUF spec: the tower's
// configuration, the preprocessing options (Qwen3-VL's released defaults with the file's
// image mean and std, for images and videos, and its pixel budget for images where it carries
// one), and its tensor types. No tensor is read.
func resolveGGUF(path string, logf func(string, ...any)) (cfg vision.Config, image imageproc.Options, video imageproc.VideoOptions, types []string, err error) {
	image, video = imageproc.DefaultOptions(), imageproc.DefaultVideoOptions()
	f, err := gguf.Open(path)
	if err != nil {
		return cfg, image, video, nil, reword(err, "pipeline: ", "gguf: ")
	}
	defer f.Close()
	if cfg, err = vision.ConfigFromGGUF(f); err != nil {
		return cfg, image, video, nil, fmt.Errorf("pipeline: %s: %w", path, err)
	}
	mean, std, err := vision.GGUFImageNorm(f)
	switch {
	case errors.Is(err, gguf.ErrMissingKey):
		logf("NOTE: %s carries no image mean and std: using Qwen3-VL's (%v, %v)", path, image.Mean, image.Std)
	case err != nil:
		return cfg, image, video, nil, reword(err, "pipeline: ", "gguf: ")
	default:
		for i := range 3 {
			image.Mean[i], image.Std[i] = float32(mean[i]), float32(std[i])
		}
		video.Mean, video.Std = image.Mean, image.Std
	}
	minPx, maxPx, err := vision.GGUFPixels(f)
	if err != nil {
		return cfg, image, video, nil, reword(err, "pipeline: ", "gguf: ")
	}
	if minPx > 0 {
		image.MinPixels = minPx
	}
	if maxPx > 0 {
		image.MaxPixels = maxPx
	}
	image.PatchSize, image.MergeSize, image.TemporalPatchSize = cfg.PatchSize, cfg.SpatialMergeSize, cfg.TemporalPatchSize
	video.PatchSize, video.MergeSize, video.TemporalPatchSize = cfg.PatchSize, cfg.SpatialMergeSize, cfg.TemporalPatchSize
	for _, t := range f.Tensors {
		if s := t.Type.String(); !slices.Contains(types, s) {
			types = append(types, s)
		}
	}
	slices.Sort(types)
	return cfg, image, video, types, nil
}

// lossyTypes returns the tensor types among types that are not F32 or BF16: F16 and Q8_0,
// widened (dequantized) to float32 at load, which need not hold the original weights.
func lossyTypes(types []string) []string {
	var out []string
	for _, t := range types {
		if t != gguf.F32.String() && t != gguf.BF16.String() {
			out = append(out, t)
		}
	}
	return out
}

// ErrVisionOnly is returned (wrapped) for work that needs a language model or a tokenizer
// when the spec is a GGUF mmproj file, which holds the vision tower alone.
var ErrVisionOnly = errors.New("a vision tower only, with no language model or tokenizer")

// CheckText returns an error wrapping ErrVisionOnly when the spec has no text side (a GGUF
// spec); nil otherwise.
func (s Spec) CheckText() error {
	if s.Kind != GGUF {
		return nil
	}
	return fmt.Errorf("pipeline: model %s is a llama.cpp mmproj GGUF file, %w: give the whole model's checkpoint folder or hub id", s.Text, ErrVisionOnly)
}

// noteGGUF logs how a GGUF spec's tensors were turned into m's weights when that lost or may
// have lost precision: F16 and Q8_0 tensors are widened to float32 at load (Q8_0 dequantized),
// and weights held as bfloat16 (-weights bf16, -compute bf16) round them once more.
func (c *Checkpoint) noteGGUF(m *vision.Model) {
	lossy := lossyTypes(c.Types)
	if len(lossy) == 0 {
		return
	}
	held := "held as float32"
	if m.Weights() == vision.WeightsBF16 {
		held = "then rounded to bfloat16 for bf16 weights or compute (a second rounding; f32 weights with f32 compute keep the widened values)"
	}
	how := "widened to float32 at load"
	if slices.Contains(lossy, gguf.Q8_0.String()) {
		how = "widened to float32 at load (Q8_0 dequantized)"
	}
	c.opts.logf("NOTE: %s stores %s tensors: %s, %s", c.File, strings.Join(lossy, ", "), how, held)
}
