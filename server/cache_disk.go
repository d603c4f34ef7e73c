package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/vision"
)

// diskCache is the feature cache's folder: one file per entry, DIR/ab/abcd….qfc (the key in
// hex, under its first two digits), written atomically (internal/fsutil: a temporary file,
// fsync, rename), so that instances sharing the folder see a whole entry or none. An entry is
// verified when read: its layout, its key, its shapes and a SHA-256 of all its bytes; one
// that fails (truncated, corrupt, of another format) is a miss and is removed. The folder is
// bounded by Config.CacheDirBytes when that is set (cache_prune.go); 0 leaves it to the
// operator.
//
// An entry's layout, little-endian:
//
//	"QWFC" | u32 version (1) | key [32] | u32 n | n bytes of JSON (diskHeader) |
//	float32 rows: pooler, each DeepStack matrix, last hidden state |
//	SHA-256 [32] of everything before it
type diskCache struct {
	dir string
	max int64 // bytes; 0: not bounded

	mu      sync.Mutex // guards bytes and scanned
	bytes   int64      // the folder's size as last counted, plus this instance's writes since
	scanned time.Time  // the last scan
}

const (
	diskMagic   = "QWFC"
	diskVersion = 1
	// diskMaxEntry refuses a file larger than any entry can be before reading it.
	diskMaxEntry = 4 << 30
)

// diskHeader is the JSON part of an entry: the item's sizes and the matrices' shapes.
type diskHeader struct {
	Grid       [3]int `json:"grid_thw"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	RWidth     int    `json:"resized_width"`
	RHeight    int    `json:"resized_height"`
	Tokens     int    `json:"tokens"`
	OutCols    int    `json:"out_cols"`
	Deepstack  int    `json:"deepstack"`
	HiddenCols int    `json:"hidden_cols"`
}

// errNoEntry is a clean miss: no file for the key.
var errNoEntry = errors.New("no entry")

func openDiskCache(dir string, maxBytes int64) (*diskCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("server: the feature cache folder: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("server: the feature cache folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("server: the feature cache folder %s is not a folder", dir)
	}
	d := &diskCache{dir: dir, max: maxBytes}
	if maxBytes > 0 {
		d.mu.Lock()
		d.pruneLocked(time.Now())
		d.mu.Unlock()
	}
	return d, nil
}

func (d *diskCache) path(k cacheKey) string {
	h := k.String()
	return filepath.Join(d.dir, h[:2], h+".qfc")
}

// write stores e under k atomically and returns its size.
func (d *diskCache) write(k cacheKey, e *cacheEntry) (int64, error) {
	p := d.path(k)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return 0, err
	}
	var n int64
	err := fsutil.WriteFile(p, func(w io.Writer) error {
		h := sha256.New()
		mw := io.MultiWriter(w, h)
		g := e.item.Grid
		hdr, err := json.Marshal(diskHeader{
			Grid: [3]int{g.T, g.H, g.W}, Width: e.item.Width, Height: e.item.Height,
			RWidth: e.item.ResizedWidth, RHeight: e.item.ResizedHeight,
			Tokens: e.pooler.Rows, OutCols: e.pooler.Cols, Deepstack: len(e.deepstack), HiddenCols: e.lastHidden.Cols,
		})
		if err != nil {
			return err
		}
		var head []byte
		head = append(head, diskMagic...)
		head = binary.LittleEndian.AppendUint32(head, diskVersion)
		head = append(head, k[:]...)
		head = binary.LittleEndian.AppendUint32(head, uint32(len(hdr)))
		head = append(head, hdr...)
		if _, err := mw.Write(head); err != nil {
			return err
		}
		buf := make([]byte, 0, 64<<10)
		rows := func(x vision.Matrix) error {
			for _, v := range x.Data {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) == cap(buf) {
					if _, err := mw.Write(buf); err != nil {
						return err
					}
					buf = buf[:0]
				}
			}
			return nil
		}
		for _, x := range append(append([]vision.Matrix{e.pooler}, e.deepstack...), e.lastHidden) {
			if err := rows(x); err != nil {
				return err
			}
		}
		if _, err := mw.Write(buf); err != nil {
			return err
		}
		_, err = w.Write(h.Sum(nil))
		n = int64(len(head)) + 4*int64(e.floats()) + sha256.Size
		return err
	})
	return n, err
}

// read returns the verified entry of k: errNoEntry when there is none; any other error means
// the file was unusable: removed when it was a regular file whose bytes failed the checks.
func (d *diskCache) read(k cacheKey) (*cacheEntry, error) {
	p := d.path(k)
	f, size, err := fsutil.OpenRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoEntry
	}
	if err != nil {
		return nil, err // not a regular file, or unreadable: not ours to remove
	}
	defer f.Close()
	if size > diskMaxEntry {
		os.Remove(p)
		return nil, fmt.Errorf("%s: %d bytes, larger than any entry", p, size)
	}
	b, err := io.ReadAll(io.LimitReader(f, size+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	e, err := decodeEntry(k, b)
	if err != nil {
		os.Remove(p)
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	d.touch(p)
	return e, nil
}

// decodeEntry parses and verifies one entry's bytes.
func decodeEntry(k cacheKey, b []byte) (*cacheEntry, error) {
	const fixed = len(diskMagic) + 4 + 32 + 4
	if len(b) < fixed+sha256.Size {
		return nil, fmt.Errorf("truncated: %d bytes", len(b))
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, errors.New("checksum mismatch (truncated or corrupt)")
	}
	if string(body[:4]) != diskMagic {
		return nil, errors.New("not a feature cache entry")
	}
	if v := binary.LittleEndian.Uint32(body[4:]); v != diskVersion {
		return nil, fmt.Errorf("entry version %d, want %d", v, diskVersion)
	}
	if !bytes.Equal(body[8:40], k[:]) {
		return nil, errors.New("the entry holds another key")
	}
	n := int(binary.LittleEndian.Uint32(body[40:]))
	if n > len(body)-fixed {
		return nil, errors.New("header longer than the entry")
	}
	var h diskHeader
	if err := json.Unmarshal(body[fixed:fixed+n], &h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	g := vision.Grid{T: h.Grid[0], H: h.Grid[1], W: h.Grid[2]}
	patches := g.T * g.H * g.W
	const limit = 1 << 28
	if g.T <= 0 || g.H <= 0 || g.W <= 0 || patches > limit || h.Tokens <= 0 || h.Tokens > patches ||
		h.OutCols <= 0 || h.OutCols > 1<<16 || h.HiddenCols <= 0 || h.HiddenCols > 1<<16 || h.Deepstack < 0 || h.Deepstack > 64 {
		return nil, fmt.Errorf("header out of range: %+v", h)
	}
	floats := int64(h.Tokens)*int64(h.OutCols)*int64(1+h.Deepstack) + int64(patches)*int64(h.HiddenCols)
	data := body[fixed+n:]
	if int64(len(data)) != 4*floats {
		return nil, fmt.Errorf("%d bytes of rows, want %d", len(data), 4*floats)
	}
	read := func(rows, cols int) vision.Matrix {
		m := vision.Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
		for i := range m.Data {
			m.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		data = data[4*len(m.Data):]
		return m
	}
	e := &cacheEntry{}
	e.item.Grid = g
	e.item.Width, e.item.Height, e.item.ResizedWidth, e.item.ResizedHeight = h.Width, h.Height, h.RWidth, h.RHeight
	e.pooler = read(h.Tokens, h.OutCols)
	for range h.Deepstack {
		e.deepstack = append(e.deepstack, read(h.Tokens, h.OutCols))
	}
	e.lastHidden = read(patches, h.HiddenCols)
	return e, nil
}
