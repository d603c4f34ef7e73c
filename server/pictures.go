package server

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/picture"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// Media type of the pictures.
const formatPNG = "image/png"

// explainRoute is POST /v1/explain.png: the image as the processor resized it, with its patch
// grid, merge windows and token numbers, beside the dataflow of the tower for it
// (picture.Explain). No encode runs: the picture needs the image's size and the configuration.
var explainRoute = &encodeRoute{
	path:      "/v1/explain.png",
	one:       true,
	pixels:    true,
	negotiate: negotiatePNG,
	answer:    (*Server).answerExplain,
}

// featuresRoute is POST /v1/features.png: the image encoded as /v1/encode encodes it (the
// same batcher), and the PCA of each output, pooler_output, every DeepStack level and
// last_hidden_state, drawn as colours on the image grid (picture.Features).
var featuresRoute = &encodeRoute{
	path:      "/v1/features.png",
	one:       true,
	pixels:    true,
	negotiate: negotiatePNG,
	answer:    (*Server).answerFeatures,
}

// negotiatePNG accepts an Accept header that allows image/png (an empty one does): the most
// specific range that matches it (image/png, then image/*, then */*) decides, as RFC 9110
// §12.5.1 has it, so "image/png;q=0, */*" refuses it.
func negotiatePNG(accept string) (string, *apiError) {
	if strings.TrimSpace(accept) == "" {
		return formatPNG, nil
	}
	q := map[string]float64{} // by range: the highest q given for it
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		v := 1.0
		if qs, ok := params["q"]; ok {
			if v, err = strconv.ParseFloat(qs, 64); err != nil {
				continue
			}
		}
		if old, seen := q[mt]; !seen || v > old {
			q[mt] = v
		}
	}
	for _, mt := range []string{formatPNG, "image/*", "*/*"} {
		if v, ok := q[mt]; ok {
			if v > 0 {
				return formatPNG, nil
			}
			break
		}
	}
	return "", errorf(http.StatusNotAcceptable, CodeNotAcceptable, "Accept %q does not allow image/png, the only answer of this route", accept)
}

// resized is the request's one image as the processor resized it, read back from its pixel
// rows (imageproc.Unpatchify: the resized image exactly), or the error answered.
func resized(req *encodeRequest) (*imageproc.RGB, bool) {
	it := req.prep.items[0]
	img, err := imageproc.Unpatchify(it.Pixels, imageproc.Grid(it.Grid), 0, req.opts)
	if err != nil {
		req.fail(errorf(http.StatusInternalServerError, CodeInternal, "%s: the resized image: %v", it.Name, trimPrefix(err)))
		return nil, false
	}
	return img, true
}

// answerExplain answers POST /v1/explain.png.
func (s *Server) answerExplain(w http.ResponseWriter, req *encodeRequest) {
	it := req.prep.items[0]
	req.info.tokens = it.Grid.Patches() / (req.lm.vcfg.SpatialMergeSize * req.lm.vcfg.SpatialMergeSize)
	img, ok := resized(req)
	if !ok {
		return
	}
	source := fmt.Sprintf("%s, %d×%d after EXIF orientation", it.Name, it.Width, it.Height)
	e, err := pipeline.Explain(req.lm.vcfg, req.lm.id, req.opts, source, it.Width, it.Height)
	if err != nil {
		req.fail(errorf(http.StatusUnprocessableEntity, CodeImageUnprocessable, "%s: %s", it.Name, trimPackage(err)))
		return
	}
	req.prep = nil // the pixels let go
	png, ok := s.draw(req, it.Name, func(buf *bytes.Buffer) error { return picture.Explain(buf, img, e) })
	if ok {
		s.writePNG(w, req, png)
	}
}

// answerFeatures answers POST /v1/features.png.
func (s *Server) answerFeatures(w http.ResponseWriter, req *encodeRequest) {
	img, ok := resized(req)
	if !ok {
		return
	}
	view, batchRequests, ok := s.encodeFor(req)
	if !ok {
		return
	}
	cfg := req.lm.vcfg
	opts := picture.MapOptions{PatchSize: cfg.PatchSize, MergeSize: cfg.SpatialMergeSize, DeepstackBlocks: cfg.DeepstackVisualIndexes}
	png, ok := s.draw(req, view.Items[0].Name, func(buf *bytes.Buffer) error { return picture.Features(buf, img, view, opts) })
	if ok {
		w.Header().Set("X-Batch-Requests", strconv.Itoa(batchRequests))
		s.writePNG(w, req, png)
	}
}

// draw runs a picture's drawing as decoding runs, at most GOMAXPROCS at once (a picture of a
// large image is tens of MB while it is drawn), and returns its PNG, or answers the error.
func (s *Server) draw(req *encodeRequest, name string, f func(*bytes.Buffer) error) ([]byte, bool) {
	select {
	case s.decodeSem <- struct{}{}:
	case <-req.ctx.Done():
		req.fail(nil)
		return nil, false
	}
	var buf bytes.Buffer
	err := f(&buf)
	<-s.decodeSem
	if err != nil {
		req.fail(pictureError(name, err))
		return nil, false
	}
	return buf.Bytes(), true
}

// pictureError is the answer to a picture that could not be drawn: 422 when it would be too
// large, else 500 (non-finite features, a bug).
func pictureError(name string, err error) *apiError {
	msg := strings.TrimPrefix(err.Error(), "picture: ")
	if errors.Is(err, picture.ErrTooLarge) {
		return errorf(http.StatusUnprocessableEntity, CodeImageUnprocessable, "%s: %s", name, msg)
	}
	return errorf(http.StatusInternalServerError, CodeInternal, "%s: drawing the picture: %s", name, msg)
}

// writePNG answers a picture.
func (s *Server) writePNG(w http.ResponseWriter, req *encodeRequest, png []byte) {
	h := w.Header()
	h.Set("Content-Type", formatPNG)
	h.Set("Content-Length", strconv.Itoa(len(png)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(png); err != nil {
		s.abandon(req.info, err)
	}
}
