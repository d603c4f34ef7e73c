package server

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"slices"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// prepared are a request's images on the encode path (/v1/encode, the proxy, a chat): each
// one's cache key, and either its cached result or, for the first image of each key missing
// from the cache, its preprocessed item.
type prepared struct {
	names   []string
	keys    []cacheKey
	entries []*cacheEntry         // nil: not cached
	items   map[int]pipeline.Item // the images to encode (the first of each key), with pixels
	first   map[cacheKey]int      // the image whose item stands for its key
	grids   []vision.Grid
	patches int // of every image, cached or not
	hits    int // images found in the cache
	flops   int64
	cached  bool // the keys are the cache's (else each image is its own, and nothing is cached)
}

// prepareImages looks every image up in the feature cache and decodes and preprocesses the
// others with opts (one per distinct image: identical bytes are encoded once), at most
// GOMAXPROCS requests at once, refusing the request as soon as the images to encode are
// estimated to need longer than the timeout. The images' bytes are let go. Without useCache
// (or without the model's digest) nothing is looked up or kept, and every image is
// preprocessed. param names an image in an error's param field (nil: none). A nil error with
// ctx done means the caller says why.
func (s *Server) prepareImages(ctx context.Context, lm *loadedModel, images []rawImage, opts imageproc.Options, useCache bool, param func(rawImage) string) (*prepared, *apiError) {
	n := len(images)
	p := &prepared{names: make([]string, n), keys: make([]cacheKey, n), entries: make([]*cacheEntry, n),
		items: map[int]pipeline.Item{}, first: map[cacheKey]int{}, grids: make([]vision.Grid, n)}
	p.cached = useCache && lm.digest != ""
	var scope []byte
	if p.cached {
		scope = cacheScope(lm.digest, lm.model, opts)
	}
	var todo []int
	for i := range images {
		p.names[i] = images[i].name
		if !p.cached {
			// Nothing is cached: every image is its own, as without a cache.
			binary.LittleEndian.PutUint64(p.keys[i][:], uint64(i))
		} else {
			p.keys[i] = keyOf(scope, images[i].data)
		}
		if _, seen := p.first[p.keys[i]]; seen {
			images[i].data = nil
			continue
		}
		p.first[p.keys[i]] = i
		if p.cached {
			p.entries[i] = s.cache.get(p.keys[i])
		}
		if p.entries[i] == nil {
			todo = append(todo, i)
		} else {
			images[i].data = nil
		}
	}
	if len(todo) > 0 {
		select {
		case s.decodeSem <- struct{}{}:
		case <-ctx.Done():
			return nil, nil
		}
		var e *apiError
		for k, i := range todo {
			if ctx.Err() != nil {
				break
			}
			var img *imageproc.Image
			img, e = preprocess(images[i], opts)
			images[i].data = nil
			if e != nil {
				if param != nil {
					e.param = param(images[i])
				}
				break
			}
			it := pipeline.ImageItem(images[i].name, img)
			p.items[i] = it
			p.flops += vision.FLOPs(lm.vcfg, []vision.Grid{it.Grid})
			if e = s.checkCost(p.flops, k+1, len(todo)); e != nil {
				break
			}
		}
		<-s.decodeSem
		if e != nil || ctx.Err() != nil {
			return nil, e
		}
	}
	for i := range images {
		j := p.first[p.keys[i]]
		if e := p.entries[j]; e != nil {
			p.hits++
			p.grids[i] = e.item.Grid
		} else {
			p.grids[i] = p.items[j].Grid
		}
		p.patches += p.grids[i].Patches()
	}
	return p, nil
}

// maxFlightRetries bounds how often an image whose encode another request was running is
// waited for again after that request gave up (its client went away).
const maxFlightRetries = 8

// encode returns the images' features, in order and named as the images: the cached ones as
// they are; the others encoded in one batcher job, except those another request is already
// encoding, which are waited for (and encoded here if that request gives up). Every result
// encoded is put in the cache. batchRequests is the size of the batch the job shared (0 when
// nothing was encoded here). A nil error with ctx done means the caller says why.
func (s *Server) encode(ctx context.Context, lm *loadedModel, p *prepared) (f pipeline.Features, batchRequests int, ae *apiError) {
	for try := 0; ; try++ {
		var lead []int
		flights := map[int]*flight{}
		waits := map[int]*flight{}
		for _, i := range p.first {
			if p.entries[i] != nil {
				continue
			}
			if !p.cached { // nothing cached or shared: encoded here
				lead = append(lead, i)
				continue
			}
			e, fl, leader := s.cache.claim(p.keys[i])
			switch {
			case e != nil:
				p.entries[i] = e
			case leader:
				lead = append(lead, i)
				flights[i] = fl
			default:
				waits[i] = fl
			}
		}
		if len(lead) > 0 {
			n, e := s.encodeLead(ctx, lm, p, lead, flights)
			if e != nil || ctx.Err() != nil {
				return f, 0, e
			}
			batchRequests = n
		}
		for i, fl := range waits {
			select {
			case <-fl.done:
				p.entries[i] = fl.entry // nil if its leader gave up: claimed again below
			case <-ctx.Done():
				return f, 0, nil
			}
		}
		missing := false
		for _, i := range p.first {
			missing = missing || p.entries[i] == nil
		}
		if !missing {
			break
		}
		if try == maxFlightRetries {
			return f, 0, errorf(http.StatusServiceUnavailable, CodeInternal, "the encode of an identical image in another request failed %d times", try+1)
		}
	}
	entries := make([]*cacheEntry, len(p.keys))
	for i, k := range p.keys {
		entries[i] = p.entries[p.first[k]]
	}
	p.items = nil
	return features(entries, p.names), batchRequests, nil
}

// encodeLead encodes the images at lead (in key order of p.first, sorted here by image) in
// one batcher job and ends their flights: with the entries, or with the error (the waiters
// then try themselves).
func (s *Server) encodeLead(ctx context.Context, lm *loadedModel, p *prepared, lead []int, flights map[int]*flight) (batchRequests int, ae *apiError) {
	slices.Sort(lead)
	ended := false
	fail := func(err error) {
		if !ended {
			ended = true
			for _, i := range lead {
				if fl := flights[i]; fl != nil {
					s.cache.finish(p.keys[i], fl, nil, false, err)
				}
			}
		}
	}
	defer fail(errors.New("the encode did not finish"))
	items := make([]pipeline.Item, len(lead))
	patches := 0
	var flops int64
	for k, i := range lead {
		items[k] = p.items[i]
		delete(p.items, i)
		patches += items[k].Grid.Patches()
		flops += vision.FLOPs(lm.vcfg, []vision.Grid{items[k].Grid})
	}
	j := &job{ctx: ctx, items: items, patches: patches, flops: flops, done: make(chan result, 1)}
	items = nil
	if err := lm.batcher.submit(j); err != nil {
		fail(err)
		e := errorf(http.StatusServiceUnavailable, CodeDraining, "the server is shutting down")
		e.retryAfter = 1
		return 0, e
	}
	var res result
	select {
	case res = <-j.done:
	case <-ctx.Done():
		lm.batcher.withdraw(j) // if still queued, it never starts
		fail(ctx.Err())
		return 0, nil
	}
	j.items = nil
	if res.err != nil {
		fail(res.err)
		switch {
		case errors.Is(res.err, errAborted):
			e := errorf(http.StatusServiceUnavailable, CodeDraining, "aborted: the server shut down before the encode finished")
			e.retryAfter = 1
			return 0, e
		case errors.Is(res.err, context.Canceled), errors.Is(res.err, context.DeadlineExceeded):
			return 0, nil // the request's context is done: the caller says why
		}
		s.log.Error("encode failed", "err", res.err)
		return 0, errorf(http.StatusInternalServerError, CodeInternal, "encode failed: %v", res.err)
	}
	ended = true
	for k, i := range lead {
		e := entryOf(res.features, k, flights[i] != nil)
		p.entries[i] = e
		if fl := flights[i]; fl != nil {
			s.cache.finish(p.keys[i], fl, e, true, nil)
		}
	}
	return res.batchRequests, nil
}
