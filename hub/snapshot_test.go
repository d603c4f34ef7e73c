package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// indexJSON renders a weight map as an index file, entries in the given order, so that a test
// can repeat keys (which encoding/json cannot write). Names are written between quotes as
// they are, so that they can hold invalid UTF-8; they must not need escapes.
func indexJSON(entries [][2]string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"metadata":{"total_size":0},"weight_map":{`)
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + e[0] + `":"` + e[1] + `"`)
	}
	b.WriteString("}}")
	return b.Bytes()
}

// TestResolveHFCacheOnlyLoadable is the regression test for hub accepting Hugging Face cache
// snapshots that vision.Load then rejects. hub used to parse model.safetensors.index.json with
// encoding/json, which silently keeps the last of duplicate keys and replaces invalid UTF-8,
// and to check only that the vision shards exist, while vision.Load (safetensors.OpenDir)
// rejects duplicate keys and invalid UTF-8, and checks that each opened shard holds the
// tensors the index assigns to it and that the vision tensors exist at all. Each snapshot
// below is one that Load rejects; Resolve must not return it. (Before the fix Resolve returned
// every one of them.)
func TestResolveHFCacheOnlyLoadable(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	var wm struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(cp.files[safetensors.IndexFileName], &wm); err != nil {
		t.Fatal(err)
	}
	var entries [][2]string
	for _, name := range slices.Sorted(maps.Keys(wm.WeightMap)) {
		entries = append(entries, [2]string{name, wm.WeightMap[name]})
	}
	vis := cp.visionNames[0]
	var otherVisionShard string // a vision shard that does not hold vis
	for s := range cp.visionBytes {
		if s != wm.WeightMap[vis] {
			otherVisionShard = s
		}
	}
	single := makeCheckpoint(t, singleFile, "qwen3_vl")
	lmOnly := func() []byte {
		var buf bytes.Buffer
		if err := safetensors.Write(&buf, []safetensors.Tensor{lmTensor("model.language_model.x", 8)}, nil); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}()

	for _, tc := range []struct {
		name  string
		files map[string][]byte // replaced (nil: removed) in the sharded checkpoint's files
		base  *checkpoint       // the checkpoint changed (default: the sharded one)
	}{
		{
			// The duplicate maps the tensor to the same shard: harmless-looking, as a
			// hand-merged index would have it.
			name:  "duplicate tensor in the weight map",
			files: map[string][]byte{safetensors.IndexFileName: indexJSON(append(slices.Clone(entries), [2]string{vis, wm.WeightMap[vis]}))},
		},
		{
			name: "weight_map given twice",
			files: map[string][]byte{safetensors.IndexFileName: bytes.Replace(indexJSON(entries), []byte(`"weight_map":`),
				[]byte(`"weight_map":{},"weight_map":`), 1)},
		},
		{
			name:  "invalid UTF-8 in a language-model tensor name",
			files: map[string][]byte{safetensors.IndexFileName: indexJSON(append(slices.Clone(entries), [2]string{"lm.\xff", cp.lmShard}))},
		},
		{
			name: "vision tensor assigned to a shard without it",
			files: map[string][]byte{safetensors.IndexFileName: indexJSON(slices.Concat(
				slices.DeleteFunc(slices.Clone(entries), func(e [2]string) bool { return e[0] == vis }),
				[][2]string{{vis, otherVisionShard}}))},
		},
		{
			name:  "model.safetensors without vision tensors",
			base:  single,
			files: map[string][]byte{safetensors.SingleFileName: lmOnly},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := cp
			if tc.base != nil {
				base = tc.base
			}
			bad := *base
			bad.files = maps.Clone(base.files)
			for name, b := range tc.files {
				bad.files[name] = b
			}
			commit := "cd" + string(bytes.Repeat([]byte("01"), 19))
			hf := makeHFCache(t, &bad, commit)
			snap := filepath.Join(hf, "models--Qwen--Tiny-VL", "snapshots", commit)
			if _, err := vision.Load(context.Background(), snap, vision.Options{Threads: 1}); err == nil {
				t.Fatalf("vision.Load accepts the snapshot; the case tests nothing")
			} else {
				t.Logf("vision.Load: %v", err)
			}
			opts := testOptions(t, nil)
			opts.HFCacheDir, opts.Offline = hf, true
			dir, err := Resolve(context.Background(), testRepo+"@"+commit, opts)
			if err == nil {
				t.Fatalf("Resolve returned %s, which vision.Load rejects", dir)
			}
			t.Logf("Resolve: %v", err)
		})
	}

	// The unchanged snapshot still resolves, and loads.
	commit := "cd" + string(bytes.Repeat([]byte("01"), 19))
	hf := makeHFCache(t, cp, commit)
	opts := testOptions(t, nil)
	opts.HFCacheDir, opts.Offline = hf, true
	dir, err := Resolve(context.Background(), testRepo+"@"+commit, opts)
	if err != nil {
		t.Fatal(err)
	}
	encodeDir(t, dir)
}
