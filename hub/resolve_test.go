package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// unreachable is the URL of a local port nothing listens on: one just taken from the system
// and released (a fixed port, such as 1, may be in use by some other program).
var unreachable = sync.OnceValue(func() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
})

// testOptions returns options pointing at the fake hub, with fresh caches and fast retries.
func testOptions(t *testing.T, f *fakeHub) Options {
	t.Helper()
	endpoint := unreachable()
	if f != nil {
		endpoint = f.hub.URL
	}
	return Options{
		Endpoint:     endpoint,
		CacheDir:     t.TempDir(),
		HFCacheDir:   filepath.Join(t.TempDir(), "no-hf-cache"),
		Logf:         t.Logf,
		retries:      3,
		backoff:      time.Millisecond,
		stallTimeout: 5 * time.Second,
		lockPoll:     5 * time.Millisecond,
	}
}

// encodeDir loads a checkpoint folder and encodes a fixed tiny image.
func encodeDir(t *testing.T, dir string) *vision.Output {
	t.Helper()
	m, err := vision.Load(context.Background(), dir, vision.Options{Threads: 1})
	if err != nil {
		t.Fatalf("vision.Load(%s): %v", dir, err)
	}
	cfg := m.Config()
	px := make([]float32, 16*cfg.PatchDim())
	for i := range px {
		px[i] = float32(i%29)/29 - 0.5
	}
	out, err := m.Encode(context.Background(), px, []vision.Grid{{T: 1, H: 4, W: 4}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertSameEncoding checks that two folders encode bit for bit identically.
func assertSameEncoding(t *testing.T, got, want string) {
	t.Helper()
	a, b := encodeDir(t, got), encodeDir(t, want)
	same := func(what string, x, y vision.Matrix) {
		if x.Rows != y.Rows || x.Cols != y.Cols || !slices.Equal(x.Data, y.Data) {
			t.Errorf("%s of %s differs from the original checkpoint's", what, got)
		}
	}
	same("last hidden state", a.LastHidden, b.LastHidden)
	same("pooler output", a.Pooler, b.Pooler)
	if len(a.Deepstack) != len(b.Deepstack) {
		t.Fatalf("deepstack: %d outputs, want %d", len(a.Deepstack), len(b.Deepstack))
	}
	for i := range a.Deepstack {
		same(fmt.Sprintf("deepstack %d", i), a.Deepstack[i], b.Deepstack[i])
	}
}

// assertVisionOnly checks that dir's model.safetensors holds exactly the checkpoint's vision
// tensors, with their original dtypes, shapes and bytes.
func assertVisionOnly(t *testing.T, dir string, cp *checkpoint) {
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
	var names []string
	for _, ti := range got.Header().Tensors {
		names = append(names, ti.Name)
		want, _ := orig.Info(ti.Name)
		if ti.DType != want.DType || !slices.Equal(ti.Shape, want.Shape) {
			t.Errorf("%s: %s%v, original %s%v", ti.Name, ti.DType, ti.Shape, want.DType, want.Shape)
		}
		gb, _ := got.Bytes(ti.Name)
		wb, _ := orig.Bytes(ti.Name)
		if !bytes.Equal(gb, wb) {
			t.Errorf("%s: bytes differ from the original", ti.Name)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, cp.visionNames) {
		t.Errorf("tensors %v, want the %d vision tensors", names, len(cp.visionNames))
	}
	if got.Header().Metadata["format"] != "pt" {
		t.Errorf("metadata %v, want the source's format=pt", got.Header().Metadata)
	}
}

func TestResolveDownloadsVisionOnly(t *testing.T) {
	for _, tc := range []struct {
		name       string
		kind       checkpointKind
		noSiblings bool // the revision API lists no files: optional files are tried, 404s skipped
	}{
		{"sharded", sharded, false},
		{"single file", singleFile, false},
		{"sharded, no file list", sharded, true},
		{"single file, no file list", singleFile, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := makeCheckpoint(t, tc.kind, "qwen3_vl")
			f := newFakeHub(t, cp)
			f.set(func(f *fakeHub) { f.token, f.noSiblings = "hf_secret", tc.noSiblings })
			opts := testOptions(t, f)
			opts.Token = "hf_secret"
			var bar bytes.Buffer
			opts.Progress = &bar
			dir, err := Resolve(context.Background(), testRepo, opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(opts.CacheDir, "models", "Qwen--Tiny-VL", f.commit); dir != want {
				t.Errorf("dir = %s, want %s", dir, want)
			}

			// Only headers, vision ranges and small files were fetched.
			_, api, files, served := f.counts()
			if api != 1 {
				t.Errorf("%d revision API requests, want 1", api)
			}
			for name, b := range cp.files {
				want := int64(0)
				switch {
				case cp.visionBytes[name] > 0:
					want = cp.visionBytes[name]
				case name == "config.json", name == "preprocessor_config.json", name == "model.safetensors.index.json":
					want = int64(len(b))
				}
				if served[name] != want {
					t.Errorf("%s: served %d bytes, want %d", name, served[name], want)
				}
			}
			if cp.lmShard != "" && files[cp.lmShard] != 0 {
				t.Errorf("the language-model shard %s was requested %d times", cp.lmShard, files[cp.lmShard])
			}
			if f.cdnAuth != 0 {
				t.Errorf("the token was sent to the CDN %d times", f.cdnAuth)
			}
			if f.cdnConns != 1 {
				t.Errorf("%d connections to the CDN; the finished ranges should leave one to reuse", f.cdnConns)
			}

			assertVisionOnly(t, dir, cp)
			assertSameEncoding(t, dir, cp.dir)
			for _, name := range []string{"config.json", "preprocessor_config.json"} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !bytes.Equal(b, cp.files[name]) {
					t.Errorf("%s not copied exactly: %v", name, err)
				}
			}
			entries, _ := os.ReadDir(filepath.Dir(dir))
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".partial") {
					t.Errorf("leftover %s", e.Name())
				}
			}

			// source.json
			var src sourceRecord
			b, err := os.ReadFile(filepath.Join(dir, "source.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &src); err != nil {
				t.Fatal(err)
			}
			if src.Repo != testRepo || src.Revision != "main" || src.Commit != f.commit || len(src.Tensors) != len(cp.visionNames) {
				t.Errorf("source.json: repo %q revision %q commit %q, %d tensors", src.Repo, src.Revision, src.Commit, len(src.Tensors))
			}
			for name, st := range src.Tensors {
				shard := cp.files[st.Shard]
				if st.ETag != sha256Hex(shard) {
					t.Errorf("source.json: %s: etag %q, want the shard's sha256", name, st.ETag)
				}
			}
			if src.Files["config.json"].Verified != "git-sha1" {
				t.Errorf("config.json verification %q, want git-sha1", src.Files["config.json"].Verified)
			}
			if !tc.noSiblings && src.FullBytes <= src.Bytes {
				t.Errorf("checkpoint_bytes %d should exceed the vision-only %d", src.FullBytes, src.Bytes)
			}

			// The progress bar drew and ended its line.
			if s := bar.String(); !strings.Contains(s, "\r") || !strings.HasSuffix(s, "\n") || !strings.Contains(s, "vision weights") {
				t.Errorf("progress output %q", s)
			}

			// Second resolutions use the cache: one API request for a branch or tag, none for
			// a commit or offline (once the revision was seen online).
			f.refs["refs/pr/1"] = f.commit
			for _, c := range []struct {
				spec    string
				offline bool
				api     int
			}{
				{testRepo, false, 1},
				{testRepo + "@main", true, 0},
				{testRepo + "@" + f.commit, false, 0},
				{testRepo + "@refs/pr/1", false, 1},
				{testRepo + "@refs/pr/1", true, 0},
				{testRepo + "@v1.0", false, 1},
			} {
				f.resetCounts()
				o := opts
				o.Offline = c.offline
				got, err := Resolve(context.Background(), c.spec, o)
				if err != nil {
					t.Fatalf("%s (offline %v): %v", c.spec, c.offline, err)
				}
				if got != dir {
					t.Errorf("%s: %s, want %s", c.spec, got, dir)
				}
				req, api, files, _ := f.counts()
				if api != c.api || req != c.api || len(files) != 0 {
					t.Errorf("%s (offline %v): %d requests (%d API, files %v), want %d API only", c.spec, c.offline, req, api, files, c.api)
				}
			}
		})
	}
}

func TestResolveLocalFolder(t *testing.T) {
	dir := t.TempDir()
	got, err := Resolve(context.Background(), dir, Options{})
	if err != nil || got != dir {
		t.Fatalf("Resolve(%s) = %q, %v; want the folder itself", dir, got, err)
	}
	missing := filepath.Join(dir, "nope")
	if _, err := Resolve(context.Background(), missing, Options{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing folder: %v", err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Resolve(context.Background(), file, Options{}); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("file: %v", err)
	}
}

// TestResolveRangeIgnored: a server that answers range requests with the whole file still
// gives the right checkpoint.
func TestResolveRangeIgnored(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	f.set(func(f *fakeHub) { f.ignoreRange = true })
	var logs strings.Builder
	opts := testOptions(t, f)
	opts.Logf = func(format string, args ...any) { fmt.Fprintf(&logs, format+"\n", args...) }
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertVisionOnly(t, dir, cp)
	if !strings.Contains(logs.String(), "ignores Range") {
		t.Errorf("no note about the ignored Range header in the log:\n%s", logs.String())
	}
	if _, files, _ := f.requestsFor(cp.lmShard); files != 0 {
		t.Errorf("the language-model shard was requested")
	}
}

// requestsFor returns the /resolve/ requests and bytes served for a file.
func (f *fakeHub) requestsFor(name string) (served int64, requests int, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served[name], f.fileRequests[name], true
}

// TestResolveRetriesBrokenConnections: connections cut or stalled mid-range are reopened
// from the first missing byte, within one Resolve.
func TestResolveRetriesBrokenConnections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(f *fakeHub)
		stall  time.Duration // the stall timeout
	}{
		{"dropped every 50 kB", func(f *fakeHub) { f.dropAfter = 50_000 }, 5 * time.Second},
		{"stalled once", func(f *fakeHub) { f.stallOnce = true }, 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := makeCheckpoint(t, sharded, "qwen3_vl")
			f := newFakeHub(t, cp)
			f.set(tc.inject)
			opts := testOptions(t, f)
			opts.stallTimeout = tc.stall
			dir, err := Resolve(context.Background(), testRepo, opts)
			if err != nil {
				t.Fatal(err)
			}
			assertVisionOnly(t, dir, cp)
			_, _, _, served := f.counts()
			var got int64
			for name := range cp.visionBytes {
				got += served[name]
			}
			// Nothing is fetched twice, except the 8-byte prefix and header, which a
			// dropped connection may cut too.
			if want := cp.totalVision(); got < want || got > want+int64(len(cp.visionBytes))*100_000 {
				t.Errorf("served %d bytes of the vision shards, want about %d", got, want)
			}
		})
	}
}

// TestResolveResumesInterruptedDownload: a download that fails midway leaves a partial
// folder, which the next Resolve continues instead of starting over.
func TestResolveResumesInterruptedDownload(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	var headers int64
	for name := range cp.visionBytes {
		headers += cp.headerBytes[name]
	}
	dataTotal := cp.totalVision() - headers
	f.set(func(f *fakeHub) { f.budget = headers + dataTotal/2 })
	opts := testOptions(t, f)
	_, err := Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrNetwork) {
		t.Fatalf("with the connection failing: %v, want ErrNetwork", err)
	}
	if !strings.Contains(err.Error(), "run again to resume") {
		t.Errorf("error does not say the download resumes: %v", err)
	}
	model := filepath.Join(opts.CacheDir, "models", "Qwen--Tiny-VL")
	if _, err := os.Stat(filepath.Join(model, f.commit)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an incomplete download is visible as complete: %v", err)
	}
	var st downloadState
	b, err := os.ReadFile(filepath.Join(model, ".partial-"+f.commit, stateFileName))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &st)
	part, _ := os.Stat(filepath.Join(model, ".partial-"+f.commit, partFileName))
	if st.Done <= 0 || part == nil || part.Size() < st.Done {
		t.Fatalf("state %+v, part file %v", st, part)
	}

	f.resetCounts()
	f.set(func(f *fakeHub) { f.budget = -1 })
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertVisionOnly(t, dir, cp)
	assertSameEncoding(t, dir, cp.dir)
	_, _, _, served := f.counts()
	var got int64
	for name := range cp.visionBytes {
		got += served[name]
	}
	// The second run reads the headers again, then only what the first did not save.
	out, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	saved := st.Done - (8 + int64(binary.LittleEndian.Uint64(out))) // st.Done counts the output's header too
	if want := headers + dataTotal - saved; got != want {
		t.Errorf("second run fetched %d bytes of the vision shards, want %d (headers %d + data %d - saved %d)", got, want, headers, dataTotal, saved)
	}
}

// TestResolveConcurrent: two resolutions of the same model at once download it once and
// agree on the folder.
func TestResolveConcurrent(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	opts := testOptions(t, f)
	var wg sync.WaitGroup
	dirs := make([]string, 2)
	errs := make([]error, 2)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = Resolve(context.Background(), testRepo, opts)
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	if dirs[0] != dirs[1] {
		t.Fatalf("folders differ: %s, %s", dirs[0], dirs[1])
	}
	assertVisionOnly(t, dirs[0], cp)
	_, _, _, served := f.counts()
	for name, want := range cp.visionBytes {
		data := want - cp.headerBytes[name]
		if got := served[name]; got != want && got != want+cp.headerBytes[name] {
			t.Errorf("%s: served %d bytes; want the tensors' %d once plus the header once or twice", name, got, data)
		}
	}
}

// fileState is what must not change in the Hugging Face cache.
type fileState struct {
	mode   fs.FileMode
	size   int64
	mtime  time.Time
	target string
	sum    [32]byte
}

// treeState records every entry under root without following symlinks.
func treeState(t *testing.T, root string) map[string]fileState {
	t.Helper()
	m := map[string]fileState{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		s := fileState{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			s.target, _ = os.Readlink(path)
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(path)
			s.sum = sha256.Sum256(b)
		}
		m[path] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// makeHFCache lays out the checkpoint as huggingface_hub does: blobs named by ETag,
// snapshot entries as relative symlinks, refs/main holding the commit. skip lists files
// left out of the snapshot.
func makeHFCache(t *testing.T, cp *checkpoint, commit string, skip ...string) string {
	t.Helper()
	root := t.TempDir()
	repo := filepath.Join(root, "models--Qwen--Tiny-VL")
	snap := filepath.Join(repo, "snapshots", commit)
	for _, d := range []string{filepath.Join(repo, "blobs"), snap, filepath.Join(repo, "refs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range cp.files {
		if slices.Contains(skip, name) {
			continue
		}
		etag := gitBlobID(b)
		if isLFS(name) {
			etag = sha256Hex(b)
		}
		if err := os.WriteFile(filepath.Join(repo, "blobs", etag), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..", "..", "blobs", etag), filepath.Join(snap, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestResolveHFCacheInPlace: a usable snapshot of the Hugging Face cache is returned as is,
// online or offline, and nothing in that cache changes.
func TestResolveHFCacheInPlace(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	// The language-model shard is not needed: a snapshot without it is usable.
	hf := makeHFCache(t, cp, f.commit, cp.lmShard)
	before := treeState(t, hf)
	snap := filepath.Join(hf, "models--Qwen--Tiny-VL", "snapshots", f.commit)
	for _, c := range []struct {
		spec    string
		offline bool
		api     int
	}{
		{testRepo, false, 1},
		{testRepo, true, 0},
		{testRepo + "@main", true, 0},
		{testRepo + "@" + f.commit, false, 0},
	} {
		f.resetCounts()
		opts := testOptions(t, f)
		opts.HFCacheDir = hf
		opts.Offline = c.offline
		dir, err := Resolve(context.Background(), c.spec, opts)
		if err != nil {
			t.Fatalf("%s (offline %v): %v", c.spec, c.offline, err)
		}
		if dir != snap {
			t.Errorf("%s (offline %v): %s, want the snapshot %s", c.spec, c.offline, dir, snap)
		}
		req, api, _, _ := f.counts()
		if req != c.api || api != c.api {
			t.Errorf("%s (offline %v): %d requests, want %d", c.spec, c.offline, req, c.api)
		}
		if entries, _ := os.ReadDir(opts.CacheDir); len(entries) != 0 {
			t.Errorf("our cache was written to: %v", entries)
		}
	}
	assertSameEncoding(t, snap, cp.dir)
	after := treeState(t, hf)
	if len(after) != len(before) {
		t.Errorf("the Hugging Face cache has %d entries, had %d", len(after), len(before))
	}
	for p, s := range before {
		if after[p] != s {
			t.Errorf("%s changed: %+v -> %+v", p, s, after[p])
		}
	}
}

// TestResolveHFCacheIncomplete: a snapshot missing a shard with vision tensors is not used:
// online the vision tower is downloaded, offline the error says it is not cached.
func TestResolveHFCacheIncomplete(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	var visionShard string
	for name := range cp.visionBytes {
		visionShard = name
	}
	hf := makeHFCache(t, cp, f.commit, visionShard)
	before := treeState(t, hf)
	opts := testOptions(t, f)
	opts.HFCacheDir = hf
	opts.Offline = true
	if _, err := Resolve(context.Background(), testRepo, opts); !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline: %v, want ErrNotCached", err)
	}
	opts.Offline = false
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, opts.CacheDir) {
		t.Errorf("resolved to %s, want a download into %s", dir, opts.CacheDir)
	}
	assertVisionOnly(t, dir, cp)
	after := treeState(t, hf)
	for p, s := range before {
		if after[p] != s {
			t.Errorf("%s changed", p)
		}
	}
}

// TestResolveFallsBackToCache: with the hub unreachable, a revision cached earlier is used.
func TestResolveFallsBackToCache(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	opts := testOptions(t, f)
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeHub) { f.apiStatus = 503 })
	got, err := Resolve(context.Background(), testRepo, opts)
	if err != nil || got != dir {
		t.Fatalf("with the hub failing: %q, %v; want the cached %s", got, err, dir)
	}
	opts.Endpoint = unreachable()
	got, err = Resolve(context.Background(), testRepo, opts)
	if err != nil || got != dir {
		t.Fatalf("with the hub unreachable: %q, %v; want the cached %s", got, err, dir)
	}
}

func TestResolveErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    checkpointKind
		model   string // model_type
		spec    string
		token   string
		offline bool
		setup   func(f *fakeHub)
		opts    func(o *Options)
		full    bool // the disk has 10 bytes free
		want    error
		msg     []string // substrings of the message
	}{
		{
			name: "offline, not cached", offline: true, want: ErrNotCached,
			msg: []string{"HF_HUB_OFFLINE", "not in the cache", "Qwen--Tiny-VL"},
		},
		{
			name: "hub unreachable", opts: func(o *Options) { o.Endpoint = unreachable() }, want: ErrNetwork,
			msg: []string{"could not reach " + unreachable(), "set HF_HUB_OFFLINE=1 to use only cached models, or HF_ENDPOINT for a mirror"},
		},
		{
			name: "gated, no token", setup: func(f *fakeHub) { f.gated, f.token = true, "good" }, want: ErrAuth,
			msg: []string{"gated", "accept the licence at http://127.0.0.1", "/Qwen/Tiny-VL", "set HF_TOKEN", "HF_TOKEN is not set"},
		},
		{
			name: "gated, token without access", token: "other", setup: func(f *fakeHub) { f.gated, f.token = true, "good" }, want: ErrAuth,
			msg: []string{"gated", "accept the licence", "the token in HF_TOKEN was sent"},
		},
		{
			name: "unknown repo, anonymous", spec: "Qwen/Nope", want: ErrAuth,
			msg: []string{"Qwen/Nope does not exist, or it is private or gated", "HF_TOKEN"},
		},
		{
			name: "unknown repo, with token", spec: "Qwen/Nope", token: "t", want: ErrNotFound,
			msg: []string{"repository Qwen/Nope not found"},
		},
		{
			name: "unknown revision", spec: testRepo + "@nope", want: ErrNotFound,
			msg: []string{"revision not found", "nope"},
		},
		{
			name: "server error", setup: func(f *fakeHub) { f.apiStatus = 500 }, want: ErrNetwork,
			msg: []string{"500", "try again later"},
		},
		{
			name: "not a Qwen3-VL model", model: "llama", want: ErrUnsupported,
			msg: []string{`"llama" model, not Qwen3-VL`},
		},
		{
			name: "no vision weights", kind: noVision, want: ErrNoVisionWeights,
			msg: []string{"no vision tower weights"},
		},
		{
			name: "config corrupted", setup: func(f *fakeHub) { f.badContent = "config.json" }, want: ErrCorrupt,
			msg: []string{"config.json", "git-sha1", "does not match the revision API's"},
		},
		{
			name: "config ETag mismatch, no file list", setup: func(f *fakeHub) { f.badETag, f.noSiblings = "config.json", true }, want: ErrCorrupt,
			msg: []string{"config.json", "does not match the ETag's"},
		},
		{
			name: "size mismatch", setup: func(f *fakeHub) { f.badSize = "model-00001-of-00003.safetensors" }, want: ErrCorrupt,
			msg: []string{"X-Linked-Size"},
		},
		{
			name: "wrong range", setup: func(f *fakeHub) { f.badRange = true }, want: ErrCorrupt,
			msg: []string{"asked for bytes 0-7, the server sent 1-8"},
		},
		{
			// The index parser is safetensors.ParseIndex, vision.Load's: encoding/json, used
			// before, kept the last of duplicate keys.
			name: "index with a duplicate key",
			setup: func(f *fakeHub) {
				idx := f.cp.files[safetensors.IndexFileName]
				f.cp.files[safetensors.IndexFileName] = append([]byte(`{"weight_map":{},`), idx[1:]...)
			},
			want: ErrCorrupt, msg: []string{safetensors.IndexFileName, `duplicate key "weight_map"`},
		},
		{
			name: "index naming a shard outside the repository's layout",
			setup: func(f *fakeHub) {
				f.cp.files[safetensors.IndexFileName] = []byte(`{"weight_map":{"model.visual.patch_embed.proj.weight":"sub/../model-00001-of-00003.safetensors"}}`)
			},
			want: ErrCorrupt, msg: []string{`shard path "sub/../model-00001-of-00003.safetensors"`},
		},
		{
			name: "disk full", full: true, want: ErrDiskFull,
			msg: []string{"not enough disk space", "QWEN3VL_CACHE"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			model := tc.model
			if model == "" {
				model = "qwen3_vl"
			}
			cp := makeCheckpoint(t, tc.kind, model)
			f := newFakeHub(t, cp)
			if tc.setup != nil {
				f.set(tc.setup)
			}
			opts := testOptions(t, f)
			opts.Token, opts.Offline = tc.token, tc.offline
			if tc.opts != nil {
				tc.opts(&opts)
			}
			spec := tc.spec
			if spec == "" {
				spec = testRepo
			}
			if tc.full {
				saved := diskFree
				diskFree = func(string) int64 { return 10 }
				defer func() { diskFree = saved }()
			}
			_, err := Resolve(context.Background(), spec, opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v; want one matching %v", err, tc.want)
			}
			t.Logf("error: %v", err)
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
			if !strings.HasPrefix(err.Error(), "hub: ") {
				t.Errorf("error %q does not start with \"hub: \"", err)
			}
			if tc.offline {
				if req, _, _, _ := f.counts(); req != 0 {
					t.Errorf("offline, yet %d requests reached the hub", req)
				}
			}
			if tc.want == ErrUnsupported || tc.want == ErrNoVisionWeights {
				_, _, _, served := f.counts()
				for name, n := range served {
					if strings.HasSuffix(name, ".safetensors") && n > 0 {
						t.Errorf("%s: %d bytes fetched before failing", name, n)
					}
				}
			}
		})
	}
}

func TestDiskErrorMessage(t *testing.T) {
	err := diskError(&fs.PathError{Op: "write", Path: "/x/model.safetensors.part", Err: errNoSpace}, "/x")
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, errNoSpace) {
		t.Fatalf("%v does not match ErrDiskFull and ENOSPC (errNoSpace)", err)
	}
	for _, m := range []string{"disk full", "QWEN3VL_CACHE", "resumes"} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("%q lacks %q", err, m)
		}
	}
	if err := diskError(io.ErrShortWrite, "/x"); errors.Is(err, ErrDiskFull) {
		t.Errorf("a short write is not a full disk: %v", err)
	}
}

// TestResolveDiscardsCorruptPartial: a partial download whose file fails verification is
// discarded, so that the next run starts over instead of resuming into the same failure.
func TestResolveDiscardsCorruptPartial(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	var headers int64
	for name := range cp.visionBytes {
		headers += cp.headerBytes[name]
	}
	f.set(func(f *fakeHub) { f.budget = headers + 100_000 })
	opts := testOptions(t, f)
	if _, err := Resolve(context.Background(), testRepo, opts); !errors.Is(err, ErrNetwork) {
		t.Fatalf("interrupted run: %v", err)
	}
	partial := filepath.Join(opts.CacheDir, "models", "Qwen--Tiny-VL", ".partial-"+f.commit)
	part, err := os.OpenFile(filepath.Join(partial, partFileName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	part.WriteAt([]byte(`{"x"`), 8) // break the saved header
	part.Close()

	f.set(func(f *fakeHub) { f.budget = -1 })
	_, err = Resolve(context.Background(), testRepo, opts)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "discarded") {
		t.Fatalf("resuming a corrupt partial download: %v, want ErrCorrupt saying it was discarded", err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the corrupt partial download is still there: %v", err)
	}
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertVisionOnly(t, dir, cp)
}

// TestResolveReplacesIncompleteFolder: a folder under the final name that lacks files (not
// made by this package) is replaced by a complete download.
func TestResolveReplacesIncompleteFolder(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	opts := testOptions(t, f)
	final := filepath.Join(opts.CacheDir, "models", "Qwen--Tiny-VL", f.commit)
	if err := os.MkdirAll(final, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(final, "config.json"), cp.files["config.json"], 0o644)
	dir, err := Resolve(context.Background(), testRepo, opts)
	if err != nil {
		t.Fatal(err)
	}
	if dir != final {
		t.Errorf("dir %s, want %s", dir, final)
	}
	assertVisionOnly(t, dir, cp)
	entries, _ := os.ReadDir(filepath.Dir(final))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".broken") || strings.HasPrefix(e.Name(), ".partial") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}
