// Command qwen3vl runs Qwen3-VL: the vision encoder, and the whole model for answers.
//
// Usage:
//
//	qwen3vl encode -model DIR|random:PRESET -o OUT.safetensors IMAGE...
//	qwen3vl encode -model DIR|random:PRESET -o OUT.safetensors -pixels P.safetensors
//	qwen3vl encode -model DIR|random:PRESET -o JOB/ [-shard i/n] [-list FILE] FOLDER...
//	qwen3vl index export JOB... -o OUT.safetensors
//	qwen3vl preprocess -o P.safetensors IMAGE...
//	qwen3vl bench -model random:qwen3-vl-4b -grid 1,18,24
//	qwen3vl ask -model DIR|random:PRESET [-image F]... "question"
//	qwen3vl tokenize -model DIR [-json] "text" | -chat CONV.json [-image F]... | -decode "IDS"
//
// Run "qwen3vl help" for the list of subcommands and "qwen3vl CMD -h" for a subcommand's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand: its name, a one-line summary and its entry point.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"encode", "run the vision tower on pixel values and write its outputs", runEncode},
		{"index", "check, merge and export the folders of a batch job (encode -o DIR/): merge DIR..., export DIR... -o OUT.safetensors", runIndex},
		{"preprocess", "turn images into pixel_values and grid_thw as the Hugging Face processor does", runPreprocess},
		{"prompt", "expand <image> marks in a prompt into the placeholder tokens the text model sees", runPrompt},
		{"ask", "answer a question about images or videos with the whole model (vision tower, text decoder), streaming the answer", runAsk},
		{"chat", "talk with the whole model in a terminal, several turns, images attached with /image PATH", runChat},
		{"tokenize", "turn text or a chat conversation into token ids and pieces with the checkpoint's tokenizer, or ids back into text", runTokenize},
		{"explain", "show the dataflow of one image through a model: sizes, shapes, parameters, FLOPs, memory", runExplain},
		{"serve", "run the encoder as an HTTP service (POST /v1/encode) with batching and limits", runServe},
		{"bench", "time encodes and report GFLOP/s against the measured peak", runBench},
		{"version", "print the version, commit, Go version and kernel set", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code: 0 on success, 2 for usage
// errors, 130 when interrupted (SIGINT or SIGTERM cancelled ctx), 1 otherwise.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case ctx.Err() != nil && c.name != "serve":
				fmt.Fprintf(stderr, "qwen3vl %s: interrupted\n", c.name)
				return 130
			case errors.As(err, new(usageError)):
				fmt.Fprintf(stderr, "qwen3vl %s: %s\n", c.name, describe(err))
				return 2
			default:
				fmt.Fprintf(stderr, "qwen3vl %s: %s\n", c.name, flagNames.Replace(describe(err)))
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "qwen3vl: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "qwen3vl: the Qwen3-VL vision encoder in pure Go")
	fmt.Fprintln(w, "\nUsage: qwen3vl COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'qwen3vl COMMAND -h' for a command's flags.")
}

// describe is an error's message as the command prints it after "qwen3vl CMD: ": without the
// package prefixes ("pipeline: ", "vision: ", …) that name where it arose, which say nothing
// to the user and would stutter.
func describe(err error) string {
	msg := err.Error()
	for again := true; again; {
		again = false
		for _, p := range []string{"pipeline: ", "vision: ", "imageproc: ", "hub: ", "safetensors: ", "textjoin: ", "server: ", "jpeg: ", "tokenizer: ", "chat: ", "text: ", "generate: "} {
			if rest, ok := strings.CutPrefix(msg, p); ok {
				msg, again = rest, true
			}
		}
	}
	return msg
}

// usageError marks an error in the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: qwen3vl %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
