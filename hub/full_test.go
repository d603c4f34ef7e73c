package hub

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/text"
	"github.com/qwen3vl/qwen3vl/vision"
)

// assertFull checks that dir's model.safetensors holds exactly the checkpoint's vision and
// language tensors, under their original names (so that vision.Load and text.Load find
// them), with their original dtypes, shapes and bytes.
func assertFull(t *testing.T, dir string, cp *checkpoint) {
	t.Helper()
	got, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	orig, err := safetensors.OpenDir(cp.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	var want, names []string
	for _, n := range orig.Names() {
		if vision.IsTensor(n) || text.IsTensor(n) {
			want = append(want, n)
		}
	}
	for _, ti := range got.Header().Tensors {
		names = append(names, ti.Name)
		w, _ := orig.Info(ti.Name)
		if ti.DType != w.DType || !slices.Equal(ti.Shape, w.Shape) {
			t.Errorf("%s: %s%v, original %s%v", ti.Name, ti.DType, ti.Shape, w.DType, w.Shape)
		}
		gb, _ := got.Bytes(ti.Name)
		wb, _ := orig.Bytes(ti.Name)
		if !bytes.Equal(gb, wb) {
			t.Errorf("%s: bytes differ from the original", ti.Name)
		}
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("tensors %v, want the %d vision and language tensors %v", names, len(want), want)
	}

	// The language tensors are found by the text loader's rule, as text.Load opens them.
	set, err := safetensors.OpenDir(dir, text.IsTensor)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var lm []string
	for _, n := range want {
		if text.IsTensor(n) {
			lm = append(lm, n)
		}
	}
	if gotLM := slices.Sorted(slices.Values(set.Names())); len(lm) == 0 || !slices.Equal(gotLM, lm) {
		t.Errorf("language tensors %v, want %v", gotLM, lm)
	}
}

// TestResolveDownloadsFull: with Options.Text the download takes the language tensors too,
// into models/Org--Name/full/<commit>/, and its vision tower encodes as the original's.
func TestResolveDownloadsFull(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind checkpointKind
	}{
		{"sharded", sharded},
		{"single file", singleFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := makeCheckpoint(t, tc.kind, "qwen3_vl")
			f := newFakeHub(t, cp)
			opts := testOptions(t, f)
			opts.Text = true
			var bar bytes.Buffer
			opts.Progress = &bar
			dir, err := Resolve(context.Background(), testRepo, opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(opts.CacheDir, "models", "Qwen--Tiny-VL", "full", f.commit); dir != want {
				t.Errorf("dir = %s, want %s", dir, want)
			}
			if cp.lmShard != "" {
				if _, _, files, _ := f.counts(); files[cp.lmShard] == 0 {
					t.Errorf("the language-model shard %s was not fetched", cp.lmShard)
				}
			}
			assertFull(t, dir, cp)
			assertSameEncoding(t, dir, cp.dir)

			var src sourceRecord
			b, err := os.ReadFile(filepath.Join(dir, "source.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &src); err != nil {
				t.Fatal(err)
			}
			if !src.Text || len(src.Tensors) <= len(cp.visionNames) {
				t.Errorf("source.json: text %v, %d tensors; want text and more than the %d vision tensors", src.Text, len(src.Tensors), len(cp.visionNames))
			}
			if s := bar.String(); !strings.Contains(s, "\r") || !strings.HasSuffix(s, "\n") || strings.Contains(s, "vision weights") {
				t.Errorf("progress output %q", s)
			}

			// Asked again, the full download is used without fetching anything.
			f.resetCounts()
			again, err := Resolve(context.Background(), testRepo, opts)
			if err != nil || again != dir {
				t.Fatalf("second full resolution: %s, %v; want %s", again, err, dir)
			}
			if _, _, files, _ := f.counts(); len(files) != 0 {
				t.Errorf("second full resolution fetched %v", files)
			}
		})
	}
}

// TestResolveFullCacheRule: a vision-only download does not satisfy a full request (online
// the full model is downloaded beside it; offline the error says it is not cached), and is
// still the one a vision-only request gets. A full download satisfies a vision-only request.
func TestResolveFullCacheRule(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	opts := testOptions(t, f)
	visionDir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertVisionOnly(t, visionDir, cp)

	full := opts
	full.Text = true
	off := full
	off.Offline = true
	if _, err := Resolve(context.Background(), testRepo, off); !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline full request with a vision-only cache: %v, want ErrNotCached", err)
	}
	f.resetCounts()
	fullDir, err := Resolve(context.Background(), testRepo, full)
	if err != nil {
		t.Fatal(err)
	}
	if fullDir == visionDir {
		t.Fatalf("a full request got the vision-only download %s", visionDir)
	}
	if _, _, files, _ := f.counts(); files[cp.lmShard] == 0 {
		t.Errorf("the full request did not fetch the language-model shard %s", cp.lmShard)
	}
	assertFull(t, fullDir, cp)
	assertVisionOnly(t, visionDir, cp) // untouched

	// Both are cached now: each request gets its own, offline and online.
	for _, o := range []Options{opts, full} {
		for _, offline := range []bool{false, true} {
			o.Offline = offline
			f.resetCounts()
			got, err := Resolve(context.Background(), testRepo, o)
			if err != nil {
				t.Fatalf("text %v offline %v: %v", o.Text, offline, err)
			}
			want := visionDir
			if o.Text {
				want = fullDir
			}
			if got != want {
				t.Errorf("text %v offline %v: %s, want %s", o.Text, offline, got, want)
			}
			if _, _, files, _ := f.counts(); len(files) != 0 {
				t.Errorf("text %v offline %v: fetched %v", o.Text, offline, files)
			}
		}
	}

	// With only a full download in the cache, a vision-only request takes it.
	if err := os.RemoveAll(visionDir); err != nil {
		t.Fatal(err)
	}
	opts.Offline = true
	if got, err := Resolve(context.Background(), testRepo, opts); err != nil || got != fullDir {
		t.Errorf("vision-only request with only a full download: %s, %v; want %s", got, err, fullDir)
	}
}

// TestResolveFullHFCache: a Hugging Face snapshot without the language-model shard serves a
// vision-only request but not a full one; with every shard it serves both.
func TestResolveFullHFCache(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	for _, tc := range []struct {
		name         string
		skip         []string
		visionInHF   bool
		fullInHF     bool
		fullNotFound bool // offline, a full request finds nothing
	}{
		{"without the language-model shard", []string{cp.lmShard}, true, false, true},
		{"complete", nil, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hf := makeHFCache(t, cp, f.commit, tc.skip...)
			snap := filepath.Join(hf, "models--Qwen--Tiny-VL", "snapshots", f.commit)
			opts := testOptions(t, f)
			opts.HFCacheDir = hf
			opts.Offline = true
			if got, err := Resolve(context.Background(), testRepo, opts); err != nil || got != snap {
				t.Errorf("vision-only: %s, %v; want the snapshot %s", got, err, snap)
			}
			opts.Text = true
			got, err := Resolve(context.Background(), testRepo, opts)
			switch {
			case tc.fullInHF && (err != nil || got != snap):
				t.Errorf("full: %s, %v; want the snapshot %s", got, err, snap)
			case tc.fullNotFound && !errors.Is(err, ErrNotCached):
				t.Errorf("full: %s, %v; want ErrNotCached", got, err)
			}
		})
	}
}

// TestResolveFullDiskSpace: the disk check counts the language tensors: free space enough
// for the vision tower but not for the full model lets a vision-only download through and
// stops a full one before any tensor byte is fetched.
func TestResolveFullDiskSpace(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	var lmBytes int64
	for name, b := range cp.files {
		if strings.HasSuffix(name, ".safetensors") {
			lmBytes += int64(len(b)) - cp.headerBytes[name]
		}
	}
	lmBytes -= cp.totalVision()
	for name := range cp.visionBytes {
		lmBytes += cp.headerBytes[name]
	}
	free := cp.totalVision() + lmBytes/2
	if lmBytes/2 < 1<<20 {
		t.Fatalf("the test checkpoint's language tensors (%d bytes) are too small for this test", lmBytes)
	}
	saved := diskFree
	diskFree = func(string) int64 { return free }
	defer func() { diskFree = saved }()

	f := newFakeHub(t, cp)
	opts := testOptions(t, f)
	opts.Text = true
	_, err := Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "QWEN3VL_CACHE") {
		t.Fatalf("full download with %d bytes free: %v, want ErrDiskFull", free, err)
	}
	if _, _, _, served := f.counts(); served[cp.lmShard] > cp.headerBytes[cp.lmShard] {
		t.Errorf("%d bytes of the language-model shard were fetched before the disk check failed; only its %d-byte header should be", served[cp.lmShard], cp.headerBytes[cp.lmShard])
	}
	opts.Text = false
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatalf("vision-only download with %d bytes free: %v", free, err)
	}
	assertVisionOnly(t, dir, cp)
}

// TestResolveFullNoLanguageTensors: a checkpoint with only the vision tower serves a
// vision-only request, and a full one fails with ErrUnsupported before any tensor byte is
// fetched.
func TestResolveFullNoLanguageTensors(t *testing.T) {
	cp := makeCheckpoint(t, singleFile, "qwen3_vl")
	orig, err := safetensors.Open(filepath.Join(cp.dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var vis []safetensors.Tensor
	for _, ti := range orig.Header().Tensors {
		if vision.IsTensor(ti.Name) {
			b, _ := orig.Bytes(ti.Name)
			vis = append(vis, safetensors.Tensor{Name: ti.Name, DType: ti.DType, Shape: ti.Shape, Data: slices.Clone(b)})
		}
	}
	orig.Close()
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, vis, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	cp.files["model.safetensors"] = buf.Bytes()

	f := newFakeHub(t, cp)
	opts := testOptions(t, f)
	opts.Text = true
	_, err = Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "no language model weights") {
		t.Fatalf("full request: %v, want ErrUnsupported naming the missing language weights", err)
	}
	hdr := 8 + int64(binary.LittleEndian.Uint64(buf.Bytes()))
	if _, _, _, served := f.counts(); served["model.safetensors"] > hdr {
		t.Errorf("%d bytes of model.safetensors fetched before failing; only its %d-byte header should be", served["model.safetensors"], hdr)
	}
	opts.Text = false
	if _, err := Resolve(context.Background(), testRepo, opts); err != nil {
		t.Fatalf("vision-only request: %v", err)
	}
}
