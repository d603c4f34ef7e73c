package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/qwen3vl/qwen3vl/internal/npy"
)

// VLLMPart is one image as a content part of a chat message to vLLM's OpenAI-compatible
// server (started with --enable-mm-embeds), for a Qwen3-VL model:
//
//	{"type": "image_embeds", "image_embeds": {"image_embeds": "<base64>", "image_grid_thw": [t, h, w]}}
//
// What vLLM 0.34.0 accepts there, read in its source (the sdist on PyPI):
//   - vllm/renderers/chat_utils/types.py, ChatCompletionContentPartImageEmbedsParam: the part's
//     image_embeds is a base64 string or a dict whose values are base64 strings or numeric
//     JSON arrays (MultiModalEmbedsPayload = str | dict[str, str | list[int | float]]).
//   - vllm/renderers/chat_utils/content_parser.py (parse_image_embeds, _load_embeds_dict):
//     every string value of the dict goes through MediaConnector.fetch_image_embedding, that
//     is ImageEmbeddingMediaIO.load_base64 (vllm/multimodal/media/image.py): a strict base64
//     decode (pybase64.b64decode(data, validate=True)), then bytes that start with
//     b"\x93NUMPY" are read with np.load and torch.from_numpy, any other bytes with
//     torch.load(weights_only=True). We send .npy, so no torch.save writer is needed.
//   - vllm/renderers/chat_utils/item_tracker.py (_get_embeds_data, _parse_metadata_array): a
//     JSON array value is allowed only for a "metadata" field and becomes an int64 tensor
//     (float64 if any value is a float); vllm/model_executor/models/qwen2_vl.py
//     (Qwen2VLMultiModalDataParser.embedding_fields, inherited by qwen3_vl.py's
//     Qwen3VLMultiModalDataParser) makes image_embeds a "values" field and image_grid_thw a
//     "metadata" field, both required, so Qwen3-VL needs the dict form: the grid sizes the
//     placeholder run (t·h·w / merge² tokens) and the M-RoPE positions.
//   - vllm/model_executor/models/qwen3_vl.py: the vision module returns [tokens, O·(1+k)],
//     each row the merger's output then the k DeepStack mergers' (torch.cat on dim 1), and
//     precomputed image_embeds take that place unchanged (then split into the text model's
//     input and its DeepStack inputs), so the tensor is exactly VLLMTensors' image_embeds
//     for the item's rows. A model without DeepStack gives width O.
type VLLMPart struct {
	Type   string     `json:"type"` // "image_embeds"
	Embeds VLLMEmbeds `json:"image_embeds"`
}

// VLLMEmbeds is the dict inside a VLLMPart.
type VLLMEmbeds struct {
	// ImageEmbeds is the standard base64 (with padding) of a .npy file, version 1.0: float32
	// little-endian, C order, shape [tokens, O·(1+k)].
	ImageEmbeds string `json:"image_embeds"`
	// GridTHW is the item's (t, h, w) in patches.
	GridTHW [3]int `json:"image_grid_thw"`
}

// VLLMParts returns one VLLMPart per item of f, in order. A video item is an error (vLLM's
// video_embeds part is not written yet), as is an item that has no token rows in f.
func (f Features) VLLMParts() ([]VLLMPart, error) {
	if f.Pooler.Rows > 0 && f.LastHidden.Rows < f.Pooler.Rows {
		return nil, fmt.Errorf("pipeline: features of %d tokens but %d patches: cannot place the items' rows", f.Pooler.Rows, f.LastHidden.Rows)
	}
	parts := make([]VLLMPart, len(f.Items))
	for i, it := range f.Items {
		if it.Video {
			return nil, fmt.Errorf("pipeline: %s is a video: only images can be written as vLLM image_embeds parts", it.Name)
		}
		first, n := f.Tokens(i)
		if n <= 0 || first+n > f.Pooler.Rows {
			return nil, fmt.Errorf("pipeline: %s: grid %dx%dx%d has no token rows %d…%d in the %d of the features", it.Name, it.Grid.T, it.Grid.H, it.Grid.W, first, first+n, f.Pooler.Rows)
		}
		b, err := f.vllmNpy(first, n)
		if err != nil {
			return nil, fmt.Errorf("pipeline: %s: %w", it.Name, err)
		}
		parts[i] = VLLMPart{Type: "image_embeds", Embeds: VLLMEmbeds{
			ImageEmbeds: base64.StdEncoding.EncodeToString(b),
			GridTHW:     [3]int{it.Grid.T, it.Grid.H, it.Grid.W},
		}}
	}
	return parts, nil
}

// vllmNpy is the .npy file of token rows first…first+n−1 laid out as VLLMTensors' image_embeds.
func (f Features) vllmNpy(first, n int) ([]byte, error) {
	data, width, err := f.vllmRows(first, n)
	if err != nil {
		return nil, err
	}
	return npy.Append(nil, npy.F32, []int{n, width}, data)
}

// vllmRows is token rows first…first+n−1 laid out as VLLMTensors' image_embeds, float32
// little-endian, and the row width O·(1+k).
func (f Features) vllmRows(first, n int) ([]byte, int, error) {
	o := f.Pooler.Cols
	width := o * (1 + len(f.Deepstack))
	for k, d := range f.Deepstack {
		if d.Cols != o || d.Rows != f.Pooler.Rows {
			return nil, 0, fmt.Errorf("DeepStack feature set %d is [%d, %d], want the pooler's [%d, %d]", k, d.Rows, d.Cols, f.Pooler.Rows, o)
		}
	}
	data := make([]byte, 4*n*width)
	p := 0
	put := func(row []float32) {
		for _, v := range row {
			binary.LittleEndian.PutUint32(data[p:], math.Float32bits(v))
			p += 4
		}
	}
	for r := first; r < first+n; r++ {
		put(f.Pooler.Row(r))
		for _, d := range f.Deepstack {
			put(d.Row(r))
		}
	}
	return data, width, nil
}

// WriteVLLMJSON writes f's items as a JSON array of VLLMParts, one part per line:
//
//	[
//	{"type":"image_embeds","image_embeds":{…}},
//	{"type":"image_embeds","image_embeds":{…}}
//	]
//
// The array is a chat message's content (append a text part), or one element of it.
func (f Features) WriteVLLMJSON(w io.Writer) error {
	parts, err := f.VLLMParts()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		buf.Write(b)
		if i < len(parts)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]\n")
	_, err = w.Write(buf.Bytes())
	return err
}
