package safetensors

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
)

// MaxIndexSize is the largest shard index file accepted, in bytes.
const MaxIndexSize = 100 << 20

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, _, err := fsutil.OpenRegular(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if int64(len(b)) > limit {
		return nil, invalidf("file is larger than the limit of %d bytes", limit)
	}
	return b, nil
}

// Index is a parsed model.safetensors.index.json: which shard file holds each tensor.
type Index struct {
	// WeightMap maps each tensor name to its shard: a name CheckShardName accepts, relative
	// to the checkpoint folder, slash-separated.
	WeightMap map[string]string
}

// ReadIndex reads a model.safetensors.index.json file (at most MaxIndexSize bytes); see
// ParseIndex. Errors start with "safetensors: <path>: ".
func ReadIndex(path string) (*Index, error) {
	b, err := readLimited(path, MaxIndexSize)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	ix, err := ParseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return ix, nil
}

// ParseIndex parses the contents of a model.safetensors.index.json file, whose layout is
//
//	{"metadata": {...any JSON...}, "weight_map": {"tensor name": "shard file", ...}}
//
// The file must be valid UTF-8 and JSON with a "weight_map" object of strings; "metadata"
// and any other top-level key are ignored; duplicate keys at the top level or in the weight
// map are errors (encoding/json would silently keep the last); every shard name, needed or
// not, must pass CheckShardName. This is the one parser of index files: OpenDir (and so
// vision.Load) and package hub both use it. Errors match ErrInvalid and do not name a file.
func ParseIndex(b []byte) (*Index, error) {
	m, err := parseWeightMap(b)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if err := CheckShardName(m[name]); err != nil {
			return nil, within("tensor "+quote(name), err)
		}
	}
	return &Index{WeightMap: m}, nil
}

// Shards returns, sorted and without repeats, the shards holding at least one tensor for
// which keep returns true (every shard if keep is nil).
func (ix *Index) Shards(keep func(name string) bool) []string {
	var shards []string
	for name, shard := range ix.WeightMap {
		if (keep == nil || keep(name)) && !slices.Contains(shards, shard) {
			shards = append(shards, shard)
		}
	}
	slices.Sort(shards)
	return shards
}

// CheckShardName reports whether a shard name from an index names a safetensors file inside
// the checkpoint folder, by the one rule both the loader and the downloader apply: a
// slash-separated relative path in canonical form (fs.ValidPath: no leading or trailing
// slash, no empty, "." or ".." element), ending in ".safetensors", with no backslash or NUL,
// and local on this system (filepath.IsLocal, which also refuses names such as "NUL" on
// Windows). The check is lexical: symbolic links, such as those of the Hugging Face cache,
// are followed when the shard is opened. Errors match ErrInvalid.
func CheckShardName(shard string) error {
	var why string
	switch {
	case shard == "":
		why = "empty"
	case strings.ContainsAny(shard, "\\\x00"):
		why = "has a backslash or NUL"
	case !fs.ValidPath(shard) || !filepath.IsLocal(filepath.FromSlash(shard)):
		why = "not a relative slash-separated path without \".\" or \"..\" elements"
	case !strings.HasSuffix(shard, ".safetensors"):
		why = "not a .safetensors file"
	default:
		return nil
	}
	return invalidf("shard path %s is not a file name inside the checkpoint directory: %s", quote(shard), why)
}

// parseWeightMap parses an index and returns its weight map, names unchecked; see ParseIndex.
func parseWeightMap(b []byte) (map[string]string, error) {
	if !utf8.Valid(b) {
		return nil, invalidf("index is not valid UTF-8")
	}
	p := newJSONParser(b, "index")
	if err := p.delim('{'); err != nil {
		return nil, within("index", err)
	}
	var weightMap map[string]string
	seen := map[string]bool{}
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, invalidf("index: duplicate key %s", quote(k))
		}
		seen[k] = true
		if k != "weight_map" {
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return nil, p.syntaxError(err)
			}
			continue
		}
		if weightMap, err = p.weightMap(); err != nil {
			return nil, within("index: weight_map", err)
		}
	}
	if err := p.delim('}'); err != nil {
		return nil, within("index", err)
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	if weightMap == nil {
		return nil, invalidf("index has no \"weight_map\" object")
	}
	return weightMap, nil
}

// weightMap reads the "weight_map" object: tensor name -> shard file name.
func (p *jsonParser) weightMap() (map[string]string, error) {
	if err := p.delim('{'); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for p.dec.More() {
		name, err := p.key()
		if err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, invalidf("duplicate key %s", quote(name))
		}
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		shard, ok := t.(string)
		if !ok {
			return nil, invalidf("tensor %s maps to %s, not a file name", quote(name), describe(t))
		}
		m[name] = shard
	}
	if err := p.delim('}'); err != nil {
		return nil, err
	}
	return m, nil
}
