package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// The output contract: the names of the tensors every shell writes or sends.
const (
	// PoolerName is the merged tokens, float32 [tokens, O]: what the text model reads at its
	// <|image_pad|> / <|video_pad|> positions.
	PoolerName = "pooler_output"
	// DeepstackPrefix + k is the k-th DeepStack feature set, float32 [tokens, O].
	DeepstackPrefix = "deepstack_features."
	// LastHiddenName is the last block's output before the merger, float32 [patches, D].
	LastHiddenName = "last_hidden_state"
	// GridName is every item's (t, h, w) in patches, int64 [items, 3].
	GridName = "grid_thw"
	// TimestampsPrefix + i is video item i's temporal-group times in seconds, float64 [t].
	TimestampsPrefix = "timestamps."

	// VLLMEmbedsName is vLLM's precomputed image embeddings, float32 [tokens, O·(1+k)], each
	// row [pooler | deepstack 0 | … | deepstack k−1].
	VLLMEmbedsName = "image_embeds"
	// VLLMGridName is the grids beside VLLMEmbedsName, int64 [items, 3].
	VLLMGridName = "image_grid_thw"

	// The Hugging Face processor's names, which preprocess writes and ReadPixels reads.
	PixelValuesName      = "pixel_values"
	ImageGridName        = "image_grid_thw"
	PixelValuesVideoName = "pixel_values_videos"
	VideoGridName        = "video_grid_thw"
	VideoTimestampsName  = "video_timestamps." // + the video's index among the videos
)

// Tensors lays out f as the output contract: pooler_output, deepstack_features.0…k−1,
// last_hidden_state (float32), grid_thw (int64), and timestamps.I (float64) for each video
// item I. The float32 tensors share f's memory.
func (f Features) Tensors() []safetensors.Tensor {
	ts := []safetensors.Tensor{matrixTensor(PoolerName, f.Pooler)}
	for k, d := range f.Deepstack {
		ts = append(ts, matrixTensor(DeepstackPrefix+strconv.Itoa(k), d))
	}
	ts = append(ts, matrixTensor(LastHiddenName, f.LastHidden), gridTensor(GridName, f.Grids()))
	for i, it := range f.Items {
		if it.Video && it.Timestamps != nil {
			ts = append(ts, f64Tensor(TimestampsPrefix+strconv.Itoa(i), it.Timestamps))
		}
	}
	return ts
}

// VLLMTensors lays out f as vLLM's precomputed image embeddings for Qwen3-VL: image_embeds
// [tokens, O·(1+k)], each row [pooler | deepstack 0 | … | deepstack k−1] (the layout vLLM's
// Qwen3-VL vision module returns and splits again before the text model), and image_grid_thw
// [items, 3].
func (f Features) VLLMTensors() []safetensors.Tensor {
	o := f.Pooler.Cols
	width := o * (1 + len(f.Deepstack))
	data := make([]float32, f.Pooler.Rows*width)
	for r := 0; r < f.Pooler.Rows; r++ {
		row := data[r*width : (r+1)*width]
		copy(row, f.Pooler.Row(r))
		for k, d := range f.Deepstack {
			copy(row[(k+1)*o:], d.Row(r))
		}
	}
	return []safetensors.Tensor{
		safetensors.F32Tensor(VLLMEmbedsName, []int{f.Pooler.Rows, width}, data),
		gridTensor(VLLMGridName, f.Grids()),
	}
}

// PixelTensors lays out preprocessed items under the Hugging Face processor's names:
// pixel_values and image_grid_thw for the images, pixel_values_videos, video_grid_thw and
// video_timestamps.K for the videos, each kind in input order. patchDim is the row width.
func PixelTensors(items []Item, patchDim int) []safetensors.Tensor {
	type group struct {
		pixels []float32
		grids  []vision.Grid
	}
	var images, videos group
	var stamps []safetensors.Tensor
	for _, it := range items {
		g := &images
		if it.Video {
			g = &videos
			stamps = append(stamps, f64Tensor(VideoTimestampsName+strconv.Itoa(len(videos.grids)), it.Timestamps))
		}
		g.pixels = append(g.pixels, it.Pixels...)
		g.grids = append(g.grids, it.Grid)
	}
	var ts []safetensors.Tensor
	if len(images.grids) > 0 {
		ts = append(ts, safetensors.F32Tensor(PixelValuesName, []int{len(images.pixels) / patchDim, patchDim}, images.pixels), gridTensor(ImageGridName, images.grids))
	}
	if len(videos.grids) > 0 {
		ts = append(ts, safetensors.F32Tensor(PixelValuesVideoName, []int{len(videos.pixels) / patchDim, patchDim}, videos.pixels), gridTensor(VideoGridName, videos.grids))
	}
	return append(ts, stamps...)
}

func matrixTensor(name string, x vision.Matrix) safetensors.Tensor {
	return safetensors.F32Tensor(name, []int{x.Rows, x.Cols}, x.Data)
}

func gridTensor(name string, grids []vision.Grid) safetensors.Tensor {
	g := make([]int64, 0, 3*len(grids))
	for _, x := range grids {
		g = append(g, int64(x.T), int64(x.H), int64(x.W))
	}
	return safetensors.I64Tensor(name, []int{len(grids), 3}, g)
}

// f64Tensor is a float64 vector (a video item's temporal-group times, in seconds).
func f64Tensor(name string, v []float64) safetensors.Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return safetensors.Tensor{Name: name, DType: safetensors.F64, Shape: []int{len(v)}, Data: b}
}

// Metadata is the provenance an output file carries in its safetensors header: the producer,
// the model spec and where it came from (a GGUF spec: model_format "gguf", model_file, its
// tensor types gguf_types as "F32,Q8_0", and ollama_manifest for an ollama spec), the weights
// form, the image pixel budget and
// resampler, and each item's name (a JSON list).
func (p *Pipeline) Metadata(items []Item) map[string]string {
	m := p.Checkpoint.Metadata(items)
	m["weights"] = p.Model.Weights().String()
	return m
}

// Metadata is Pipeline.Metadata without the weights form (for outputs made without loading
// them, as preprocess's).
func (c *Checkpoint) Metadata(items []Item) map[string]string {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.Name
	}
	list, _ := json.Marshal(names)
	m := map[string]string{
		"format":     "pt",
		"producer":   "qwen3vl",
		"model":      c.Spec.Text,
		"min_pixels": strconv.Itoa(c.Image.MinPixels),
		"max_pixels": strconv.Itoa(c.Image.MaxPixels),
		"resampler":  c.Image.Resampler.String(),
		"items":      string(list),
	}
	switch c.Spec.Kind {
	case Folder:
		m["model_dir"] = c.Dir
	case Hub:
		m["model_dir"] = c.Dir
		m["revision"] = c.Spec.Revision
		if commit := filepath.Base(c.Dir); len(commit) == 40 && strings.Trim(commit, "0123456789abcdef") == "" {
			m["commit"] = commit // both caches keep a snapshot in a folder named by its commit
		}
	case Random:
		m["seed"] = strconv.FormatUint(c.Spec.Seed, 10)
	case GGUF:
		m["model_format"] = "gguf"
		m["model_file"] = c.File
		m["gguf_types"] = strings.Join(c.Types, ",")
		if c.Spec.Manifest != "" {
			m["ollama_manifest"] = c.Spec.Manifest
		}
	}
	return m
}
