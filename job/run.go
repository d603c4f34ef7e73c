package job

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// Defaults of Config.
const (
	DefaultShardBytes   = 256 << 20
	DefaultBatchPatches = 4096
	DefaultQueue        = 8
	// DefaultSegmentEntries bounds the entries held before a segment is written (a job of
	// failing inputs writes its index all the same).
	DefaultSegmentEntries = 4096
)

// Config is one worker's run of a job into a folder.
type Config struct {
	// Dir is the job folder (created if missing).
	Dir    string
	Source Source
	Split  Split
	// Pipeline prepares and encodes the items; Manifest (NewManifest(Pipeline, Split))
	// describes it, and a folder made with another is refused.
	Pipeline *pipeline.Pipeline
	Manifest Manifest
	// ShardBytes bounds a shard's tensor data (an item larger than it has a shard of its own);
	// BatchPatches is encode's -batch-patches.
	ShardBytes   int64
	BatchPatches int
	// Workers read and preprocess inputs while the tower encodes (default 1; 0 with Serial
	// set: none, every input prepared in turn between encodes, for comparison). Queue bounds
	// the prepared items waiting for the tower.
	Workers int
	Serial  bool
	Queue   int
	// FailFast stops at the first input that cannot be read or preprocessed (recorded as
	// failed first); otherwise it is recorded and the job goes on.
	FailFast bool
	// SegmentEntries bounds the entries held before a segment is written.
	SegmentEntries int
	// Progress is called (from one goroutine) after each input's outcome; Failed with each
	// failed input's entry. Both may be nil.
	Progress func(Progress)
	Failed   func(Entry)
	// Warn receives notes on the outputs (NaN or infinite values in a batch, which are written
	// all the same, as encode writes them); nil discards them.
	Warn func(msg string)
	// Create starts atomic writes (default fsutil.Create); Encode runs the tower (default
	// Pipeline.Encode). Tests replace them.
	Create CreateFunc
	Encode func(context.Context, *pipeline.Batch) (*pipeline.Result, error)
}

// Progress counts one run's outcomes so far.
type Progress struct {
	// Done, Failed and Dups are this run's inputs encoded, failed, and found identical to an
	// earlier input; Resumed those skipped as complete in the folder already.
	Done, Failed, Dups, Resumed int64
	// Todo is the number of this worker's inputs this run has to do (Done+Failed+Dups at the
	// end), or -1 while the inputs are still being listed.
	Todo int64
}

// Summary is a finished run's account.
type Summary struct {
	Progress
	// Shards is the number of shard files this run wrote; Done the folder's done.json when the
	// worker's part is complete.
	Shards int
	Total  int64
}

// ErrFailFast is wrapped by Run's error when FailFast stopped it.
var ErrFailFast = errors.New("stopped at the first failed input (-fail-fast)")

// prepared is an input read and preprocessed by a worker.
type prepared struct {
	in   Input
	sha  [32]byte
	read bool // sha is known
	item pipeline.Item
	err  error
	dup  bool // another input with the same bytes was taken first
}

// ref is where an item's rows are.
type ref struct {
	shard           string
	item            int
	grid            [3]int
	tokens, patches [2]int
}

// Run runs one worker's part of a job: every input of Source that Split takes and the folder
// does not hold yet is read, hashed, preprocessed (by Workers goroutines, ahead of the tower),
// encoded in batches and written to shards with their index segments. See the package
// documentation for the folder's layout and guarantees.
func Run(ctx context.Context, c Config) (Summary, error) {
	c.defaults()
	r, err := open(c)
	if err != nil {
		return Summary{}, err
	}
	return r.run(ctx)
}

func (c *Config) defaults() {
	if c.ShardBytes <= 0 {
		c.ShardBytes = DefaultShardBytes
	}
	if c.BatchPatches <= 0 {
		c.BatchPatches = DefaultBatchPatches
	}
	if c.Workers <= 0 && !c.Serial {
		c.Workers = 1
	}
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
	}
	if c.SegmentEntries <= 0 {
		c.SegmentEntries = DefaultSegmentEntries
	}
	if c.Create == nil {
		c.Create = fsCreate
	}
	if c.Encode == nil {
		c.Encode = c.Pipeline.Encode
	}
}

// runner is one Run's state.
type runner struct {
	c     Config
	seq   int               // the next segment and shard number
	done  map[keyHash]int64 // complete inputs: their ordinals
	refs  map[[32]byte]ref  // rows by input bytes, committed or buffered
	claim struct {          // bytes a worker has taken to prepare
		sync.Mutex
		m map[[32]byte]bool
	}
	failedSHA map[[32]byte]string     // this run's failures by bytes
	waiting   map[[32]byte][]prepared // duplicates whose original is not encoded yet

	buf        pipeline.Features // rows of the shard being filled
	bufBytes   int64
	bufEntries []Entry // entries of buf's items
	entries    []Entry // other entries for the next segment
	batch      pipeline.Batch
	batchSHA   [][32]byte
	batchIn    []Input

	prog    Progress
	resumed atomic.Int64
	shards  int
	wrote   bool // a segment was written (done.json removed)
}

// open checks the folder against the manifest, cleans a killed run's leftovers and reads the
// index.
func open(c Config) (*runner, error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	m, ok, err := ReadManifest(c.Dir)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := m.Compare(c.Manifest); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Dir, err)
		}
	} else {
		ents, err := os.ReadDir(c.Dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") || !strings.Contains(e.Name(), ".tmp-") {
				return nil, fmt.Errorf("%s: not a job folder (no %s) and not empty: refusing to write into it", c.Dir, ManifestName)
			}
		}
		if err := writeJSON(c.Create, filepath.Join(c.Dir, ManifestName), c.Manifest); err != nil {
			return nil, err
		}
	}
	f, err := scan(c.Dir)
	if err != nil {
		return nil, err
	}
	if err := f.clean(); err != nil {
		return nil, err
	}
	r := &runner{c: c, seq: f.next(), done: map[keyHash]int64{}, refs: map[[32]byte]ref{},
		failedSHA: map[[32]byte]string{}, waiting: map[[32]byte][]prepared{}}
	r.claim.m = map[[32]byte]bool{}
	err = f.entries(func(e Entry) error {
		if e.Status != StatusOK {
			return nil // a failed input is tried again
		}
		if k, ok := seqOf(e.Shard, shardPrefix, shardExt); !ok || !f.shards[k] {
			return fmt.Errorf("%s: the shard %q of %s is missing", c.Dir, e.Shard, e.Key)
		}
		r.done[hashKey(e.Key)] = e.Ordinal
		var sha [32]byte
		if b, err := hex.DecodeString(e.SHA256); err == nil && len(b) == 32 {
			copy(sha[:], b)
			r.refs[sha] = ref{shard: e.Shard, item: e.Item, grid: e.Grid, tokens: e.Tokens, patches: e.Patches}
			r.claim.m[sha] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (r *runner) run(parent context.Context) (Summary, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	c := r.c
	r.prog.Todo = -1

	// The lister: every input in order, those of this worker's part not complete yet queued.
	todo := make(chan Input, c.Queue)
	var total, taken int64
	var listErr error
	var listDone atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(todo)
		seen := map[keyHash]int64{}
		listErr = c.Source.Walk(ctx, func(in Input) error {
			total++
			h := hashKey(in.Key)
			if o, ok := seen[h]; ok {
				return fmt.Errorf("%s: inputs %d and %d have the same key %q (the path relative to its folder): a job's inputs must differ", in.Path, o, in.Ordinal, in.Key)
			}
			seen[h] = in.Ordinal
			if !c.Split.Takes(in.Key) {
				return nil
			}
			taken++
			if o, ok := r.done[h]; ok {
				if o != in.Ordinal {
					return fmt.Errorf("%s: the inputs changed since the folder was started (%s was input %d, is now %d): use a new folder, or the same inputs", c.Dir, in.Key, o, in.Ordinal)
				}
				r.resumed.Add(1)
				return nil
			}
			select {
			case todo <- in:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		listDone.Store(true)
	}()

	// The workers: read, hash, preprocess, ahead of the tower.
	results := make(chan prepared, c.Queue)
	var wwg sync.WaitGroup
	for range c.Workers {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			for in := range todo {
				p := r.prepare(ctx, in)
				select {
				case results <- p:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	if c.Workers > 0 {
		go func() { wwg.Wait(); close(results) }()
	} else {
		// Serial: the consumer prepares each input itself.
		go func() {
			defer close(results)
			for in := range todo {
				select {
				case results <- prepared{in: in, err: errSerial}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	stopErr := func() error {
		for p := range results {
			if p.err == errSerial {
				p = r.prepare(ctx, p.in)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := r.take(ctx, p); err != nil {
				return err
			}
			if r.prog.Todo < 0 && listDone.Load() {
				r.prog.Todo = taken - r.resumed.Load()
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return r.encodeBatch(ctx)
	}()
	cancel()
	for range results {
	}
	wg.Wait()
	// Whatever was encoded is written, whatever stopped the run (not the batch being encoded
	// when it was cancelled: its inputs are done again next time).
	flushErr := r.flush()
	r.prog.Resumed = r.resumed.Load()
	sum := Summary{Progress: r.prog, Shards: r.shards, Total: total}
	switch {
	case stopErr != nil && parent.Err() != nil:
		return sum, parent.Err()
	case stopErr != nil:
		return sum, errors.Join(stopErr, flushErr)
	case flushErr != nil:
		return sum, flushErr
	case listErr != nil:
		return sum, listErr
	}
	if len(r.waiting) > 0 {
		return sum, fmt.Errorf("job: %d duplicate inputs left unresolved", len(r.waiting))
	}
	sum.Todo = r.prog.Done + r.prog.Failed + r.prog.Dups
	d := Done{Total: total, Split: c.Split.String(), Taken: taken, OK: r.prog.Done + r.prog.Dups + sum.Resumed, Failed: r.prog.Failed}
	if err := writeJSON(c.Create, filepath.Join(c.Dir, DoneName), d); err != nil {
		return sum, err
	}
	return sum, nil
}

// errSerial marks an input the consumer prepares itself (Config.Serial).
var errSerial = errors.New("prepare serially")

// prepare reads, hashes and preprocesses one input.
func (r *runner) prepare(ctx context.Context, in Input) prepared {
	p := prepared{in: in}
	if in.Err != nil {
		p.err = in.Err
		return p
	}
	limit := r.c.Pipeline.Image.MaxFileBytes
	if limit <= 0 {
		limit = imageproc.DefaultMaxFileBytes
	}
	data, err := fsutil.ReadFile(in.Path, limit)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			p.err = fmt.Errorf("%s: no such file (listed, then gone)", in.Path)
		} else {
			p.err = fmt.Errorf("%s: %w", in.Path, unwrapPath(err))
		}
		return p
	}
	p.sha, p.read = sha256.Sum256(data), true
	r.claim.Lock()
	p.dup = r.claim.m[p.sha]
	r.claim.m[p.sha] = true
	r.claim.Unlock()
	if p.dup {
		return p
	}
	p.item, p.err = r.c.Pipeline.PrepareImage(ctx, in.Path, data)
	return p
}

// take handles one prepared input.
func (r *runner) take(ctx context.Context, p prepared) error {
	switch {
	case p.err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return r.fail(p, p.err.Error())
	case p.dup:
		if rf, ok := r.refs[p.sha]; ok {
			r.addDup(p, rf)
		} else if msg, ok := r.failedSHA[p.sha]; ok {
			return r.fail(p, msg)
		} else {
			r.waiting[p.sha] = append(r.waiting[p.sha], p)
		}
		return r.maybeFlush()
	}
	if r.batch.Len() > 0 && r.batch.Patches()+p.item.Grid.Patches() > r.c.BatchPatches {
		if err := r.encodeBatch(ctx); err != nil {
			return err
		}
	}
	r.batch.Add(p.item)
	r.batchSHA = append(r.batchSHA, p.sha)
	r.batchIn = append(r.batchIn, p.in)
	return nil
}

// fail records a failed input (and the duplicates waiting on it).
func (r *runner) fail(p prepared, msg string) error {
	e := Entry{Ordinal: p.in.Ordinal, Key: p.in.Key, Path: p.in.Path, Status: StatusFailed, Error: msg}
	if p.read {
		e.SHA256 = hex.EncodeToString(p.sha[:])
		r.failedSHA[p.sha] = msg
	}
	r.entries = append(r.entries, e)
	r.prog.Failed++
	r.report()
	if r.c.Failed != nil {
		r.c.Failed(e)
	}
	if r.c.FailFast {
		return fmt.Errorf("%s: %w", msg, ErrFailFast)
	}
	if p.read && !p.dup {
		for _, w := range r.waiting[p.sha] {
			if err := r.fail(w, msg); err != nil {
				return err
			}
		}
		delete(r.waiting, p.sha)
	}
	return r.maybeFlush()
}

func (r *runner) addDup(p prepared, rf ref) {
	r.entries = append(r.entries, Entry{
		Ordinal: p.in.Ordinal, Key: p.in.Key, Path: p.in.Path, SHA256: hex.EncodeToString(p.sha[:]), Status: StatusOK,
		Grid: rf.grid, Shard: rf.shard, Item: rf.item, Tokens: rf.tokens, Patches: rf.patches, Dup: true,
	})
	r.prog.Dups++
	r.report()
}

func (r *runner) report() {
	if r.c.Progress != nil {
		p := r.prog
		p.Resumed = r.resumed.Load()
		r.c.Progress(p)
	}
}

// encodeBatch runs the tower on the batch and moves its items' rows into the shard buffer.
func (r *runner) encodeBatch(ctx context.Context) error {
	if r.batch.Len() == 0 {
		return nil
	}
	res, err := r.c.Encode(ctx, &r.batch)
	if err != nil {
		return err
	}
	if bad := res.Output().NonFinite; bad > 0 && r.c.Warn != nil {
		names := make([]string, len(r.batchIn))
		for i, in := range r.batchIn {
			names[i] = in.Path
		}
		r.c.Warn(fmt.Sprintf("%d output values are NaN or infinite (items %s)", bad, strings.Join(names, ", ")))
	}
	for i := range r.batch.Len() {
		f := res.Items(i, i+1)
		size := 4 * (int64(len(f.Pooler.Data)) + int64(len(f.LastHidden.Data)))
		for _, d := range f.Deepstack {
			size += 4 * int64(len(d.Data))
		}
		if len(r.bufEntries) > 0 && r.bufBytes+size > r.c.ShardBytes {
			if err := r.flush(); err != nil {
				return err
			}
		}
		in, sha := r.batchIn[i], r.batchSHA[i]
		g := f.Items[0].Grid
		rf := ref{
			shard: shardName(r.seq), item: len(r.bufEntries), grid: [3]int{g.T, g.H, g.W},
			tokens:  [2]int{r.buf.Pooler.Rows, r.buf.Pooler.Rows + f.Pooler.Rows},
			patches: [2]int{r.buf.LastHidden.Rows, r.buf.LastHidden.Rows + f.LastHidden.Rows},
		}
		r.buf.Append(f)
		r.bufBytes += size
		r.bufEntries = append(r.bufEntries, Entry{
			Ordinal: in.Ordinal, Key: in.Key, Path: in.Path, SHA256: hex.EncodeToString(sha[:]), Status: StatusOK,
			Grid: rf.grid, Shard: rf.shard, Item: rf.item, Tokens: rf.tokens, Patches: rf.patches,
		})
		r.refs[sha] = rf
		r.prog.Done++
		r.report()
		for _, w := range r.waiting[sha] {
			r.addDup(w, rf)
		}
		delete(r.waiting, sha)
		if err := r.maybeFlush(); err != nil {
			return err
		}
	}
	r.batch.Reset()
	r.batchSHA, r.batchIn = r.batchSHA[:0], r.batchIn[:0]
	return nil
}

func (r *runner) maybeFlush() error {
	if len(r.entries)+len(r.bufEntries) >= r.c.SegmentEntries {
		return r.flush()
	}
	return nil
}

// flush writes the shard buffer (if it holds rows) and then the segment of its entries and
// the others held, each atomically.
func (r *runner) flush() error {
	if len(r.bufEntries) == 0 && len(r.entries) == 0 {
		return nil
	}
	if !r.wrote {
		// The folder is no longer complete once it holds entries done.json does not count.
		if err := os.Remove(filepath.Join(r.c.Dir, DoneName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		r.wrote = true
	}
	if len(r.bufEntries) > 0 {
		name := shardName(r.seq)
		md := map[string]string{"format": "pt", "producer": "qwen3vl", "job_shard": name}
		f, err := r.c.Create(filepath.Join(r.c.Dir, name))
		if err != nil {
			return err
		}
		if err := safetensors.Write(f, r.buf.Tensors(), md); err != nil {
			f.Abort()
			return fmt.Errorf("%s: %w", filepath.Join(r.c.Dir, name), err)
		}
		if err := f.Commit(); err != nil {
			return err
		}
		r.shards++
	}
	all := append(r.bufEntries, r.entries...)
	if err := writeSegment(r.c.Create, filepath.Join(r.c.Dir, segmentName(r.seq)), all); err != nil {
		return err
	}
	r.seq++
	r.buf = pipeline.Features{}
	r.bufBytes = 0
	r.bufEntries, r.entries = nil, nil
	return nil
}
