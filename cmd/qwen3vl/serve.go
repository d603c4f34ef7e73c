package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/qwen3vl/qwen3vl/hub"
	"github.com/qwen3vl/qwen3vl/server"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve -model M [-addr HOST:PORT] [flags]  (every flag also reads QWEN3VL_<FLAG>)", stderr)
	cfg := server.DefaultConfig()
	flags := bindServeFlags(fs, &cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if err := flags.applyEnv(os.LookupEnv); err != nil {
		return usagef("%v", err)
	}
	if cfg.Model == "" {
		return usagef("-model is required: a checkpoint folder, a hub id, or random:PRESET")
	}
	if err := cfg.Validate(); err != nil {
		return usagef("%s", flags.describe(err))
	}
	parse := parseSpec
	if cfg.Chat {
		parse = parseTextSpec // the chat endpoint needs the language model
	}
	if _, err := parse(cfg.Model); err != nil {
		return err
	}
	if err := checkCompute(cfg.Compute, cfg.Weights); err != nil {
		return err
	}
	cfg.Hub = hub.OptionsFromEnv()
	done := make(chan struct{})
	defer close(done)
	go exitOnSecondSignal(ctx, done, stderr)
	if err := server.Run(ctx, cfg); err != nil {
		// The command's name already says where the error comes from.
		return errors.New(strings.TrimPrefix(err.Error(), "server: "))
	}
	return nil
}

// exitOnSecondSignal waits for ctx to be cancelled (the first SIGINT or SIGTERM starts the
// graceful shutdown); a second signal then ends the process at once.
func exitOnSecondSignal(ctx context.Context, done <-chan struct{}, stderr io.Writer) {
	select {
	case <-ctx.Done():
	case <-done:
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(ch)
	select {
	case sig := <-ch:
		fmt.Fprintf(stderr, "qwen3vl serve: second %v during the shutdown: exiting at once\n", sig)
		code := 130
		if sig == syscall.SIGTERM {
			code = 143
		}
		os.Exit(code)
	case <-done:
	}
}
