package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/mmhash"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// The layout of vLLM's example EC connector (ECExampleConnector,
// vllm/distributed/ec_transfer/ec_connector/example_connector.py, vLLM 0.34.0): the encoder
// output of a multimodal item lives in
//
//	{shared_storage_path}/{identifier}/encoder_cache.safetensors
//
// one tensor "ec_cache", written by the producer with safetensors.torch.save_file and read
// back by a consumer (ec_role "ec_consumer") with safetensors.torch.load_file(...)["ec_cache"]
// into its encoder cache, in place of running the vision encoder. The identifier is the
// item's mm_hash (internal/mmhash; MultiModalFeatureSpec.identifier, with a "lora_name:"
// prefix only under enable_tower_connector_lora). For Qwen3-VL the tensor is what the
// model's embed_multimodal returns for the image (qwen3_vl.py _process_image_input): the
// vision module's [tokens, O·(1+k)] rows, the merger's output then the k DeepStack mergers'
// (torch.cat on dim 1), split per item by t·h·w/merge²; a model without DeepStack (the
// Qwen3.5 family: no deepstack_visual_indexes, so multiscale_dim 0 in qwen3_5.py) gives
// [tokens, O]. The consumer casts the rows to the text model's dtype when it merges them
// (_merge_multimodal_embeddings, models/utils.py), as it casts precomputed image_embeds, so
// float32 is written: the exact features.
const (
	VLLMECTensor = "ec_cache"
	VLLMECFile   = "encoder_cache.safetensors"
)

// VLLMImageHash is the mm_hash vLLM 0.34.0's OpenAI server computes for the image file data
// (a data URL's decoded bytes, a fetched URL's body) with key's model id and hash factors.
// vLLM hashes the bytes as received, and notes when its loader converts the picture
// (internal/mmhash.Image), so Pillow's view of the file is read from its header.
//
// Images this encoder does not encode as vLLM's loader loads them are refused, since an
// entry under their hash would change vLLM's answers: pixels that are not fully opaque
// (vLLM composites them on white, vllm/multimodal/image.py rgba_to_rgb; this encoder keeps
// the stored colour, as the Hugging Face processor does for files) and 16-bit gray (Pillow's
// RGB conversion clips it to 0…255; this encoder keeps the high byte). name is for errors.
func VLLMImageHash(key mmhash.Key, name string, data []byte) (string, error) {
	v, err := imageproc.Pillow(name, data)
	if err != nil {
		return "", fmt.Errorf("pipeline: %w", err)
	}
	switch v.Mode {
	case "I;16", "I", "F":
		return "", fmt.Errorf("pipeline: %s is %s-mode %s: vLLM's loader (Pillow) clips it to 8 bits where this encoder keeps the high byte, so its encoding would not be vLLM's", name, v.Mode, v.Format)
	}
	if v.Transparency {
		t, err := imageproc.Translucent(name, data)
		if err != nil {
			return "", fmt.Errorf("pipeline: %w", err)
		}
		if t {
			return "", fmt.Errorf("pipeline: %s has transparent pixels: vLLM composites them on white before encoding, this encoder keeps their stored colour (as the Hugging Face processor does), so its encoding would not be vLLM's", name)
		}
	}
	h, err := key.Image(mmhash.Image{Data: data, Converted: !v.PlainRGB()})
	if err != nil {
		return "", fmt.Errorf("pipeline: %s: %w", name, err)
	}
	return h, nil
}

// VLLMECEntry is item i's encoder_cache.safetensors: the tensor ec_cache, float32
// [tokens, O·(1+k)], the item's rows as its VLLMPart carries them, no metadata (as
// safetensors.torch.save_file writes one tensor). A video item is an error.
func (f Features) VLLMECEntry(i int) ([]byte, error) {
	if i < 0 || i >= len(f.Items) {
		return nil, fmt.Errorf("pipeline: item %d of %d", i, len(f.Items))
	}
	it := f.Items[i]
	if it.Video {
		return nil, fmt.Errorf("pipeline: %s is a video: only images are written as vLLM encoder-cache entries", it.Name)
	}
	first, n := f.Tokens(i)
	if n <= 0 || first+n > f.Pooler.Rows {
		return nil, fmt.Errorf("pipeline: %s: grid %dx%dx%d has no token rows %d…%d in the %d of the features", it.Name, it.Grid.T, it.Grid.H, it.Grid.W, first, first+n, f.Pooler.Rows)
	}
	data, width, err := f.vllmRows(first, n)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %s: %w", it.Name, err)
	}
	var buf bytes.Buffer
	t := safetensors.Tensor{Name: VLLMECTensor, DType: safetensors.F32, Shape: []int{n, width}, Data: data}
	if err := safetensors.Write(&buf, []safetensors.Tensor{t}, nil); err != nil {
		return nil, fmt.Errorf("pipeline: %s: %w", it.Name, err)
	}
	return buf.Bytes(), nil
}

// checkECName refuses an mm_hash that is not one folder name.
func checkECName(h string) error {
	if h == "" || h == "." || h == ".." || strings.ContainsAny(h, "/\\\x00") {
		return fmt.Errorf("pipeline: %q cannot name an encoder-cache folder", h)
	}
	return nil
}

// WriteVLLMEC puts entry (a VLLMECEntry) at root/mmHash/encoder_cache.safetensors, creating
// the folders, atomically (internal/fsutil). A file already there with the same bytes is
// left alone (wrote is false); one with other bytes is replaced.
func WriteVLLMEC(root, mmHash string, entry []byte) (wrote bool, err error) {
	if err := checkECName(mmHash); err != nil {
		return false, err
	}
	dir := filepath.Join(root, mmHash)
	path := filepath.Join(dir, VLLMECFile)
	if old, err := fsutil.ReadFile(path, int64(len(entry))); err == nil && bytes.Equal(old, entry) {
		return false, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fsutil.ErrTooLarge) {
		return false, fmt.Errorf("pipeline: encoder-cache entry: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("pipeline: encoder-cache entry: %w", err)
	}
	if err := fsutil.WriteFile(path, func(w io.Writer) error { _, err := w.Write(entry); return err }); err != nil {
		return false, fmt.Errorf("pipeline: encoder-cache entry: %w", err)
	}
	return true, nil
}

// VLLMPixelBounds reads the image area bounds a vLLM request's mm_processor_kwargs sets for
// Qwen3-VL (0 where it sets none), as vLLM 0.34.0 resolves them: the flat keys, then those
// of images_kwargs over them (ProcessingInfo._merge_and_resolve_mm_processor_kwargs: a scoped
// value wins), each scope's size {"shortest_edge", "longest_edge"} then its min_pixels and
// max_pixels over that (Qwen2VLProcessingInfo._get_vision_size, qwen2_vl.py). videos_kwargs
// and audio_kwargs do not touch images (nor their hash). Any other key is an error: what it
// does to vLLM's preprocessing is not known here, so an encoding made without it could not
// be trusted to be vLLM's.
func VLLMPixelBounds(kw mmhash.Map) (minPixels, maxPixels int, err error) {
	apply := func(scope string, m mmhash.Map) error {
		num := func(key string, v any) (int, error) {
			n, ok := v.(int64)
			if !ok || n <= 0 || n > 1<<40 {
				return 0, fmt.Errorf("pipeline: mm_processor_kwargs %s%s: want a positive integer, have %v", scope, key, v)
			}
			return int(n), nil
		}
		var lo, hi int
		for _, mem := range m {
			switch mem.Key {
			case "size":
				sz, ok := mem.Value.(mmhash.Map)
				if !ok {
					return fmt.Errorf("pipeline: mm_processor_kwargs %ssize: want an object", scope)
				}
				for _, e := range sz {
					n, err := num("size."+e.Key, e.Value)
					if err != nil {
						return err
					}
					switch e.Key {
					case "shortest_edge":
						lo = n
					case "longest_edge":
						hi = n
					default:
						return fmt.Errorf("pipeline: mm_processor_kwargs %ssize.%s: want shortest_edge or longest_edge", scope, e.Key)
					}
				}
			}
		}
		for _, mem := range m {
			switch mem.Key {
			case "size":
			case "min_pixels", "max_pixels":
				n, err := num(mem.Key, mem.Value)
				if err != nil {
					return err
				}
				if mem.Key == "min_pixels" {
					lo = n
				} else {
					hi = n
				}
			case "images_kwargs", "videos_kwargs", "audio_kwargs":
				if scope != "" {
					return fmt.Errorf("pipeline: mm_processor_kwargs %s%s: not allowed in a scope", scope, mem.Key)
				}
			default:
				return fmt.Errorf("pipeline: mm_processor_kwargs %s%s: what it does to vLLM's preprocessing is not known here (only size, min_pixels and max_pixels are)", scope, mem.Key)
			}
		}
		if lo > 0 {
			minPixels = lo
		}
		if hi > 0 {
			maxPixels = hi
		}
		return nil
	}
	if err := apply("", kw); err != nil {
		return 0, 0, err
	}
	flat := minPixels > 0 || maxPixels > 0
	for _, mem := range kw {
		if mem.Key == "images_kwargs" {
			m, ok := mem.Value.(mmhash.Map)
			if !ok {
				return 0, 0, errors.New("pipeline: mm_processor_kwargs images_kwargs: want an object")
			}
			if err := apply("images_kwargs.", m); err != nil {
				return 0, 0, err
			}
			if flat && (minPixels > 0 || maxPixels > 0) && len(m) > 0 {
				return 0, 0, errors.New("pipeline: mm_processor_kwargs sets pixel bounds both flat and in images_kwargs: give them in one place")
			}
		}
	}
	return minPixels, maxPixels, nil
}

// VLLMECRefPart is an image as a vLLM EC consumer takes it when the embeddings come through its
// connector: an image_embeds part with only the metadata and the item's uuid,
//
//	{"type": "image_embeds", "image_embeds": {"image_grid_thw": [t, h, w]}, "uuid": "<uuid>"}
//
// An EC consumer accepts an image_embeds part without its values (vLLM 0.34.0
// vllm/config/vllm.py sets allow_missing_mm_embeddings for ec_consumer;
// MultiModalDataParser.embedding_field_sets in vllm/multimodal/parse.py then leaves only
// image_grid_thw required), sizes the placeholder run from the grid, and looks the item up by
// the identifier it derives from the uuid (mmhash.Key.UUID: the uuid itself, or hashed with the
// request's hash factors), as the parts vLLM's own EPD proxy sends
// (examples/disaggregated/disaggregated_encoder/disagg_epd_proxy.py).
type VLLMECRefPart struct {
	Type   string        `json:"type"` // "image_embeds"
	Embeds VLLMECRefGrid `json:"image_embeds"`
	UUID   string        `json:"uuid"`
}

// VLLMECRefGrid is the metadata of a VLLMECRefPart.
type VLLMECRefGrid struct {
	GridTHW [3]int `json:"image_grid_thw"`
}

// VLLMECRef is item i's VLLMECRefPart with the given uuid.
func (f Features) VLLMECRef(i int, uuid string) (VLLMECRefPart, error) {
	if i < 0 || i >= len(f.Items) {
		return VLLMECRefPart{}, fmt.Errorf("pipeline: item %d of %d", i, len(f.Items))
	}
	it := f.Items[i]
	if it.Video {
		return VLLMECRefPart{}, fmt.Errorf("pipeline: %s is a video: only images have vLLM encoder-cache entries", it.Name)
	}
	return VLLMECRefPart{Type: "image_embeds", Embeds: VLLMECRefGrid{[3]int{it.Grid.T, it.Grid.H, it.Grid.W}}, UUID: uuid}, nil
}

// WriteVLLMECRefs writes f's items as a JSON array of VLLMECRefParts, uuids[i] the i-th's,
// one part per line as WriteVLLMJSON lays them out.
func (f Features) WriteVLLMECRefs(w io.Writer, uuids []string) error {
	if len(uuids) != len(f.Items) {
		return fmt.Errorf("pipeline: %d uuids for %d items", len(uuids), len(f.Items))
	}
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, u := range uuids {
		p, err := f.VLLMECRef(i, u)
		if err != nil {
			return err
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		buf.Write(b)
		if i < len(uuids)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]\n")
	_, err := w.Write(buf.Bytes())
	return err
}
