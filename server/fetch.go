package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits of a fetch that are not settings.
const (
	maxRedirects     = 5        // redirects followed per image, each to an allowed URL
	fetchConcurrency = 4        // images of one request fetched at once
	maxFetchHeader   = 64 << 10 // bytes of response headers
)

// fetcher fetches the images a request gives by URL (Config.AllowURLs): http and https only,
// each URL and every redirect target on the allow-list, within Config.FetchTimeout per image
// and the request's context, the images of one request together at most Config.MaxBody bytes.
// Without Config.FetchPrivate it refuses, when it connects, every address that is not a
// public unicast one (loopback, private, link-local, …), whatever the host name resolved to.
type fetcher struct {
	allow   allowList
	client  *http.Client
	timeout time.Duration
	limit   int64 // bytes of one request's fetched images
	m       *metrics
}

func newFetcher(cfg Config, allow allowList, m *metrics) *fetcher {
	f := &fetcher{allow: allow, timeout: cfg.FetchTimeout, limit: cfg.MaxBody, m: m}
	d := &net.Dialer{Timeout: cfg.FetchTimeout, KeepAlive: 30 * time.Second}
	if !cfg.FetchPrivate {
		d.Control = refuseNonPublic
	}
	f.client = &http.Client{
		// The context of each fetch (Config.FetchTimeout) bounds the TLS handshake, the
		// headers and the body; the dialer's timeout is the same.
		Transport: &http.Transport{
			Proxy:                  nil, // never HTTP(S)_PROXY: the dial-time address check must see the target
			DialContext:            d.DialContext,
			ForceAttemptHTTP2:      true,
			MaxResponseHeaderBytes: maxFetchHeader,
			MaxIdleConns:           16,
			MaxIdleConnsPerHost:    4,
			IdleConnTimeout:        30 * time.Second,
		},
		CheckRedirect: f.checkRedirect,
	}
	return f
}

// redirectError is a redirect the fetcher does not follow.
type redirectError struct {
	target     *url.URL
	err        error // why the target is refused; nil: too many redirects
	notAllowed bool
}

func (e *redirectError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("stopped after %d redirects", maxRedirects)
	}
	return fmt.Sprintf("redirected to %s, which %v", shownURL(e.target), e.err)
}

// checkRedirect follows a redirect only to an allowed URL (with its dot segments resolved,
// as for the first URL), and at most maxRedirects times.
func (f *fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return &redirectError{target: req.URL}
	}
	u, err := f.allow.checkURL(req.URL)
	if err != nil {
		return &redirectError{target: req.URL, err: err, notAllowed: true}
	}
	*req.URL = *u
	return nil
}

// addressError is a connection refused because its address is not public.
type addressError struct {
	addr netip.Addr
	kind string
}

func (e *addressError) Error() string {
	return fmt.Sprintf("resolves to %s, a %s address, which this server does not fetch from", e.addr, e.kind)
}

// refuseNonPublic is the dialer's Control without Config.FetchPrivate: it runs after the
// host name is resolved, for every address tried, and refuses those that are not public.
func refuseNonPublic(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dialing %q: not an address and port", address)
	}
	if kind := nonPublic(ap.Addr()); kind != "" {
		return &addressError{addr: ap.Addr().Unmap(), kind: kind}
	}
	return nil
}

// Address blocks refused besides those netip classifies.
var reservedBlocks = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\""},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
}

// nonPublic names the kind of a that is refused ("loopback", "private", "link-local", …),
// or is "" for a public unicast address. An IPv4-mapped or NAT64 (64:ff9b::/96) IPv6
// address is judged by the IPv4 address inside it.
func nonPublic(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() && netip.MustParsePrefix("64:ff9b::/96").Contains(a) {
		b := a.As16()
		return nonPublic(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast():
		return "multicast"
	}
	for _, b := range reservedBlocks {
		if b.prefix.Contains(a) {
			return b.kind
		}
	}
	if !a.IsGlobalUnicast() {
		return "non-unicast"
	}
	return ""
}

// Causes of a fetch cut short.
var (
	errFetchTimeout   = errors.New("fetch timed out")
	errFetchAbandoned = errors.New("another image of the request failed")
	errFetchTooLarge  = errors.New("over the fetch limit")
)

// Outcomes of a fetch, the label of qwen3vl_image_fetches_total.
const (
	fetchOK         = "ok"
	fetchNotAllowed = "not_allowed" // a redirect off the list, a non-public address
	fetchTooLarge   = "too_large"
	fetchStatus     = "http_error" // a status other than 2xx
	fetchTimeout    = "timeout"
	fetchError      = "error" // any other failure (DNS, connection, TLS, …)
	fetchCancelled  = "cancelled"
)

var fetchOutcomes = []string{fetchOK, fetchNotAllowed, fetchTooLarge, fetchStatus, fetchTimeout, fetchError, fetchCancelled}

// fetchImages fetches the images of a request that are given by URL (see fetcher), before
// anything is decoded. It returns the first failure, or nil when every image is there or when
// ctx ended (the caller sees ctx: a client gone, a request over its time, a shutdown).
func (s *Server) fetchImages(ctx context.Context, images []rawImage) *apiError {
	if s.fetch == nil {
		return nil // nothing is given by URL: the parsers refuse URLs without an allow-list
	}
	return s.fetch.fetchAll(ctx, images)
}

// fetchAll fetches the images given by URL into their data, at most fetchConcurrency at
// once. The first failure cancels the others and is returned; when ctx ends, the fetches
// stop and nil is returned (the caller sees ctx).
func (f *fetcher) fetchAll(ctx context.Context, images []rawImage) *apiError {
	gctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var left atomic.Int64
	left.Store(f.limit)
	var (
		mu    sync.Mutex
		first *apiError
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, fetchConcurrency)
	for i := range images {
		if images[i].url == nil {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-gctx.Done():
		}
		if gctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if e := f.fetch(gctx, &images[i], &left); e != nil {
				mu.Lock()
				if first == nil {
					first = e
					stop(errFetchAbandoned)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return first
}

// fetch fetches one image into im.data, reading at most the bytes left of the request's
// limit (left) plus one. It returns nil when ctx ends first (outcome cancelled).
func (f *fetcher) fetch(ctx context.Context, im *rawImage, left *atomic.Int64) *apiError {
	start := time.Now()
	fctx, cancel := context.WithTimeoutCause(ctx, f.timeout, errFetchTimeout)
	defer cancel()
	data, status, err := f.get(fctx, im.url, left)
	f.m.fetchSeconds.observe(time.Since(start).Seconds())
	f.m.fetchBytes.Add(uint64(len(data)))
	outcome, e := f.classify(ctx, fctx, im, status, err)
	f.m.countFetch(outcome)
	if outcome != fetchOK {
		return e
	}
	im.data = data
	return nil
}

// get requests u and reads its body, bounded by left.
func (f *fetcher) get(ctx context.Context, u *url.URL, left *atomic.Int64) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "image/*")
	req.Header.Set("User-Agent", "qwen3vl-serve")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.StatusCode, nil
	}
	if resp.ContentLength > left.Load() {
		return nil, resp.StatusCode, errFetchTooLarge
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	_, err = buf.ReadFrom(&budgetReader{r: resp.Body, left: left})
	return buf.Bytes(), resp.StatusCode, err
}

// budgetReader reads r while left, shared by the fetches of one request, stays ≥ 0: each
// read asks for at most left+1 bytes, so that a body over the limit is noticed one byte
// past it, and the read that takes left below 0 fails with errFetchTooLarge.
type budgetReader struct {
	r    io.Reader
	left *atomic.Int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	l := b.left.Load()
	if l < 0 {
		return 0, errFetchTooLarge
	}
	if int64(len(p)) > l+1 {
		p = p[:l+1]
	}
	n, err := b.r.Read(p)
	if b.left.Add(-int64(n)) < 0 {
		return n, errFetchTooLarge
	}
	return n, err
}

// classify turns the result of get into an outcome and, for a failure, the client's error:
// 400 url_not_allowed (a redirect off the list, a non-public address), 413 fetch_too_large,
// 422 fetch_failed (a status other than 2xx, a timeout, any other failure).
func (f *fetcher) classify(ctx, fctx context.Context, im *rawImage, status int, err error) (string, *apiError) {
	what := fmt.Sprintf("%s: fetching %s", im.name, shownURL(im.url))
	fail := func(outcome string, st int, code, format string, a ...any) (string, *apiError) {
		e := errorf(st, code, "%s: "+format, append([]any{what}, a...)...)
		e.param = im.param
		return outcome, e
	}
	var re *redirectError
	var ae *addressError
	switch {
	case err == nil && status >= 200 && status <= 299:
		return fetchOK, nil
	case err == nil:
		return fail(fetchStatus, http.StatusUnprocessableEntity, CodeFetchFailed, "the server answered %d %s", status, http.StatusText(status))
	case errors.Is(err, errFetchTooLarge):
		return fail(fetchTooLarge, http.StatusRequestEntityTooLarge, CodeFetchTooLarge, "over the limit of %s on the images one request fetches", sizeString(f.limit))
	case ctx.Err() != nil:
		return fetchCancelled, nil
	case context.Cause(fctx) == errFetchTimeout:
		return fail(fetchTimeout, http.StatusUnprocessableEntity, CodeFetchFailed, "no whole answer within the fetch timeout of %v", f.timeout)
	case errors.As(err, &re) && re.notAllowed:
		return fail(fetchNotAllowed, http.StatusBadRequest, CodeURLNotAllowed, "%v", re)
	case errors.As(err, &re):
		return fail(fetchError, http.StatusUnprocessableEntity, CodeFetchFailed, "%v", re)
	case errors.As(err, &ae):
		return fail(fetchNotAllowed, http.StatusBadRequest, CodeURLNotAllowed, "the host %v", ae)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fail(fetchError, http.StatusUnprocessableEntity, CodeFetchFailed, "%s", strings.TrimPrefix(err.Error(), "net/http: "))
}

// close drops the idle connections.
func (f *fetcher) close() { f.client.CloseIdleConnections() }
