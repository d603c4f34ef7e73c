package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/generate"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

const chatModel = "random:tiny@7"

var (
	assistantOnce sync.Once
	assistant     *pipeline.Assistant
	assistantErr  error
)

// tinyAssistant is random:tiny@7, the tiny whole model, with the repository's tokenizer.
func tinyAssistant(t testing.TB) *pipeline.Assistant {
	t.Helper()
	assistantOnce.Do(func() {
		spec, err := pipeline.ParseSpec(chatModel)
		if err != nil {
			assistantErr = err
			return
		}
		assistant, assistantErr = pipeline.OpenAssistant(context.Background(), spec, pipeline.AssistantOptions{Tokenizer: "../testdata/tokenizer/qwen3vl"})
	})
	if assistantErr != nil {
		t.Fatal(assistantErr)
	}
	return assistant
}

// newChatServer is a ready server with the tiny whole model behind an httptest.Server.
func newChatServer(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	cfg := testConfig()
	cfg.Model = chatModel
	cfg.Chat = true
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetAssistant(tinyAssistant(t)); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, http: httptest.NewServer(s)}
	t.Cleanup(func() {
		ts.http.Close()
		s.Close()
	})
	return ts
}

func postChat(t *testing.T, ts *testServer, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(ts.http.URL+chatRoute, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readSSE reads a stream's events: the data of each, "[DONE]" included.
func readSSE(t *testing.T, r io.Reader) []string {
	t.Helper()
	var events []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		events = append(events, data)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

const helloRequest = `{"model": %q, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hello there"}]}], "max_tokens": 12, "temperature": 2, "top_p": 0.9, "presence_penalty": 2, "frequency_penalty": 2, "seed": 1, "stream": %v, "stream_options": {"include_usage": true}, "unknown_field": {"ignored": true}}`

// TestChatCompletion checks a non-streamed answer against Ask run directly on the same
// conversation (sampled with a seed), and the streamed answer against the non-streamed one.
func TestChatCompletion(t *testing.T) {
	ts := newChatServer(t, nil)
	a := tinyAssistant(t)

	resp := postChat(t, ts, fmt.Sprintf(helloRequest, chatModel, false))
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var got ChatCompletion
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}

	conv, err := chat.ParseConversation([]byte(`[{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hello there"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	gen := a.Generation
	gen.MaxNewTokens, gen.Temperature, gen.DoSample, gen.TopP, gen.Seed = 12, 2, true, 0.9, 1
	gen.PresencePenalty, gen.FrequencyPenalty = 2, 2
	want, err := a.Ask(context.Background(), conv, nil, gen, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got.Object != "chat.completion" || got.Model != chatModel || !strings.HasPrefix(got.ID, "chatcmpl-") || got.Created == 0 || len(got.Choices) != 1 {
		t.Fatalf("envelope: %+v", got)
	}
	c := got.Choices[0]
	if c.Message.Role != "assistant" || c.Message.Content != want.Text || c.FinishReason != finishReason(want.Reason) {
		t.Errorf("choice %+v, want content %q finish %s", c, want.Text, finishReason(want.Reason))
	}
	if want.Reason == generate.ReasonLength && c.FinishReason != "length" {
		t.Errorf("finish_reason %q for a budget stop", c.FinishReason)
	}
	u := got.Usage
	if u.PromptTokens != len(want.PromptIDs) || u.CompletionTokens != len(want.IDs) || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage %+v, want prompt %d completion %d", u, len(want.PromptIDs), len(want.IDs))
	}
	distinct := map[rune]bool{}
	for _, r := range c.Message.Content {
		distinct[r] = true
	}
	if len(distinct) < 3 {
		t.Errorf("answer %q: too uniform for the comparison to prove much", c.Message.Content)
	}
	t.Logf("answer %q (%s)", c.Message.Content, c.FinishReason)

	// Streamed.
	resp2 := postChat(t, ts, fmt.Sprintf(helloRequest, chatModel, true))
	defer resp2.Body.Close()
	if resp2.StatusCode != 200 || !strings.HasPrefix(resp2.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: status %d, type %q", resp2.StatusCode, resp2.Header.Get("Content-Type"))
	}
	events := readSSE(t, resp2.Body)
	if len(events) < 4 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("events %q: want role, deltas, finish, usage, [DONE]", events)
	}
	var text strings.Builder
	var finish string
	var usage *ChatUsage
	for i, ev := range events[:len(events)-1] {
		var ch ChatChunk
		if err := json.Unmarshal([]byte(ev), &ch); err != nil {
			t.Fatalf("event %d %q: %v", i, ev, err)
		}
		if ch.Object != "chat.completion.chunk" || ch.Model != chatModel || !strings.HasPrefix(ch.ID, "chatcmpl-") {
			t.Fatalf("event %d envelope: %q", i, ev)
		}
		if ch.Usage != nil {
			if i != len(events)-2 || len(ch.Choices) != 0 {
				t.Errorf("usage chunk %d of %d: %q", i, len(events), ev)
			}
			usage = ch.Usage
			continue
		}
		if len(ch.Choices) != 1 {
			t.Fatalf("event %d: %q", i, ev)
		}
		d := ch.Choices[0]
		if (i == 0) != (d.Delta.Role == "assistant") {
			t.Errorf("event %d: role %q (only the first has it)", i, d.Delta.Role)
		}
		if d.FinishReason != nil {
			if finish != "" {
				t.Errorf("two finish reasons")
			}
			finish = *d.FinishReason
		} else if finish != "" {
			t.Errorf("a delta after the finish reason: %q", ev)
		}
		if d.Delta.Content != nil {
			text.WriteString(*d.Delta.Content)
		}
	}
	if text.String() != c.Message.Content || finish != c.FinishReason {
		t.Errorf("stream %q (%s), non-stream %q (%s)", text.String(), finish, c.Message.Content, c.FinishReason)
	}
	if usage == nil || *usage != u {
		t.Errorf("stream usage %+v, want %+v", usage, u)
	}
	if n := ts.m.chatGenerations.Load(); n != 2 {
		t.Errorf("qwen3vl_chat_generations_total %d, want 2", n)
	}
	if n := ts.m.chatOutputTokens.Load(); n != uint64(2*len(want.IDs)) {
		t.Errorf("qwen3vl_chat_completion_tokens_total %d, want %d", n, 2*len(want.IDs))
	}

	// A stop string from the middle of that answer: the answer ends before it (as OpenAI's
	// does), streamed or not, with finish_reason stop.
	runes := []rune(want.Text)
	stop := string(runes[len(runes)/2])
	before, _, _ := strings.Cut(want.Text, stop)
	withStop := strings.Replace(fmt.Sprintf(helloRequest, chatModel, false), `"seed": 1`, `"seed": 1, "stop": [`+jsonQuote(stop)+`]`, 1)
	resp3 := postChat(t, ts, withStop)
	defer resp3.Body.Close()
	var stopped ChatCompletion
	if err := json.NewDecoder(resp3.Body).Decode(&stopped); err != nil {
		t.Fatal(err)
	}
	if len(stopped.Choices) != 1 || stopped.Choices[0].Message.Content != before || stopped.Choices[0].FinishReason != "stop" || stopped.Usage.CompletionTokens >= len(want.IDs) {
		t.Errorf("stop %q: %+v, want content %q, finish stop, fewer than %d tokens", stop, stopped, before, len(want.IDs))
	}
	resp4 := postChat(t, ts, strings.Replace(withStop, `"stream": false`, `"stream": true`, 1))
	defer resp4.Body.Close()
	var streamed strings.Builder
	for _, ev := range readSSE(t, resp4.Body) {
		var ch ChatChunk
		if ev == "[DONE]" || json.Unmarshal([]byte(ev), &ch) != nil || len(ch.Choices) == 0 || ch.Choices[0].Delta.Content == nil {
			continue
		}
		streamed.WriteString(*ch.Choices[0].Delta.Content)
	}
	if streamed.String() != before {
		t.Errorf("stop %q: streamed %q, want %q", stop, streamed.String(), before)
	}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestChatImage sends a data-URI PNG: its prompt has the image's tokens (as /v1/encode
// counts them) and the vision start and end tokens more than the same text alone.
func TestChatImage(t *testing.T) {
	ts := newChatServer(t, nil)
	img := pngImage(t, 40, 56, 3)
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)
	ask := func(parts string) ChatCompletion {
		t.Helper()
		resp := postChat(t, ts, `{"messages": [{"role": "user", "content": [`+parts+`]}], "max_tokens": 3, "temperature": 0}`)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		var c ChatCompletion
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	with := ask(`{"type": "image_url", "image_url": {"url": "` + uri + `", "detail": "auto"}}, {"type": "text", "text": "What is this?"}`)
	without := ask(`{"type": "text", "text": "What is this?"}`)

	resp, err := http.Post(ts.http.URL+"/v1/encode", "image/png", bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var enc struct {
		Usage Usage `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&enc); err != nil {
		t.Fatal(err)
	}
	if enc.Usage.Tokens == 0 {
		t.Fatal("the encoder counts no tokens")
	}
	if d := with.Usage.PromptTokens - without.Usage.PromptTokens; d != enc.Usage.Tokens+2 {
		t.Errorf("the image adds %d prompt tokens, want %d image tokens + 2", d, enc.Usage.Tokens)
	}
}

// TestChatErrors checks the refusals, each in OpenAI's error shape.
func TestChatErrors(t *testing.T) {
	ts := newChatServer(t, func(c *Config) { c.MaxBody = 4096; c.MaxImages = 1; c.ChatMaxTokens = 64 })
	png := base64.StdEncoding.EncodeToString(pngImage(t, 32, 32, 1))
	img := `{"type": "image_url", "image_url": {"url": "data:image/png;base64,` + png + `"}}`
	user := func(content string) string {
		return `{"messages": [{"role": "user", "content": ` + content + `}]}`
	}
	cases := []struct {
		name, ctype, body string
		status            int
		code, param       string
	}{
		{"not json", "application/json", `hello`, 400, CodeInvalidJSON, ""},
		{"messages a string", "application/json", `{"messages": "hi"}`, 400, CodeInvalidParameter, "messages"},
		{"no messages", "application/json", `{"model": "x"}`, 400, CodeInvalidParameter, "messages"},
		{"empty messages", "application/json", `{"messages": []}`, 400, CodeInvalidParameter, "messages"},
		{"message not an object", "application/json", `{"messages": [1]}`, 400, CodeInvalidParameter, "messages[0]"},
		{"bad role", "application/json", `{"messages": [{"role": "tool", "content": "x"}]}`, 400, CodeInvalidParameter, "messages[0].role"},
		{"content a number", "application/json", user(`7`), 400, CodeInvalidParameter, "messages[0].content"},
		{"part without type", "application/json", user(`[{"text": "x"}]`), 400, CodeInvalidParameter, "messages[0].content[0].type"},
		{"audio part", "application/json", user(`[{"type": "input_audio"}]`), 400, CodeInvalidParameter, "messages[0].content[0].type"},
		{"wrong content type", "text/plain", user(`"hi"`), 415, CodeUnsupportedMediaType, ""},
		{"n=2", "application/json", `{"n": 2, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeInvalidParameter, "n"},
		{"temperature 3", "application/json", `{"temperature": 3, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeInvalidParameter, "temperature"},
		{"temperature a string", "application/json", `{"temperature": "hot", "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeInvalidJSON, "temperature"},
		{"top_p 2", "application/json", `{"top_p": 2, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeInvalidParameter, "top_p"},
		{"max_tokens 0", "application/json", `{"max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeInvalidParameter, "max_tokens"},
		{"max_tokens over the limit", "application/json", `{"max_completion_tokens": 65, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeInvalidParameter, "max_completion_tokens"},
		{"stop a number", "application/json", `{"stop": 3, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeInvalidParameter, "stop"},
		{"bad base64", "application/json", user(`[{"type": "image_url", "image_url": {"url": "data:image/png;base64,%%%%"}}]`), 400, CodeInvalidImage, "messages[0].content[0].image_url.url"},
		{"not an image", "application/json", user(`[{"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}]`), 400, CodeInvalidImage, "messages[0].content[0]"},
		{"remote url", "application/json", user(`[{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]`), 400, CodeURLNotSupported, "messages[0].content[0].image_url.url"},
		{"image_url a string", "application/json", user(`[{"type": "image_url", "image_url": "data:image/png;base64,AAAA"}]`), 400, CodeInvalidParameter, "messages[0].content[0].image_url"},
		{"image in a system message", "application/json", `{"messages": [{"role": "system", "content": [` + img + `]}]}`, 400, CodeInvalidParameter, "messages[0].content[0]"},
		{"too many images", "application/json", user(`[` + img + `,` + img + `]`), 413, CodeTooManyImages, "messages[0].content[1]"},
		{"oversized", "application/json", user(`"` + strings.Repeat("a", 5000) + `"`), 413, CodeBodyTooLarge, ""},
		{"wrong model", "application/json", `{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}`, 404, "model_not_found", "model"},
		{"tools", "application/json", `{"tools": [{"type": "function", "function": {"name": "f"}}], "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "tools"},
		{"functions", "application/json", `{"functions": [{"name": "f"}], "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "functions"},
		{"tool_choice required", "application/json", `{"tool_choice": "required", "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "tool_choice"},
		{"tool_choice a function", "application/json", `{"tool_choice": {"type": "function", "function": {"name": "f"}}, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "tool_choice"},
		{"function_call", "application/json", `{"function_call": {"name": "f"}, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "function_call"},
		{"logprobs", "application/json", `{"logprobs": true, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "logprobs"},
		{"top_logprobs", "application/json", `{"top_logprobs": 3, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "top_logprobs"},
		{"json response", "application/json", `{"response_format": {"type": "json_object"}, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "response_format"},
		{"response_format a string", "application/json", `{"response_format": "text", "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "response_format"},
		{"logit_bias", "application/json", `{"logit_bias": {"42": 5}, "messages": [{"role": "user", "content": "hi"}]}`, 400, CodeUnsupportedParameter, "logit_bias"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(ts.http.URL+chatRoute, c.ctype, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, b)
			}
			var e OpenAIError
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			param := ""
			if e.Error.Param != nil {
				param = *e.Error.Param
			}
			if e.Error.Code != c.code || param != c.param || e.Error.Message == "" || e.Error.Type != "invalid_request_error" {
				t.Errorf("error %s, want code %s param %q", b, c.code, c.param)
			}
		})
	}
	if n := ts.m.chatGenerations.Load(); n != 0 {
		t.Errorf("%d generations started for refused requests", n)
	}
}

// TestChatMethod: GET is 405 with Allow, in OpenAI's error shape.
func TestChatMethod(t *testing.T) {
	ts := newChatServer(t, nil)
	resp, err := http.Get(ts.http.URL + chatRoute)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e OpenAIError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || e.Error.Code != CodeMethodNotAllowed || e.Error.Type != "invalid_request_error" {
		t.Errorf("status %d, Allow %q: %+v %v", resp.StatusCode, resp.Header.Get("Allow"), e, err)
	}
}

// TestChatEncoderOnly: a server without a whole model refuses chat with a 404 saying so.
func TestChatEncoderOnly(t *testing.T) {
	ts := newTestServer(t, nil, false)
	resp := postChat(t, ts, `{"messages": [{"role": "user", "content": "hi"}]}`)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !strings.Contains(string(b), "-chat") {
		t.Errorf("status %d: %s", resp.StatusCode, b)
	}
}

// TestChatClientGone: a client that goes away mid-stream cancels its generation.
func TestChatClientGone(t *testing.T) {
	ts := newChatServer(t, nil)
	reached := make(chan struct{})
	ts.onChatEmit = func(ctx context.Context, n int) {
		if n == 1 {
			close(reached)
			select { // the generation goes on only once the client has gone
			case <-ctx.Done():
			case <-time.After(20 * time.Second):
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.http.URL+chatRoute, strings.NewReader(`{"messages": [{"role": "user", "content": "Tell me a story"}], "max_tokens": 32, "temperature": 0, "stream": true}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, `"role":"assistant"`) {
		t.Fatalf("first event %q: %v", line, err)
	}
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		t.Fatal("the generation did not reach its second piece")
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the generation to be cancelled", func() bool { return ts.m.chatCancelled.Load() == 1 })
	waitFor(t, "the request to be counted as 499", func() bool { return ts.m.requestCount(chatRoute, StatusClientClosedRequest) == 1 })
	waitFor(t, "the generation slot to be free", func() bool { return ts.m.chatGenerating.Load() == 0 && ts.m.chatInFlight.Load() == 0 })
}

// TestChatQueueFull: with ChatQueue 2, a third request while two are admitted (one
// generating, one waiting for it) is refused 429 with Retry-After; the waiting one then runs.
func TestChatQueueFull(t *testing.T) {
	ts := newChatServer(t, func(c *Config) { c.ChatQueue = 2 })
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var once sync.Once
	ts.onChatEmit = func(ctx context.Context, n int) {
		if n == 0 {
			once.Do(func() {
				entered <- struct{}{}
				<-release
			})
		}
	}
	body := `{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "temperature": 0}`
	statuses := make(chan int, 2)
	go func() {
		resp := postChat(t, ts, body)
		resp.Body.Close()
		statuses <- resp.StatusCode
	}()
	<-entered
	go func() {
		resp := postChat(t, ts, body)
		resp.Body.Close()
		statuses <- resp.StatusCode
	}()
	waitFor(t, "two chat requests admitted", func() bool { return ts.m.chatInFlight.Load() == 2 })
	resp := postChat(t, ts, body)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e OpenAIError
	json.Unmarshal(b, &e)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || e.Error.Code != CodeQueueFull || e.Error.Type != "rate_limit_error" {
		t.Errorf("third request: status %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	close(release)
	for range 2 {
		if s := <-statuses; s != 200 {
			t.Errorf("admitted request: status %d", s)
		}
	}
}

// TestChatModels: /v1/models describes the chat endpoint when there is one.
func TestChatModels(t *testing.T) {
	for _, chat := range []bool{true, false} {
		var ts *testServer
		if chat {
			ts = newChatServer(t, nil)
		} else {
			ts = newTestServer(t, nil, false)
		}
		resp, err := http.Get(ts.http.URL + "/v1/models")
		if err != nil {
			t.Fatal(err)
		}
		var l ModelList
		err = json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if err != nil || len(l.Data) != 1 {
			t.Fatalf("%v %+v", err, l)
		}
		c := l.Data[0].Chat
		if chat != (c != nil) || chat && (c.ContextLength != 262144 || c.MaxTokens != DefaultChatMaxTokens || c.Queue != DefaultChatQueue) {
			t.Errorf("chat=%v: %+v", chat, c)
		}
	}
}

// TestChatDraining: a draining server refuses chat with 503 and Retry-After.
func TestChatDraining(t *testing.T) {
	ts := newChatServer(t, nil)
	ts.Drain()
	resp := postChat(t, ts, `{"messages": [{"role": "user", "content": "hi"}]}`)
	defer resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// serveChat runs a chat server with Serve on a loopback listener.
func serveChat(t *testing.T, cfg Config) (*Server, string, context.CancelFunc, chan error) {
	t.Helper()
	cfg.Model, cfg.Chat = chatModel, true
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetAssistant(tinyAssistant(t)); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); s.Close() })
	return s, "http://" + ln.Addr().String() + chatRoute, cancel, served
}

// TestChatShutdown: a shutdown lets a generation in flight finish; one that outlasts the
// shutdown timeout is cancelled and answered 503.
func TestChatShutdown(t *testing.T) {
	for _, graceful := range []bool{true, false} {
		t.Run(fmt.Sprint("graceful=", graceful), func(t *testing.T) {
			cfg := testConfig()
			cfg.ShutdownTimeout = 300 * time.Millisecond
			if graceful {
				cfg.ShutdownTimeout = 20 * time.Second
			}
			s, url, cancel, served := serveChat(t, cfg)
			entered, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			s.onChatEmit = func(ctx context.Context, n int) {
				once.Do(func() {
					close(entered)
					select {
					case <-release:
					case <-ctx.Done():
					}
				})
			}
			type reply struct {
				status int
				body   []byte
			}
			replies := make(chan reply, 1)
			go func() {
				resp, err := http.Post(url, "application/json", strings.NewReader(`{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "temperature": 0}`))
				if err != nil {
					replies <- reply{}
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				replies <- reply{resp.StatusCode, b}
			}()
			<-entered
			cancel()
			if graceful {
				waitFor(t, "the drain", func() bool { return s.draining.Load() })
				close(release)
			}
			var err error
			select {
			case err = <-served:
			case <-time.After(20 * time.Second):
				t.Fatal("Serve did not return")
			}
			r := <-replies
			if graceful {
				if err != nil || r.status != 200 {
					t.Errorf("Serve: %v; status %d: %s", err, r.status, r.body)
				}
				return
			}
			if err == nil || r.status != 503 || !strings.Contains(string(r.body), CodeDraining) {
				t.Errorf("Serve: %v; status %d: %s", err, r.status, r.body)
			}
			if n := s.m.chatCancelled.Load(); n != 1 {
				t.Errorf("%d generations cancelled, want 1", n)
			}
		})
	}
}

// TestChatUnsupportedAskingNothing: the fields refused when they ask for a feature this
// server does not offer (TestChatErrors) are accepted with the values that ask for nothing.
func TestChatUnsupportedAskingNothing(t *testing.T) {
	for _, field := range []string{
		`"tools": null`, `"tools": []`, `"functions": []`, `"tool_choice": "none"`, `"tool_choice": "auto"`,
		`"function_call": "none"`, `"logprobs": false`, `"top_logprobs": 0`, `"response_format": {"type": "text"}`,
		`"logit_bias": {}`, `"logit_bias": null`,
	} {
		body := `{` + field + `, "messages": [{"role": "user", "content": "hi"}]}`
		if _, e := parseChat([]byte(body), 1, allowList{}); e != nil {
			t.Errorf("%s: refused: %s", field, e.msg)
		}
	}
}
