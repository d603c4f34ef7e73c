package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qwen3vl/qwen3vl/job"
	"github.com/qwen3vl/qwen3vl/pipeline"
	"github.com/qwen3vl/qwen3vl/vision"
)

// jobFlags are encode's flags for a batch job's folder.
type jobFlags struct {
	shard       string
	shardCount  int
	shardBytes  string
	failFast    bool
	prepWorkers int
	queue       int
	noPipeline  bool
}

var jobFlagNames = []string{"shard", "shard-count", "shard-bytes", "fail-fast", "prep-workers", "queue", "no-pipeline"}

func (f *jobFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.shard, "shard", "", "batch job: be worker i of n (i/n, 0 ≤ i < n): encode only the inputs whose path relative to its folder hashes to i (default: JOB_COMPLETION_INDEX with -shard-count or JOB_COMPLETIONS, as in a Kubernetes Indexed Job; else 0/1)")
	fs.IntVar(&f.shardCount, "shard-count", 0, "batch job: the number of workers n, the index i coming from JOB_COMPLETION_INDEX (instead of JOB_COMPLETIONS)")
	fs.StringVar(&f.shardBytes, "shard-bytes", "256M", "batch job: the largest shard file's tensor data (K, M, G: binary units); an item larger has a shard of its own")
	fs.BoolVar(&f.failFast, "fail-fast", false, "batch job: stop at the first input that cannot be read or decoded (recorded as failed first); without it such inputs are recorded in the index and the job goes on")
	fs.IntVar(&f.prepWorkers, "prep-workers", 1, "batch job: goroutines reading and preprocessing the next inputs while the tower encodes")
	fs.IntVar(&f.queue, "queue", job.DefaultQueue, "batch job: prepared inputs waiting for the tower, at most")
	fs.BoolVar(&f.noPipeline, "no-pipeline", false, "batch job: prepare each input in turn between encodes, without overlap (to measure what the pipelining gains)")
}

// refuseOutsideJob refuses the job flags without a job folder.
func (f *jobFlags) refuseOutsideJob(fs *flag.FlagSet) error {
	for _, n := range jobFlagNames {
		if flagGiven(fs, n) {
			return usagef("-%s is for a batch job: give -o a folder (a path ending in /)", n)
		}
	}
	return nil
}

// split is the worker's part: -shard, else -shard-count with JOB_COMPLETION_INDEX, else the
// Indexed Job's environment (JOB_COMPLETION_INDEX, JOB_COMPLETIONS), else all.
func (f *jobFlags) split(getenv func(string) string) (job.Split, error) {
	switch {
	case f.shard != "" && f.shardCount != 0:
		return job.Split{}, usagef("give -shard i/n or -shard-count n, not both")
	case f.shard != "":
		sp, err := job.ParseSplit(f.shard)
		if err != nil {
			return sp, usagef("-%v", err)
		}
		return sp, nil
	case f.shardCount != 0:
		idx := getenv("JOB_COMPLETION_INDEX")
		if idx == "" {
			return job.Split{}, usagef("-shard-count %d: JOB_COMPLETION_INDEX is not set (or give -shard i/n)", f.shardCount)
		}
		sp, err := job.ParseSplit(idx + "/" + strconv.Itoa(f.shardCount))
		if err != nil {
			return sp, usagef("JOB_COMPLETION_INDEX=%s, -shard-count %d: %v", idx, f.shardCount, err)
		}
		return sp, nil
	}
	sp, _, err := job.SplitFromEnv(getenv)
	if err != nil {
		return sp, usageError{err.Error()}
	}
	return sp, nil
}

// parseBytes reads a size: digits with an optional K, M or G (binary units; a trailing B or iB
// is allowed).
func parseBytes(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mul := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mul, t = 1<<10, t[:n-1]
		case 'M':
			mul, t = 1<<20, t[:n-1]
		case 'G':
			mul, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || v > (1<<62)/mul {
		return 0, fmt.Errorf("%q: want a positive size such as 256M", s)
	}
	return v * mul, nil
}

// jobOutput tells whether -o names a batch job's folder: with -format safetensors, a path
// ending in a slash, or an existing job folder (one holding a manifest.json). Any other
// existing folder stays the error it is for a file output.
func jobOutput(path, format string) (string, bool) {
	if format != "safetensors" || path == "" || path == "-" {
		return "", false
	}
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)) {
		return filepath.Clean(path), true
	}
	if fi, err := os.Stat(filepath.Join(path, job.ManifestName)); err == nil && fi.Mode().IsRegular() {
		return path, true
	}
	return "", false
}

// encodeJob is encode's command line for a batch job.
type encodeJob struct {
	dir, model       string
	modelGiven       bool
	args             []string
	imf              imageFlags
	jf               jobFlags
	threads          int
	weights, compute string
	batchPatches     int
	quiet            bool
}

func runEncodeJob(ctx context.Context, e encodeJob, stderr io.Writer) error {
	switch {
	case len(e.args) == 0 && e.imf.list == "":
		return usagef("no input: give image files, folders, globs or -list")
	case e.threads < 0:
		return usagef("-threads %d: must be ≥ 0", e.threads)
	case e.batchPatches < 1:
		return usagef("-batch-patches %d: must be ≥ 1", e.batchPatches)
	case e.jf.prepWorkers < 1:
		return usagef("-prep-workers %d: must be ≥ 1", e.jf.prepWorkers)
	case e.jf.queue < 1:
		return usagef("-queue %d: must be ≥ 1", e.jf.queue)
	}
	shardBytes, err := parseBytes(e.jf.shardBytes)
	if err != nil {
		return usagef("-shard-bytes %v", err)
	}
	sp, err := e.jf.split(os.Getenv)
	if err != nil {
		return err
	}
	wmode, err := parseWeights(e.weights)
	if err != nil {
		return err
	}
	cmode, err := parseCompute(e.compute)
	if err != nil {
		return err
	}
	if err := checkCompute(cmode, wmode); err != nil {
		return err
	}
	ov, err := e.imf.overrides()
	if err != nil {
		return err
	}
	spec := pipeline.DefaultSpec()
	if e.modelGiven {
		if spec, err = parseSpec(e.model); err != nil {
			return err
		}
	}
	// What can be checked before the model loads: the arguments exist, the folder is one (it is
	// created, with its parents, if missing).
	for _, a := range e.args {
		if !strings.ContainsAny(a, "*?[") {
			if _, err := os.Stat(a); err != nil {
				return inputError(a, err)
			}
		}
	}
	if e.imf.list != "" && e.imf.list != "-" {
		if _, err := os.Stat(e.imf.list); err != nil {
			return inputError(e.imf.list, err)
		}
	}
	if fi, err := os.Stat(e.dir); err == nil && !fi.IsDir() {
		return usagef("-o %s/: not a folder", e.dir)
	}
	if m, ok, err := job.ReadManifest(e.dir); err != nil {
		return err
	} else if ok && m.Fields["split"] != sp.String() {
		return fmt.Errorf("%s is worker %s's folder, this run is worker %s: %w", e.dir, m.Fields["split"], sp, job.ErrMismatch)
	}
	ckpt, err := pipeline.Resolve(ctx, spec, pipelineOptions(vision.Options{Threads: e.threads, Weights: wmode, Compute: cmode}, ov, stderr))
	if err != nil {
		return err
	}
	p, err := ckpt.Load(ctx)
	if err != nil {
		return err
	}
	m, err := job.NewManifest(p, sp)
	if err != nil {
		return err
	}
	prog := &jobProgress{statusLine: statusLine{w: stderr}, terminal: isTerminal(stderr), enabled: !e.quiet, start: time.Now()}
	cfg := job.Config{
		Dir: e.dir, Source: job.Source{Args: e.args, List: e.imf.list, Stdin: os.Stdin}, Split: sp,
		Pipeline: p, Manifest: m, ShardBytes: shardBytes, BatchPatches: e.batchPatches,
		Workers: e.jf.prepWorkers, Serial: e.jf.noPipeline, Queue: e.jf.queue, FailFast: e.jf.failFast,
		Progress: prog.update,
		Warn: func(msg string) {
			prog.clear()
			fmt.Fprintf(stderr, "qwen3vl: WARNING: %s\n", msg)
		},
		Failed: func(en job.Entry) {
			prog.clear()
			fmt.Fprintf(stderr, "qwen3vl: failed: %s\n", describe(fmt.Errorf("%s", en.Error)))
		},
	}
	if e.jf.noPipeline {
		cfg.Workers = 0
	}
	sum, err := job.Run(ctx, cfg)
	prog.done()
	if !e.quiet && (err == nil || sum.Done+sum.Dups+sum.Failed > 0) {
		secs := time.Since(prog.start).Seconds()
		fmt.Fprintf(stderr, "qwen3vl: job %s (worker %s): %d encoded, %d duplicates, %d failed, %d already done; %d shards written; %.1fs (%.2f items/s)\n",
			e.dir, sp, sum.Done, sum.Dups, sum.Failed, sum.Resumed, sum.Shards, secs, float64(sum.Done+sum.Dups)/secs)
	}
	if err != nil {
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d inputs failed (recorded in %s's index; a rerun tries them again)", sum.Failed, e.dir)
	}
	return nil
}

// jobProgress draws a job's progress: on a terminal one line redrawn (items/s, ETA once the
// inputs are all listed), elsewhere a plain line every 10 seconds; nothing with -q.
type jobProgress struct {
	statusLine
	terminal, enabled bool
	start, last       time.Time
}

func (p *jobProgress) update(pr job.Progress) {
	if !p.enabled {
		return
	}
	now := time.Now()
	if !p.terminal && now.Sub(p.last) < 10*time.Second {
		return
	}
	if p.terminal && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	n := pr.Done + pr.Dups + pr.Failed
	rate := float64(n) / now.Sub(p.start).Seconds()
	total, eta := "?", ""
	if pr.Todo >= 0 {
		total = strconv.FormatInt(pr.Todo, 10)
		if rate > 0 && n < pr.Todo {
			eta = ", ETA " + time.Duration(float64(pr.Todo-n)/rate*float64(time.Second)).Round(time.Second).String()
		}
	}
	line := fmt.Sprintf("%d/%s items (%d duplicates, %d failed, %d already done), %.2f items/s%s", n, total, pr.Dups, pr.Failed, pr.Resumed, rate, eta)
	if p.terminal {
		p.redraw(line)
	} else {
		fmt.Fprintf(p.w, "qwen3vl: %s\n", line)
	}
}
