package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// Causes of a request cut short.
var (
	errTimedOut   = errors.New("over the request timeout")
	errSlowUpload = errors.New("upload slower than the minimum rate")
)

// upload reads a request body against two deadlines, set on the connection before every
// read: the request's (its arrival + Config.Timeout) and the minimum upload rate's (after
// Config.UploadGrace, the body must have arrived at an average of at least MinUploadRate
// bytes/s since it started: with n bytes read, the next must come by start + n/rate). When a
// read misses one, err tells which, whatever the connection's error and the request's
// context say (net/http cancels the request's context on any read error, the same as when
// the client goes away).
type upload struct {
	r        io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	deadline time.Time // the request's
	minRate  float64   // bytes/s; 0: none
	grace    time.Duration
	n        int64
	set      time.Time // the read deadline last set
	err      error     // errTimedOut or errSlowUpload once a read missed its deadline
}

func (u *upload) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	d := u.deadline
	if u.minRate > 0 {
		due := u.start.Add(max(u.grace, time.Duration(float64(u.n)/u.minRate*float64(time.Second))))
		if due.Before(d) {
			d = due
		}
	}
	if !d.Equal(u.set) {
		u.rc.SetReadDeadline(d) // not supported (a ResponseRecorder): no deadline
		u.set = d
	}
	n, err := u.r.Read(p)
	u.n += int64(n)
	if err != nil && err != io.EOF && (errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(d)) {
		u.err = errTimedOut
		if d.Before(u.deadline) {
			u.err = errSlowUpload
		}
		return n, u.err
	}
	return n, err
}

func (u *upload) Close() error { return u.r.Close() }

// finish lifts the read deadline once the body is read, or net/http's background read
// (which notices a client going away) would take its expiry for a closed connection.
func (u *upload) finish() {
	u.rc.SetReadDeadline(time.Time{})
	u.set = time.Time{}
}

// rate is the body's average rate so far, in bytes/s.
func (u *upload) rate() float64 {
	s := time.Since(u.start).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(u.n) / s
}

// requestContext is a request's context: done when its client goes, and when a shutdown runs
// out of time (cause errAborted). stop releases it (call it when the handler returns).
func (s *Server) requestContext(r *http.Request) (ctx context.Context, stop func()) {
	ctx, abort := context.WithCancelCause(r.Context())
	unhook := context.AfterFunc(s.baseCtx, func() { abort(errAborted) })
	return ctx, func() {
		unhook()
		abort(nil)
	}
}

// newUpload wraps r's body in the minimum-upload-rate and deadline checks of Config
// (MinUploadRate, UploadGrace), starting now.
func (s *Server) newUpload(r *http.Request, rc *http.ResponseController, deadline time.Time) *upload {
	return &upload{r: r.Body, rc: rc, start: time.Now(), deadline: deadline, minRate: float64(s.cfg.MinUploadRate), grace: s.cfg.UploadGrace}
}
