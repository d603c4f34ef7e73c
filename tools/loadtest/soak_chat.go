package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// The chat soak (-soak-chat) runs these kinds against a `qwen3vl serve -chat`: answers read
// whole, streamed or not; streams the client walks away from after the first piece; slow
// uploads; requests asking for a feature the server does not offer; and one request with a
// 4096×4096 PNG. After the load it checks that no generation and no request is left in flight.
const (
	kindChat        = "chat"        // an image and a question, the answer read whole
	kindChatStream  = "stream"      // the same streamed, read to data: [DONE]
	kindChatGone    = "stream-gone" // a stream closed by the client after its first event
	kindChatSlow    = "chat-slow"   // a body sent at about 5 KB/s (it arrives within -upload-grace, so it is answered)
	kindChatRefused = "refused"     // asks for tools: 400 unsupported_parameter
	kindChatHuge    = "chat-huge"   // one 4096×4096 PNG (sent once)
)

// soakChat runs the chat soak against url (pid as for soak).
func soakChat(ctx context.Context, o options, url string, pid int) error {
	addr := strings.TrimPrefix(url, "http://")
	small, huge, err := soakImages(o)
	if err != nil {
		return err
	}
	client := soakClient(o)
	return runSoak(ctx, o, client, url, pid, soakPlan{
		banner: fmt.Sprintf("chat soak: %d clients × %v against %s; a %s image and a question (max_tokens %d), streamed or not, streams abandoned after their first event, slow uploads, refused requests, one 4096×4096 PNG (%d bytes)",
			o.clients, o.duration, url, o.small, o.chatTokens, len(huge)),
		kind: func(c, n int, i int64) string {
			if c == 0 && n == 0 {
				return kindChatHuge
			}
			switch i % 6 {
			case 1:
				return kindChatStream
			case 2:
				return kindChatGone
			case 3:
				return kindChatSlow
			case 4:
				return kindChatRefused
			}
			return kindChat
		},
		one: func(ctx context.Context, kind string, rng *rand.Rand) soakSample {
			img := small
			if kind == kindChatHuge {
				img = huge
			}
			return soakChatOne(ctx, client, url, addr, kind, chatBody(img, o.chatTokens, kind, rng), o, rng)
		},
		after: chatLeftovers,
	})
}

// chatBody is a chat request with one PNG as a data URI and a question.
func chatBody(png []byte, maxTokens int, kind string, rng *rand.Rand) []byte {
	req := map[string]any{
		"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}},
			map[string]any{"type": "text", "text": "Describe the image."},
		}}},
		"max_tokens":  maxTokens,
		"temperature": 0.7,
		"seed":        rng.Int64N(1 << 40),
		"stream":      kind == kindChatStream || kind == kindChatGone,
	}
	if kind == kindChatRefused {
		req["tools"] = []any{map[string]any{"type": "function", "function": map[string]any{"name": "f"}}}
	}
	b, _ := json.Marshal(req)
	return b
}

// soakChatOne sends one chat request of the kind and classifies what came back.
func soakChatOne(ctx context.Context, c *http.Client, url, addr, kind string, body []byte, o options, rng *rand.Rand) soakSample {
	start := time.Now()
	s := soakSample{kind: kind}
	defer func() { s.latency = time.Since(start) }()
	switch kind {
	case kindChatSlow:
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			s.err = err.Error()
			return s
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
		done := make(chan struct{})
		go func() {
			for sent := 0; sent < len(body); sent += 1000 {
				select {
				case <-done:
					return
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := conn.Write(body[sent:min(sent+1000, len(body))]); err != nil {
					return
				}
			}
		}()
		defer close(done)
		conn.SetReadDeadline(time.Now().Add(o.clientTO))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			s.err = err.Error()
			return s
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		classify(&s, resp, b)
	case kindChatGone:
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			s.err = err.Error()
			return s
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
		conn.Write(body)
		conn.SetReadDeadline(time.Now().Add(o.clientTO))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			s.err = err.Error()
			return s
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			classify(&s, resp, b)
			return s
		}
		s.status = resp.StatusCode
		line, _ := bufio.NewReader(resp.Body).ReadString('\n') // the first event
		s.bodyLen = len(line)
		s.ourClose = true
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		conn.(*net.TCPConn).SetLinger(0)
	default:
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			s.err = err.Error()
			return s
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			s.err = "reading the body: " + err.Error()
		}
		classify(&s, resp, b)
		if resp.StatusCode == http.StatusOK {
			s.badBody = !wholeAnswer(b, kind == kindChatStream)
		}
	}
	return s
}

// wholeAnswer reports whether a 200 body is a whole chat answer: a chat.completion with one
// choice and a finish_reason, or, streamed, events ending with a finish_reason and [DONE].
func wholeAnswer(b []byte, stream bool) bool {
	type choice struct {
		FinishReason *string `json:"finish_reason"`
	}
	if !stream {
		var r struct {
			Object  string   `json:"object"`
			Choices []choice `json:"choices"`
		}
		return json.Unmarshal(b, &r) == nil && r.Object == "chat.completion" && len(r.Choices) == 1 && r.Choices[0].FinishReason != nil
	}
	var finished, done bool
	for line := range strings.SplitSeq(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		switch {
		case !ok:
			continue
		case data == "[DONE]":
			done = true
			continue
		}
		var r struct {
			Choices []choice `json:"choices"`
		}
		if json.Unmarshal([]byte(data), &r) != nil {
			return false
		}
		if len(r.Choices) == 1 && r.Choices[0].FinishReason != nil {
			finished = true
		}
	}
	return finished && done
}

// chatLeftovers prints the server's chat gauges and counters once the load is over: nothing
// may still be generating or in flight (polled for up to 30 s, as an abandoned stream's
// generation stops at its next token).
func chatLeftovers(w io.Writer, c *http.Client, url string) {
	var m map[string]float64
	for deadline := time.Now().Add(30 * time.Second); ; {
		var err error
		if m, err = scrape(c, url); err != nil {
			fmt.Fprintf(w, "metrics: %v\n", err)
			return
		}
		if m["qwen3vl_chat_generating"] == 0 && m["qwen3vl_chat_requests_in_flight"] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	fmt.Fprintf(w, "server after the load: %.0f generating, %.0f chat requests in flight; %.0f generations, %.0f cancelled; %.0f completion tokens\n",
		m["qwen3vl_chat_generating"], m["qwen3vl_chat_requests_in_flight"], m["qwen3vl_chat_generations_total"],
		m["qwen3vl_chat_generations_cancelled_total"], m["qwen3vl_chat_completion_tokens_total"])
}
