package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Response headers of the hub's /resolve/ endpoint (huggingface_hub constants.py).
const (
	headerRepoCommit   = "X-Repo-Commit"   // the commit a resolved file belongs to
	headerLinkedETag   = "X-Linked-Etag"   // ETag of the LFS object a redirect points to (its sha256)
	headerLinkedSize   = "X-Linked-Size"   // size of that object
	headerErrorCode    = "X-Error-Code"    // RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo
	headerErrorMessage = "X-Error-Message" // human-readable detail
)

// userAgent identifies this package to the hub.
const userAgent = "qwen3vl-hub/1 (Go)"

// client talks to one repository of a hub.
type client struct {
	opts     *Options
	repo     string
	endpoint *url.URL
	http     *http.Client
}

// newClient returns a client for repo. The HTTP client is a copy of opts.HTTPClient (or a
// default one) whose redirect policy removes the Authorization header when a redirect
// leaves the hub's host, as httpx does for huggingface_hub: the CDN URLs the hub redirects
// to are pre-signed, and a CDN may reject a request carrying a second credential.
func newClient(opts *Options, repo string) (*client, error) {
	ep, err := url.Parse(opts.Endpoint)
	if err != nil || (ep.Scheme != "http" && ep.Scheme != "https") || ep.Host == "" {
		return nil, fmt.Errorf("hub: endpoint %q is not an http(s) URL (check HF_ENDPOINT)", opts.Endpoint)
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = 60 * time.Second
		hc.Transport = tr
	}
	user := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.URL.Host != ep.Host {
			req.Header.Del("Authorization")
		}
		if user != nil {
			return user(req, via)
		}
		return nil
	}
	return &client{opts: opts, repo: repo, endpoint: ep, http: &hc}, nil
}

// repoURL is the repository's page, where a gated model's licence is accepted.
func (c *client) repoURL() string { return c.opts.Endpoint + "/" + c.repo }

// apiURL is the revision API: GET /api/models/{repo}/revision/{rev}, the revision quoted
// with no safe characters (huggingface_hub HfApi.model_info). blobs=true adds file sizes
// and LFS hashes to "siblings".
func (c *client) apiURL(rev string) string {
	return c.opts.Endpoint + "/api/models/" + c.repo + "/revision/" + url.PathEscape(rev) + "?blobs=true"
}

// resolveURL is GET/HEAD /{repo}/resolve/{rev}/{file} (huggingface_hub hf_hub_url).
func (c *client) resolveURL(rev, file string) string {
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return c.opts.Endpoint + "/" + c.repo + "/resolve/" + url.PathEscape(rev) + "/" + strings.Join(parts, "/")
}

// get sends a GET for u (with a Range header if rng is not empty) and returns the response
// if its status is 2xx; otherwise it returns an error that says what to do. what names the
// object for messages.
func (c *client) get(ctx context.Context, u, rng, what string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	// Like huggingface_hub's metadata requests: no compression, so sizes are real sizes.
	req.Header.Set("Accept-Encoding", "identity")
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	if c.opts.Token != "" && req.URL.Host == c.endpoint.Host {
		req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, c.networkError(err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil, c.statusError(resp, what)
}

// networkError describes a failed connection to the hub or its CDN.
func (c *client) networkError(err error) error {
	site := c.opts.Endpoint
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != c.endpoint.Host {
			site = u.Scheme + "://" + u.Host
		}
		err = ue.Err
	}
	return newError(ErrNetwork, err,
		"could not reach %s: %v; set HF_HUB_OFFLINE=1 to use only cached models, or HF_ENDPOINT for a mirror", site, err)
}

// statusError turns an HTTP error status into an error for the user, using the hub's
// X-Error-Code header as huggingface_hub's hf_raise_for_status does.
func (c *client) statusError(resp *http.Response, what string) error {
	code := resp.Header.Get(headerErrorCode)
	detail := resp.Header.Get(headerErrorMessage)
	status := resp.Status
	if detail != "" {
		status += " (" + detail + ")"
	}
	licence := fmt.Sprintf("accept the licence at %s while logged in, then set HF_TOKEN to an access token of that account (%s/settings/tokens)",
		c.repoURL(), c.opts.Endpoint)
	tokenNote := "HF_TOKEN is not set"
	if c.opts.Token != "" {
		tokenNote = "the token in HF_TOKEN was sent"
	}
	switch {
	case code == "GatedRepo" || (resp.StatusCode == http.StatusForbidden && c.isHub(resp)):
		return newError(ErrAuth, nil, "%s is gated: the hub answered %s for %s (%s); %s",
			c.repo, status, what, tokenNote, licence)
	case resp.StatusCode == http.StatusUnauthorized && detail == "Invalid credentials in Authorization header":
		return newError(ErrAuth, nil, "the hub rejected the token in HF_TOKEN for %s (%s); create a new one at %s/settings/tokens, or unset HF_TOKEN for public models",
			c.repo, status, c.opts.Endpoint)
	case code == "RevisionNotFound":
		return newError(ErrNotFound, nil, "revision not found: %s has no branch, tag or commit for %s (%s); see %s/tree/main for its branches",
			c.repo, what, status, c.repoURL())
	case code == "EntryNotFound":
		return newError(ErrNotFound, nil, "%s has no file %s (%s)", c.repo, what, status)
	case resp.StatusCode == http.StatusUnauthorized:
		return newError(ErrAuth, nil, "the hub answered %s for %s: %s does not exist, or it is private or gated (%s); check the id (like %s), and if it is gated %s",
			status, what, c.repo, tokenNote, DefaultModel, licence)
	case code == "RepoNotFound" || (resp.StatusCode == http.StatusNotFound && c.isHub(resp)):
		return newError(ErrNotFound, nil, "the hub answered %s for %s: repository %s not found; check the id (like %s), or if you meant a local folder, it does not exist",
			status, what, c.repo, DefaultModel)
	case resp.StatusCode == http.StatusTooManyRequests:
		return newError(ErrNetwork, nil, "the hub is rate-limiting requests (%s for %s); wait a few minutes and try again, or set HF_TOKEN (authenticated requests get higher limits)",
			status, what)
	case resp.StatusCode == http.StatusForbidden:
		return newError(ErrAuth, nil, "%s refused access (%s) to %s; if the download link expired, run again", resp.Request.URL.Host, status, what)
	case resp.StatusCode >= 500:
		return newError(ErrNetwork, nil, "%s answered %s for %s; the server has a problem, try again later (or set HF_HUB_OFFLINE=1 to use cached models)",
			resp.Request.URL.Host, status, what)
	}
	return newError(ErrCorrupt, nil, "%s answered %s for %s", resp.Request.URL.Host, status, what)
}

// isHub reports whether resp came from the hub itself, not the CDN it redirects to.
func (c *client) isHub(resp *http.Response) bool {
	return resp.Request == nil || resp.Request.URL.Host == c.endpoint.Host
}

// isTransient reports whether a failed request may succeed if tried again: lost or refused
// connections, 5xx and 429 answers.
func isTransient(err error) bool {
	return errors.Is(err, ErrNetwork)
}

// repoInfo is the part of the revision API's answer used here.
type repoInfo struct {
	SHA      string    `json:"sha"`
	Siblings []sibling `json:"siblings"`
}

// sibling is one file of the repository at the revision.
type sibling struct {
	Name   string `json:"rfilename"`
	Size   *int64 `json:"size"`   // with blobs=true
	BlobID string `json:"blobId"` // with blobs=true: the git object id
	LFS    *struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	} `json:"lfs"`
}

// revisionInfo asks the hub which commit rev is and which files it has.
func (c *client) revisionInfo(ctx context.Context, rev string) (*repoInfo, error) {
	resp, err := c.get(ctx, c.apiURL(rev), "", "revision "+rev)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var info repoInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&info); err != nil {
		return nil, newError(ErrCorrupt, err, "%s: the revision API's answer for %s@%s is not the expected JSON: %v", c.opts.Endpoint, c.repo, rev, err)
	}
	if !isCommit(info.SHA) {
		return nil, newError(ErrCorrupt, nil, "%s: the revision API gave %q as the commit of %s@%s, not a commit hash", c.opts.Endpoint, info.SHA, c.repo, rev)
	}
	return &info, nil
}

// has reports whether the revision has the file; known is false if the API listed no files.
func (info *repoInfo) has(name string) (has, known bool) {
	if len(info.Siblings) == 0 {
		return false, false
	}
	return slices.ContainsFunc(info.Siblings, func(s sibling) bool { return s.Name == name }), true
}

// size returns the file's size as the API reported it, or -1.
func (info *repoInfo) size(name string) int64 {
	for _, s := range info.Siblings {
		if s.Name == name {
			if s.LFS != nil {
				return s.LFS.Size
			}
			if s.Size != nil {
				return *s.Size
			}
		}
	}
	return -1
}

// fileMeta is what the hub says about a resolved file.
type fileMeta struct {
	Commit string `json:"-"`    // X-Repo-Commit
	ETag   string `json:"etag"` // X-Linked-Etag, else ETag of the hub's own response; normalized
	Size   int64  `json:"size"` // X-Linked-Size, else from the final response; -1 if unknown
}

// responseChain returns resp and the redirect responses that led to it, the hub's first
// answer first.
func responseChain(resp *http.Response) []*http.Response {
	var rs []*http.Response
	for r := resp; r != nil; {
		rs = append(rs, r)
		if r.Request == nil {
			break
		}
		r = r.Request.Response
	}
	slices.Reverse(rs)
	return rs
}

// metaOf reads the hub's file headers from a response and its redirects, as
// huggingface_hub's get_hf_file_metadata reads them from a HEAD that does not follow the
// redirect to the CDN: the commit from X-Repo-Commit, the ETag from X-Linked-Etag or else
// ETag, the size from X-Linked-Size. total is the size the final response implies (-1 if
// unknown) and is used when X-Linked-Size is absent.
func metaOf(resp *http.Response, total int64, what string) (fileMeta, error) {
	chain := responseChain(resp)
	m := fileMeta{Size: -1}
	for _, r := range chain {
		if m.Commit == "" {
			m.Commit = r.Header.Get(headerRepoCommit)
		}
		if m.ETag == "" {
			m.ETag = normalizeETag(r.Header.Get(headerLinkedETag))
		}
		if m.Size < 0 {
			if s := r.Header.Get(headerLinkedSize); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n < 0 {
					return m, newError(ErrCorrupt, nil, "%s: bad %s header %q", what, headerLinkedSize, s)
				}
				m.Size = n
			}
		}
	}
	if m.ETag == "" {
		m.ETag = normalizeETag(chain[0].Header.Get("ETag"))
	}
	if m.Size < 0 {
		m.Size = total
	} else if total >= 0 && total != m.Size {
		return m, newError(ErrCorrupt, nil, "%s: the hub says the file has %d bytes (%s) but the server sent a file of %d",
			what, m.Size, headerLinkedSize, total)
	}
	return m, nil
}

// normalizeETag strips a weak-validator prefix and quotes (huggingface_hub _normalize_etag).
func normalizeETag(etag string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`)
}

// checksum is an expected hash of a whole file: Algo is "sha256" (the sha256 of an LFS
// file) or "git-sha1" (the git blob id of a file stored in git, sha1 of "blob <size>\x00"
// followed by the content), Hex its lowercase hex digits.
type checksum struct{ Algo, Hex string }

// checksumOf returns the checksum the revision API gives for a file, as huggingface_hub's
// verify_maps reads it: lfs.sha256 for an LFS file, else the blobId (a git-sha1).
func (info *repoInfo) checksumOf(name string) (checksum, bool) {
	for _, s := range info.Siblings {
		if s.Name != name {
			continue
		}
		if s.LFS != nil && isHex(s.LFS.SHA256, 64) {
			return checksum{"sha256", s.LFS.SHA256}, true
		}
		if s.LFS == nil && isHex(s.BlobID, 40) {
			return checksum{"git-sha1", s.BlobID}, true
		}
	}
	return checksum{}, false
}

// etagChecksum interprets an ETag as a checksum when it has the form the hub gives it: the
// sha256 of an LFS file (64 hex digits) or the git blob id of a file stored in git (40).
func etagChecksum(etag string) (checksum, bool) {
	switch {
	case isHex(etag, 64):
		return checksum{"sha256", etag}, true
	case isHex(etag, 40):
		return checksum{"git-sha1", etag}, true
	}
	return checksum{}, false
}

// isHex reports whether s is n lowercase hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// sum computes the checksum's algorithm over b.
func (c checksum) sum(b []byte) string {
	var h hash.Hash
	if c.Algo == "sha256" {
		h = sha256.New()
	} else {
		h = sha1.New()
		fmt.Fprintf(h, "blob %d\x00", len(b))
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// fetchSmall downloads a whole small file (config.json, the shard index...) of the commit,
// at most limit bytes, checking its size and its checksum: the one the revision API gave
// (info may be nil), else the one its ETag is. verified names the algorithm checked, or is
// empty if none could be.
func (c *client) fetchSmall(ctx context.Context, info *repoInfo, commit, name string, limit int64) (b []byte, meta fileMeta, verified string, err error) {
	resp, err := c.get(ctx, c.resolveURL(commit, name), "", name)
	if err != nil {
		return nil, fileMeta{}, "", err
	}
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, fileMeta{}, "", newError(ErrCorrupt, nil, "%s of %s is %d bytes, more than the %d expected of it", name, c.repo, resp.ContentLength, limit)
	}
	b, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fileMeta{}, "", ctx.Err()
		}
		return nil, fileMeta{}, "", c.networkError(err)
	}
	if int64(len(b)) > limit {
		return nil, fileMeta{}, "", newError(ErrCorrupt, nil, "%s of %s is more than the %d bytes expected of it", name, c.repo, limit)
	}
	meta, err = metaOf(resp, int64(len(b)), name+" of "+c.repo)
	if err != nil {
		return nil, fileMeta{}, "", err
	}
	if meta.Commit != "" && meta.Commit != commit {
		return nil, fileMeta{}, "", newError(ErrCorrupt, nil, "%s of %s: asked for commit %s, the hub answered with commit %s", name, c.repo, commit, meta.Commit)
	}
	want, ok := checksum{}, false
	source := "the revision API's"
	if info != nil {
		want, ok = info.checksumOf(name)
	}
	if !ok {
		want, ok = etagChecksum(meta.ETag)
		source = "the ETag's"
	}
	if ok {
		if got := want.sum(b); got != want.Hex {
			return nil, fileMeta{}, "", newError(ErrCorrupt, nil, "%s of %s: %s %s does not match %s %s; run again",
				name, c.repo, want.Algo, got, source, want.Hex)
		}
		verified = want.Algo
	}
	return b, meta, verified, nil
}
