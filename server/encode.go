package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/vision"
)

// Response formats of POST /v1/encode, chosen by the Accept header.
const (
	formatJSON        = "application/json"
	formatSafetensors = "application/octet-stream"
)

// encodeParams are a request's options, from the query string or the body.
type encodeParams struct {
	route                *encodeRoute // the route the request came by: which options it takes
	minPixels, maxPixels *int
	lastHidden           bool
	vllm                 bool   // format=vllm: a JSON array of vLLM image_embeds content parts
	format               string // the response's media type, negotiated from Accept
}

// rawImage is one image as received: its bytes, or the URL to fetch them from.
type rawImage struct {
	name  string
	data  []byte
	url   *url.URL // to fetch (under the allow-list); nil: data is the image
	param string   // the request field of the URL, for the OpenAI error body
}

// encodeRoute is one route of the encode path: POST /v1/encode and the pictures of the page
// (POST /v1/explain.png, POST /v1/features.png). They share one path, serveEncode: the cheap
// checks, admission (Config.Queue), the body read under its limits (MaxBody, the minimum
// upload rate, Timeout), the images fetched, decoded and preprocessed under the budget and
// the decode limit, admission by cost; they differ in the options they take, the media
// types they answer, and the answer.
type encodeRoute struct {
	path string
	// options are the request options taken besides min_pixels and max_pixels: "include",
	// "format" (query only).
	options []string
	// one: the route draws one image, and refuses a request with more.
	one bool
	// pixels: the route draws the preprocessed pixels, so its images are always preprocessed
	// (never answered from the feature cache alone).
	pixels bool
	// negotiate picks the response's media type from the Accept header.
	negotiate func(accept string) (string, *apiError)
	// answer writes the response of a request read, admitted and preprocessed; it encodes
	// the items with s.encode when it needs the tower's outputs.
	answer func(s *Server, w http.ResponseWriter, req *encodeRequest)
}

// takes reports whether the route takes the option name.
func (r *encodeRoute) takes(name string) bool { return slices.Contains(r.options, name) }

// encodeAPI is the route of POST /v1/encode.
var encodeAPI = &encodeRoute{
	path:      "/v1/encode",
	options:   []string{"include", "format"},
	negotiate: negotiate,
	answer:    (*Server).answerEncode,
}

// encodeRequest is a request on the encode path, read, admitted and preprocessed: what a
// route answers from. fail answers it with an error (or the cause its context ended with).
type encodeRequest struct {
	lm     *loadedModel
	ctx    context.Context
	start  time.Time
	params encodeParams
	opts   imageproc.Options // the preprocessing of its images: the server's, its budget
	prep   *prepared         // the images looked up in the cache, the others preprocessed
	info   *reqInfo
	fail   func(e *apiError)
	// ecHashes are the items' vLLM encoder-cache hashes, when the server writes its entries
	// (Config.VLLMECDir), else nil.
	ecHashes []string
}

// handleEncode serves POST /v1/encode.
func (s *Server) handleEncode(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	s.serveEncode(w, r, info, encodeAPI)
}

// serveEncode serves a request of an encode-path route: the checks that need no body first,
// then a queue slot, the body, the images fetched, decoded and preprocessed (at most
// GOMAXPROCS requests at once, refused as soon as their estimated work is over the timeout),
// and the route's answer.
func (s *Server) serveEncode(w http.ResponseWriter, r *http.Request, info *reqInfo, route *encodeRoute) {
	start := time.Now()
	lm := s.model.Load()
	if e := s.notReady(); e != nil {
		s.fail(w, info, e)
		return
	}

	// Cheap checks first, before a queue slot is taken or the body is read.
	params := encodeParams{route: route}
	format, e := route.negotiate(r.Header.Get("Accept"))
	if e != nil {
		s.fail(w, info, e)
		return
	}
	params.format = format
	if e := parseQuery(r.URL.Query(), &params); e != nil {
		s.fail(w, info, e)
		return
	}
	if params.vllm && format != formatJSON {
		s.fail(w, info, errorf(http.StatusNotAcceptable, CodeNotAcceptable, "format=vllm answers application/json, which the Accept header %q does not prefer", r.Header.Get("Accept")))
		return
	}
	mediaType, mediaParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case r.Header.Get("Content-Type") == "":
		s.fail(w, info, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "no Content-Type: send multipart/form-data, image/*, or application/json"))
		return
	case err != nil:
		s.fail(w, info, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "malformed Content-Type %q: %v", r.Header.Get("Content-Type"), err))
		return
	case mediaType == "multipart/form-data", mediaType == "application/json", strings.HasPrefix(mediaType, "image/"):
	default:
		s.fail(w, info, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Content-Type %s is not supported: send multipart/form-data, image/*, or application/json", mediaType))
		return
	}
	if r.ContentLength > s.cfg.MaxBody {
		s.fail(w, info, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body is %d bytes, over the body limit of %s", r.ContentLength, sizeString(s.cfg.MaxBody)))
		return
	}

	release, e := s.admitEncode()
	if e != nil {
		s.fail(w, info, e)
		return
	}
	defer release()

	// The request's context ends when its client goes, when its time is up (cause
	// errTimedOut) and when a shutdown runs out of time (cause errAborted).
	actx, stop := s.requestContext(r)
	defer stop()
	ctx, cancel := context.WithTimeoutCause(actx, s.cfg.Timeout, errTimedOut)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(deadline.Add(30 * time.Second)) // a slow reader gets 30 s more
	defer rc.SetWriteDeadline(time.Time{})              // net/http does not reset it for the next request
	up := s.newUpload(r, rc, deadline)
	fail := func(e *apiError) { s.failRequest(w, ctx, up, info, e, start) }

	body := http.MaxBytesReader(w, up, s.cfg.MaxBody)
	var images []rawImage
	switch {
	case mediaType == "multipart/form-data":
		images, e = s.readMultipart(body, mediaParams["boundary"], &params)
	case mediaType == "application/json":
		images, e = s.readJSON(body, &params)
	default:
		var data []byte
		data, e = readAll(body, "the body")
		if e == nil {
			if len(data) == 0 {
				e = errorf(http.StatusBadRequest, CodeInvalidRequest, "the body is empty: send the image file's bytes")
			}
			images = []rawImage{{name: "image 0", data: data}}
		}
	}
	if e == nil {
		if _, err := io.Copy(io.Discard, body); err != nil { // anything after a multipart's closing boundary
			e = bodyError(err, "the body")
		}
	}
	if e != nil {
		fail(e)
		return
	}
	up.finish()
	if len(images) == 0 {
		fail(errorf(http.StatusBadRequest, CodeInvalidRequest, "no images in the request"))
		return
	}
	if route.one && len(images) > 1 {
		fail(errorf(http.StatusBadRequest, CodeInvalidRequest, "%d images in the request: %s draws one", len(images), route.path))
		return
	}
	info.images = len(images)
	opts, e := budget(lm, &params)
	if e != nil {
		fail(e)
		return
	}
	if e := s.fetchImages(ctx, images); e != nil || ctx.Err() != nil {
		fail(e)
		return
	}

	// The images' vLLM hashes from their bytes, before the cache lets them go; then looked up
	// in the feature cache (routes that draw the pixels always preprocess), the others decoded
	// and preprocessed, at most GOMAXPROCS requests at once, and refused as soon as they are
	// estimated to need longer than the timeout.
	var ecHashes []string
	if s.cfg.VLLMECDir != "" {
		ecKey := s.ecKey(encodeKwargs(&params))
		for i := range images {
			ecHashes = append(ecHashes, s.ecHash(ecKey, images[i]))
		}
	}
	prep, e := s.prepareImages(ctx, lm, images, opts, !route.pixels, nil)
	if e != nil || ctx.Err() != nil {
		fail(e)
		return
	}
	images = nil
	info.patches = prep.patches
	route.answer(s, w, &encodeRequest{lm: lm, ctx: ctx, start: start, params: params, opts: opts, prep: prep, info: info, fail: fail, ecHashes: ecHashes})
}

// encodeFor encodes the request's images (s.encode: the cached ones as they are, the others
// through the batcher) and returns their features and the size of the batch shared, or
// answers the request with the error and returns false.
func (s *Server) encodeFor(req *encodeRequest) (pipeline.Features, int, bool) {
	lm, info := req.lm, req.info
	view, batchRequests, e := s.encode(req.ctx, lm, req.prep)
	if e != nil || req.ctx.Err() != nil {
		req.fail(e)
		return pipeline.Features{}, 0, false
	}
	info.tokens = req.prep.patches / (lm.vcfg.SpatialMergeSize * lm.vcfg.SpatialMergeSize)
	info.batch = batchRequests
	s.m.requestSeconds.observe(time.Since(req.start).Seconds())
	return view, batchRequests, true
}

// answerEncode answers POST /v1/encode: the features as JSON, safetensors or vLLM parts.
func (s *Server) answerEncode(w http.ResponseWriter, req *encodeRequest) {
	view, batchRequests, ok := s.encodeFor(req)
	if !ok {
		return
	}
	lm, params := req.lm, req.params
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Batch-Requests", strconv.Itoa(batchRequests))
	h.Set("X-Cache-Hits", strconv.Itoa(req.prep.hits))
	if req.ecHashes != nil {
		h.Set(ecHeader, s.ecWrite(view, req.ecHashes))
	}
	var err error
	switch {
	case params.vllm:
		var buf bytes.Buffer
		if err := view.WriteVLLMJSON(&buf); err != nil {
			s.log.Error("vllm parts", "err", err)
			req.fail(errorf(http.StatusInternalServerError, CodeInternal, "writing the vLLM parts: %v", err))
			return
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(buf.Bytes())
	case params.format == formatSafetensors:
		h.Set("Content-Type", formatSafetensors)
		h.Set("Content-Disposition", `attachment; filename="features.safetensors"`)
		w.WriteHeader(http.StatusOK)
		err = safetensors.Write(w, view.Tensors(), lm.metadata(view.Items))
	default:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriterSize(w, 256<<10)
		writeEncodeJSON(bw, lm.id, view, params.lastHidden)
		err = bw.Flush()
	}
	if err != nil {
		s.abandon(req.info, err)
	}
}

// abandon ends a request whose response could not be written whole: the client went away
// (or stopped reading) half-way, so the response was not delivered. The connection is closed
// rather than let net/http end it as if complete.
func (s *Server) abandon(info *reqInfo, err error) {
	s.log.Debug("writing the response", "err", err)
	info.clientGone = true
	info.code = "client_gone"
	panic(http.ErrAbortHandler)
}

// failRequest answers a request that cannot go on: e, unless the body missed its deadline
// (408 below the minimum upload rate, 504 at the timeout), the time is up (504), the server
// shut down (503) or the client has gone (nothing can be sent: the connection is closed and
// the request logged as 499). A nil e with none of these is an internal error.
func (s *Server) failRequest(w http.ResponseWriter, ctx context.Context, up *upload, info *reqInfo, e *apiError, start time.Time) {
	cause := context.Cause(ctx)
	switch {
	case up.err == errSlowUpload:
		s.fail(w, info, errorf(http.StatusRequestTimeout, CodeSlowUpload, "the body arrived at %s/s (%d bytes in %v), below the minimum upload rate of %s/s",
			sizeString(int64(up.rate())), up.n, time.Since(up.start).Round(time.Millisecond), sizeString(s.cfg.MinUploadRate)))
	case up.err == errTimedOut, ctx.Err() != nil && cause == errTimedOut:
		s.fail(w, info, s.timeoutError(start))
	case ctx.Err() != nil && cause == errAborted:
		e := errorf(http.StatusServiceUnavailable, CodeDraining, "aborted: the server shut down before the request finished")
		e.retryAfter = 1
		s.fail(w, info, e)
	case ctx.Err() != nil:
		info.clientGone = true
		info.code = "client_gone"
		panic(http.ErrAbortHandler)
	case e == nil:
		s.fail(w, info, errorf(http.StatusInternalServerError, CodeInternal, "internal error: request ended without a cause"))
	default:
		s.fail(w, info, e)
	}
}

// checkCost refuses (413 too_much_work) images whose estimated work, flops for the first
// done of n images, cannot finish within the request timeout at this instance's measured
// speed.
func (s *Server) checkCost(flops int64, done, n int) *apiError {
	speed := s.speed.gflops()
	if speed <= 0 {
		return nil
	}
	gflop := float64(flops) / 1e9
	secs := gflop / speed
	if secs <= s.cfg.Timeout.Seconds() {
		return nil
	}
	what := "the image needs"
	if n > 1 && done < n {
		what = fmt.Sprintf("the first %d of the %d images need", done, n)
	} else if n > 1 {
		what = fmt.Sprintf("the %d images need", n)
	}
	return errorf(http.StatusRequestEntityTooLarge, CodeTooMuchWork,
		"%s an estimated %.0f GFLOP; at this instance's measured %.1f GFLOP/s that is about %.0f s, over the request timeout of %v: send fewer or smaller images, or a lower max_pixels",
		what, gflop, speed, math.Ceil(secs), s.cfg.Timeout)
}

// timeoutError is the 504 of a request over -timeout.
func (s *Server) timeoutError(start time.Time) *apiError {
	return errorf(http.StatusGatewayTimeout, CodeTimeout, "the request took longer than the request timeout of %v (%v elapsed)", s.cfg.Timeout, time.Since(start).Round(time.Millisecond))
}

// retryAfter estimates, in whole seconds, when a slot may be free: the mean encode time of a
// batch, at least 1 s and at most 60 s.
func (s *Server) retryAfter() int {
	_, sum, n := s.m.encodeSeconds.snapshot()
	if n == 0 {
		return 1
	}
	return int(min(60, max(1, math.Ceil(sum/float64(n)))))
}

// negotiate picks the response format from an Accept header: JSON unless
// application/octet-stream is preferred; 406 if neither is acceptable.
func negotiate(accept string) (string, *apiError) {
	if strings.TrimSpace(accept) == "" {
		return formatJSON, nil
	}
	q := map[string]float64{formatJSON: -1, formatSafetensors: -1}
	spec := map[string]int{formatJSON: -1, formatSafetensors: -1} // how specific the match was
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		weight := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				weight = f
			}
		}
		for cand := range q {
			typ, _, _ := strings.Cut(cand, "/")
			level := -1
			switch {
			case mt == cand:
				level = 2
			case mt == typ+"/*":
				level = 1
			case mt == "*/*":
				level = 0
			}
			if level > spec[cand] {
				spec[cand], q[cand] = level, weight
			}
		}
	}
	switch {
	case q[formatSafetensors] > 0 && q[formatSafetensors] > q[formatJSON]:
		return formatSafetensors, nil
	case q[formatJSON] > 0:
		return formatJSON, nil
	case q[formatSafetensors] > 0:
		return formatSafetensors, nil
	}
	return "", errorf(http.StatusNotAcceptable, CodeNotAcceptable, "Accept %q allows neither application/json nor application/octet-stream (safetensors)", accept)
}

// parseQuery reads min_pixels, max_pixels and the route's options (include, format)
// from the query string.
func parseQuery(q url.Values, p *encodeParams) *apiError {
	for key, vals := range q {
		if len(vals) != 1 {
			return errorf(http.StatusBadRequest, CodeInvalidParameter, "query parameter %s is given %d times", key, len(vals))
		}
		v := vals[0]
		switch {
		case key == "min_pixels", key == "max_pixels":
			if e := setPixels(p, key, v); e != nil {
				return e
			}
		case key == "include" && p.route.takes(key):
			if e := setInclude(p, v); e != nil {
				return e
			}
		case key == "format" && p.route.takes(key):
			switch v {
			case "vllm":
				p.vllm = true
			case "json":
			default:
				return errorf(http.StatusBadRequest, CodeInvalidParameter, "format=%q: want vllm (a JSON array of vLLM image_embeds content parts) or json (the default response)", v)
			}
		default:
			return errorf(http.StatusBadRequest, CodeInvalidParameter, "unknown query parameter %q (known: %s)", key, strings.Join(append([]string{"min_pixels", "max_pixels"}, p.route.options...), ", "))
		}
	}
	if p.vllm && p.lastHidden {
		return errVLLMLastHidden()
	}
	return nil
}

func errVLLMLastHidden() *apiError {
	return errorf(http.StatusBadRequest, CodeInvalidParameter, "include=last_hidden_state does not go with format=vllm (a vLLM image_embeds part holds the merged tokens only)")
}

func setPixels(p *encodeParams, key, v string) *apiError {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return errorf(http.StatusBadRequest, CodeInvalidParameter, "%s %q is not an integer", key, v)
	}
	dst := &p.minPixels
	if key == "max_pixels" {
		dst = &p.maxPixels
	}
	if *dst != nil {
		return errorf(http.StatusBadRequest, CodeInvalidParameter, "%s is given twice", key)
	}
	*dst = &n
	return nil
}

func setInclude(p *encodeParams, v string) *apiError {
	for _, item := range strings.Split(v, ",") {
		switch strings.TrimSpace(item) {
		case "last_hidden_state":
			if p.vllm {
				return errVLLMLastHidden()
			}
			p.lastHidden = true
		case "":
		default:
			return errorf(http.StatusBadRequest, CodeInvalidParameter, "include=%q: the only optional output is last_hidden_state", item)
		}
	}
	return nil
}

// budget returns the preprocessing options of a request: the server's, with the request's
// min_pixels / max_pixels when given. A request may ask for any budget with
// 1 ≤ min_pixels ≤ max_pixels ≤ the server's max_pixels and max_pixels ≥ (patch·merge)².
func budget(lm *loadedModel, p *encodeParams) (imageproc.Options, *apiError) {
	o := lm.pre
	f := o.Factor()
	if p.maxPixels != nil {
		v := *p.maxPixels
		switch {
		case v > lm.ceiling:
			return o, errorf(http.StatusBadRequest, CodeInvalidParameter, "max_pixels %d is above the server's limit of %d", v, lm.ceiling)
		case v < f*f:
			return o, errorf(http.StatusBadRequest, CodeInvalidParameter, "max_pixels %d is below %d (one %d×%d token)", v, f*f, f, f)
		}
		o.MaxPixels = v
		if p.minPixels == nil && o.MinPixels > v {
			o.MinPixels = v
		}
	}
	if p.minPixels != nil {
		v := *p.minPixels
		switch {
		case v < 1:
			return o, errorf(http.StatusBadRequest, CodeInvalidParameter, "min_pixels %d must be positive", v)
		case v > o.MaxPixels:
			return o, errorf(http.StatusBadRequest, CodeInvalidParameter, "min_pixels %d is above max_pixels %d", v, o.MaxPixels)
		}
		o.MinPixels = v
	}
	return o, nil
}

// readAll reads r whole, turning a body over the body limit into 413.
func readAll(r io.Reader, what string) ([]byte, *apiError) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, bodyError(err, what)
	}
	return data, nil
}

// bodyError classifies an error reading the body.
func bodyError(err error, what string) *apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body is over the body limit of %s", sizeString(mbe.Limit))
	}
	return errorf(http.StatusBadRequest, CodeInvalidRequest, "reading %s: %v", what, err)
}

// readMultipart reads a multipart/form-data body: every file part (a part with a file name or
// an image/* Content-Type) is an image, in order; the fields min_pixels, max_pixels and
// include are options.
func (s *Server) readMultipart(body io.Reader, boundary string, p *encodeParams) ([]rawImage, *apiError) {
	if boundary == "" {
		return nil, errorf(http.StatusBadRequest, CodeInvalidRequest, "multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	var images []rawImage
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if e := bodyError(err, "the multipart body"); e.status == http.StatusRequestEntityTooLarge {
				return nil, e
			}
			return nil, errorf(http.StatusBadRequest, CodeInvalidRequest, "malformed multipart body: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		name := part.FormName()
		if part.FileName() != "" || strings.HasPrefix(ct, "image/") {
			if len(images) == s.cfg.MaxImages {
				return nil, errorf(http.StatusRequestEntityTooLarge, CodeTooManyImages, "more than %d images in one request, over the limit of %d images per request", s.cfg.MaxImages, s.cfg.MaxImages)
			}
			data, e := readAll(part, "a multipart file")
			if e != nil {
				return nil, e
			}
			label := fmt.Sprintf("image %d", len(images))
			if fn := part.FileName(); fn != "" {
				label += fmt.Sprintf(" (%q)", fn)
			}
			if len(data) == 0 {
				return nil, errorf(http.StatusBadRequest, CodeInvalidImage, "%s is empty", label)
			}
			images = append(images, rawImage{name: label, data: data})
			continue
		}
		value, e := readAll(io.LimitReader(part, 1024), "a form field")
		if e != nil {
			return nil, e
		}
		switch name {
		case "min_pixels", "max_pixels":
			if e := setPixels(p, name, string(value)); e != nil {
				return nil, e
			}
		case "include":
			if !p.route.takes(name) {
				return nil, errorf(http.StatusBadRequest, CodeInvalidParameter, "unknown form field %q (images are file parts; the fields are min_pixels, max_pixels)", name)
			}
			if e := setInclude(p, string(value)); e != nil {
				return nil, e
			}
		default:
			known := "min_pixels, max_pixels"
			if p.route.takes("include") {
				known += ", include"
			}
			return nil, errorf(http.StatusBadRequest, CodeInvalidParameter, "unknown form field %q (images are file parts; the fields are %s)", name, known)
		}
	}
	return images, nil
}

// jsonRequest is the JSON body of POST /v1/encode.
type jsonRequest struct {
	Images []struct {
		Data     *string         `json:"data"`
		URL      *string         `json:"url"`
		ImageURL json.RawMessage `json:"image_url"`
	} `json:"images"`
	MinPixels *int     `json:"min_pixels"`
	MaxPixels *int     `json:"max_pixels"`
	Include   []string `json:"include"`
}

// readJSON reads {"images": [{"data": "<base64>"}, …], "min_pixels": …, "max_pixels": …}; an
// image may instead be {"url": U} or {"image_url": U} or {"image_url": {"url": U}}, with U a
// base64 data URL or an http(s) URL under the allow-list (fetched later, by fetchImages).
func (s *Server) readJSON(body io.Reader, p *encodeParams) ([]rawImage, *apiError) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req jsonRequest
	if err := dec.Decode(&req); err != nil {
		if e := bodyError(err, "the JSON body"); e.status == http.StatusRequestEntityTooLarge {
			return nil, e
		}
		return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON body: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, bodyError(err, "the JSON body")
		}
		return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON body: data after the object")
	}
	if len(req.Images) > s.cfg.MaxImages {
		return nil, errorf(http.StatusRequestEntityTooLarge, CodeTooManyImages, "%d images in one request, over the limit of %d images per request", len(req.Images), s.cfg.MaxImages)
	}
	for _, f := range []struct {
		key string
		v   *int
	}{{"min_pixels", req.MinPixels}, {"max_pixels", req.MaxPixels}} {
		if f.v != nil {
			if e := setPixels(p, f.key, strconv.Itoa(*f.v)); e != nil {
				return nil, errorf(http.StatusBadRequest, CodeInvalidParameter, "%s is given both in the query and in the body", f.key)
			}
		}
	}
	if len(req.Include) > 0 {
		if !p.route.takes("include") {
			return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON body: the field \"include\" is not taken by %s", p.route.path)
		}
		if e := setInclude(p, strings.Join(req.Include, ",")); e != nil {
			return nil, e
		}
	}
	images := make([]rawImage, len(req.Images))
	for i, im := range req.Images {
		label := fmt.Sprintf("image %d", i)
		if string(im.ImageURL) == "null" {
			im.ImageURL = nil // a null field is an absent one, as for "data" and "url"
		}
		given := 0
		for _, set := range []bool{im.Data != nil, im.URL != nil, im.ImageURL != nil} {
			if set {
				given++
			}
		}
		if given > 1 {
			return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "%s: give one of \"data\", \"url\" and \"image_url\"", label)
		}
		if im.URL != nil || im.ImageURL != nil {
			u, field := im.URL, "url"
			if im.ImageURL != nil {
				field = "image_url"
				if u = jsonURL(im.ImageURL); u == nil {
					return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "%s: \"image_url\" must be a URL string or {\"url\": URL}", label)
				}
			}
			data, src, e := imageFromURL(*u, s.allow, fmt.Sprintf("%s (%s)", label, field), "", "send the bytes as base64 in \"data\"")
			if e != nil {
				return nil, e
			}
			images[i] = rawImage{name: label, data: data, url: src}
			continue
		}
		if im.Data == nil {
			return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "%s: no \"data\" field (base64 of the image file)", label)
		}
		data, err := decodeBase64(*im.Data)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, CodeInvalidImage, "%s: \"data\" is not valid base64: %v", label, err)
		}
		if len(data) == 0 {
			return nil, errorf(http.StatusBadRequest, CodeInvalidImage, "%s is empty", label)
		}
		*im.Data = "" // let the text go
		images[i] = rawImage{name: label, data: data}
	}
	return images, nil
}

// jsonURL reads a URL given as a JSON string or as {"url": string}; nil if raw is neither.
func jsonURL(raw json.RawMessage) *string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return &s
	}
	var o struct {
		URL *string `json:"url"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.URL
	}
	return nil
}

// jsonProblem says what is wrong with a JSON body in the client's terms (JSON types and field
// names, byte offsets), never the Go types encoding/json names.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(syn.Error(), "json: "), syn.Offset)
	case errors.As(err, &typ):
		field := strings.Trim(typ.Field, ".")
		where := "the body"
		if field != "" {
			where = fmt.Sprintf("field %q", field)
		}
		return fmt.Sprintf("%s: want %s, got %s (at byte %d)", where, jsonKind(typ.Type), typ.Value, typ.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends before the JSON value does"
	case errors.Is(err, io.EOF):
		return "the body is empty"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field") {
		msg += " (the fields are images, min_pixels, max_pixels, include; an image has data, url or image_url)"
	}
	return msg
}

// jsonKind names the JSON value that decodes into t.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}

// decodeBase64 decodes standard or URL-safe base64, padded or not, optionally inside a
// "data:image/…;base64," URL.
func decodeBase64(s string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(s, "data:"); ok {
		_, payload, found := strings.Cut(rest, ",")
		if !found {
			return nil, errors.New("a data: URL without a comma")
		}
		s = payload
	}
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// preprocess decodes and preprocesses one image, classifying its errors.
func preprocess(im rawImage, opts imageproc.Options) (*imageproc.Image, *apiError) {
	rgb, err := imageproc.Decode(context.Background(), bytes.NewReader(im.data), im.name, opts)
	if err != nil {
		if errors.Is(err, imageproc.ErrTooLarge) {
			return nil, errorf(http.StatusUnprocessableEntity, CodeImageTooLarge, "%v (the decode limit)", trimPrefix(err))
		}
		return nil, errorf(http.StatusBadRequest, CodeInvalidImage, "%v", trimPrefix(err))
	}
	out, err := imageproc.Preprocess(rgb, opts)
	if err != nil {
		if errors.Is(err, imageproc.ErrAspectRatio) {
			return nil, errorf(http.StatusUnprocessableEntity, CodeAspectRatio, "%s: %v", im.name, trimPrefix(err))
		}
		return nil, errorf(http.StatusUnprocessableEntity, CodeImageUnprocessable, "%s: %v", im.name, trimPrefix(err))
	}
	return out, nil
}

func trimPrefix(err error) string { return strings.TrimPrefix(err.Error(), "imageproc: ") }

// EncodeResponse is the JSON body of a successful POST /v1/encode (see the package
// documentation for the layout). Features are float32 values printed with the fewest digits
// that read back to the same float32; a non-finite value would be null.
type EncodeResponse struct {
	Model  string        `json:"model"`
	Images []ImageResult `json:"images"`
	Usage  Usage         `json:"usage"`
}

// ImageResult is one image of an EncodeResponse.
type ImageResult struct {
	Index         int    `json:"index"`
	Width         int    `json:"width"`  // decoded size (after EXIF orientation)
	Height        int    `json:"height"` //
	ResizedWidth  int    `json:"resized_width"`
	ResizedHeight int    `json:"resized_height"`
	GridTHW       [3]int `json:"grid_thw"`
	Patches       int    `json:"patches"`
	Tokens        int    `json:"tokens"`
	Shapes        struct {
		PoolerOutput      [2]int   `json:"pooler_output"`
		DeepstackFeatures [][2]int `json:"deepstack_features"`
		LastHiddenState   [2]int   `json:"last_hidden_state"`
	} `json:"shapes"`
	PoolerOutput      [][]float32   `json:"pooler_output"`
	DeepstackFeatures [][][]float32 `json:"deepstack_features"`
	LastHiddenState   [][]float32   `json:"last_hidden_state,omitempty"`
}

// Usage totals a response's images.
type Usage struct {
	Images  int `json:"images"`
	Patches int `json:"patches"`
	Tokens  int `json:"tokens"`
}

// writeEncodeJSON writes the EncodeResponse of f by hand (the feature arrays are large).
func writeEncodeJSON(w *bufio.Writer, model string, f pipeline.Features, lastHidden bool) {
	var buf []byte
	str := func(s string) {
		b, _ := json.Marshal(s)
		w.Write(b)
	}
	matrix := func(x vision.Matrix, r0, n int) {
		w.WriteByte('[')
		for r := r0; r < r0+n; r++ {
			if r > r0 {
				w.WriteByte(',')
			}
			w.WriteByte('[')
			for c, v := range x.Row(r) {
				buf = buf[:0]
				if c > 0 {
					buf = append(buf, ',')
				}
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					buf = append(buf, "null"...)
				} else {
					buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
				}
				w.Write(buf)
			}
			w.WriteByte(']')
		}
		w.WriteByte(']')
	}
	shape := func(rows, cols int) { fmt.Fprintf(w, "[%d,%d]", rows, cols) }

	w.WriteString(`{"model":`)
	str(model)
	w.WriteString(`,"images":[`)
	p0, tokensTotal := 0, 0
	for i, im := range f.Items {
		g := im.Grid
		patches := g.Patches()
		t0, tokens := f.Tokens(i)
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, `{"index":%d,"width":%d,"height":%d,"resized_width":%d,"resized_height":%d,"grid_thw":[%d,%d,%d],"patches":%d,"tokens":%d,"shapes":{"pooler_output":`,
			i, im.Width, im.Height, im.ResizedWidth, im.ResizedHeight, g.T, g.H, g.W, patches, tokens)
		shape(tokens, f.Pooler.Cols)
		w.WriteString(`,"deepstack_features":[`)
		for k, d := range f.Deepstack {
			if k > 0 {
				w.WriteByte(',')
			}
			shape(tokens, d.Cols)
		}
		w.WriteString(`],"last_hidden_state":`)
		shape(patches, f.LastHidden.Cols)
		w.WriteString(`},"pooler_output":`)
		matrix(f.Pooler, t0, tokens)
		w.WriteString(`,"deepstack_features":[`)
		for k, d := range f.Deepstack {
			if k > 0 {
				w.WriteByte(',')
			}
			matrix(d, t0, tokens)
		}
		w.WriteByte(']')
		if lastHidden {
			w.WriteString(`,"last_hidden_state":`)
			matrix(f.LastHidden, p0, patches)
		}
		w.WriteByte('}')
		p0 += patches
		tokensTotal += tokens
	}
	fmt.Fprintf(w, `],"usage":{"images":%d,"patches":%d,"tokens":%d}}`+"\n", len(f.Items), p0, tokensTotal)
}

// admitEncode takes one of Config.Queue's slots for a request on the encode path (/v1/encode,
// the proxy), or returns the 429 to send; release gives the slot back, once (later calls do
// nothing), from the request's goroutine.
func (s *Server) admitEncode() (release func(), e *apiError) {
	select {
	case s.slots <- struct{}{}:
	default:
		e := errorf(http.StatusTooManyRequests, CodeQueueFull, "the server is at capacity (%d requests admitted, its limit); retry later", s.cfg.Queue)
		e.retryAfter = s.retryAfter()
		return nil, e
	}
	s.m.inFlight.Add(1)
	released := false
	return func() {
		if !released {
			released = true
			s.m.inFlight.Add(-1)
			s.reclaim.finished.Add(1)
			<-s.slots
		}
	}, nil
}
