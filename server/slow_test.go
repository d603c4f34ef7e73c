package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowReply is what a slow client got back: the response (status and body), or that the
// connection was closed without one.
type slowReply struct {
	status int
	header http.Header
	body   []byte
	closed bool // no response at all: the connection was closed
}

// slowPost sends a raw image POST over its own TCP connection, declaring total body bytes
// but writing only chunk bytes every interval (until the server answers or closes), and
// reads the response concurrently.
func slowPost(t *testing.T, addr string, total, chunk int, interval time.Duration) slowReply {
	t.Helper()
	return slowPostTo(t, addr, "/v1/encode", "image/png", total, chunk, interval)
}

// slowPostTo is slowPost to any route and content type.
func slowPostTo(t *testing.T, addr, path, contentType string, total, chunk int, interval time.Duration) slowReply {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, contentType, total)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, chunk)
		for sent := 0; sent < total; sent += chunk {
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
			if _, err := conn.Write(buf); err != nil {
				return
			}
		}
	})
	defer wg.Wait()
	defer close(stop)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return slowReply{closed: true}
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Errorf("reading a %d response: %v", resp.StatusCode, err)
	}
	return slowReply{status: resp.StatusCode, header: resp.Header, body: b}
}

// TestSlowUploadTimeout sends several bodies too slowly to finish within the timeout: each
// gets a 504 with a JSON body, never an empty 200.
func TestSlowUploadTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Timeout = 300 * time.Millisecond }, false)
	addr := ts.http.Listener.Addr().String()
	const clients = 6
	replies := make([]slowReply, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { replies[i] = slowPost(t, addr, 100000, 10, 20*time.Millisecond) })
	}
	wg.Wait()
	for i, r := range replies {
		if r.closed {
			t.Errorf("client %d: connection closed without a response", i)
			continue
		}
		resp := &http.Response{StatusCode: r.status, Header: r.header}
		wantError(t, resp, r.body, http.StatusGatewayTimeout, CodeTimeout)
	}
}

// TestMinUploadRate sends a body below the minimum upload rate: it gets 408 with a JSON body
// long before the request timeout, and its queue slot back (the only one: the next request
// is admitted and answered).
func TestMinUploadRate(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.Queue = 1
		c.Timeout = time.Minute
		c.MinUploadRate = 10 << 10
		c.UploadGrace = 100 * time.Millisecond
	}, false)
	r := slowPost(t, ts.http.Listener.Addr().String(), 100000, 10, 20*time.Millisecond) // about 500 bytes/s
	if r.closed {
		t.Fatal("connection closed without a response")
	}
	resp := &http.Response{StatusCode: r.status, Header: r.header}
	wantError(t, resp, r.body, http.StatusRequestTimeout, CodeSlowUpload)
	if !strings.Contains(string(r.body), "below the minimum upload rate of 10 KiB/s") {
		t.Errorf("body %s does not name the limit", r.body)
	}
	waitFor(t, "the slot back", func() bool { return ts.m.inFlight.Load() == 0 })
	if resp, body := do(t, ts.http.Client(), "POST", ts.http.URL+"/v1/encode", "image/png", pngImage(t, 64, 64, 1), nil); resp.StatusCode != 200 {
		t.Errorf("after the slow upload: %d %s", resp.StatusCode, body)
	}
	if n := ts.m.requestCount("/v1/encode", http.StatusRequestTimeout); n != 1 {
		t.Errorf("408s counted: %d", n)
	}
}

// TestChatSlowUpload: a chat request whose body arrives too slowly gets its status (504 past
// the timeout, 408 below the minimum rate) while the client is still sending, and the next
// small request is answered.
func TestChatSlowUpload(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		status int
		code   string
	}{
		{"timeout", func(c *Config) { c.Timeout = 300 * time.Millisecond }, http.StatusGatewayTimeout, CodeTimeout},
		{"min rate", func(c *Config) {
			c.Timeout = time.Minute
			c.MinUploadRate = 10 << 10
			c.UploadGrace = 100 * time.Millisecond
		}, http.StatusRequestTimeout, CodeSlowUpload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newChatServer(t, tc.mutate)
			r := slowPostTo(t, ts.http.Listener.Addr().String(), chatRoute, "application/json", 100000, 10, 20*time.Millisecond)
			if r.closed {
				t.Fatal("connection closed without a response")
			}
			if r.status != tc.status || !strings.Contains(string(r.body), `"code":"`+tc.code+`"`) {
				t.Fatalf("got %d %s, want %d with code %s", r.status, r.body, tc.status, tc.code)
			}
			resp := postChat(t, ts, `{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}`)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the next request: %d", resp.StatusCode)
			}
		})
	}
}
