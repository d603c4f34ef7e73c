package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/job"
)

// runIndex is "qwen3vl index merge|export": a batch job's worker folders checked, combined and
// written back as one file.
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("index: want a subcommand: merge DIR... [-o FILE.jsonl], or export DIR... -o OUT.safetensors")
	}
	switch args[0] {
	case "merge":
		return runIndexMerge(args[1:], stdout, stderr)
	case "export":
		return runIndexExport(args[1:], stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stderr, "Usage: qwen3vl index merge DIR... [-o FILE.jsonl]\n       qwen3vl index export DIR... -o OUT.safetensors\n\nDIR is a worker's job folder, or a folder of them.")
		return flag.ErrHelp
	}
	return usagef("index: unknown subcommand %q (want merge or export)", args[0])
}

func runIndexMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("index merge", "index merge DIR... [-o FILE.jsonl]  (DIR: a worker's job folder, or a folder of them)", stderr)
	out := fs.String("o", "", "write the merged index here: one JSON line per input in input order, its shard as a path relative to this file's folder")
	quiet := fs.Bool("q", false, "no summary on stderr")
	dirs, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ix, err := mergeArgs(dirs)
	if err != nil {
		return err
	}
	if *out != "" {
		base := filepath.Dir(*out)
		err := fsutil.WriteFile(*out, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			for _, e := range ix.Entries {
				if e.Shard != "" {
					rel, err := filepath.Rel(base, filepath.Join(e.Dir, e.Shard))
					if err != nil {
						return err
					}
					e.Shard = filepath.ToSlash(rel)
				}
				if err := enc.Encode(e.Entry); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if !*quiet {
		fmt.Fprintf(stderr, "qwen3vl: %d workers, %d inputs: %d encoded, %d failed; none missing or twice\n", len(ix.Dirs), ix.Total, int(ix.Total)-ix.Failed, ix.Failed)
	}
	return nil
}

func runIndexExport(args []string, stderr io.Writer) error {
	fs := newFlagSet("index export", "index export DIR... -o OUT.safetensors  (DIR: a worker's job folder, or a folder of them)", stderr)
	out := fs.String("o", "", "the file to write: the single-file output of encode -o FILE.safetensors, items in input order")
	quiet := fs.Bool("q", false, "no summary on stderr")
	dirs, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o is required")
	}
	if err := checkOutput("safetensors", *out, nil); err != nil {
		return err
	}
	ix, err := mergeArgs(dirs)
	if err != nil {
		return err
	}
	st, err := ix.Export(*out)
	if err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(stderr, "qwen3vl: wrote %s: %d items, %d tokens, %d patches\n", *out, st.Items, st.Tokens, st.Patches)
	}
	if st.Failed > 0 {
		return fmt.Errorf("%d of %d inputs failed and are not in %s (as encode -keep-going)", st.Failed, ix.Total, *out)
	}
	return nil
}

func mergeArgs(args []string) (*job.Index, error) {
	if len(args) == 0 {
		return nil, usagef("no job folder given")
	}
	dirs, err := job.WorkerDirs(args)
	if err != nil {
		return nil, err
	}
	return job.Merge(dirs)
}
