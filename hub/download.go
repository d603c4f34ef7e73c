package hub

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

// Size limits for the whole files fetched.
const (
	maxSmallFile     = 16 << 20                 // config.json and the other small JSON files
	maxTokenizerFile = 128 << 20                // tokenizer.json
	maxIndexFile     = safetensors.MaxIndexSize // model.safetensors.index.json
	checkpointAt     = 64 << 20                 // bytes between two durable progress records
	sourceFileName   = "source.json"
	stateFileName    = "state.json"
	partFileName     = safetensors.SingleFileName + ".part"
)

// diskFree reports the free space of a folder's disk (-1 if unknown); a variable so that
// tests can pretend the disk is full.
var diskFree = freeSpace

// optionalFiles are copied along with config.json when the repository has them, each up to its
// size limit: the image and video processors' configs, and the text side (tokenizer, chat
// template, generation config). tokenizer.json is the one large file (about 11 MB for
// Qwen3-VL, more for the 248k vocabulary of Qwen3.5).
var optionalFiles = []struct {
	name string
	max  int64
}{
	{"preprocessor_config.json", maxSmallFile},
	{"video_preprocessor_config.json", maxSmallFile},
	{"tokenizer_config.json", maxSmallFile},
	{"tokenizer.json", maxTokenizerFile},
	{"chat_template.json", maxSmallFile},
	{"chat_template.jinja", maxSmallFile},
	{"generation_config.json", maxSmallFile},
}

// shard is a remote safetensors file holding requested tensors (vision, and with
// Options.Text language ones).
type shard struct {
	name      string
	file      *remoteFile
	dataStart int64                    // 8 + header length: where the data section starts
	tensors   []safetensors.TensorInfo // its requested tensors, by offset in the data section
	metadata  map[string]string
}

// outTensor is a tensor of the downloaded checkpoint and where it comes from.
type outTensor struct {
	name      string
	dtype     safetensors.DType
	shape     []int
	shard     *shard
	src       int64 // first byte in the shard file (absolute)
	dst       int64 // first byte in the output file (absolute)
	size      int64
	dstOffset int64 // offset in the output's data section
}

// span is a run of bytes copied from one shard to the output in one request.
type span struct {
	shard    *shard
	src, dst int64
	n        int64
}

// plan is the layout of the downloaded checkpoint (vision-only, or full with Options.Text).
type plan struct {
	header  []byte // 8-byte length and JSON header
	tensors []outTensor
	spans   []span
	size    int64  // total size of the output file
	digest  string // identifies the plan: a partial download resumes only with the same one
}

// smallFile is a whole file copied into the checkpoint folder.
type smallFile struct {
	name     string
	data     []byte
	meta     fileMeta
	verified string // the checksum algorithm verified, or ""
}

// downloader builds the vision-only (or, with Options.Text, full) checkpoint of one commit.
type downloader struct {
	opts   *Options
	c      *client
	repo   string
	rev    string
	info   *repoInfo
	commit string
}

// download fetches the vision tower (and with Options.Text the language model) of the
// commit into our cache and returns its folder.
// config.json is checked before any weight is fetched.
func (d *downloader) download(ctx context.Context) (string, error) {
	opts, repo, commit := d.opts, d.repo, d.commit
	if has, known := d.info.has("config.json"); known && !has {
		return "", newError(ErrUnsupported, nil, "%s has no config.json at %s; it is not a transformers checkpoint", repo, short(commit))
	}
	cfg, meta, verified, err := d.c.fetchSmall(ctx, d.info, commit, "config.json", maxSmallFile)
	if err != nil {
		return "", err
	}
	if err := checkConfig(repo, cfg); err != nil {
		return "", err
	}
	files := []smallFile{{"config.json", cfg, meta, verified}}
	for _, f := range optionalFiles {
		name := f.name
		has, known := d.info.has(name)
		if known && !has {
			continue
		}
		b, meta, verified, err := d.c.fetchSmall(ctx, d.info, commit, name, f.max)
		if err != nil {
			if !known && errors.Is(err, ErrNotFound) {
				continue
			}
			return "", err
		}
		files = append(files, smallFile{name, b, meta, verified})
	}
	shards, err := d.shards(ctx)
	if err != nil {
		return "", err
	}
	defer func() {
		for _, s := range shards {
			s.file.close()
		}
	}()
	if err := d.checkTensorSet(shards); err != nil {
		return "", err
	}
	p, err := makePlan(repo, shards)
	if err != nil {
		return "", err
	}
	dir := snapshotsDir(opts, repo)
	if full := d.fullSize(); full > 0 {
		opts.logf("hub: downloading %s of %s@%s (%s): %s of the %s checkpoint, into %s",
			d.what(), repo, d.rev, short(commit), formatBytes(p.size), formatBytes(full), dir)
	} else {
		opts.logf("hub: downloading %s of %s@%s (%s): %s, into %s",
			d.what(), repo, d.rev, short(commit), formatBytes(p.size), dir)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", diskError(err, dir)
	}
	unlock, err := d.lock(ctx, filepath.Join(dir, ".lock-"+commit))
	if err != nil {
		return "", err
	}
	defer unlock()
	final := filepath.Join(dir, commit)
	if got := ourSnapshot(opts, repo, commit); got != "" {
		opts.logf("hub: %s@%s was downloaded by another process meanwhile", repo, short(commit))
		d.recordRef()
		return got, nil
	}
	if _, err := os.Lstat(final); err == nil {
		// An incomplete folder under the final name cannot come from this package, which
		// renames complete folders into place; move it out of the way.
		aside := filepath.Join(dir, ".broken-"+commit+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		opts.logf("hub: %s is incomplete; moving it to %s", final, aside)
		if err := os.Rename(final, aside); err != nil {
			return "", fmt.Errorf("hub: %s is incomplete and could not be moved aside: %w; remove it", final, err)
		}
		os.RemoveAll(aside)
	}

	partial := filepath.Join(dir, ".partial-"+commit)
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return "", diskError(err, partial)
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(partial, f.name), f.data); err != nil {
			return "", diskError(err, partial)
		}
	}
	if err := d.fetchTensors(ctx, partial, p); err != nil {
		return "", err
	}
	if err := verifyOutput(filepath.Join(partial, partFileName), p); err != nil {
		// Resuming would only find the same bytes again: start over next time.
		os.RemoveAll(partial)
		return "", fmt.Errorf("%w (the partial download was discarded)", err)
	}
	if err := os.Rename(filepath.Join(partial, partFileName), filepath.Join(partial, safetensors.SingleFileName)); err != nil {
		return "", err
	}
	src, err := sourceJSON(d, files, p)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(filepath.Join(partial, sourceFileName), src); err != nil {
		return "", diskError(err, partial)
	}
	os.Remove(filepath.Join(partial, stateFileName))
	fsutil.SyncDir(partial)
	if err := os.Rename(partial, final); err != nil {
		// Only possible if the lock was not honoured (some network file systems): another
		// process put a complete folder there first. Use it.
		if got := ourSnapshot(opts, repo, commit); got != "" {
			os.RemoveAll(partial)
			d.recordRef()
			return got, nil
		}
		return "", fmt.Errorf("hub: moving the finished download into place: %w", err)
	}
	fsutil.SyncDir(dir)
	opts.logf("hub: saved %s of %s@%s in %s", d.what(), repo, short(commit), final)
	d.recordRef()
	return final, nil
}

// what names the tensor set downloaded, for messages.
func (d *downloader) what() string {
	if d.opts.Text {
		return "the vision tower and language model"
	}
	return "the vision tower"
}

// checkTensorSet fails unless the shards' chosen tensors include the vision tower's and,
// for a full download, the language model's.
func (d *downloader) checkTensorSet(shards []*shard) error {
	var vis, txt bool
	for _, s := range shards {
		for _, t := range s.tensors {
			vis = vis || isVisionTensor(t.Name)
			txt = txt || isTextTensor(t.Name)
		}
	}
	where := safetensors.SingleFileName
	if len(shards) != 1 || shards[0].name != safetensors.SingleFileName {
		where = safetensors.IndexFileName
	}
	switch {
	case !vis:
		return noVisionError(d.repo, where)
	case d.opts.Text && !txt:
		return noTextError(d.repo, where)
	}
	return nil
}

// recordRef writes refs/<revision> in our cache (modelDir, shared by both tensor sets), so
// that offline runs find the commit. A failure only costs offline runs the revision name, so
// it is logged, not returned.
func (d *downloader) recordRef() {
	if d.rev == d.commit {
		return
	}
	if err := writeRef(modelDir(d.opts, d.repo), d.rev, d.commit); err != nil {
		d.opts.logf("hub: could not record %s@%s = %s: %v", d.repo, d.rev, short(d.commit), err)
	}
}

// lock takes the download lock at path, waiting (and saying so) while another process
// holds it.
func (d *downloader) lock(ctx context.Context, path string) (func(), error) {
	said := false
	for {
		unlock, busy, err := tryLock(path)
		if err != nil {
			return nil, diskError(fmt.Errorf("lock %s: %w", path, err), filepath.Dir(path))
		}
		if !busy {
			return unlock, nil
		}
		if !said {
			d.opts.logf("hub: waiting for another process downloading %s@%s (lock file %s%s)", d.repo, short(d.commit), path, staleLockHint)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d.opts.lockPoll):
		}
	}
}

// shards finds the shards holding requested tensors and reads their headers: for each, the
// 8-byte header length, then the JSON header, by range requests.
func (d *downloader) shards(ctx context.Context) ([]*shard, error) {
	repo := d.repo
	var names []string
	var wm map[string]string
	hasIndex, known := d.info.has(safetensors.IndexFileName)
	if hasIndex || !known {
		b, _, _, err := d.c.fetchSmall(ctx, d.info, d.commit, safetensors.IndexFileName, maxIndexFile)
		switch {
		case err == nil:
			if names, wm, err = wantedShards(d.opts, repo, b); err != nil {
				return nil, err
			}
		case known || !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	if names == nil {
		if has, known := d.info.has(safetensors.SingleFileName); known && !has {
			return nil, newError(ErrUnsupported, nil, "%s has neither %s nor %s at %s; only safetensors checkpoints are supported",
				repo, safetensors.SingleFileName, safetensors.IndexFileName, short(d.commit))
		}
		names = []string{safetensors.SingleFileName}
	}
	var out []*shard
	for _, name := range names {
		s, err := d.readShardHeader(ctx, name, wm)
		if err != nil {
			for _, s := range out {
				s.file.close()
			}
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// readShardHeader reads one shard's header and picks its requested tensors. With an index
// (wm not nil), only tensors the index assigns to this shard count, and each of them must
// be in the header.
func (d *downloader) readShardHeader(ctx context.Context, name string, wm map[string]string) (*shard, error) {
	f := newRemoteFile(d.c, d.commit, name)
	fail := func(err error) (*shard, error) {
		f.close()
		return nil, err
	}
	prefix, err := f.readAt(ctx, 0, 8)
	if err != nil {
		return fail(err)
	}
	n := binary.LittleEndian.Uint64(prefix)
	if f.meta.Size < 0 {
		return fail(newError(ErrCorrupt, nil, "%s of %s: the server did not say how large the file is (no Content-Range or %s)", name, d.repo, headerLinkedSize))
	}
	if want := d.info.size(name); want >= 0 && want != f.meta.Size {
		return fail(newError(ErrCorrupt, nil, "%s of %s: the revision API says %d bytes, the download server %d", name, d.repo, want, f.meta.Size))
	}
	if n == 0 || n > safetensors.MaxHeaderSize || n > uint64(f.meta.Size-8) {
		return fail(newError(ErrCorrupt, nil, "%s of %s: header length %d does not fit a %d-byte safetensors file", name, d.repo, n, f.meta.Size))
	}
	hb, err := f.readAt(ctx, 8, int64(n))
	if err != nil {
		return fail(err)
	}
	start := 8 + int64(n)
	h, err := safetensors.ParseHeader(hb, f.meta.Size-start)
	if err != nil {
		return fail(newError(ErrCorrupt, err, "%s of %s: %v", name, d.repo, err))
	}
	s := &shard{name: name, file: f, dataStart: start, metadata: h.Metadata}
	inHeader := map[string]bool{}
	for _, t := range h.Tensors {
		inHeader[t.Name] = true
		if d.opts.wants(t.Name) && (wm == nil || wm[t.Name] == name) {
			s.tensors = append(s.tensors, t)
		}
	}
	for _, t := range slices.Sorted(maps.Keys(wm)) {
		if wm[t] == name && d.opts.wants(t) && !inHeader[t] {
			return fail(newError(ErrCorrupt, nil, "%s of %s: tensor %s is listed in %s but absent from the shard", name, d.repo, t, safetensors.IndexFileName))
		}
	}
	if len(s.tensors) == 0 {
		return fail(noVisionError(d.repo, name))
	}
	return s, nil
}

// makePlan lays out the downloaded checkpoint: the shards' requested tensors in shard order,
// then file order, contiguous; the first shard's metadata; and the copy spans, adjacent
// source ranges coalesced.
func makePlan(repo string, shards []*shard) (*plan, error) {
	p := &plan{}
	var off int64
	for _, s := range shards {
		for _, t := range s.tensors {
			n := t.End - t.Begin
			p.tensors = append(p.tensors, outTensor{
				name: t.Name, dtype: t.DType, shape: t.Shape, shard: s,
				src: s.dataStart + t.Begin, size: n, dstOffset: off,
			})
			off += n
		}
	}
	var meta map[string]string
	if len(shards) > 0 {
		meta = shards[0].metadata
	}
	// The header is safetensors.Write's for these tensors, so the file is byte for byte what
	// writing the same tensors with Write would give.
	infos := make([]safetensors.Tensor, len(p.tensors))
	for i, t := range p.tensors {
		infos[i] = safetensors.Tensor{Name: t.name, DType: t.dtype, Shape: t.shape}
	}
	hdr, err := safetensors.EncodeHeader(infos, meta)
	if err != nil {
		return nil, newError(ErrCorrupt, err, "%s: %v", repo, err)
	}
	// Check the layout with the real parser before fetching anything.
	if _, err := safetensors.ParseHeader(hdr[8:], off); err != nil {
		return nil, newError(ErrCorrupt, err, "%s: the downloaded checkpoint's header is invalid: %v", repo, err)
	}
	p.header = hdr
	p.size = int64(len(hdr)) + off
	h := sha256.New()
	h.Write(hdr)
	for i := range p.tensors {
		t := &p.tensors[i]
		t.dst = int64(len(hdr)) + t.dstOffset
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\n", t.name, t.shard.name, t.shard.file.meta.ETag, t.src)
		if k := len(p.spans) - 1; k >= 0 && p.spans[k].shard == t.shard && p.spans[k].src+p.spans[k].n == t.src {
			p.spans[k].n += t.size
			continue
		}
		p.spans = append(p.spans, span{shard: t.shard, src: t.src, dst: t.dst, n: t.size})
	}
	p.digest = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// downloadState is the durable progress of a partial download.
type downloadState struct {
	Digest string `json:"digest"` // the plan's digest
	Done   int64  `json:"done"`   // the first Done bytes of the .part file are complete and synced
}

// fetchTensors writes the output file <partial>/model.safetensors.part: the header, then
// every span in order. A .part file left by an interrupted run with the same plan is
// continued from its last durable point.
func (d *downloader) fetchTensors(ctx context.Context, partial string, p *plan) (err error) {
	opts := d.opts
	path := filepath.Join(partial, partFileName)
	statePath := filepath.Join(partial, stateFileName)
	var st downloadState // a missing, unreadable, oversized or non-regular state file: start over
	if b, err := fsutil.ReadFile(statePath, 4<<10); err == nil {
		json.Unmarshal(b, &st)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return diskError(err, partial)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = diskError(cerr, partial)
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	var done int64
	if st.Digest == p.digest && st.Done >= int64(len(p.header)) && st.Done <= fi.Size() && st.Done <= p.size {
		done = st.Done
	}
	if err := f.Truncate(done); err != nil {
		return diskError(err, partial)
	}
	save := func(n int64) error {
		if err := f.Sync(); err != nil {
			return diskError(err, partial)
		}
		b, _ := json.Marshal(downloadState{Digest: p.digest, Done: n})
		if err := writeFileAtomic(statePath, b); err != nil {
			return diskError(err, partial)
		}
		return nil
	}
	if done == 0 {
		if _, err := f.WriteAt(p.header, 0); err != nil {
			return diskError(err, partial)
		}
		done = int64(len(p.header))
		if err := save(done); err != nil {
			return err
		}
	}
	dataTotal := p.size - int64(len(p.header))
	already := done - int64(len(p.header))
	if already > 0 {
		opts.logf("hub: resuming the download of %s@%s: %s of %s already there", d.repo, short(d.commit), formatBytes(already), formatBytes(dataTotal))
	}
	if need := p.size - done; need > 0 {
		if free := diskFree(partial); free >= 0 && free < need {
			return newError(ErrDiskFull, errNoSpace, "not enough disk space in %s: the download needs %s more and %s is free; free some space or set QWEN3VL_CACHE to a folder on a larger disk",
				partial, formatBytes(need), formatBytes(free))
		}
	}
	if _, err := f.Seek(done, io.SeekStart); err != nil {
		return err
	}
	label := d.repo + " vision weights"
	if opts.Text {
		label = d.repo + " weights"
	}
	bar := newProgressBar(opts.Progress, label, dataTotal, already)
	defer bar.Finish()

	// pos counts the bytes handed to w; w's buffer is flushed and the state saved every
	// checkpointAt bytes and when leaving, so that at most the unsaved tail is fetched again.
	w := bufio.NewWriterSize(f, 1<<20)
	pos, saved := done, done
	checkpoint := func() error {
		if err := w.Flush(); err != nil {
			return diskError(err, partial)
		}
		if err := save(pos); err != nil {
			return err
		}
		saved = pos
		return nil
	}
	defer func() {
		if err != nil && pos > saved {
			if cerr := checkpoint(); cerr != nil {
				opts.logf("hub: could not save download progress: %v", cerr)
			}
		}
	}()
	progress := func(n int64) {
		pos += n
		bar.Add(n)
	}
	dst := &checkpointWriter{w: w, every: checkpointAt, flush: checkpoint}
	for _, s := range p.spans {
		if s.dst+s.n <= pos {
			continue
		}
		skip := pos - s.dst // > 0 only when resuming inside this span
		if skip < 0 {
			return newError(ErrCorrupt, nil, "internal error: output position %d before span at %d", pos, s.dst)
		}
		if err := s.shard.file.copyRange(ctx, dst, s.src+skip, s.n-skip, progress); err != nil {
			var we *writeError
			if errors.As(err, &we) {
				return diskError(we.err, partial)
			}
			return err
		}
	}
	if err := checkpoint(); err != nil {
		return err
	}
	if pos != p.size {
		return newError(ErrCorrupt, nil, "internal error: wrote %d bytes, expected %d", pos, p.size)
	}
	return nil
}

// checkpointWriter writes to w and calls flush every time another `every` bytes went
// through it.
type checkpointWriter struct {
	w     io.Writer
	every int64
	since int64
	flush func() error
}

func (c *checkpointWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if err != nil {
		return n, err
	}
	c.since += int64(n)
	if c.since >= c.every {
		c.since = 0
		// The caller's progress callback runs after Write returns, so the position saved
		// here lags by this write; the state is conservative, never ahead of the data.
		if err := c.flush(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// verifyOutput reopens the finished file with the safetensors reader, which validates its
// whole layout, and checks every tensor's name, dtype, shape and place against the plan.
func verifyOutput(path string, p *plan) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Size() != p.size {
		return newError(ErrCorrupt, nil, "%s is %d bytes, expected %d; run again", path, fi.Size(), p.size)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		return newError(ErrCorrupt, err, "the downloaded checkpoint is invalid: %v; run again", err)
	}
	defer f.Close()
	if got := len(f.Header().Tensors); got != len(p.tensors) {
		return newError(ErrCorrupt, nil, "%s has %d tensors, expected %d", path, got, len(p.tensors))
	}
	for _, t := range p.tensors {
		info, ok := f.Info(t.name)
		if !ok || info.DType != t.dtype || !slices.Equal(info.Shape, t.shape) ||
			info.Begin != t.dstOffset || info.End != t.dstOffset+t.size {
			return newError(ErrCorrupt, nil, "%s: tensor %s does not match its source", path, t.name)
		}
	}
	return nil
}

// sourceRecord is the content of source.json.
type sourceRecord struct {
	Repo       string                  `json:"repo"`
	Revision   string                  `json:"revision"`
	Commit     string                  `json:"commit"`
	Endpoint   string                  `json:"endpoint"`
	Downloaded string                  `json:"downloaded"` // RFC 3339
	Files      map[string]sourceFile   `json:"files"`      // copied whole
	Shards     map[string]fileMeta     `json:"shards"`     // read in part
	Tensors    map[string]sourceTensor `json:"tensors"`
	Text       bool                    `json:"text,omitempty"`   // the language model's tensors are included (Options.Text)
	Bytes      int64                   `json:"bytes"`            // size of model.safetensors
	FullBytes  int64                   `json:"checkpoint_bytes"` // all weight files of the revision, if known (else -1)
}

// sourceFile is a small file copied whole.
type sourceFile struct {
	ETag     string `json:"etag"`
	Size     int64  `json:"size"`
	Verified string `json:"verified"` // "sha256", "git-sha1", or "" if the ETag could not be checked
}

// sourceTensor says where a tensor's bytes came from.
type sourceTensor struct {
	Shard         string   `json:"shard"`
	ETag          string   `json:"etag"`
	SourceOffsets [2]int64 `json:"source_offsets"` // [begin, end) in the shard file
}

// sourceJSON renders source.json.
func sourceJSON(d *downloader, files []smallFile, p *plan) ([]byte, error) {
	rec := sourceRecord{
		Repo: d.repo, Revision: d.rev, Commit: d.commit, Endpoint: d.opts.Endpoint,
		Downloaded: time.Now().UTC().Format(time.RFC3339),
		Files:      map[string]sourceFile{}, Shards: map[string]fileMeta{}, Tensors: map[string]sourceTensor{},
		Text: d.opts.Text, Bytes: p.size, FullBytes: d.fullSize(),
	}
	for _, f := range files {
		rec.Files[f.name] = sourceFile{ETag: f.meta.ETag, Size: int64(len(f.data)), Verified: f.verified}
	}
	for _, t := range p.tensors {
		rec.Shards[t.shard.name] = t.shard.file.meta
		rec.Tensors[t.name] = sourceTensor{Shard: t.shard.name, ETag: t.shard.file.meta.ETag, SourceOffsets: [2]int64{t.src, t.src + t.size}}
	}
	return json.MarshalIndent(rec, "", "  ")
}

// fullSize is the total size of the revision's safetensors files per the API, or -1.
func (d *downloader) fullSize() int64 {
	var n int64
	found := false
	for _, s := range d.info.Siblings {
		if filepath.Ext(s.Name) == ".safetensors" {
			sz := d.info.size(s.Name)
			if sz < 0 {
				return -1
			}
			n += sz
			found = true
		}
	}
	if !found {
		return -1
	}
	return n
}

// diskError describes a failure to write into the cache, recognising a full disk.
func diskError(err error, dir string) error {
	if errors.Is(err, errNoSpace) {
		return newError(ErrDiskFull, err, "disk full while writing in %s: %v; free some space or set QWEN3VL_CACHE to a folder on a larger disk, then run again (the download resumes)", dir, err)
	}
	var he *hubError
	if errors.As(err, &he) {
		return err
	}
	return fmt.Errorf("hub: writing in %s: %w", dir, err)
}

// short abbreviates a commit hash for messages.
func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
