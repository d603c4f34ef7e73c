package job

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
)

// Entry is one line of an index segment: what became of one input.
type Entry struct {
	// Ordinal is the input's position in the job's input stream (all workers' inputs counted).
	Ordinal int64 `json:"ord"`
	// Key is the input's path relative to its root (see Input.Key); Path the file as opened.
	Key  string `json:"key"`
	Path string `json:"path"`
	// SHA256 is the hex digest of the input's bytes; empty if they could not be read.
	SHA256 string `json:"sha256,omitempty"`
	// Status is StatusOK or StatusFailed; Error says why an input failed.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Grid is the item's (t, h, w) in patches.
	Grid [3]int `json:"grid,omitzero"`
	// Shard is the shard file (a name in the same folder) holding the item's rows; Item is its
	// row of grid_thw there, Tokens the [first, end) rows of pooler_output and of every
	// deepstack_features.K, Patches the [first, end) rows of last_hidden_state.
	Shard   string `json:"shard,omitempty"`
	Item    int    `json:"item,omitempty"`
	Tokens  [2]int `json:"tokens,omitzero"`
	Patches [2]int `json:"patches,omitzero"`
	// Dup says the rows are those of an earlier input with the same bytes (encoded once).
	Dup bool `json:"dup,omitempty"`
}

// The values of Entry.Status.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// File names in a job folder. Segment and shard k are written together: the shard first, then
// the segment that lists its rows, each atomically; a shard no segment lists is an orphan of a
// killed run, removed when the folder is opened again.
const (
	segmentPrefix = "index-"
	segmentExt    = ".jsonl"
	shardPrefix   = "shard-"
	shardExt      = ".safetensors"
	// DoneName is written last, when every input of the worker's part has an entry.
	DoneName = "done.json"
)

func segmentName(seq int) string { return fmt.Sprintf("%s%06d%s", segmentPrefix, seq, segmentExt) }
func shardName(seq int) string   { return fmt.Sprintf("%s%06d%s", shardPrefix, seq, shardExt) }

// seqOf parses the sequence number of a segment or shard name; ok is false for other names.
func seqOf(name, prefix, ext string) (int, bool) {
	s, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	if s, ok = strings.CutSuffix(s, ext); !ok || len(s) < 6 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// Done is the content of done.json: the worker's part is complete.
type Done struct {
	// Total is the number of inputs in the whole job's stream (every worker's).
	Total int64  `json:"total"`
	Split string `json:"split"`
	// Taken is the number of inputs of this worker's part; OK and Failed their outcome.
	Taken  int64 `json:"taken"`
	OK     int64 `json:"ok"`
	Failed int64 `json:"failed"`
}

// keyHash is what the in-memory sets hold for a key: 16 bytes of its SHA-256.
type keyHash [16]byte

func hashKey(k string) keyHash {
	s := sha256.Sum256([]byte(k))
	return keyHash(s[:16])
}

// writeSegment writes entries as JSON lines through create.
func writeSegment(create CreateFunc, path string, entries []Entry) error {
	f, err := create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Commit()
}

// maxSegmentBytes bounds a segment file read back.
const maxSegmentBytes = 1 << 30

// readSegment reads a segment's entries, calling fn for each in order.
func readSegment(path string, fn func(Entry) error) error {
	b, err := fsutil.ReadFile(path, maxSegmentBytes)
	if err != nil {
		return err
	}
	for line := 1; len(b) > 0; line++ {
		var l []byte
		l, b, _ = bytes.Cut(b, []byte{'\n'})
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if e.Status != StatusOK && e.Status != StatusFailed {
			return fmt.Errorf("%s:%d: status %q", path, line, e.Status)
		}
		if e.Status == StatusOK && e.Shard == "" {
			return fmt.Errorf("%s:%d: an ok entry without a shard", path, line)
		}
		if err := fn(e); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	return nil
}

// folder is a job folder's files, as found.
type folder struct {
	dir      string
	segments []int // sequence numbers, sorted
	shards   map[int]bool
	temps    []string // leftovers of atomic writes that never committed
}

// scan lists dir's job files.
func scan(dir string) (*folder, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	f := &folder{dir: dir, shards: map[int]bool{}}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") {
			f.temps = append(f.temps, n)
			continue
		}
		if k, ok := seqOf(n, segmentPrefix, segmentExt); ok {
			f.segments = append(f.segments, k)
		} else if k, ok := seqOf(n, shardPrefix, shardExt); ok {
			f.shards[k] = true
		}
	}
	sort.Ints(f.segments)
	return f, nil
}

// next is the sequence number after every segment's and shard's.
func (f *folder) next() int {
	n := 0
	for _, k := range f.segments {
		n = max(n, k+1)
	}
	for k := range f.shards {
		n = max(n, k+1)
	}
	return n
}

// entries calls fn with every entry of every segment, in segment order.
func (f *folder) entries(fn func(Entry) error) error {
	for _, k := range f.segments {
		if err := readSegment(filepath.Join(f.dir, segmentName(k)), fn); err != nil {
			return err
		}
	}
	return nil
}

// clean removes the leftovers of a killed run: temporary files and orphaned shards.
func (f *folder) clean() error {
	listed := map[int]bool{}
	for _, k := range f.segments {
		listed[k] = true
	}
	var errs []error
	for _, t := range f.temps {
		if err := os.Remove(filepath.Join(f.dir, t)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for k := range f.shards {
		if !listed[k] {
			if err := os.Remove(filepath.Join(f.dir, shardName(k))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			delete(f.shards, k)
		}
	}
	f.temps = nil
	return errors.Join(errs...)
}

// readDone reads dir's done.json; ok is false if there is none.
func readDone(dir string) (d Done, ok bool, err error) {
	b, err := fsutil.ReadFile(filepath.Join(dir, DoneName), 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return Done{}, false, nil
	}
	if err != nil {
		return Done{}, false, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return Done{}, false, fmt.Errorf("%s: %w", filepath.Join(dir, DoneName), err)
	}
	return d, true, nil
}

func writeJSON(create CreateFunc, path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	return f.Commit()
}

// AtomicFile is a file written atomically (fsutil.File): written, then committed into place or
// aborted.
type AtomicFile interface {
	io.Writer
	Commit() error
	Abort()
}

// CreateFunc starts an atomic write of path. The default is fsutil.Create; tests inject
// failures (a full disk) through it.
type CreateFunc func(path string) (AtomicFile, error)

func fsCreate(path string) (AtomicFile, error) { return fsutil.Create(path) }
