package mmhash

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Image is an image item as vLLM's OpenAI server holds it when it hashes it: the file's bytes
// as received (a data URL's decoded base64, a fetched URL's body, a local file's contents:
// MediaWithBytes.original_bytes, vllm/multimodal/media/base.py) and whether its loader
// changed the picture. ImageMediaIO.load_bytes (vllm/multimodal/media/image.py) converts
// every image that Pillow does not open as plain RGB (another mode, or any transparency) and
// then records io_config {"image_mode": "RGB", "rgba_background_color": (255, 255, 255)},
// the defaults, which MultiModalHasher.serialize_item hashes with the bytes:
//
//	plain RGB:  Named{"image", bytes}
//	converted:  Named{"image", {"io_config": {...}, "data": bytes}}
type Image struct {
	Data      []byte
	Converted bool
}

// value is the image as serialize_item hashes it.
func (im Image) value() Value {
	if !im.Converted {
		return Named{"image", im.Data}
	}
	io := Map{
		{"image_mode", "RGB"},
		{"rgba_background_color", []any{int64(255), int64(255), int64(255)}},
	}
	return Named{"image", Map{{"io_config", io}, {"data", im.Data}}}
}

// Key is what vLLM hashes with an image item (ProcessorInputs.get_mm_hashes,
// vllm/multimodal/processing/inputs.py): the model id (ModelConfig.model, the --model vLLM
// was started with, after VLLM_MODEL_REDIRECT_PATH), and the request's hash factors: its
// image media_io_kwargs and its mm_processor_kwargs (those of another modality's scope,
// videos_kwargs and audio_kwargs, left out). Empty factors are not hashed at all.
type Key struct {
	Algorithm Algorithm
	ModelID   string
	// MediaIO is media_io_kwargs["image"] as the request (or vLLM's --media-io-kwargs) gave it.
	MediaIO Map
	// MMProcessorKwargs is the request's mm_processor_kwargs, in its order.
	MMProcessorKwargs Map
}

// factors are the hash factors present.
func (k Key) factors() Map {
	var f Map
	if len(k.MediaIO) > 0 {
		f = append(f, Member{"media_io_kwargs", Map{{"image", k.MediaIO}}})
	}
	var kw Map
	for _, m := range k.MMProcessorKwargs {
		if m.Key != "videos_kwargs" && m.Key != "audio_kwargs" {
			kw = append(kw, m)
		}
	}
	if len(kw) > 0 {
		f = append(f, Member{"mm_processor_kwargs", kw})
	}
	return f
}

// Image is the image's mm_hash: hash_kwargs(algorithm, model_id=…, image=…, **factors).
func (k Key) Image(im Image) (string, error) {
	if k.ModelID == "" {
		return "", errors.New("mmhash: no model id: give the --model vLLM is started with")
	}
	return Kwargs(k.Algorithm, append(Map{{"model_id", k.ModelID}, {"image", im.value()}}, k.factors()...))
}

// UUID is the mm_hash of an image part a client named with "uuid" (mm_uuids): the uuid
// itself when there are no hash factors, else hash_kwargs(model_id=…, image=uuid, **factors).
func (k Key) UUID(uuid string) (string, error) {
	f := k.factors()
	if len(f) == 0 {
		return uuid, nil
	}
	if k.ModelID == "" {
		return "", errors.New("mmhash: no model id: give the --model vLLM is started with")
	}
	return Kwargs(k.Algorithm, append(Map{{"model_id", k.ModelID}, {"image", uuid}}, f...))
}

// ParseObject reads a JSON object as Python's json.loads gives it to vLLM: members in their
// order, integers (no fraction or exponent) as int64, other numbers as float64, true and false
// as bool, null as nil, arrays as []any, objects as Map. A key given twice, an integer outside
// int64, or anything after the object is an error.
func ParseObject(raw []byte) (Map, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	m, ok := v.(Map)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON object")
	}
	return m, nil
}

func parseValue(dec *json.Decoder) (Value, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := Map{}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %w", err)
				}
				k := kt.(string)
				if seen[k] {
					return nil, fmt.Errorf("key %q given twice", k)
				}
				seen[k] = true
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				m = append(m, Member{k, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return m, nil
		case '[':
			l := []any{}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return l, nil
		}
		return nil, fmt.Errorf("invalid JSON: unexpected %v", t)
	case json.Number:
		s := string(t)
		if !strings.ContainsAny(s, ".eE") {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("integer %s is outside int64", s)
			}
			return n, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", s)
		}
		return f, nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("invalid JSON token %v", t)
}
