package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/generate"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// ChatCompletion is the body of a non-streamed POST /v1/chat/completions answer.
type ChatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"` // "chat.completion"
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []ChatChoice `json:"choices"`
	Usage   ChatUsage    `json:"usage"`
}

// ChatChoice is the one choice of a ChatCompletion.
type ChatChoice struct {
	Index        int             `json:"index"`
	Message      ChatMessage     `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs"` // always null
	FinishReason string          `json:"finish_reason"`
}

// ChatMessage is the assistant's answer.
type ChatMessage struct {
	Role    string `json:"role"` // "assistant"
	Content string `json:"content"`
}

// ChatUsage counts a completion's tokens: PromptTokens are the prompt's ids with the image
// pads expanded (len(pipeline.Answer.PromptIDs)), CompletionTokens the generated ids (the
// eos id included, as the reference's output holds it).
type ChatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatChunk is one event of a streamed answer.
type ChatChunk struct {
	ID      string            `json:"id"`
	Object  string            `json:"object"` // "chat.completion.chunk"
	Created int64             `json:"created"`
	Model   string            `json:"model"`
	Choices []ChatChunkChoice `json:"choices"`
	Usage   *ChatUsage        `json:"usage,omitempty"` // only in the usage chunk (stream_options.include_usage)
}

// ChatChunkChoice is the choice of a ChatChunk.
type ChatChunkChoice struct {
	Index        int             `json:"index"`
	Delta        ChatDelta       `json:"delta"`
	Logprobs     json.RawMessage `json:"logprobs"` // always null
	FinishReason *string         `json:"finish_reason"`
}

// ChatDelta is the new part of the answer: the role in the first chunk, then text.
type ChatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

var jsonNull = json.RawMessage("null")

// finishReason is OpenAI's name of why generation stopped.
func finishReason(r generate.Reason) string {
	if r == generate.ReasonLength {
		return "length"
	}
	return "stop"
}

// completionID is a fresh "chatcmpl-…" id.
func completionID() string {
	var b [12]byte
	rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

// failChat answers a chat request with e in OpenAI's error shape and records its code.
func (s *Server) failChat(w http.ResponseWriter, info *reqInfo, e *apiError) {
	info.code = e.code
	writeOpenAIError(w, e)
}

// handleChat serves POST /v1/chat/completions: checks, admission (ChatQueue), the body
// read under the encoder's limits, the images preprocessed as /v1/encode does, then one
// generation at a time.
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	start := time.Now()
	if e := s.notReady(); e != nil {
		s.failChat(w, info, e)
		return
	}
	lm := s.model.Load()
	a := lm.assistant
	if a == nil {
		s.failChat(w, info, errorf(http.StatusNotFound, CodeNotFound, "this server serves the vision encoder only: start it with a whole model (qwen3vl serve -chat) for chat completions"))
		return
	}
	if e := s.jsonBodyError(r); e != nil {
		s.failChat(w, info, e)
		return
	}

	// Admission.
	select {
	case s.chatSlots <- struct{}{}:
	default:
		e := errorf(http.StatusTooManyRequests, CodeQueueFull, "the server is at capacity (%d chat requests admitted, its limit); retry later", s.cfg.ChatQueue)
		e.retryAfter = s.chatRetryAfter()
		s.failChat(w, info, e)
		return
	}
	s.m.chatInFlight.Add(1)
	defer func() {
		s.m.chatInFlight.Add(-1)
		<-s.chatSlots
	}()

	// The request's context ends when its client goes and when a shutdown runs out of time
	// (cause errAborted). Config.Timeout bounds the body's arrival only: a generation is
	// bounded by its max_tokens.
	ctx, stop := s.requestContext(r)
	defer stop()
	rc := http.NewResponseController(w)
	up := s.newUpload(r, rc, start.Add(s.cfg.Timeout))
	body, e := readAll(http.MaxBytesReader(w, up, s.cfg.MaxBody), "the body")
	if e != nil {
		// The read deadline stays set (no up.finish): net/http reads what is left of the
		// body before it sends the response, and a slow client must not hold that back.
		switch {
		case up.err == errSlowUpload:
			e = errorf(http.StatusRequestTimeout, CodeSlowUpload, "the body arrived at %s/s, below the minimum upload rate of %s/s", sizeString(int64(up.rate())), sizeString(s.cfg.MinUploadRate))
		case up.err == errTimedOut:
			e = s.timeoutError(start)
		case ctx.Err() != nil:
			s.chatGone(w, ctx, info)
			return
		}
		s.failChat(w, info, e)
		return
	}
	up.finish()
	in, e := parseChat(body, s.cfg.MaxImages, s.allow)
	body = nil
	if e != nil {
		s.failChat(w, info, e)
		return
	}
	if in.req.Model != "" && in.req.Model != lm.id {
		e := errorf(http.StatusNotFound, "model_not_found", "the model %q is not served here; this server serves %q", in.req.Model, lm.id)
		e.param = "model"
		s.failChat(w, info, e)
		return
	}
	gen, e := s.chatGeneration(a, &in.req, in.stop)
	if e != nil {
		s.failChat(w, info, e)
		return
	}

	// The images given by URL, fetched; then all decoded and preprocessed as /v1/encode does
	// (the server's budget and decode limit), at most GOMAXPROCS requests at once.
	info.images = len(in.images)
	if e := s.fetchImages(ctx, in.images); ctx.Err() != nil {
		s.chatGone(w, ctx, info)
		return
	} else if e != nil {
		s.failChat(w, info, e)
		return
	}
	var items []pipeline.Item
	var enc pipeline.ItemEncoder
	if len(in.images) > 0 {
		prep, e := s.prepareImages(ctx, lm, in.images, lm.pre, true, func(im rawImage) string { return im.name })
		if ctx.Err() != nil {
			s.chatGone(w, ctx, info)
			return
		} else if e != nil {
			s.failChat(w, info, e)
			return
		}
		items, enc = s.chatEncoder(lm, prep)
	}
	// The prompt, rendered and counted now so that a template error or a prompt over the
	// context is a 400 before anything streams (Ask renders it again: it is cheap).
	prompt, err := a.Text.Render(in.conv, chat.Options{AddGenerationPrompt: true})
	if err != nil {
		s.failChat(w, info, paramError("messages", "the chat template: %s", trimPackage(err)))
		return
	}
	grids := make([]textjoin.Grid, len(items))
	for i, it := range items {
		grids[i] = textjoin.Grid(it.Grid)
	}
	d, err := a.Text.Describe(prompt, grids, nil)
	if err != nil {
		s.failChat(w, info, paramError("messages", "%s", trimPackage(err)))
		return
	}
	budget := gen.Budget(len(d.IDs))
	if limit := a.Decoder.Config().MaxPositionEmbeddings; len(d.IDs)+budget > limit {
		e := errorf(http.StatusBadRequest, "context_length_exceeded", "the prompt's %d tokens and up to %d new ones exceed the model's context of %d tokens", len(d.IDs), budget, limit)
		e.param = "messages"
		s.failChat(w, info, e)
		return
	}

	// One generation at a time.
	select {
	case s.chatRun <- struct{}{}:
	case <-ctx.Done():
		s.chatGone(w, ctx, info)
		return
	}
	defer func() { <-s.chatRun }()
	s.m.chatGenerating.Store(1)
	defer s.m.chatGenerating.Store(0)
	s.m.chatGenerations.Add(1)

	id, created := completionID(), time.Now().Unix()
	genStart := time.Now()
	pieces := 0
	firstText := func() {
		if pieces == 0 {
			s.m.chatFirstToken.observe(time.Since(genStart).Seconds())
		}
		if s.onChatEmit != nil {
			s.onChatEmit(ctx, pieces)
		}
		pieces++
	}
	var ans *pipeline.Answer
	if in.req.Stream {
		ans, err = s.streamChat(w, rc, ctx, a.NewSessionWith(enc), in, items, gen, lm.id, id, created, firstText)
	} else {
		ans, err = a.NewSessionWith(enc).Ask(ctx, in.conv, items, gen, func(string) error { firstText(); return nil })
	}
	if ans != nil {
		s.m.chatPromptTokens.Add(uint64(len(ans.PromptIDs)))
		s.m.chatOutputTokens.Add(uint64(ans.GeneratedTokens))
		info.tokens = ans.GeneratedTokens
	}
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, errClientGone) {
			s.m.chatCancelled.Add(1)
			if context.Cause(ctx) == errAborted && !in.req.Stream {
				e := errorf(http.StatusServiceUnavailable, CodeDraining, "aborted: the server shut down before the answer was finished")
				e.retryAfter = 1
				s.failChat(w, info, e)
				return
			}
			s.chatGone(w, ctx, info)
			return
		}
		s.log.Error("chat generation failed", "err", err)
		if in.req.Stream {
			// The headers are sent: an error event, then the stream ends.
			writeEvent(w, rc, openAIError(errorf(http.StatusInternalServerError, CodeInternal, "generation failed: %v", err)))
			info.code = CodeInternal
			return
		}
		s.failChat(w, info, errorf(http.StatusInternalServerError, CodeInternal, "generation failed: %v", err))
		return
	}
	s.m.chatSeconds.observe(time.Since(start).Seconds())
	if in.req.Stream {
		return
	}
	usage := ChatUsage{PromptTokens: len(ans.PromptIDs), CompletionTokens: ans.GeneratedTokens, TotalTokens: len(ans.PromptIDs) + ans.GeneratedTokens}
	writeJSON(w, http.StatusOK, ChatCompletion{
		ID: id, Object: "chat.completion", Created: created, Model: lm.id,
		Choices: []ChatChoice{{Index: 0, Message: ChatMessage{Role: "assistant", Content: cutAtStop(ans.Text, gen.StopStrings)}, Logprobs: jsonNull, FinishReason: finishReason(ans.Reason)}},
		Usage:   usage,
	})
}

// chatEncoder returns the items of a chat's images (grids and sizes, no pixels) and the
// encoder its session encodes them with: the feature cache and the batcher, as /v1/encode
// (all of them on the first call, after the generation's turn is taken).
func (s *Server) chatEncoder(lm *loadedModel, prep *prepared) ([]pipeline.Item, pipeline.ItemEncoder) {
	items := make([]pipeline.Item, len(prep.names))
	index := make(map[string]int, len(items))
	for i, name := range prep.names {
		items[i] = pipeline.Item{Name: name, Grid: prep.grids[i]}
		index[name] = i
	}
	var all *pipeline.Features
	return items, func(ctx context.Context, want []pipeline.Item) (pipeline.Features, error) {
		if all == nil {
			f, _, e := s.encode(ctx, lm, prep)
			if e != nil {
				return pipeline.Features{}, e
			}
			if err := ctx.Err(); err != nil {
				return pipeline.Features{}, err
			}
			all = &f
		}
		var out pipeline.Features
		for _, it := range want {
			i, ok := index[it.Name]
			if !ok {
				return pipeline.Features{}, fmt.Errorf("server: no image %q in the request", it.Name)
			}
			out.Append(all.Item(i))
		}
		return out, nil
	}
}

// errClientGone is the error of a streamed event the client did not take.
var errClientGone = errors.New("the client went away")

// streamChat runs the generation with its answer streamed as server-sent events: a first
// chunk with the role, one chunk per piece of text Ask emits (text that may begin a stop
// string held back until it is known not to, and nothing from a stop string on), a last chunk with the finish
// reason, the usage chunk if asked for, then "data: [DONE]". Each event is flushed.
func (s *Server) streamChat(w http.ResponseWriter, rc *http.ResponseController, ctx context.Context, a *pipeline.Session, in *chatInput, items []pipeline.Item, gen generate.Config, model, id string, created int64, onPiece func()) (*pipeline.Answer, error) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	chunk := func(d ChatDelta, finish *string) ChatChunk {
		return ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
			Choices: []ChatChunkChoice{{Index: 0, Delta: d, Logprobs: jsonNull, FinishReason: finish}}}
	}
	empty := ""
	if err := writeEvent(w, rc, chunk(ChatDelta{Role: "assistant", Content: &empty}, nil)); err != nil {
		return nil, errClientGone
	}
	cut := &stopCutter{stops: gen.StopStrings}
	send := func(text string) error {
		if text == "" {
			return nil
		}
		if err := writeEvent(w, rc, chunk(ChatDelta{Content: &text}, nil)); err != nil {
			return errClientGone
		}
		return nil
	}
	ans, err := a.Ask(ctx, in.conv, items, gen, func(piece string) error {
		onPiece()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return send(cut.add(piece))
	})
	if err != nil {
		return ans, err
	}
	if err := send(cut.flush()); err != nil {
		return ans, err
	}
	fr := finishReason(ans.Reason)
	if err := writeEvent(w, rc, chunk(ChatDelta{}, &fr)); err != nil {
		return ans, errClientGone
	}
	if in.req.StreamOptions != nil && in.req.StreamOptions.IncludeUsage {
		u := ChatUsage{PromptTokens: len(ans.PromptIDs), CompletionTokens: ans.GeneratedTokens, TotalTokens: len(ans.PromptIDs) + ans.GeneratedTokens}
		c := ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: []ChatChunkChoice{}, Usage: &u}
		if err := writeEvent(w, rc, c); err != nil {
			return ans, errClientGone
		}
	}
	if _, err := io.WriteString(w, "data: [DONE]\n\n"); err != nil {
		return ans, errClientGone
	}
	if rc.Flush() != nil {
		return ans, errClientGone
	}
	return ans, nil
}

// writeEvent writes v as one server-sent event ("data: JSON\n\n") and flushes it.
func writeEvent(w io.Writer, rc *http.ResponseController, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
		return err
	}
	return rc.Flush()
}

// chatGone ends a chat request whose client went away, or answers 503 when a shutdown cut
// it short before anything was sent.
func (s *Server) chatGone(w http.ResponseWriter, ctx context.Context, info *reqInfo) {
	if context.Cause(ctx) == errAborted {
		if sw, ok := w.(*statusWriter); !ok || sw.status == 0 {
			e := errorf(http.StatusServiceUnavailable, CodeDraining, "aborted: the server shut down")
			e.retryAfter = 1
			s.failChat(w, info, e)
			return
		}
	}
	info.clientGone, info.code = true, "client_gone"
	panic(http.ErrAbortHandler)
}

// chatGeneration is the Assistant's generation config with the request's overrides:
// max_completion_tokens (or max_tokens; default and at most Config.ChatMaxTokens),
// temperature (0 is greedy; any other value samples), top_p, the penalties, seed (absent:
// a random one, as OpenAI's API samples differently each time) and stop (added to the
// checkpoint's stop strings).
func (s *Server) chatGeneration(a *pipeline.Assistant, r *chatRequest, stop []string) (generate.Config, *apiError) {
	gen := a.Generation
	gen.MaxLength = 0
	gen.MaxNewTokens = s.cfg.ChatMaxTokens
	param := ""
	for _, p := range []struct {
		name string
		v    *int
	}{{"max_tokens", r.MaxTokens}, {"max_completion_tokens", r.MaxCompletionTokens}} {
		if p.v != nil {
			gen.MaxNewTokens, param = *p.v, p.name
		}
	}
	if gen.MaxNewTokens > s.cfg.ChatMaxTokens {
		return gen, paramError(param, "%s %d is over this server's limit of %d", param, gen.MaxNewTokens, s.cfg.ChatMaxTokens)
	}
	if r.Temperature != nil {
		gen.Temperature = *r.Temperature
		gen.DoSample = *r.Temperature > 0
	}
	if r.TopP != nil {
		gen.TopP = *r.TopP
	}
	if r.PresencePenalty != nil {
		gen.PresencePenalty = *r.PresencePenalty
	}
	if r.FrequencyPenalty != nil {
		gen.FrequencyPenalty = *r.FrequencyPenalty
	}
	if r.Seed != nil {
		gen.Seed = uint64(*r.Seed)
	} else {
		gen.Seed = mrand.Uint64()
	}
	gen.StopStrings = append(append([]string(nil), gen.StopStrings...), stop...)
	if err := gen.Validate(); err != nil {
		return gen, errorf(http.StatusBadRequest, CodeInvalidParameter, "%s", strings.TrimPrefix(err.Error(), "generate: config: "))
	}
	return gen, nil
}

// chatRetryAfter estimates, in whole seconds, when a chat slot may be free: the mean chat
// request time, at least 1 s and at most 60 s.
func (s *Server) chatRetryAfter() int {
	_, sum, n := s.m.chatSeconds.snapshot()
	if n == 0 {
		return 1
	}
	return int(min(60, max(1, math.Ceil(sum/float64(n)))))
}

// trimPackage drops the package prefix of an error from below ("pipeline: ", "chat: ").
func trimPackage(err error) string {
	m := err.Error()
	for _, p := range []string{"pipeline: ", "chat: ", "textjoin: "} {
		m = strings.TrimPrefix(m, p)
	}
	return m
}

// jsonBodyError checks a JSON-bodied request (the chat endpoint, the proxy): its Content-Type
// must be application/json and its declared length within Config.MaxBody.
func (s *Server) jsonBodyError(r *http.Request) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Content-Type %q: send application/json", r.Header.Get("Content-Type"))
	}
	if r.ContentLength > s.cfg.MaxBody {
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body is %d bytes, over the body limit of %s", r.ContentLength, sizeString(s.cfg.MaxBody))
	}
	return nil
}
