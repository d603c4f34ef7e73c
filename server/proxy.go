package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/mmhash"
)

// Error codes of the encoding proxy (Config.Upstream).
const (
	CodeUpstreamUnreachable = "upstream_unreachable" // 502: the upstream could not be reached or failed mid-answer before its headers
	CodeUpstreamTimeout     = "upstream_timeout"     // 504: no answer from the upstream within Config.UpstreamTimeout
	CodeUpstreamInvalid     = "upstream_invalid"     // 502: the upstream's answer is not an OpenAI-compatible chat completion or error
)

// Bounds of the answers checkAnswer reads before passing them on.
const (
	maxCheckedError  = 1 << 20  // a 4xx body
	maxCheckedAnswer = 64 << 20 // a non-streamed completion
)

// errUpstreamTimeout is the cause of a forwarded request cut at Config.UpstreamTimeout.
var errUpstreamTimeout = errors.New("over the upstream timeout")

// forwardedHeaders are the request headers an OpenAI client sends that go to the upstream;
// no other header of the request is forwarded.
var forwardedHeaders = []string{"Authorization", "Content-Type", "Accept"}

// hopHeaders are the response headers of one connection, not passed back to the client.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
}

// upstream is the server Config.Upstream names.
type upstream struct {
	endpoint string // base + chatRoute
	client   *http.Client
}

// checkUpstream is nil when s is an http or https URL with a host and no user info, query or
// fragment.
func checkUpstream(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("is not an http or https URL")
	case u.Host == "":
		return errors.New("has no host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return errors.New("must have no user info, query or fragment")
	}
	return nil
}

func newUpstream(base string) *upstream {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true // the answer's bytes pass through as the upstream sends them
	return &upstream{
		endpoint: strings.TrimRight(base, "/") + chatRoute,
		client: &http.Client{
			Transport:     t,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// handleProxy serves POST /v1/chat/completions with Config.Upstream: the body read under the
// encoder's limits, its images encoded here as /v1/encode does (admission by Config.Queue,
// the batcher, Config.Timeout), each image_url part replaced with its vLLM image_embeds part,
// and the request forwarded; the upstream's answer is streamed back as it arrives.
func (s *Server) handleProxy(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	start := time.Now()
	if e := s.notReady(); e != nil {
		s.failChat(w, info, e)
		return
	}
	lm := s.model.Load()
	if e := s.jsonBodyError(r); e != nil {
		s.failChat(w, info, e)
		return
	}
	release, e := s.admitEncode() // admission, as an encode request
	if e != nil {
		s.failChat(w, info, e)
		return
	}
	defer release()

	// The request's context ends when its client goes and when a shutdown runs out of time
	// (cause errAborted); the body and the encode are bounded by Config.Timeout.
	actx, stop := s.requestContext(r)
	defer stop()
	ctx, cancel := context.WithTimeoutCause(actx, s.cfg.Timeout, errTimedOut)
	defer cancel()
	deadline, _ := ctx.Deadline()
	up := s.newUpload(r, http.NewResponseController(w), deadline)
	fail := func(e *apiError) {
		cause := context.Cause(ctx)
		switch {
		case up.err == errSlowUpload:
			e = errorf(http.StatusRequestTimeout, CodeSlowUpload, "the body arrived at %s/s, below the minimum upload rate of %s/s", sizeString(int64(up.rate())), sizeString(s.cfg.MinUploadRate))
		case up.err == errTimedOut, ctx.Err() != nil && cause == errTimedOut:
			e = s.timeoutError(start)
		case ctx.Err() != nil:
			s.chatGone(w, ctx, info)
			return
		case e == nil:
			e = errorf(http.StatusInternalServerError, CodeInternal, "internal error: request ended without a cause")
		}
		s.failChat(w, info, e)
	}
	body, e := readAll(http.MaxBytesReader(w, up, s.cfg.MaxBody), "the body")
	if e != nil {
		fail(e)
		return
	}
	up.finish()
	req, e := parseProxy(body, s.cfg.MaxImages, s.allow)
	if e != nil {
		fail(e)
		return
	}
	info.images = len(req.images)
	opts, e := budget(lm, &encodeParams{minPixels: req.minPixels, maxPixels: req.maxPixels})
	if e != nil {
		e.param = "mm_processor_kwargs"
		fail(e)
		return
	}
	parts, ecHashes, e := s.encodeParts(ctx, lm, opts, s.ecKey(req.kwargs), req.images)
	if e != nil || ctx.Err() != nil {
		fail(e)
		return
	}
	out, err := req.render(parts)
	if err != nil {
		fail(errorf(http.StatusInternalServerError, CodeInternal, "rewriting the request: %v", err))
		return
	}
	req, body, parts = nil, nil, nil
	if ecHashes != "" {
		w.Header().Set(ecHeader, ecHashes)
	}
	s.m.proxyEncodeSeconds.observe(time.Since(start).Seconds())
	cancel()
	release() // the encoder's part is done: the queue slot is for encoding

	s.forward(w, r, actx, out, info)
}

// encodeParts fetches, decodes, preprocesses (with opts: the request's budget and the
// decode limit) and encodes images in one batcher job, and returns each image's vLLM
// image_embeds part as JSON. With Config.VLLMECDir each image's encoder-cache entry is
// written too, hashed with key; ec is then the ecHeader value.
func (s *Server) encodeParts(ctx context.Context, lm *loadedModel, opts imageproc.Options, key mmhash.Key, images []rawImage) (parts [][]byte, ec string, e *apiError) {
	if len(images) == 0 {
		return nil, "", nil
	}
	if e := s.fetchImages(ctx, images); e != nil || ctx.Err() != nil {
		return nil, "", e
	}
	// The images' vLLM hashes, from their bytes, before the cache lets them go.
	var ecHashes []string
	if s.cfg.VLLMECDir != "" {
		for i := range images {
			ecHashes = append(ecHashes, s.ecHash(key, images[i]))
		}
	}
	prep, e := s.prepareImages(ctx, lm, images, opts, true, func(im rawImage) string { return im.param })
	if e != nil || ctx.Err() != nil {
		return nil, "", e
	}
	f, _, e := s.encode(ctx, lm, prep)
	if e != nil || ctx.Err() != nil {
		return nil, "", e
	}
	vp, err := f.VLLMParts()
	if err != nil {
		return nil, "", errorf(http.StatusInternalServerError, CodeInternal, "writing the vLLM parts: %s", strings.TrimPrefix(err.Error(), "pipeline: "))
	}
	// With UpstreamEC the part names the entry (uuid: the image's hash; the entry is under the
	// identifier vLLM derives from it); an image without an entry keeps its embeddings.
	var written []string
	if ecHashes != nil {
		ids := ecHashes
		if s.cfg.UpstreamEC {
			ids = make([]string, len(ecHashes))
			for i, h := range ecHashes {
				if h != "" {
					ids[i], _ = key.UUID(h) // no error: the key's model is set (Validate)
				}
			}
		}
		written = s.ecWriteAll(f, ids)
		ec = strings.Join(written, ",")
	}
	parts = make([][]byte, len(vp))
	for i, p := range vp {
		var v any = p
		if s.cfg.UpstreamEC && i < len(written) && written[i] != "-" {
			if v, err = f.VLLMECRef(i, ecHashes[i]); err != nil {
				return nil, "", errorf(http.StatusInternalServerError, CodeInternal, "writing the vLLM parts: %v", err)
			}
		}
		if parts[i], err = json.Marshal(v); err != nil {
			return nil, "", errorf(http.StatusInternalServerError, CodeInternal, "writing the vLLM parts: %v", err)
		}
	}
	return parts, ec, nil
}

// forward sends body to the upstream with the request's Authorization, Content-Type and
// Accept, and streams the answer back: its status, its headers but those of the connection,
// and its body, flushed as it arrives. The exchange is bounded by Config.UpstreamTimeout and
// cancelled when ctx ends (the client has gone, or a shutdown ran out of time).
func (s *Server) forward(w http.ResponseWriter, r *http.Request, ctx context.Context, body []byte, info *reqInfo) {
	uctx, cancel := context.WithTimeoutCause(ctx, s.cfg.UpstreamTimeout, errUpstreamTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(uctx, http.MethodPost, s.up.endpoint, bytes.NewReader(body))
	if err != nil {
		s.failChat(w, info, errorf(http.StatusInternalServerError, CodeInternal, "the upstream request: %v", err))
		return
	}
	for _, k := range forwardedHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			req.Header[k] = v
		}
	}
	start := time.Now()
	defer func() { s.m.proxyUpstreamSeconds.observe(time.Since(start).Seconds()) }()
	s.m.proxyUpstreamBytes.Add(uint64(len(body)))
	resp, err := s.up.client.Do(req)
	if err != nil {
		switch {
		case context.Cause(uctx) == errUpstreamTimeout:
			s.failChat(w, info, errorf(http.StatusGatewayTimeout, CodeUpstreamTimeout, "the upstream %s did not answer within %v", s.up.endpoint, s.cfg.UpstreamTimeout))
		case ctx.Err() != nil:
			s.chatGone(w, ctx, info)
		default:
			s.log.Warn("upstream unreachable", "upstream", s.up.endpoint, "err", err)
			s.failChat(w, info, errorf(http.StatusBadGateway, CodeUpstreamUnreachable, "the upstream %s is unreachable: %v", s.up.endpoint, unwrapURLError(err)))
		}
		return
	}
	defer resp.Body.Close()
	if e := s.checkAnswer(resp); e != nil {
		if ctx.Err() != nil {
			s.chatGone(w, ctx, info)
			return
		}
		s.log.Warn("upstream is not vLLM", "upstream", s.up.endpoint, "err", e.msg)
		s.failChat(w, info, e)
		return
	}
	h := w.Header()
	for k, v := range resp.Header {
		if !hopHeaders[k] {
			h[k] = v
		}
	}
	if resp.StatusCode >= 400 {
		info.code = fmt.Sprintf("upstream_%d", resp.StatusCode)
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	rc.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				info.clientGone, info.code = true, "client_gone"
				panic(http.ErrAbortHandler)
			}
			if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
				info.clientGone, info.code = true, "client_gone"
				panic(http.ErrAbortHandler)
			}
		}
		if rerr == io.EOF {
			return
		}
		if rerr != nil {
			// The status is sent: the connection is closed so that the client sees a cut answer.
			switch {
			case context.Cause(uctx) == errUpstreamTimeout:
				info.code = CodeUpstreamTimeout
			case ctx.Err() != nil:
				info.clientGone, info.code = true, "client_gone"
			default:
				info.code = CodeUpstreamUnreachable
			}
			s.log.Warn("upstream answer cut", "upstream", s.up.endpoint, "err", rerr)
			panic(http.ErrAbortHandler)
		}
	}
}

// checkAnswer refuses (502 upstream_invalid, naming the upstream and what it sent) an answer
// that an OpenAI-compatible chat server such as vLLM does not give, so that a wrong -upstream
// is not mistaken for the model's own error:
//   - a 4xx whose body is not a JSON object with an "error" member (vLLM's ErrorResponse, or
//     {"error": "Unauthorized"} of its --api-key check): e.g. {"detail": "Not Found"} of a
//     FastAPI app without the route, or an HTML page;
//   - a 2xx that is neither text/event-stream nor a JSON object with a "choices" list.
//
// 5xx answers pass through as they are (a vLLM that failed says so in its own words), and so
// does an event stream, unread. A body checkAnswer reads is put back for the passthrough.
func (s *Server) checkAnswer(resp *http.Response) *apiError {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var limit int64
	switch {
	case resp.StatusCode >= 500:
		return nil
	case resp.StatusCode >= 400:
		limit = maxCheckedError
	case resp.StatusCode >= 200 && resp.StatusCode < 300 && ct == "text/event-stream":
		return nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		limit = maxCheckedAnswer
	default:
		return s.notVLLM(resp, ct, nil, "")
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil || int64(len(head)) > limit {
		return nil // cut or too long to check: the passthrough shows what there is
	}
	var obj map[string]json.RawMessage
	isObject := json.Unmarshal(head, &obj) == nil && obj != nil
	if resp.StatusCode >= 400 {
		if _, ok := obj["error"]; isObject && ok {
			return nil
		}
		return s.notVLLM(resp, ct, head, "an error that is not an OpenAI error object")
	}
	if ct != "application/json" {
		return s.notVLLM(resp, ct, head, "neither a JSON completion nor an event stream")
	}
	var choices []json.RawMessage
	if c, ok := obj["choices"]; !isObject || !ok || json.Unmarshal(c, &choices) != nil {
		return s.notVLLM(resp, ct, head, `JSON without a "choices" list`)
	}
	return nil
}

// notVLLM is the 502 of an answer checkAnswer refuses: the upstream, the status, the
// content type, what is wrong and the start of the body.
func (s *Server) notVLLM(resp *http.Response, ct string, body []byte, what string) *apiError {
	if ct == "" {
		ct = "no Content-Type"
	}
	snippet := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, string(body[:min(len(body), 160)]))
	msg := fmt.Sprintf("the upstream %s is not an OpenAI-compatible chat server such as vLLM: it answered %s (%s)", s.up.endpoint, resp.Status, ct)
	if what != "" {
		msg += ", " + what
	}
	if snippet != "" {
		msg += fmt.Sprintf(": %q", snippet)
		if len(body) > 160 {
			msg += "…"
		}
	}
	return errorf(http.StatusBadGateway, CodeUpstreamInvalid, "%s", msg)
}

// unwrapURLError is the error below a *url.Error (its message repeats the method and URL).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
