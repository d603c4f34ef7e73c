package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Error codes of the encoding proxy (Config.Upstream).
const (
	CodeUpstreamUnreachable = "upstream_unreachable" // 502: the upstream could not be reached or failed mid-answer before its headers
	CodeUpstreamTimeout     = "upstream_timeout"     // 504: no answer from the upstream within Config.UpstreamTimeout
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
	parts, e := s.encodeParts(ctx, lm, req.images)
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
	s.m.proxyEncodeSeconds.observe(time.Since(start).Seconds())
	cancel()
	release() // the encoder's part is done: the queue slot is for encoding

	s.forward(w, r, actx, out, info)
}

// encodeParts fetches, decodes, preprocesses (the server's budget and decode limit) and
// encodes images in one batcher job, and returns each image's vLLM image_embeds part as JSON.
func (s *Server) encodeParts(ctx context.Context, lm *loadedModel, images []rawImage) ([][]byte, *apiError) {
	if len(images) == 0 {
		return nil, nil
	}
	if e := s.fetchImages(ctx, images); e != nil || ctx.Err() != nil {
		return nil, e
	}
	prep, e := s.prepareImages(ctx, lm, images, lm.pre, func(im rawImage) string { return im.param })
	if e != nil || ctx.Err() != nil {
		return nil, e
	}
	f, _, e := s.encode(ctx, lm, prep)
	if e != nil || ctx.Err() != nil {
		return nil, e
	}
	vp, err := f.VLLMParts()
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, CodeInternal, "writing the vLLM parts: %s", strings.TrimPrefix(err.Error(), "pipeline: "))
	}
	parts := make([][]byte, len(vp))
	for i, p := range vp {
		if parts[i], err = json.Marshal(p); err != nil {
			return nil, errorf(http.StatusInternalServerError, CodeInternal, "writing the vLLM parts: %v", err)
		}
	}
	return parts, nil
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

// unwrapURLError is the error below a *url.Error (its message repeats the method and URL).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
