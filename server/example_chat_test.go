package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/server"
)

// ExampleServer_SetAssistant serves the tiny whole model and asks one chat completion.
func ExampleServer_SetAssistant() {
	spec, err := pipeline.ParseSpec("random:tiny@7")
	if err != nil {
		panic(err)
	}
	a, err := pipeline.OpenAssistant(context.Background(), spec, pipeline.AssistantOptions{Tokenizer: "../testdata/tokenizer/qwen3vl"})
	if err != nil {
		panic(err)
	}
	cfg := server.DefaultConfig()
	cfg.Model, cfg.Chat = "random:tiny@7", true
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := server.New(cfg)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if err := s.SetAssistant(a); err != nil {
		panic(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/v1/chat/completions", "application/json", strings.NewReader(
		`{"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 5, "temperature": 0}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var c server.ChatCompletion
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, c.Object, c.Choices[0].Message.Role, c.Choices[0].FinishReason)
	fmt.Printf("%+v\n", c.Usage)
	// Output:
	// 200 chat.completion assistant length
	// {PromptTokens:9 CompletionTokens:5 TotalTokens:14}
}
