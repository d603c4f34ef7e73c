package job

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// FormatVersion names the layout of a job folder; a folder of another version is refused.
const FormatVersion = "qwen3vl-job 1"

// ManifestName is the manifest's file in a job folder.
const ManifestName = "manifest.json"

// OutputLayout says what a shard holds: the output contract of encode -format safetensors.
const OutputLayout = "safetensors float32 pooler_output, deepstack_features.K, last_hidden_state; int64 grid_thw"

// Manifest is what made a job folder's features: the model, every preprocessing option, the
// output layout and the worker's split. A run into a folder whose manifest differs in any
// field is refused (Compare), so features of two models or two option sets never mix.
type Manifest struct {
	// Fields are the compared settings, as flat strings ("model", "weights_digest",
	// "image.max_pixels", "split", …).
	Fields map[string]string `json:"fields"`
	// Metadata is the provenance of a plain encode's file (pipeline.Pipeline.Metadata without
	// its "items"), which export writes back; compared too.
	Metadata map[string]string `json:"metadata"`
}

// NewManifest describes p's model and options, for the worker split.
func NewManifest(p *pipeline.Pipeline, split Split) (Manifest, error) {
	digest, err := WeightsDigest(p.Checkpoint)
	if err != nil {
		return Manifest{}, err
	}
	cfg, err := json.Marshal(p.Config)
	if err != nil {
		return Manifest{}, err
	}
	sum := sha256.Sum256(cfg)
	f := map[string]string{
		"format":         FormatVersion,
		"output":         OutputLayout,
		"model":          p.Spec.Text,
		"model_kind":     p.Spec.Kind.String(),
		"config_sha256":  hex.EncodeToString(sum[:]),
		"weights_digest": digest,
		"weights":        p.Model.Weights().String(),
		"compute":        p.Model.Compute().String(),
		"split":          split.String(),
	}
	if err := flatten(f, "image.", p.Image); err != nil {
		return Manifest{}, err
	}
	md := p.Metadata(nil)
	delete(md, "items")
	return Manifest{Fields: f, Metadata: md}, nil
}

// flatten adds v's JSON object fields to m under prefix.
func flatten(m map[string]string, prefix string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	for k, raw := range obj {
		m[prefix+k] = string(raw)
	}
	return nil
}

// Compare returns nil if m and n are the same, else an error naming every difference (the
// folder's value against this run's, at most ten), m being the folder's. Fields named in
// ignore are not compared.
func (m Manifest) Compare(n Manifest, ignore ...string) error {
	var diffs []string
	diff := func(where string, a, b map[string]string) {
		keys := make([]string, 0, len(a)+len(b))
		for k := range a {
			keys = append(keys, k)
		}
		for k := range b {
			if _, ok := a[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if slices.Contains(ignore, k) {
				continue
			}
			av, aok := a[k]
			bv, bok := b[k]
			switch {
			case !aok:
				diffs = append(diffs, fmt.Sprintf("%s%s: the folder has none, this run %s", where, k, strconv.Quote(bv)))
			case !bok:
				diffs = append(diffs, fmt.Sprintf("%s%s: the folder has %s, this run none", where, k, strconv.Quote(av)))
			case av != bv:
				diffs = append(diffs, fmt.Sprintf("%s%s: the folder has %s, this run %s", where, k, strconv.Quote(av), strconv.Quote(bv)))
			}
		}
	}
	diff("", m.Fields, n.Fields)
	diff("metadata ", m.Metadata, n.Metadata)
	if len(diffs) == 0 {
		return nil
	}
	more := ""
	if len(diffs) > 10 {
		more = fmt.Sprintf("; and %d more", len(diffs)-10)
		diffs = diffs[:10]
	}
	return fmt.Errorf("%w: %s%s", ErrMismatch, strings.Join(diffs, "; "), more)
}

// ErrMismatch is wrapped by the error of a run into a folder made by another model, other
// options or another split.
var ErrMismatch = errors.New("the folder holds features of another model or other options (refusing to mix them; use a new folder)")

// ReadManifest reads dir's manifest; ok is false if there is none.
func ReadManifest(dir string) (m Manifest, ok bool, err error) {
	b, err := fsutil.ReadFile(filepath.Join(dir, ManifestName), 16<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, false, nil
	}
	if err != nil {
		return Manifest{}, false, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, false, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	if m.Fields["format"] != FormatVersion {
		return Manifest{}, false, fmt.Errorf("%s: format %q, want %q", filepath.Join(dir, ManifestName), m.Fields["format"], FormatVersion)
	}
	return m, true, nil
}

// WriteManifest writes m into dir atomically.
func WriteManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(dir, ManifestName), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// WeightsDigest identifies a checkpoint's weights without reading them all (hashing gigabytes
// at every start would cost more than many encodes): for a folder (or a hub snapshot) the
// SHA-256 of each *.safetensors file's name, size and header (every tensor's name, dtype,
// shape and offsets); for a GGUF file its size and first MiB (the header and tensor infos);
// for synthetic weights the preset and seed.
func WeightsDigest(c *pipeline.Checkpoint) (string, error) {
	h := sha256.New()
	switch c.Spec.Kind {
	case pipeline.Random:
		return fmt.Sprintf("synthetic %s seed %d", c.Spec.Preset, c.Spec.Seed), nil
	case pipeline.GGUF:
		if err := hashHead(h, c.File, 1<<20); err != nil {
			return "", err
		}
	default:
		names, err := filepath.Glob(filepath.Join(c.Dir, "*.safetensors"))
		if err != nil {
			return "", err
		}
		for _, n := range names {
			if err := hashSafetensorsHeader(h, n); err != nil {
				return "", err
			}
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func hashHead(h io.Writer, path string, n int64) error {
	f, size, err := fsutil.OpenRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(h, "%s %d\n", filepath.Base(path), size)
	_, err = io.Copy(h, io.LimitReader(f, n))
	return err
}

func hashSafetensorsHeader(h io.Writer, path string) error {
	f, size, err := fsutil.OpenRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var prefix [8]byte
	if _, err := io.ReadFull(f, prefix[:]); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	if n > 100<<20 || int64(n) > size-8 {
		return fmt.Errorf("%s: header length %d out of range", path, n)
	}
	fmt.Fprintf(h, "%s %d\n", filepath.Base(path), size)
	_, err = io.Copy(h, io.LimitReader(f, int64(n)))
	return err
}
