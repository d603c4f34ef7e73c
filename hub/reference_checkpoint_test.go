package hub

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// referenceCheckpoint wraps the checkpoint folder written by tools/reference/make_goldens.py
// (bf16, three shards, the third holding only a language-model tensor) for the fake hub.
func referenceCheckpoint(t *testing.T) *checkpoint {
	t.Helper()
	dir := "../testdata/golden/tiny-checkpoint"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cp := &checkpoint{files: map[string][]byte{}, dir: dir, visionBytes: map[string]int64{}, headerBytes: map[string]int64{}}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		cp.files[e.Name()] = b
		if filepath.Ext(e.Name()) != ".safetensors" {
			continue
		}
		n := int64(binary.LittleEndian.Uint64(b))
		h, err := safetensors.ParseHeader(b[8:8+n], int64(len(b))-8-n)
		if err != nil {
			t.Fatal(err)
		}
		cp.headerBytes[e.Name()] = 8 + n
		var vis int64
		for _, ti := range h.Tensors {
			if vision.IsTensor(ti.Name) {
				vis += ti.End - ti.Begin
				cp.visionNames = append(cp.visionNames, ti.Name)
			}
		}
		if vis == 0 {
			cp.lmShard = e.Name()
			continue
		}
		cp.visionBytes[e.Name()] = 8 + n + vis
	}
	if cp.lmShard == "" {
		t.Fatal("the reference checkpoint has no language-model-only shard")
	}
	return cp
}

// TestResolveReferenceCheckpoint downloads the checkpoint folder made by tools/reference from
// the imitation hub: only the shards' headers, the vision tensors and the small files are
// fetched, the result is cached, and it encodes exactly as the folder itself.
func TestResolveReferenceCheckpoint(t *testing.T) {
	cp := referenceCheckpoint(t)
	f := newFakeHub(t, cp)
	opts := testOptions(t, f)
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, _, files, served := f.counts()
	var total, want int64
	for name, b := range cp.files {
		total += int64(len(b))
		w := int64(len(b)) // small files whole
		if filepath.Ext(name) == ".safetensors" {
			w = cp.visionBytes[name] // 0 for the language-model shard
		}
		want += w
		if served[name] != w {
			t.Errorf("%s: served %d bytes, want %d", name, served[name], w)
		}
	}
	if files[cp.lmShard] != 0 {
		t.Errorf("the language-model shard %s was requested %d times", cp.lmShard, files[cp.lmShard])
	}
	t.Logf("fetched %d of %d bytes", want, total)
	assertSameEncoding(t, dir, cp.dir)

	// Cached: a second resolve of the commit needs no request at all.
	f.resetCounts()
	if _, err := Resolve(context.Background(), testRepo+"@"+f.commit, opts); err != nil {
		t.Fatal(err)
	}
	if n, _, _, _ := f.counts(); n != 0 {
		t.Errorf("%d requests for a cached commit, want 0", n)
	}
}
