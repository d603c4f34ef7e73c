package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/qwen3vl/qwen3vl/chat"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"golang.org/x/term"
)

// maxChatLine bounds one line of chat input.
const maxChatLine = 1 << 20

const chatHelp = `Type a message and press Enter. Commands:
  /image PATH   attach an image to your next message (repeatable)
  /video PATH   attach a video to your next message
  /reset        forget the conversation (and the attached items)
  /help         this text
  /exit         quit (so does end of input)`

func runChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("chat", "chat -model M [-system S] [-max-tokens N] [-temperature T] [-top-p P] [-top-k K] [-seed N]", stderr)
	var af assistantFlags
	af.register(fs)
	var imf imageFlags
	imf.register(fs)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 0 {
		return usagef("chat reads the conversation from its input; unexpected arguments %q", positional)
	}
	if len(imf.videos) > 0 {
		return usagef("attach videos with /video PATH during the chat")
	}
	ov, err := imf.overrides()
	if err != nil {
		return err
	}
	a, gen, err := af.open(ctx, fs, ov, stderr)
	if err != nil {
		return err
	}
	interactive := false
	if term.IsTerminal(int(os.Stdin.Fd())) {
		interactive = true
		fmt.Fprintln(stderr, chatHelp)
	}
	s := &chatSession{a: a, system: af.system, ov: ov, stdout: stdout, stderr: stderr, sess: a.NewSession()}
	return s.run(ctx, os.Stdin, interactive, func(ctx context.Context, conv *chat.Conversation, items []pipeline.Item, emit func(string) error) (*pipeline.Answer, error) {
		return s.sess.Ask(ctx, conv, items, gen, emit)
	})
}

// chatSession is one conversation: the turns so far and the items attached to them, in the
// order the user messages name them.
type chatSession struct {
	a              *pipeline.Assistant
	system         string
	ov             pipeline.Overrides
	stdout, stderr io.Writer

	msgs    []map[string]any
	items   []pipeline.Item
	pending []pipeline.Item // attached to the next message
	// sess keeps the decoder's KV cache and the items' features between turns.
	sess *pipeline.Session
}

// ask answers one conversation; a variable so that tests need no model.
type askFunc func(ctx context.Context, conv *chat.Conversation, items []pipeline.Item, emit func(string) error) (*pipeline.Answer, error)

// run reads lines until the end of input or /exit. Each message gets an answer over the whole
// conversation, rendered again each turn; the session's KV cache holds the turns before, so
// only the new tokens are prefilled and only new items encoded.
func (s *chatSession) run(ctx context.Context, in io.Reader, interactive bool, ask askFunc) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, maxChatLine)
	prompt := func() {
		if interactive {
			fmt.Fprint(s.stderr, "> ")
		}
	}
	prompt()
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case line == "/exit" || line == "/quit":
			return nil
		case line == "/help":
			fmt.Fprintln(s.stderr, chatHelp)
		case line == "/reset":
			s.msgs, s.items, s.pending = nil, nil, nil
			if s.a != nil {
				s.sess = s.a.NewSession()
			}
			fmt.Fprintln(s.stderr, "qwen3vl: conversation cleared")
		case strings.HasPrefix(line, "/image ") || strings.HasPrefix(line, "/video "):
			video := strings.HasPrefix(line, "/video ")
			path := strings.TrimSpace(line[len("/image "):])
			if err := s.attach(ctx, path, video); err != nil {
				fmt.Fprintf(s.stderr, "qwen3vl: %s\n", describe(err))
			}
		case strings.HasPrefix(line, "/"):
			fmt.Fprintf(s.stderr, "qwen3vl: unknown command %q (/help lists them)\n", strings.Fields(line)[0])
		default:
			if err := s.turn(ctx, line, ask); err != nil {
				if ctx.Err() != nil {
					return err
				}
				fmt.Fprintf(s.stderr, "qwen3vl: %s\n", describe(err))
			}
		}
		prompt()
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the conversation: %w", err)
	}
	return nil
}

// attach preprocesses an item for the next message.
func (s *chatSession) attach(ctx context.Context, path string, video bool) error {
	in := pipeline.Input{Path: path, Video: video}
	if err := pipeline.Check(ctx, in, s.ov); err != nil {
		return err
	}
	it, err := s.a.Prepare(ctx, in)
	if err != nil {
		return err
	}
	for _, w := range it.Warnings {
		fmt.Fprintf(s.stderr, "qwen3vl: %s: %s\n", it.Name, w)
	}
	s.pending = append(s.pending, it)
	kind := "image"
	if video {
		kind = "video"
	}
	fmt.Fprintf(s.stderr, "qwen3vl: %s %s attached (grid %d×%d×%d)\n", kind, path, it.Grid.T, it.Grid.H, it.Grid.W)
	return nil
}

// turn adds the user's message (with the pending items), answers it and keeps the answer.
// A failed turn leaves the conversation as it was.
func (s *chatSession) turn(ctx context.Context, text string, ask askFunc) error {
	kinds := make([]bool, len(s.pending))
	for i, it := range s.pending {
		kinds[i] = it.Video
	}
	parts, err := userContent(kinds, text)
	if err != nil {
		return err
	}
	msgs := append(append([]map[string]any(nil), s.msgs...), map[string]any{"role": "user", "content": parts})
	all := msgs
	if s.system != "" {
		all = append([]map[string]any{{"role": "system", "content": s.system}}, msgs...)
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	conv, err := chat.ParseConversation(b)
	if err != nil {
		return err
	}
	items := append(append([]pipeline.Item(nil), s.items...), s.pending...)
	ans, err := ask(ctx, conv, items, func(t string) error {
		_, err := io.WriteString(s.stdout, t)
		return err
	})
	fmt.Fprintln(s.stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stderr, "qwen3vl: %s\n", summary(ans))
	s.msgs = append(msgs, map[string]any{"role": "assistant", "content": ans.Text})
	s.items, s.pending = items, nil
	return nil
}
