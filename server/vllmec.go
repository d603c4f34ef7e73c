package server

import (
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/mmhash"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// ecHeader is the response header of an encode that wrote vLLM encoder-cache entries
// (Config.VLLMECDir): each image's mm_hash in order, comma-separated, "-" for one not written.
const ecHeader = "X-Vllm-Ec-Hashes"

// ecKey is the hash key of Config.VLLMModel and VLLMHash with the request's mm_processor_kwargs
// (for /v1/encode, its min_pixels and max_pixels, in that order, as the vLLM request must
// carry them).
func (s *Server) ecKey(kw mmhash.Map) mmhash.Key {
	return mmhash.Key{Algorithm: mmhash.Algorithm(s.cfg.VLLMHash), ModelID: s.cfg.VLLMModel, MMProcessorKwargs: kw}
}

// encodeKwargs are /v1/encode's pixel bounds as mm_processor_kwargs.
func encodeKwargs(p *encodeParams) mmhash.Map {
	var kw mmhash.Map
	if p.minPixels != nil {
		kw = append(kw, mmhash.Member{Key: "min_pixels", Value: int64(*p.minPixels)})
	}
	if p.maxPixels != nil {
		kw = append(kw, mmhash.Member{Key: "max_pixels", Value: int64(*p.maxPixels)})
	}
	return kw
}

// ecHash is the image's mm_hash, or "" when no entry can be written for it (logged).
func (s *Server) ecHash(key mmhash.Key, im rawImage) string {
	h, err := pipeline.VLLMImageHash(key, im.name, im.data)
	if err != nil {
		s.log.Warn("no vLLM encoder-cache entry", "image", im.name, "err", strings.TrimPrefix(err.Error(), "pipeline: "))
		return ""
	}
	return h
}

// ecWrite writes the entries of f's items under Config.VLLMECDir, hashes[i] the i-th item's
// ("" skips it), and returns the ecHeader value. A failed write is logged and skipped.
func (s *Server) ecWrite(f pipeline.Features, hashes []string) string {
	return strings.Join(s.ecWriteAll(f, hashes), ",")
}

// ecWriteAll is ecWrite's work: each item's written hash, "-" where none was written.
func (s *Server) ecWriteAll(f pipeline.Features, hashes []string) []string {
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = "-"
		if h == "" || i >= len(f.Items) {
			s.m.ecSkipped.Add(1)
			continue
		}
		entry, err := f.VLLMECEntry(i)
		var wrote bool
		if err == nil {
			wrote, err = pipeline.WriteVLLMEC(s.cfg.VLLMECDir, h, entry)
		}
		switch {
		case err != nil:
			s.log.Error("writing a vLLM encoder-cache entry", "image", f.Items[i].Name, "err", err)
			s.m.ecSkipped.Add(1)
			continue
		case wrote:
			s.m.ecWritten.Add(1)
		default:
			s.m.ecPresent.Add(1)
		}
		out[i] = h
	}
	return out
}
