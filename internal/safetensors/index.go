package safetensors

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// MaxIndexSize is the largest shard index file accepted, in bytes.
const MaxIndexSize = 100 << 20

// readIndex reads a model.safetensors.index.json file, whose layout is
//
//	{"metadata": {...any JSON...}, "weight_map": {"tensor name": "shard file", ...}}
//
// and returns the weight map. "metadata" and any other top-level key are
// ignored; duplicate keys at the top level or in the weight map are errors.
func readIndex(path string) (map[string]string, error) {
	b, err := readLimited(path, MaxIndexSize)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	m, err := parseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return m, nil
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
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

// parseIndex parses the contents of an index file; see readIndex.
func parseIndex(b []byte) (map[string]string, error) {
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
