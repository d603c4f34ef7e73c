package server

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// cacheKey addresses one image's encode result: SHA-256 of the image's bytes and of the
// model's digest (cacheScope).
type cacheKey [32]byte

func (k cacheKey) String() string { return hex.EncodeToString(k[:]) }

// cacheFormat names the key rules and the disk entry layout; changing either changes it.
const cacheFormat = "qwen3vl-feature-cache-v1"

// cacheScope is what, beside an image's bytes, decides its features: the model's weights
// digest, how the weights are held and the arithmetic, the kernel implementation, the build
// (buildID), and every preprocessing option after the server's defaults and the request's
// overrides are resolved (imageproc.Options printed with %#v: every field, so a field added
// later is in the key too). Threads are not part of it: every kernel's task fixes its own
// summation order, so the outputs do not depend on how many goroutines run them
// (TestCacheThreadsInvariant).
func cacheScope(modelDigest string, m *vision.Model, opts imageproc.Options) []byte {
	return fmt.Appendf(nil, "%s\x00model=%s\x00weights=%s\x00compute=%s\x00kernels=%s\x00bf16dot=%t\x00build=%s\x00pre=%#v\x00",
		cacheFormat, modelDigest, m.Weights(), m.Compute(), kernels.Name(), kernels.BF16Dot(), buildID, opts)
}

// buildID names the build as far as it knows itself: the main module's version and, when the
// binary was built from a version-controlled tree, its revision (and whether it was
// modified). A build without either (a development build with -buildvcs=false) is
// "(devel)", the same for every such build: see the package documentation's Feature cache.
var buildID = func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	id := bi.Main.Version
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" || kv.Key == "vcs.modified" {
			id += " " + kv.Key + "=" + kv.Value
		}
	}
	return id
}()

// keyOf is the cache key of an image's bytes under scope.
func keyOf(scope, data []byte) cacheKey {
	h := sha256.New()
	h.Write(scope)
	h.Write(data)
	var k cacheKey
	h.Sum(k[:0])
	return k
}

// cacheEntry is one image's encode result: its item (without pixels) and its rows, held in
// matrices of their own (not views into a batch's output).
type cacheEntry struct {
	item       pipeline.Item
	pooler     vision.Matrix   // [tokens, out hidden]
	deepstack  []vision.Matrix // each [tokens, out hidden]
	lastHidden vision.Matrix   // [patches, hidden]
}

// entryOverhead is what an entry costs beside its float32 rows (structs, list and map cells),
// counted so that many tiny entries cannot outgrow the bound.
const entryOverhead = 512

// floats is the number of float32 values the entry holds.
func (e *cacheEntry) floats() int {
	n := len(e.pooler.Data) + len(e.lastHidden.Data)
	for _, d := range e.deepstack {
		n += len(d.Data)
	}
	return n
}

// size is the entry's accounted size in bytes.
func (e *cacheEntry) size() int64 { return int64(4*e.floats()) + entryOverhead }

// entryOf is item i of f as an entry: with own, in matrices of its own (for the cache: an
// entry must not keep a whole batch's output alive), else views into f.
func entryOf(f pipeline.Features, i int, own bool) *cacheEntry {
	g := f.Item(i)
	cp := func(x vision.Matrix) vision.Matrix {
		if own {
			x.Data = append([]float32(nil), x.Data...)
		}
		return x
	}
	e := &cacheEntry{item: g.Items[0], pooler: cp(g.Pooler), lastHidden: cp(g.LastHidden)}
	e.item.Pixels = nil
	for _, d := range g.Deepstack {
		e.deepstack = append(e.deepstack, cp(d))
	}
	return e
}

// features returns the entries' rows as one Features, items named by names: the entry's own
// matrices for one entry (read only), else copies.
func features(entries []*cacheEntry, names []string) pipeline.Features {
	one := func(i int) pipeline.Features {
		it := entries[i].item
		it.Name = names[i]
		return pipeline.Features{Items: []pipeline.Item{it}, Pooler: entries[i].pooler, Deepstack: entries[i].deepstack, LastHidden: entries[i].lastHidden}
	}
	if len(entries) == 1 {
		return one(0)
	}
	var f pipeline.Features
	for i := range entries {
		f.Append(one(i))
	}
	return f
}

// featureCache is the server's content-addressed cache of encode results: an LRU in memory
// bounded by bytes, optionally backed by a folder that several instances may share (see
// diskCache), and the encodes in flight, so that an image already being encoded for one
// request is waited for, not encoded again. Safe for concurrent use.
type featureCache struct {
	max  int64      // bytes in memory; 0: nothing is kept in memory
	disk *diskCache // nil: no folder
	log  *slog.Logger

	mu      sync.Mutex
	lru     *list.List                 // of *lruItem, most recent first
	entries map[cacheKey]*list.Element // in lru
	bytes   int64
	flights map[cacheKey]*flight

	hitsMemory, hitsDisk, misses, shared, evictions    atomic.Uint64
	diskWrites, diskErrors, diskCorrupt, diskEvictions atomic.Uint64
}

type lruItem struct {
	key   cacheKey
	entry *cacheEntry
	size  int64
}

// flight is one key's encode in progress; done is closed when entry (or err) is set.
type flight struct {
	done  chan struct{}
	entry *cacheEntry
	err   error
}

func newFeatureCache(maxBytes int64, dir string, dirBytes int64, log *slog.Logger) (*featureCache, error) {
	c := &featureCache{max: maxBytes, log: log, lru: list.New(), entries: map[cacheKey]*list.Element{}, flights: map[cacheKey]*flight{}}
	if dir != "" {
		d, err := openDiskCache(dir, dirBytes)
		if err != nil {
			return nil, err
		}
		c.disk = d
	}
	return c, nil
}

// enabled reports whether the cache keeps anything (in memory or in a folder).
func (c *featureCache) enabled() bool { return c.max > 0 || c.disk != nil }

// get returns the entry of k from memory, else from the folder (a verified entry read there
// is kept in memory too); nil on a miss. It counts hits, not misses (claim does).
func (c *featureCache) get(k cacheKey) *cacheEntry {
	if !c.enabled() {
		return nil
	}
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		c.lru.MoveToFront(el)
		e := el.Value.(*lruItem).entry
		c.mu.Unlock()
		c.hitsMemory.Add(1)
		return e
	}
	c.mu.Unlock()
	if c.disk == nil {
		return nil
	}
	e, err := c.disk.read(k)
	switch {
	case err == errNoEntry:
		return nil
	case err != nil:
		c.diskCorrupt.Add(1)
		c.warn("a feature cache entry is unusable: a miss", "key", k.String(), "err", err)
		return nil
	}
	c.hitsDisk.Add(1)
	c.put(k, e)
	return e
}

// claim is a miss's next step: the entry if it arrived meanwhile; else the encode of k in
// flight (leader false: wait for it), or a new one that the caller must finish (leader true).
func (c *featureCache) claim(k cacheKey) (e *cacheEntry, f *flight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.lru.MoveToFront(el)
		c.hitsMemory.Add(1)
		return el.Value.(*lruItem).entry, nil, false
	}
	if f, ok := c.flights[k]; ok {
		c.shared.Add(1)
		return nil, f, false
	}
	c.misses.Add(1)
	f = &flight{done: make(chan struct{})}
	c.flights[k] = f
	return nil, f, true
}

// finish ends the leader's flight of k with its entry (kept in memory and in the folder when
// keep is set) or its error (the waiters then encode it themselves).
func (c *featureCache) finish(k cacheKey, f *flight, e *cacheEntry, keep bool, err error) {
	if e != nil && keep && c.max > 0 {
		c.put(k, e)
	}
	c.mu.Lock()
	if c.flights[k] == f {
		delete(c.flights, k)
	}
	c.mu.Unlock()
	f.entry, f.err = e, err
	close(f.done)
	if e != nil && keep && c.disk != nil {
		if n, err := c.disk.write(k, e); err != nil {
			c.diskErrors.Add(1)
			c.warn("writing a feature cache entry", "key", k.String(), "err", err)
		} else {
			c.diskWrites.Add(1)
			c.diskEvictions.Add(uint64(c.disk.added(n)))
		}
	}
}

// put keeps e in memory, evicting the least recently used entries beyond the bound; an entry
// larger than the whole bound is not kept.
func (c *featureCache) put(k cacheKey, e *cacheEntry) {
	size := e.size()
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.lru.MoveToFront(el)
		return
	}
	c.entries[k] = c.lru.PushFront(&lruItem{key: k, entry: e, size: size})
	c.bytes += size
	for c.bytes > c.max {
		el := c.lru.Back()
		it := el.Value.(*lruItem)
		c.lru.Remove(el)
		delete(c.entries, it.key)
		c.bytes -= it.size
		c.evictions.Add(1)
	}
}

// stats returns the bytes and entries held in memory.
func (c *featureCache) stats() (bytes int64, entries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, len(c.entries)
}

func (c *featureCache) warn(msg string, args ...any) {
	if c.log != nil {
		c.log.Warn(msg, args...)
	}
}
