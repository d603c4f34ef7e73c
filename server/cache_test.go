package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/vision"
)

// cachedServer is a test server whose model has a digest, so that the feature cache keeps
// its results; batches counts its encodes and images their items.
func cachedServer(t *testing.T, mutate func(*Config)) (ts *testServer, batches, images *atomic.Int64) {
	t.Helper()
	batches, images = new(atomic.Int64), new(atomic.Int64)
	cfg := testConfig()
	cfg.ModelDigest = "sha256:test-tiny-1"
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.wrapEncode = func(next encodeFunc) encodeFunc {
		return func(ctx context.Context, pixels []float32, grids []vision.Grid) (*vision.Output, error) {
			batches.Add(1)
			images.Add(int64(len(grids)))
			return next(ctx, pixels, grids)
		}
	}
	if err := s.SetModel(tiny(t), imageproc.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	ts = &testServer{Server: s}
	ts.http = httptest.NewServer(s)
	t.Cleanup(func() {
		ts.http.Close()
		s.Close()
	})
	return ts, batches, images
}

// encodeST posts images (multipart) and returns the safetensors body and X-Cache-Hits.
func encodeST(t *testing.T, ts *testServer, query string, images ...[]byte) ([]byte, string) {
	t.Helper()
	ct, body := multipartBody(t, nil, images...)
	resp, b := do(t, http.DefaultClient, "POST", ts.http.URL+"/v1/encode"+query, ct, body, map[string]string{"Accept": "application/octet-stream"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return b, resp.Header.Get("X-Cache-Hits")
}

// TestCacheHit checks that a repeated request is answered from the cache, bit for bit the
// same response, with no encode; that identical images in one request are encoded once; and
// the metrics.
func TestCacheHit(t *testing.T) {
	ts, batches, images := cachedServer(t, nil)
	a, b := pngImage(t, 64, 48, 1), pngImage(t, 40, 72, 2)

	first, hits := encodeST(t, ts, "", a, b, a)
	if hits != "0" || batches.Load() != 1 || images.Load() != 2 {
		t.Fatalf("first request: X-Cache-Hits %s, %d batches of %d images; want 0, 1 batch of 2 images (the repeated image once)", hits, batches.Load(), images.Load())
	}
	// The response is the encoder's, row for row.
	tensors, _, _ := parseSafetensors(t, first)
	want := expected(t, ts.Server, a, b, a)
	if got := tensors["pooler_output"].f32(); !slices.Equal(bits(got), bits(want.Pooler.Data)) {
		t.Fatalf("pooler_output differs from a direct encode")
	}

	second, hits := encodeST(t, ts, "", a, b, a)
	if hits != "3" || batches.Load() != 1 {
		t.Errorf("second request: X-Cache-Hits %s after %d batches; want 3 images from the cache and no new batch", hits, batches.Load())
	}
	if !bytes.Equal(first, second) {
		t.Errorf("the cached response differs from the encoded one")
	}
	m := metricsText(t, ts.Server)
	for _, c := range []struct {
		name string
		want float64
	}{
		{`qwen3vl_feature_cache_hits_total{tier="memory"}`, 2},
		{"qwen3vl_feature_cache_misses_total", 2},
		{"qwen3vl_feature_cache_entries", 2},
		{"qwen3vl_feature_cache_evictions_total", 0},
	} {
		if got := metricValue(t, m, c.name); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	if got := metricValue(t, m, "qwen3vl_feature_cache_bytes"); got <= 0 || got > float64(ts.cfg.CacheBytes) {
		t.Errorf("qwen3vl_feature_cache_bytes = %v, want in (0, %d]", got, ts.cfg.CacheBytes)
	}
}

func bits(x []float32) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = math.Float32bits(v)
	}
	return out
}

// TestCacheOptionsMiss checks that an option that changes the preprocessing, or another model
// digest, is another key.
func TestCacheOptionsMiss(t *testing.T) {
	ts, batches, _ := cachedServer(t, nil)
	img := pngImage(t, 96, 64, 3)
	encodeST(t, ts, "", img)
	if _, hits := encodeST(t, ts, "?max_pixels=8192", img); hits != "0" {
		t.Errorf("another max_pixels: X-Cache-Hits %s, want 0", hits)
	}
	if _, hits := encodeST(t, ts, "?min_pixels=8192", img); hits != "0" {
		t.Errorf("another min_pixels: X-Cache-Hits %s, want 0", hits)
	}
	if _, hits := encodeST(t, ts, "?max_pixels=8192", img); hits != "1" {
		t.Errorf("max_pixels again: X-Cache-Hits %s, want 1", hits)
	}
	if batches.Load() != 3 {
		t.Errorf("%d batches, want 3", batches.Load())
	}

	m := tiny(t)
	o := imageproc.DefaultOptions()
	base := keyOf(cacheScope("sha256:a", m, o), img)
	pil := o
	pil.Resampler = imageproc.ResamplePillow
	mean := o
	mean.Mean[1] = 0.25
	for name, k := range map[string]cacheKey{
		"digest":    keyOf(cacheScope("sha256:b", m, o), img),
		"resampler": keyOf(cacheScope("sha256:a", m, pil), img),
		"mean":      keyOf(cacheScope("sha256:a", m, mean), img),
		"bytes":     keyOf(cacheScope("sha256:a", m, o), append(slices.Clone(img), 0)),
	} {
		if k == base {
			t.Errorf("another %s gives the same key", name)
		}
	}
	if keyOf(cacheScope("sha256:a", m, o), img) != base {
		t.Errorf("the key is not stable")
	}
}

// TestCacheEviction checks the byte bound: least recently used first, never above it, an
// entry larger than the bound not kept.
func TestCacheEviction(t *testing.T) {
	entry := func(rows int) *cacheEntry {
		return &cacheEntry{pooler: vision.Matrix{Rows: rows, Cols: 256, Data: make([]float32, rows*256)}}
	}
	one := entry(1).size()
	c, err := newFeatureCache(3*one, "", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := func(i int) cacheKey { return keyOf([]byte("scope"), []byte{byte(i)}) }
	for i := range 3 {
		c.put(k(i), entry(1))
	}
	c.get(k(0)) // 1 is now the least recently used
	c.put(k(3), entry(1))
	if c.get(k(1)) != nil {
		t.Errorf("the least recently used entry was kept")
	}
	for _, i := range []int{0, 2, 3} {
		if c.get(k(i)) == nil {
			t.Errorf("entry %d was evicted", i)
		}
	}
	c.put(k(4), entry(2)) // two entries go
	if bytes, n := c.stats(); bytes > 3*one || n != 2 {
		t.Errorf("%d bytes in %d entries; want at most %d in 2", bytes, n, 3*one)
	}
	if c.evictions.Load() != 3 {
		t.Errorf("%d evictions, want 3", c.evictions.Load())
	}
	c.put(k(5), entry(5))
	if c.get(k(5)) != nil {
		t.Errorf("an entry larger than the bound was kept")
	}
	// A stream of distinct entries never holds more than the bound.
	for i := range 100 {
		c.put(keyOf([]byte("stream"), []byte{byte(i)}), entry(1+i%3))
		if bytes, _ := c.stats(); bytes > 3*one {
			t.Fatalf("%d bytes after %d puts, over the bound %d", bytes, i+1, 3*one)
		}
	}
}

// TestCacheDisk checks the shared folder: a second instance reads what the first wrote, bit
// for bit; a truncated or corrupted entry is a miss, removed, never served.
func TestCacheDisk(t *testing.T) {
	dir := t.TempDir()
	img := pngImage(t, 56, 56, 4)
	ts1, _, _ := cachedServer(t, func(c *Config) { c.CacheDir = dir })
	first, _ := encodeST(t, ts1, "", img)
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.qfc"))
	if len(files) != 1 {
		t.Fatalf("%d entries in the folder, want 1: %v", len(files), files)
	}

	ts2, batches2, _ := cachedServer(t, func(c *Config) { c.CacheDir = dir })
	second, hits := encodeST(t, ts2, "", img)
	if hits != "1" || batches2.Load() != 0 || !bytes.Equal(first, second) {
		t.Fatalf("second instance: X-Cache-Hits %s, %d batches, same bytes %v; want a disk hit, bit-identical", hits, batches2.Load(), bytes.Equal(first, second))
	}
	if v := metricValue(t, metricsText(t, ts2.Server), `qwen3vl_feature_cache_hits_total{tier="disk"}`); v != 1 {
		t.Errorf("disk hits %v, want 1", v)
	}

	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"truncated", good[:len(good)/2]},
		{"flipped", func() []byte { b := slices.Clone(good); b[len(b)/2] ^= 0x10; return b }()},
		{"empty", nil},
		{"another key", func() []byte { b := slices.Clone(good); b[8] ^= 1; return b }()},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(files[0], c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			ts, batches, _ := cachedServer(t, func(cfg *Config) { cfg.CacheDir = dir; cfg.CacheBytes = 0 })
			got, hits := encodeST(t, ts, "", img)
			if hits != "0" || batches.Load() != 1 {
				t.Errorf("X-Cache-Hits %s, %d batches; want a miss and an encode", hits, batches.Load())
			}
			if !bytes.Equal(got, first) {
				t.Errorf("the response differs from the first instance's")
			}
			if v := metricValue(t, metricsText(t, ts.Server), "qwen3vl_feature_cache_disk_corrupt_total"); v != 1 {
				t.Errorf("corrupt entries %v, want 1", v)
			}
			// The bad entry was removed and the new one written in its place.
			again, err := os.ReadFile(files[0])
			if err != nil || !bytes.Equal(again, good) {
				t.Errorf("the entry was not rewritten as the first instance wrote it (err %v)", err)
			}
		})
	}
}

// TestCacheConcurrent sends the same images from many clients at once: each distinct image is
// encoded once, every response is the same. Run with -race.
func TestCacheConcurrent(t *testing.T) {
	ts, _, images := cachedServer(t, nil)
	imgs := [][]byte{pngImage(t, 48, 48, 5), pngImage(t, 64, 32, 6), pngImage(t, 32, 80, 7)}
	const clients = 12
	bodies := make([][]byte, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			ct, body := multipartBody(t, nil, imgs[i%3], imgs[(i+1)%3])
			req, _ := http.NewRequest("POST", ts.http.URL+"/v1/encode", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Accept", "application/octet-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Errorf("client %d: status %d: %s", i, resp.StatusCode, b)
			}
			bodies[i] = b
		})
	}
	wg.Wait()
	if images.Load() != 3 {
		t.Errorf("%d images encoded for 3 distinct ones", images.Load())
	}
	for i := 3; i < clients; i++ {
		if !bytes.Equal(bodies[i], bodies[i%3]) {
			t.Errorf("client %d's response differs from client %d's", i, i%3)
		}
	}
}

// TestCacheOff checks -cache-bytes 0 without a folder: nothing kept, every request encoded.
func TestCacheOff(t *testing.T) {
	ts, batches, _ := cachedServer(t, func(c *Config) { c.CacheBytes = 0 })
	img := pngImage(t, 48, 48, 8)
	encodeST(t, ts, "", img)
	if _, hits := encodeST(t, ts, "", img); hits != "0" || batches.Load() != 2 {
		t.Errorf("X-Cache-Hits %s after %d batches, want 0 and 2", hits, batches.Load())
	}
}

// TestCacheThreadsInvariant checks what the key leaves out: the number of goroutines does not
// change a single bit of the outputs.
func TestCacheThreadsInvariant(t *testing.T) {
	cfg, err := vision.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	rgb, err := imageproc.Decode(context.Background(), bytes.NewReader(pngImage(t, 96, 80, 9)), "image", smallPre())
	if err != nil {
		t.Fatal(err)
	}
	img, err := imageproc.Preprocess(rgb, smallPre())
	if err != nil {
		t.Fatal(err)
	}
	var ref *vision.Output
	for _, threads := range []int{1, 2, 3, 5} {
		m, err := vision.Random(cfg, 1, vision.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Encode(context.Background(), img.Pixels, []vision.Grid{vision.Grid(img.Grid)})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = out
			continue
		}
		for name, p := range map[string][2][]float32{"pooler": {ref.Pooler.Data, out.Pooler.Data}, "last hidden": {ref.LastHidden.Data, out.LastHidden.Data}} {
			if !slices.Equal(bits(p[0]), bits(p[1])) {
				t.Errorf("%d threads: %s differs from 1 thread's", threads, name)
			}
		}
	}
}

// TestChatCacheResend checks that a chat resending the same image costs no encode the second
// time, and that /v1/encode of the same image then is a hit too.
func TestChatCacheResend(t *testing.T) {
	var batches atomic.Int64
	cfg := testConfig()
	cfg.Model, cfg.Chat, cfg.ModelDigest = chatModel, true, "sha256:test-chat"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.wrapEncode = func(next encodeFunc) encodeFunc {
		return func(ctx context.Context, pixels []float32, grids []vision.Grid) (*vision.Output, error) {
			batches.Add(1)
			return next(ctx, pixels, grids)
		}
	}
	if err := s.SetAssistant(tinyAssistant(t)); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, http: httptest.NewServer(s)}
	t.Cleanup(func() {
		ts.http.Close()
		s.Close()
	})
	img := pngImage(t, 40, 56, 3)
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)
	turn := `{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "` + uri + `"}}, {"type": "text", "text": "What is this?"}]}`
	ask := func(messages string) string {
		t.Helper()
		resp := postChat(t, ts, `{"messages": [`+messages+`], "max_tokens": 3, "temperature": 0}`)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		return string(b)
	}
	ask(turn)
	if batches.Load() != 1 {
		t.Fatalf("%d encodes for the first turn, want 1", batches.Load())
	}
	ask(turn + `, {"role": "assistant", "content": "A picture."}, ` + `{"role": "user", "content": "And now?"}`)
	ask(fmt.Sprintf("%s, %s", turn, turn)) // the same image twice in one conversation
	if batches.Load() != 1 {
		t.Errorf("%d encodes after resending the image, want still 1", batches.Load())
	}
	if _, hits := encodeST(t, ts, "", img); hits != "1" || batches.Load() != 1 {
		t.Errorf("/v1/encode of the chat's image: X-Cache-Hits %s, %d encodes; want a hit", hits, batches.Load())
	}
}

// smallPre is testConfig's budget on the released preprocessing.
func smallPre() imageproc.Options {
	o := imageproc.DefaultOptions()
	c := testConfig()
	o.MinPixels, o.MaxPixels = c.MinPixels, c.MaxPixels
	return o
}

// TestProxyCacheResend checks that the proxy answers a resent image from the cache: the same
// body goes upstream, with no second encode.
func TestProxyCacheResend(t *testing.T) {
	up := recordUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[]}`)
	})
	ts, batches, _ := cachedServer(t, func(c *Config) { c.Upstream = up.srv.URL })
	img := pngImage(t, 60, 44, 11)
	req := `{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "` + dataURL(img) + `"}}, {"type": "text", "text": "hi"}]}]}`
	for i := range 2 {
		if resp, body := postProxy(t, ts, req, nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d: %s", i, resp.StatusCode, body)
		}
	}
	if batches.Load() != 1 {
		t.Errorf("%d encodes for one image sent twice, want 1", batches.Load())
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if len(up.bodies) != 2 || !bytes.Equal(up.bodies[0], up.bodies[1]) {
		t.Errorf("the upstream got %d bodies, or two different ones", len(up.bodies))
	}
}

// TestCacheDirBound checks -cache-dir-bytes: the folder stays within its bound, the entries
// used least recently go first, a writer's stale temporary file is removed.
func TestCacheDirBound(t *testing.T) {
	dir := t.TempDir()
	entry := func() *cacheEntry {
		e := &cacheEntry{
			pooler:     vision.Matrix{Rows: 1, Cols: 512, Data: make([]float32, 512)},
			deepstack:  []vision.Matrix{{Rows: 1, Cols: 512, Data: make([]float32, 512)}},
			lastHidden: vision.Matrix{Rows: 4, Cols: 256, Data: make([]float32, 1024)},
		}
		e.item.Grid = vision.Grid{T: 1, H: 2, W: 2}
		return e
	}
	probe, _ := openDiskCache(t.TempDir(), 0)
	size, err := probe.write(cacheKey{}, entry())
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "ab", ".x.qfc.tmp-1")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("partial"), 0o644)
	old := time.Now().Add(-2 * staleTemp)
	os.Chtimes(stale, old, old)

	c, err := newFeatureCache(0, dir, 3*size+size/2, nil) // room for 3 entries
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file is still there (%v)", err)
	}
	key := func(i int) cacheKey { return keyOf([]byte("bound"), []byte{byte(i)}) }
	put := func(i int) {
		f := &flight{done: make(chan struct{})}
		c.finish(key(i), f, entry(), true, nil)
		// The pruning order is by modification time: make it strictly increasing.
		at := time.Now().Add(time.Duration(i-100) * time.Second)
		os.Chtimes(c.disk.path(key(i)), at, at)
	}
	for i := range 3 {
		put(i)
	}
	// Entry 0 is read (a hit touches it): 1 is now the least recently used.
	if e, err := c.disk.read(key(0)); err != nil || e == nil {
		t.Fatalf("reading entry 0: %v", err)
	}
	put(3)
	for i, want := range []bool{true, false, true, true} {
		_, err := os.Stat(c.disk.path(key(i)))
		if got := err == nil; got != want {
			t.Errorf("entry %d on disk: %v, want %v", i, got, want)
		}
	}
	for i := 4; i < 40; i++ {
		put(i)
		if _, total := c.disk.scan(time.Now()); total > 3*size+size/2 {
			t.Fatalf("%d bytes in the folder after %d entries, over the bound %d", total, i+1, 3*size+size/2)
		}
	}
	if n := c.diskEvictions.Load(); n < 36 {
		t.Errorf("%d entries removed, want at least 36", n)
	}
}

// TestCacheBoundStream sends a stream of distinct images to a server whose cache holds three
// of them: the bytes held never pass the bound, the oldest are evicted, the newest still hit.
func TestCacheBoundStream(t *testing.T) {
	probe, _, _ := cachedServer(t, nil)
	encodeST(t, probe, "", pngImage(t, 64, 64, 100))
	one := metricValue(t, metricsText(t, probe.Server), "qwen3vl_feature_cache_bytes")
	bound := int64(3*one + one/2)
	ts, _, _ := cachedServer(t, func(c *Config) { c.CacheBytes = bound })
	var imgs [][]byte
	for i := range 12 {
		img := pngImage(t, 64, 64, 200+i) // same size, so the same entry size
		imgs = append(imgs, img)
		encodeST(t, ts, "", img)
		m := metricsText(t, ts.Server)
		if b := metricValue(t, m, "qwen3vl_feature_cache_bytes"); b > float64(bound) {
			t.Fatalf("after %d images: %v bytes held, over the bound %d", i+1, b, bound)
		}
	}
	m := metricsText(t, ts.Server)
	if n := metricValue(t, m, "qwen3vl_feature_cache_entries"); n != 3 {
		t.Errorf("%v entries held, want 3", n)
	}
	if n := metricValue(t, m, "qwen3vl_feature_cache_evictions_total"); n != 9 {
		t.Errorf("%v evictions, want 9", n)
	}
	if _, hits := encodeST(t, ts, "", imgs[11]); hits != "1" {
		t.Errorf("the newest image: X-Cache-Hits %s, want 1", hits)
	}
	if _, hits := encodeST(t, ts, "", imgs[0]); hits != "0" {
		t.Errorf("the oldest image: X-Cache-Hits %s, want 0 (evicted)", hits)
	}
}
