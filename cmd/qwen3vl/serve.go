package main

import (
	"context"
	"fmt"
	"io"

	"github.com/qwen3vl/qwen3vl/server"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve -model M [-addr HOST:PORT] [flags]  (every flag also reads QWEN3VL_<FLAG>)", stderr)
	cfg := server.DefaultConfig()
	cfg.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if err := cfg.ApplyEnv(); err != nil {
		return usagef("%v", err)
	}
	cfg.Resolve = func(ctx context.Context, spec string) (string, error) {
		return resolveModel(ctx, spec, stderr)
	}
	if err := server.Run(ctx, cfg); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
