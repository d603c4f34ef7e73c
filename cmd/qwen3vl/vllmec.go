package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/mmhash"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// vllmFlags are encode's settings of vLLM's multimodal hash (-format vllm-ec).
type vllmFlags struct {
	model, algorithm, kwargs, parts string
}

func (f *vllmFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "vllm-model", "", "vllm-ec: the model vLLM is started with (its --model, e.g. Qwen/Qwen3-VL-2B-Instruct, or the local path), which vLLM hashes with every image")
	fs.StringVar(&f.algorithm, "vllm-hash", string(mmhash.Blake3), "vllm-ec: vLLM's --mm-hasher-algorithm: "+algorithmNames())
	fs.StringVar(&f.parts, "vllm-ec-parts", "", "vllm-ec: also write to this `file` (- for stdout) a JSON array of image_embeds parts naming the entries (image_grid_thw and a uuid), for requests to a vLLM EC consumer that then needs no image")
	fs.StringVar(&f.kwargs, "vllm-mm-kwargs", "", `vllm-ec: the mm_processor_kwargs JSON object the requests to vLLM carry (hashed as sent; e.g. {"max_pixels": 1003520}); its size, min_pixels and max_pixels set the preprocessing`)
}

func algorithmNames() string {
	s := make([]string, len(mmhash.Algorithms))
	for i, a := range mmhash.Algorithms {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// given reports that one of the flags is on the command line.
func (f *vllmFlags) given(fs *flag.FlagSet) bool {
	return flagGiven(fs, "vllm-model") || flagGiven(fs, "vllm-hash") || flagGiven(fs, "vllm-mm-kwargs") || flagGiven(fs, "vllm-ec-parts")
}

// key is the flags as a hash key; the kwargs' pixel bounds go into ov, where they must agree
// with -min-pixels and -max-pixels if those are given too.
func (f *vllmFlags) key(ov *pipeline.Overrides, stderr io.Writer) (mmhash.Key, error) {
	k := mmhash.Key{Algorithm: mmhash.Algorithm(f.algorithm), ModelID: f.model}
	if f.model == "" {
		return k, usagef("-format vllm-ec needs -vllm-model: the --model vLLM is started with, which it hashes with every image")
	}
	if _, err := k.Algorithm.New(); err != nil {
		return k, usagef("-vllm-hash %q: want one of %s", f.algorithm, algorithmNames())
	}
	if f.kwargs != "" {
		kw, err := mmhash.ParseObject([]byte(f.kwargs))
		if err != nil {
			return k, usagef("-vllm-mm-kwargs: %v", err)
		}
		k.MMProcessorKwargs = kw
	}
	lo, hi, err := pipeline.VLLMPixelBounds(k.MMProcessorKwargs)
	if err != nil {
		return k, usagef("-vllm-mm-kwargs: %s", strings.TrimPrefix(err.Error(), "pipeline: "))
	}
	for _, b := range []struct {
		name      string
		flag      *int
		fromVLLM  int
		vllmField string
	}{{"-min-pixels", &ov.MinPixels, lo, "min_pixels"}, {"-max-pixels", &ov.MaxPixels, hi, "max_pixels"}} {
		switch {
		case b.fromVLLM == 0 && *b.flag > 0:
			fmt.Fprintf(stderr, "qwen3vl: warning: %s %d is not in -vllm-mm-kwargs: vLLM must resize with the same bound (its --mm-processor-kwargs), which it does not hash\n", b.name, *b.flag)
		case b.fromVLLM == 0:
		case *b.flag > 0 && *b.flag != b.fromVLLM:
			return k, usagef("%s %d differs from the %s %d of -vllm-mm-kwargs", b.name, *b.flag, b.vllmField, b.fromVLLM)
		default:
			*b.flag = b.fromVLLM
		}
	}
	if err := ov.Validate(); err != nil {
		return k, usageError{flagNames.Replace(describe(err))}
	}
	return k, nil
}

// ecWriter hashes encode's inputs as vLLM does and writes their encoder-cache entries.
type ecWriter struct {
	root   string
	key    mmhash.Key
	limit  int64
	hashes []string // one per item, in order
	parts  string   // -vllm-ec-parts, or ""
}

func (f *vllmFlags) writer(root string, ov *pipeline.Overrides, stderr io.Writer) (*ecWriter, error) {
	k, err := f.key(ov, stderr)
	if err != nil {
		return nil, err
	}
	return &ecWriter{root: root, key: k, limit: imageproc.DefaultMaxFileBytes, parts: f.parts}, nil
}

// hash adds the mm_hash of the image file at path.
func (w *ecWriter) hash(path string) error {
	data, err := fsutil.ReadFile(path, w.limit)
	if err != nil {
		return err
	}
	h, err := pipeline.VLLMImageHash(w.key, path, data)
	if err != nil {
		return err
	}
	w.hashes = append(w.hashes, h)
	return nil
}

// write puts every item's entry under the root, and says on stderr how many were new. With
// -vllm-ec-parts an entry also goes under the identifier vLLM derives from the part's uuid (the
// image's hash) when the hash factors make it another name, and the parts are written.
func (w *ecWriter) write(f pipeline.Features, stdout, stderr io.Writer, quiet bool) error {
	if len(w.hashes) != len(f.Items) {
		return fmt.Errorf("internal error: %d hashes for %d items", len(w.hashes), len(f.Items))
	}
	if err := os.MkdirAll(w.root, 0o755); err != nil {
		return err
	}
	wrote, total := 0, 0
	for i, h := range w.hashes {
		entry, err := f.VLLMECEntry(i)
		if err != nil {
			return err
		}
		names := []string{h}
		if w.parts != "" {
			id, err := w.key.UUID(h)
			if err != nil {
				return err
			}
			if id != h {
				names = append(names, id)
			}
		}
		for _, name := range names {
			ok, err := pipeline.WriteVLLMEC(w.root, name, entry)
			if err != nil {
				return err
			}
			total++
			if ok {
				wrote++
			}
			if !quiet {
				fmt.Fprintf(stderr, "qwen3vl: %s → %s\n", f.Items[i].Name, filepath.Join(w.root, name, pipeline.VLLMECFile))
			}
		}
	}
	if !quiet {
		fmt.Fprintf(stderr, "qwen3vl: %d encoder-cache entries written, %d already there (model %q, %s)\n", wrote, total-wrote, w.key.ModelID, w.key.Algorithm)
	}
	switch w.parts {
	case "":
		return nil
	case "-":
		return f.WriteVLLMECRefs(stdout, w.hashes)
	}
	return fsutil.WriteFile(w.parts, func(out io.Writer) error { return f.WriteVLLMECRefs(out, w.hashes) })
}
