package hub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/internal/synth"
	"github.com/qwen3vl/qwen3vl/vision"
)

// testRepo is the repository the fake hub serves.
const testRepo = "Qwen/Tiny-VL"

// testSeed seeds the synthetic weights of the test checkpoint.
const testSeed = 7

// synthTensor returns a tensor with synthetic values: BF16 for matrices, F32 for vectors
// (so that both dtypes travel through the download).
func synthTensor(name, canonical string, shape []int) safetensors.Tensor {
	n := 1
	for _, s := range shape {
		n *= s
	}
	v := make([]float32, n)
	scale, offset := vision.SyntheticScale(canonical, shape)
	synth.Fill(v, testSeed, name, scale, offset)
	if len(shape) == 1 {
		return safetensors.F32Tensor(name, shape, v)
	}
	return safetensors.BF16Tensor(name, shape, v)
}

// lmTensor returns a language-model tensor of n BF16 values.
func lmTensor(name string, n int) safetensors.Tensor {
	v := make([]float32, n)
	synth.Fill(v, testSeed, name, 0.02, 0)
	return safetensors.BF16Tensor(name, []int{n}, v)
}

// checkpoint is a test checkpoint: its files by name and what the tests need to know.
type checkpoint struct {
	files       map[string][]byte
	dir         string           // the same files on disk, loadable by vision.Load
	visionBytes map[string]int64 // per shard: 8 + header length + the vision tensors' bytes
	headerBytes map[string]int64 // per shard: 8 + header length
	lmShard     string           // the shard without vision tensors
	visionNames []string
}

// checkpointKind selects the layout of makeCheckpoint.
type checkpointKind int

const (
	sharded    checkpointKind = iota // vision tensors in two shards, plus an LM-only shard
	singleFile                       // one model.safetensors with vision and LM tensors
	noVision                         // sharded, language model only
)

// makeCheckpoint builds the tiny Qwen3-VL checkpoint with tensors under "model.visual.".
// In the sharded layout, shard 1 holds LM tensors around the first vision tensors, shard 2
// interleaves LM tensors between vision tensors (so that several ranges are fetched), and
// shard 3 is a large LM-only shard.
func makeCheckpoint(t *testing.T, kind checkpointKind, modelType string) *checkpoint {
	t.Helper()
	cfg, err := vision.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	var vis []safetensors.Tensor
	for _, s := range cfg.Tensors() {
		vis = append(vis, synthTensor("model.visual."+s.Name, s.Name, s.Shape))
	}
	lm := func(i, n int) safetensors.Tensor {
		return lmTensor(fmt.Sprintf("model.language_model.layers.%d.mlp.weight", i), n)
	}
	shards := map[string][]safetensors.Tensor{}
	half := len(vis) / 2
	switch kind {
	case sharded:
		shards["model-00001-of-00003.safetensors"] = slices.Concat(
			[]safetensors.Tensor{lm(0, 100_000)}, vis[:half], []safetensors.Tensor{lm(1, 50_000)})
		var s2 []safetensors.Tensor
		for i, v := range vis[half:] {
			s2 = append(s2, v)
			if i%7 == 3 {
				s2 = append(s2, lm(100+i, 3_000))
			}
		}
		shards["model-00002-of-00003.safetensors"] = s2
		shards["model-00003-of-00003.safetensors"] = []safetensors.Tensor{lm(2, 1_500_000), lmTensor("lm_head.weight", 500_000)}
	case singleFile:
		shards["model.safetensors"] = slices.Concat([]safetensors.Tensor{lm(0, 200_000)}, vis, []safetensors.Tensor{lmTensor("lm_head.weight", 200_000)})
	case noVision:
		shards["model-00001-of-00002.safetensors"] = []safetensors.Tensor{lm(0, 1000)}
		shards["model-00002-of-00002.safetensors"] = []safetensors.Tensor{lm(1, 1000)}
	}
	cp := &checkpoint{files: map[string][]byte{}, visionBytes: map[string]int64{}, headerBytes: map[string]int64{}}
	weightMap := map[string]string{}
	meta := map[string]string{"format": "pt"}
	for name, ts := range shards {
		var buf bytes.Buffer
		if err := safetensors.Write(&buf, ts, meta); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		cp.files[name] = b
		hdr := 8 + int64(binary.LittleEndian.Uint64(b))
		cp.headerBytes[name] = hdr
		n := int64(0)
		for _, x := range ts {
			weightMap[x.Name] = name
			if strings.HasPrefix(x.Name, "model.visual.") {
				n += int64(len(x.Data))
				cp.visionNames = append(cp.visionNames, x.Name)
			}
		}
		if n == 0 {
			cp.lmShard = name
		} else {
			cp.visionBytes[name] = hdr + n
		}
	}
	if kind != singleFile {
		idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": weightMap})
		cp.files["model.safetensors.index.json"] = idx
	}
	config, _ := json.Marshal(map[string]any{
		"model_type":    modelType,
		"vision_config": cfg,
		"text_config":   map[string]any{"hidden_size": cfg.OutHiddenSize},
	})
	cp.files["config.json"] = config
	cp.files["preprocessor_config.json"] = []byte(`{"patch_size": 16, "merge_size": 2}`)
	cp.files["README.md"] = []byte("# tiny\n")
	cp.dir = t.TempDir()
	for name, b := range cp.files {
		if err := os.WriteFile(filepath.Join(cp.dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(cp.visionNames)
	return cp
}

// totalVision is the sum of visionBytes: what a vision-only download must fetch of the
// weights.
func (cp *checkpoint) totalVision() int64 {
	var n int64
	for _, v := range cp.visionBytes {
		n += v
	}
	return n
}

// fakeHub imitates the Hugging Face Hub's endpoints for one repository: the revision API,
// /resolve/ (small files served directly with their git blob id as ETag; .safetensors files
// redirected with 302 to a separate CDN server, with X-Repo-Commit, X-Linked-Etag and
// X-Linked-Size), and the CDN (Range supported through http.ServeContent).
type fakeHub struct {
	t      *testing.T
	repo   string
	commit string
	refs   map[string]string // branch or tag -> commit
	cp     *checkpoint
	hub    *httptest.Server
	cdn    *httptest.Server

	mu           sync.Mutex
	gated        bool   // /resolve/ needs "Authorization: Bearer <token>"
	token        string // the token accepted
	ignoreRange  bool   // the CDN answers 200 with the whole file
	dropAfter    int64  // the CDN cuts every response after this many bytes (0: never)
	budget       int64  // the CDN serves this many bytes in all, then cuts everything (-1: no limit)
	stallOnce    bool   // the CDN stalls once, mid-response, until the client gives up
	apiStatus    int    // if not 0, the revision API answers this status
	badETag      string // a file whose ETag is wrong
	badContent   string // a file served with one byte changed
	badSize      string // a file whose X-Linked-Size is wrong
	badRange     bool   // the CDN answers with a shifted Content-Range
	noSiblings   bool   // the revision API lists no files
	requests     int    // every request to the hub or the CDN
	apiRequests  int
	fileRequests map[string]int   // per file: /resolve/ requests
	served       map[string]int64 // per file: body bytes sent (hub and CDN)
	cdnAuth      int              // CDN requests that carried an Authorization header
	cdnConns     int              // connections opened to the CDN
	hubNoAuth    int              // /resolve/ requests without Authorization while a token was expected
}

// newFakeHub starts a hub and a CDN serving cp as testRepo, with branch "main".
func newFakeHub(t *testing.T, cp *checkpoint) *fakeHub {
	f := &fakeHub{
		t: t, repo: testRepo, cp: cp, budget: -1,
		commit:       strings.Repeat("ab", 20),
		fileRequests: map[string]int{}, served: map[string]int64{},
	}
	f.refs = map[string]string{"main": f.commit, "v1.0": f.commit}
	f.hub = httptest.NewServer(f.count(http.HandlerFunc(f.route)))
	f.cdn = httptest.NewUnstartedServer(f.count(http.HandlerFunc(f.cdnServe)))
	f.cdn.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.cdnConns++
			f.mu.Unlock()
		}
	}
	f.cdn.Start()
	t.Cleanup(f.hub.Close)
	t.Cleanup(f.cdn.Close)
	return f
}

// route dispatches /api/models/{org}/{name}/revision/{rev} and
// /{org}/{name}/resolve/{rev}/{file...}, unescaping each path segment.
func (f *fakeHub) route(w http.ResponseWriter, r *http.Request) {
	seg := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	for i, s := range seg {
		u, err := url.PathUnescape(s)
		if err != nil {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		seg[i] = u
	}
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		http.Error(w, "method", http.StatusMethodNotAllowed)
	case len(seg) == 6 && seg[0] == "api" && seg[1] == "models" && seg[4] == "revision":
		r.SetPathValue("org", seg[2])
		r.SetPathValue("name", seg[3])
		r.SetPathValue("rev", seg[5])
		f.api(w, r)
	case len(seg) >= 5 && seg[2] == "resolve":
		r.SetPathValue("org", seg[0])
		r.SetPathValue("name", seg[1])
		r.SetPathValue("rev", seg[3])
		r.SetPathValue("file", strings.Join(seg[4:], "/"))
		f.resolve(w, r)
	default:
		http.NotFound(w, r)
	}
}

// count counts requests.
func (f *fakeHub) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// snapshot returns the request counters, for comparing before and after.
func (f *fakeHub) counts() (requests, api int, files map[string]int, served map[string]int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	files = map[string]int{}
	for k, v := range f.fileRequests {
		files[k] = v
	}
	served = map[string]int64{}
	for k, v := range f.served {
		served[k] = v
	}
	return f.requests, f.apiRequests, files, served
}

// resetCounts zeroes the counters.
func (f *fakeHub) resetCounts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests, f.apiRequests, f.cdnAuth, f.hubNoAuth, f.cdnConns = 0, 0, 0, 0, 0
	f.fileRequests = map[string]int{}
	f.served = map[string]int64{}
}

// set changes the fake's behaviour under its lock.
func (f *fakeHub) set(change func(f *fakeHub)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// commitOf maps a revision to a commit.
func (f *fakeHub) commitOf(rev string) (string, bool) {
	if rev == f.commit {
		return rev, true
	}
	c, ok := f.refs[rev]
	return c, ok
}

// isLFS reports whether the fake stores the file in LFS (and serves it from the CDN).
func isLFS(name string) bool { return strings.HasSuffix(name, ".safetensors") }

func gitBlobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, status)
}

func (f *fakeHub) api(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.apiRequests++
	status, noSiblings := f.apiStatus, f.noSiblings
	f.mu.Unlock()
	if status != 0 {
		fail(w, status, "", "injected failure")
		return
	}
	if r.PathValue("org")+"/"+r.PathValue("name") != f.repo {
		if r.Header.Get("Authorization") == "" {
			fail(w, http.StatusUnauthorized, "RepoNotFound", "Invalid username or password.")
		} else {
			fail(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		}
		return
	}
	commit, ok := f.commitOf(r.PathValue("rev"))
	if !ok {
		fail(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+r.PathValue("rev"))
		return
	}
	type lfs struct {
		SHA256      string `json:"sha256"`
		Size        int    `json:"size"`
		PointerSize int    `json:"pointerSize"`
	}
	type sib struct {
		Name   string `json:"rfilename"`
		Size   int    `json:"size"`
		BlobID string `json:"blobId"`
		LFS    *lfs   `json:"lfs,omitempty"`
	}
	var sibs []sib
	for _, name := range slices.Sorted(maps.Keys(f.cp.files)) {
		b := f.cp.files[name]
		s := sib{Name: name, Size: len(b), BlobID: gitBlobID(b)}
		if isLFS(name) {
			s.LFS = &lfs{SHA256: sha256Hex(b), Size: len(b), PointerSize: 134}
		}
		sibs = append(sibs, s)
	}
	if noSiblings {
		sibs = nil
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"id": f.repo, "sha": commit, "siblings": sibs, "private": false})
}

func (f *fakeHub) resolve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	f.mu.Lock()
	f.fileRequests[name]++
	gated, token, badETag, badSize, badContent := f.gated, f.token, f.badETag, f.badSize, f.badContent
	if gated && r.Header.Get("Authorization") == "" {
		f.hubNoAuth++
	}
	f.mu.Unlock()
	if r.PathValue("org")+"/"+r.PathValue("name") != f.repo {
		fail(w, http.StatusUnauthorized, "RepoNotFound", "Invalid username or password.")
		return
	}
	commit, ok := f.commitOf(r.PathValue("rev"))
	if !ok {
		fail(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id")
		return
	}
	if gated {
		switch r.Header.Get("Authorization") {
		case "Bearer " + token:
		case "":
			fail(w, http.StatusUnauthorized, "GatedRepo", "Access to model "+f.repo+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
			return
		default:
			fail(w, http.StatusForbidden, "GatedRepo", "Access to model "+f.repo+" is restricted and you are not in the authorized list.")
			return
		}
	}
	b, ok := f.cp.files[name]
	if !ok {
		fail(w, http.StatusNotFound, "EntryNotFound", name+" does not exist on \"main\"")
		return
	}
	w.Header().Set("X-Repo-Commit", commit)
	if isLFS(name) {
		etag := sha256Hex(b)
		if name == badETag {
			etag = sha256Hex([]byte("other"))
		}
		size := len(b)
		if name == badSize {
			size++
		}
		w.Header().Set("X-Linked-Etag", `"`+etag+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(size))
		w.Header().Set("ETag", `W/"`+gitBlobID([]byte("pointer"))+`"`)
		w.Header().Set("Location", f.cdn.URL+"/repos/"+sha256Hex(b)+"?name="+name+"&X-Amz-Signature=abc")
		w.WriteHeader(http.StatusFound)
		return
	}
	etag := gitBlobID(b)
	if name == badETag {
		etag = gitBlobID([]byte("other"))
	}
	if name == badContent {
		b = slices.Clone(b)
		b[len(b)/2] ^= 1
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	f.serve(w, r, name, b, false)
}

func (f *fakeHub) cdnServe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	b, ok := f.cp.files[name]
	if !ok || r.URL.Query().Get("X-Amz-Signature") == "" {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	f.mu.Lock()
	if r.Header.Get("Authorization") != "" {
		f.cdnAuth++
	}
	ignore, badRange := f.ignoreRange, f.badRange
	f.mu.Unlock()
	w.Header().Set("ETag", `"cdn-etag"`)
	if badRange && r.Header.Get("Range") != "" {
		var a, z int64
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &z)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a+1, z+1, len(b)))
		w.Header().Set("Content-Length", fmt.Sprint(z-a+1))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(b[a+1 : z+2])
		return
	}
	f.serve(w, r, name, b, ignore)
}

// serve writes b (or the requested range of it), counting bytes and applying the injected
// faults.
func (f *fakeHub) serve(w http.ResponseWriter, r *http.Request, name string, b []byte, ignoreRange bool) {
	cw := &faultWriter{ResponseWriter: w, f: f, name: name}
	f.mu.Lock()
	if isLFS(name) {
		cw.dropAfter, cw.budgeted = f.dropAfter, true
	}
	if f.stallOnce && isLFS(name) && r.Header.Get("Range") != "" && !strings.HasPrefix(r.Header.Get("Range"), "bytes=0-") {
		f.stallOnce = false
		cw.stallAfter = 10
		cw.stallCtx = r.Context()
	}
	f.mu.Unlock()
	if ignoreRange {
		r.Header.Del("Range")
	}
	http.ServeContent(cw, r, name, time.Time{}, bytes.NewReader(b))
}

// faultWriter counts the body bytes of a response and cuts or stalls it as configured.
type faultWriter struct {
	http.ResponseWriter
	f          *fakeHub
	name       string
	n          int64
	dropAfter  int64
	budgeted   bool // counts against fakeHub.budget
	stallAfter int64
	stallCtx   context.Context
}

func (c *faultWriter) Write(p []byte) (int, error) {
	c.f.mu.Lock()
	allowed := int64(len(p))
	if c.dropAfter > 0 {
		allowed = min(allowed, c.dropAfter-c.n)
	}
	if c.budgeted && c.f.budget >= 0 {
		allowed = min(allowed, c.f.budget)
		c.f.budget -= max(allowed, 0)
	}
	if c.stallAfter > 0 {
		allowed = min(allowed, c.stallAfter-c.n)
	}
	allowed = max(allowed, 0)
	c.f.served[c.name] += allowed
	c.f.mu.Unlock()
	n, err := c.ResponseWriter.Write(p[:allowed])
	c.n += int64(n)
	if err == nil && allowed < int64(len(p)) {
		c.ResponseWriter.(http.Flusher).Flush()
		if c.stallAfter > 0 {
			<-c.stallCtx.Done() // until the client gives up
		}
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	return n, err
}
