package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// remoteFile reads byte ranges of one file of a commit through the hub's /resolve/ URL,
// which redirects to the CDN. Every range is requested with "Range: bytes=a-b" and must
// come back as 206 with exactly that Content-Range. A server that ignores Range and answers
// 200 with the whole file is handled too: the stream is kept open and read forward,
// discarding the bytes between the ranges asked for, so the file is read at most once per
// connection instead of once per range.
//
// A connection that breaks or stalls mid-range is reopened from the first byte not yet
// received, up to opts.retries times in a row without progress, waiting opts.backoff,
// doubled each time, in between.
type remoteFile struct {
	c      *client
	commit string
	name   string
	url    string
	meta   fileMeta // learned from the first response; Size -1 until known

	body     io.ReadCloser // the open stream, if any
	cancel   context.CancelFunc
	stall    *time.Timer
	stalled  bool
	mu       sync.Mutex // guards stalled
	pos, end int64      // the stream delivers bytes [pos, end) of the file
	noRange  bool       // the server answered a range request with 200
}

func newRemoteFile(c *client, commit, name string) *remoteFile {
	return &remoteFile{c: c, commit: commit, name: name, url: c.resolveURL(commit, name), meta: fileMeta{Size: -1}}
}

// close drops the open stream, if any.
func (f *remoteFile) close() {
	if f.body != nil {
		f.body.Close()
		f.cancel()
		f.stall.Stop()
		f.body, f.cancel, f.stall = nil, nil, nil
	}
}

// readAt returns bytes [off, off+n) of the file.
func (f *remoteFile) readAt(ctx context.Context, off, n int64) ([]byte, error) {
	buf := make([]byte, 0, n)
	w := &appendWriter{b: buf}
	if err := f.copyRange(ctx, w, off, n, nil); err != nil {
		return nil, err
	}
	return w.b, nil
}

// appendWriter collects writes in memory.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// writeError marks a failure of the destination, which retrying the download cannot fix.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// copyRange writes bytes [off, off+n) of the file to w, calling progress (if not nil) with
// the count of every chunk written.
func (f *remoteFile) copyRange(ctx context.Context, w io.Writer, off, n int64, progress func(int64)) error {
	opts := f.c.opts
	failures := 0
	wait := opts.backoff
	for n > 0 {
		got, err := f.copySome(ctx, w, off, n, progress)
		off += got
		n -= got
		if err == nil {
			continue
		}
		var we *writeError
		if errors.As(err, &we) || ctx.Err() != nil || !isTransient(err) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if got > 0 {
			failures, wait = 0, opts.backoff
		}
		failures++
		if failures >= opts.retries {
			return fmt.Errorf("%w (gave up on %s after %d attempts without progress; run again to resume)", err, f.name, failures)
		}
		opts.logf("hub: %s; retrying from byte %d in %v", strings.TrimPrefix(err.Error(), "hub: "), off, wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
	return nil
}

// copySome copies a prefix of [off, off+n) to w from the open stream, opening one if needed,
// and returns how many bytes it wrote. On any read error the stream is closed.
func (f *remoteFile) copySome(ctx context.Context, w io.Writer, off, n int64, progress func(int64)) (int64, error) {
	if f.body == nil || off < f.pos || off+n > f.end {
		f.close()
		if err := f.open(ctx, off, off+n); err != nil {
			return 0, err
		}
	}
	if skip := off - f.pos; skip > 0 {
		d, err := io.CopyN(io.Discard, f, skip)
		f.pos += d
		if err != nil {
			f.close()
			return 0, f.readError(err)
		}
	}
	buf := make([]byte, min(n, 1<<20))
	var written int64
	for written < n {
		m, err := f.Read(buf[:min(int64(len(buf)), n-written)])
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil {
				f.close()
				return written, &writeError{werr}
			}
			written += int64(m)
			f.pos += int64(m)
			if progress != nil {
				progress(int64(m))
			}
		}
		if err != nil {
			if err == io.EOF && written == n {
				break
			}
			f.close()
			return written, f.readError(err)
		}
	}
	if !f.noRange && f.pos == f.end {
		// The range is complete: read the body's EOF so that the connection can be reused
		// for the next request, then drop the stream.
		io.CopyN(io.Discard, f.body, 1)
		f.close()
	}
	return written, nil
}

// Read reads from the open stream, dropping it if no byte arrives within the stall
// timeout.
func (f *remoteFile) Read(p []byte) (int, error) {
	f.stall.Reset(f.c.opts.stallTimeout)
	n, err := f.body.Read(p)
	f.stall.Stop()
	return n, err
}

// isStalled reports whether the stall timer cancelled the current request.
func (f *remoteFile) isStalled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stalled
}

// readError describes a failure while reading a response body.
func (f *remoteFile) readError(err error) error {
	if f.isStalled() {
		err = fmt.Errorf("no data for %v", f.c.opts.stallTimeout)
	} else if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return newError(ErrNetwork, err, "downloading %s of %s: connection lost: %v", f.name, f.c.repo, err)
}

// open requests bytes [begin, end) and sets the stream up, checking the answer.
func (f *remoteFile) open(ctx context.Context, begin, end int64) error {
	rctx, cancel := context.WithCancel(ctx)
	f.mu.Lock()
	f.stalled = false
	f.mu.Unlock()
	// The stall timer also bounds the wait for the response's headers.
	stall := time.AfterFunc(f.c.opts.stallTimeout, func() {
		f.mu.Lock()
		f.stalled = true
		f.mu.Unlock()
		cancel()
	})
	rng := fmt.Sprintf("bytes=%d-%d", begin, end-1)
	resp, err := f.c.get(rctx, f.url, rng, f.name)
	stall.Stop()
	if err != nil {
		cancel()
		if f.isStalled() && ctx.Err() == nil {
			return newError(ErrNetwork, err, "downloading %s of %s: no answer for %v", f.name, f.c.repo, f.c.opts.stallTimeout)
		}
		return err
	}
	fail := func(format string, args ...any) error {
		resp.Body.Close()
		cancel()
		return newError(ErrCorrupt, nil, "downloading %s of %s: "+format, append([]any{f.name, f.c.repo}, args...)...)
	}
	var total int64 = -1
	switch resp.StatusCode {
	case http.StatusPartialContent:
		first, last, size, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return fail("%v", err)
		}
		if first != begin || last != end-1 {
			return fail("asked for bytes %d-%d, the server sent %d-%d", begin, end-1, first, last)
		}
		if resp.ContentLength >= 0 && resp.ContentLength != end-begin {
			return fail("asked for %d bytes, the server announced %d", end-begin, resp.ContentLength)
		}
		total = size
		f.pos, f.end = begin, end
	case http.StatusOK:
		if !f.noRange {
			f.noRange = true
			f.c.opts.logf("hub: %s ignores Range requests (HTTP 200 instead of 206); reading %s from its start and skipping what is not needed",
				resp.Request.URL.Host, f.name)
		}
		total = resp.ContentLength
		f.pos, f.end = 0, total
		if total < 0 {
			f.end = math.MaxInt64
		}
	default:
		return fail("unexpected %s for a range request", resp.Status)
	}
	meta, err := metaOf(resp, total, f.name+" of "+f.c.repo)
	if err != nil {
		resp.Body.Close()
		cancel()
		return err
	}
	if meta.Commit != "" && meta.Commit != f.commit {
		return fail("asked for commit %s, the hub answered with commit %s", f.commit, meta.Commit)
	}
	if f.meta.Size >= 0 && meta.Size >= 0 && meta.Size != f.meta.Size {
		return fail("the file was %d bytes and is now %d", f.meta.Size, meta.Size)
	}
	if f.meta.ETag != "" && meta.ETag != "" && meta.ETag != f.meta.ETag {
		return fail("the file's ETag changed from %s to %s", f.meta.ETag, meta.ETag)
	}
	if f.meta.ETag == "" {
		f.meta.ETag = meta.ETag
	}
	if f.meta.Size < 0 {
		f.meta.Size = meta.Size
	}
	if f.meta.Size >= 0 && end > f.meta.Size {
		return fail("bytes %d-%d are past the end of the %d-byte file", begin, end-1, f.meta.Size)
	}
	f.body, f.cancel, f.stall = resp.Body, cancel, stall
	return nil
}

// parseContentRange parses "bytes first-last/size" (size may be "*", returned as -1).
func parseContentRange(s string) (first, last, size int64, err error) {
	bad := fmt.Errorf("bad Content-Range %q", s)
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	span, total, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, bad
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	if first, err = strconv.ParseInt(a, 10, 64); err != nil || first < 0 {
		return 0, 0, 0, bad
	}
	if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
		return 0, 0, 0, bad
	}
	size = -1
	if total != "*" {
		if size, err = strconv.ParseInt(total, 10, 64); err != nil || size <= last {
			return 0, 0, 0, bad
		}
	}
	return first, last, size, nil
}
