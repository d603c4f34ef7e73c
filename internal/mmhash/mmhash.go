// Package mmhash computes vLLM's multimodal cache keys: MultiModalHasher.hash_kwargs of vLLM
// 0.34.0 (vllm/multimodal/hasher.py), the key of its processor cache and of its encoder cache
// (the folder name of an EC connector's shared-storage entry).
//
// hash_kwargs feeds one digest (Algorithm: blake3 by default, sha256 or sha512 with vLLM's
// --mm-hasher-algorithm) the keyword arguments sorted by name, each as
//
//	frame(utf-8 name) value
//
// where frame(b) is len(b) as 8 little-endian bytes then b, and a value is tagged by its kind:
//
//	None                 0x00
//	list, tuple          0x01, count (8 bytes LE), each element as a value
//	dict                 0x02, count, each member as frame(utf-8 str(key)) value, in the dict's order
//	anything else        0x03, then its serialization (serialize_item):
//	  bytes              frame(b)
//	  str                frame(utf-8)
//	  int, float, bool   frame(numpy.array(v).tobytes()): int64, float64 (8 bytes LE), bool 1 byte
//
// A leaf that serializes as a named item (a PIL image, a MediaWithBytes) is, after its 0x03,
// frame(utf-8 name) value again: see [Image]. The digest is the lower-case hex of the hash.
package mmhash

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"sort"

	"github.com/qwen3vl/qwen3vl/internal/blake3"
)

// Algorithm is vLLM's MMHasherAlgorithm (vllm/config/multimodal.py).
type Algorithm string

// The algorithms vLLM offers; Blake3 is its default.
const (
	Blake3 Algorithm = "blake3"
	SHA256 Algorithm = "sha256"
	SHA512 Algorithm = "sha512"
)

// Algorithms lists them, the default first.
var Algorithms = []Algorithm{Blake3, SHA256, SHA512}

// New is a fresh hash of a, or an error naming the algorithms there are.
func (a Algorithm) New() (hash.Hash, error) {
	switch a {
	case Blake3:
		return blake3.New(), nil
	case SHA256:
		return sha256.New(), nil
	case SHA512:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("mmhash: hash algorithm %q: vLLM has blake3, sha256 and sha512", string(a))
}

// Value tags.
const (
	tagNone     = 0x00
	tagSequence = 0x01
	tagMapping  = 0x02
	tagLeaf     = 0x03
)

// A Value is a Python value as the hasher sees it: nil (None), []byte, string, int64, float64,
// bool, []any (a list or tuple), Map (a dict), or a Named leaf.
type Value = any

// Member is one key and value of a Map.
type Member struct {
	Key   string
	Value Value
}

// Map is a dict in its insertion order (the order it is hashed in).
type Map []Member

// Named is a leaf that serializes as a named item: after the leaf tag, frame(Name) and Value.
// vLLM serializes images so (the name "image").
type Named struct {
	Name  string
	Value Value
}

// Kwargs hashes the keyword arguments kw as hash_kwargs(algorithm, **kw) does: sorted by
// key, each frame(key) and its value. The result is the digest's hex.
func Kwargs(a Algorithm, kw Map) (string, error) {
	h, err := a.New()
	if err != nil {
		return "", err
	}
	sorted := append(Map(nil), kw...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	w := &writer{h: h}
	for i, m := range sorted {
		if i > 0 && m.Key == sorted[i-1].Key {
			return "", fmt.Errorf("mmhash: keyword %q given twice", m.Key)
		}
		w.frame([]byte(m.Key))
		if err := w.value(m.Value); err != nil {
			return "", fmt.Errorf("mmhash: %s: %w", m.Key, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writer feeds the digest.
type writer struct {
	h   hash.Hash
	buf [8]byte
}

func (w *writer) length(n int) {
	binary.LittleEndian.PutUint64(w.buf[:], uint64(n))
	w.h.Write(w.buf[:])
}

func (w *writer) frame(b []byte) {
	w.length(len(b))
	w.h.Write(b)
}

func (w *writer) tag(t byte) { w.h.Write([]byte{t}) }

// value is iter_value_to_bytes.
func (w *writer) value(v Value) error {
	switch v := v.(type) {
	case nil:
		w.tag(tagNone)
	case []any:
		w.tag(tagSequence)
		w.length(len(v))
		for i, e := range v {
			if err := w.value(e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case Map:
		w.tag(tagMapping)
		w.length(len(v))
		for _, m := range v {
			w.frame([]byte(m.Key))
			if err := w.value(m.Value); err != nil {
				return fmt.Errorf("%s: %w", m.Key, err)
			}
		}
	default:
		w.tag(tagLeaf)
		return w.leaf(v)
	}
	return nil
}

// leaf is serialize_item.
func (w *writer) leaf(v Value) error {
	switch v := v.(type) {
	case []byte:
		w.frame(v)
	case string:
		w.frame([]byte(v))
	case int64:
		binary.LittleEndian.PutUint64(w.buf[:], uint64(v))
		w.frame(append([]byte(nil), w.buf[:]...))
	case float64:
		binary.LittleEndian.PutUint64(w.buf[:], math.Float64bits(v))
		w.frame(append([]byte(nil), w.buf[:]...))
	case bool:
		b := byte(0)
		if v {
			b = 1
		}
		w.frame([]byte{b})
	case Named:
		w.frame([]byte(v.Name))
		return w.value(v.Value)
	default:
		return fmt.Errorf("a %T cannot be hashed", v)
	}
	return nil
}
