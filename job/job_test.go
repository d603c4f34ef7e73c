package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
	"github.com/qwen3vl/qwen3vl/internal/safetensors"
	"github.com/qwen3vl/qwen3vl/pipeline"
)

// tinyPipeline is random:tiny (seed 0 unless spec says) with a small pixel budget, so items
// are a few patches.
func tinyPipeline(t testing.TB, spec string, maxPixels int) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.Open(context.Background(), spec, pipeline.Options{Preprocess: pipeline.Overrides{MinPixels: 1024, MaxPixels: maxPixels}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var pipelines sync.Map

func sharedTiny(t testing.TB) *pipeline.Pipeline {
	if p, ok := pipelines.Load("tiny"); ok {
		return p.(*pipeline.Pipeline)
	}
	p := tinyPipeline(t, "random:tiny", 8192)
	pipelines.Store("tiny", p)
	return p
}

// writeImages writes n small PNGs of varied sizes under dir (some in subfolders), every
// seventh a byte-for-byte copy of an earlier one, and returns their paths in walk order.
func writeImages(t testing.TB, dir string, n int, seed uint64) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var blobs [][]byte
	for i := range n {
		var b []byte
		if i%7 == 6 && len(blobs) > 0 {
			b = blobs[rng.IntN(len(blobs))]
		} else {
			w, h := 16+rng.IntN(80), 16+rng.IntN(80)
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			for j := range img.Pix {
				img.Pix[j] = uint8(rng.UintN(256))
			}
			for j := 3; j < len(img.Pix); j += 4 {
				img.Pix[j] = 255
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			b = buf.Bytes()
			blobs = append(blobs, b)
		}
		sub := filepath.Join(dir, fmt.Sprintf("d%d", i%3))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("img%04d.png", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var paths []string
	err := Source{Args: []string{dir}}.Walk(context.Background(), func(in Input) error {
		paths = append(paths, in.Path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// plainFile is what encode -o FILE.safetensors writes for paths: each input prepared from its
// file, encoded, the features appended in order, with Pipeline.Metadata.
func plainFile(t testing.TB, p *pipeline.Pipeline, paths []string) []byte {
	t.Helper()
	ctx := context.Background()
	var all pipeline.Features
	for _, path := range paths {
		it, err := p.Prepare(ctx, pipeline.Input{Path: path})
		if err != nil {
			continue // as -keep-going
		}
		var b pipeline.Batch
		b.Add(it)
		res, err := p.Encode(ctx, &b)
		if err != nil {
			t.Fatal(err)
		}
		all.Append(res.Items(0, 1))
	}
	out := filepath.Join(t.TempDir(), "plain.safetensors")
	if err := safetensors.WriteFile(out, all.Tensors(), p.Metadata(all.Items)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func config(t testing.TB, p *pipeline.Pipeline, dir string, src Source, sp Split) Config {
	m, err := NewManifest(p, sp)
	if err != nil {
		t.Fatal(err)
	}
	return Config{Dir: dir, Source: src, Split: sp, Pipeline: p, Manifest: m, ShardBytes: 64 << 10, BatchPatches: 64, Workers: 2}
}

func export(t testing.TB, dirs ...string) []byte {
	t.Helper()
	ix, err := Merge(dirs)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "export.safetensors")
	if _, err := ix.Export(out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunExportIsPlainEncode: a job over a folder tree with duplicate images, exported, is
// byte for byte the plain encode of the same folder; the duplicates were encoded once; a
// rerun does nothing.
func TestRunExportIsPlainEncode(t *testing.T) {
	p := sharedTiny(t)
	in := t.TempDir()
	paths := writeImages(t, in, 40, 1)
	want := plainFile(t, p, paths)
	dir := filepath.Join(t.TempDir(), "job")
	sum, err := Run(context.Background(), config(t, p, dir, Source{Args: []string{in}}, Split{}))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done+sum.Dups != 40 || sum.Dups == 0 || sum.Failed != 0 || sum.Shards < 2 {
		t.Errorf("summary %+v: want 40 inputs, some duplicates, several shards", sum)
	}
	if got := export(t, dir); !bytes.Equal(got, want) {
		t.Fatalf("export differs from the plain encode (%d vs %d bytes)", len(got), len(want))
	}
	again, err := Run(context.Background(), config(t, p, dir, Source{Args: []string{in}}, Split{}))
	if err != nil {
		t.Fatal(err)
	}
	if again.Resumed != 40 || again.Done+again.Dups+again.Failed != 0 || again.Shards != 0 {
		t.Errorf("rerun: %+v, want everything resumed", again)
	}
	if got := export(t, dir); !bytes.Equal(got, want) {
		t.Fatal("export after a rerun differs")
	}
	// Without the overlap (-no-pipeline), and with more preparing goroutines: the same.
	for _, c := range []struct {
		serial  bool
		workers int
	}{{true, 0}, {false, 3}} {
		dir := filepath.Join(t.TempDir(), "job")
		cfg := config(t, p, dir, Source{Args: []string{in}}, Split{})
		cfg.Serial, cfg.Workers = c.serial, c.workers
		if _, err := Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		if got := export(t, dir); !bytes.Equal(got, want) {
			t.Errorf("serial %v, %d workers: export differs", c.serial, c.workers)
		}
	}
}

// TestCancelledRunsResume: runs stopped after k encodes (the context cancelled, as by
// SIGINT), resumed until complete, give the uninterrupted run's features.
func TestCancelledRunsResume(t *testing.T) {
	p := sharedTiny(t)
	in := t.TempDir()
	paths := writeImages(t, in, 30, 2)
	want := plainFile(t, p, paths)
	dir := filepath.Join(t.TempDir(), "job")
	for round := 0; ; round++ {
		if round > 30 {
			t.Fatal("no progress")
		}
		ctx, cancel := context.WithCancel(context.Background())
		c := config(t, p, dir, Source{Args: []string{in}}, Split{})
		calls := 0
		c.Encode = func(ctx context.Context, b *pipeline.Batch) (*pipeline.Result, error) {
			if calls++; calls == 3 {
				cancel()
			}
			return p.Encode(ctx, b)
		}
		_, err := Run(ctx, c)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
	if got := export(t, dir); !bytes.Equal(got, want) {
		t.Fatal("resumed export differs from the plain encode")
	}
}

// TestSplitWorkers: n workers, each its own folder, merged and exported, give the plain
// encode; each input went to exactly one worker.
func TestSplitWorkers(t *testing.T) {
	p := sharedTiny(t)
	in := t.TempDir()
	paths := writeImages(t, in, 30, 3)
	want := plainFile(t, p, paths)
	for _, n := range []int{1, 3, 7} {
		root := t.TempDir()
		var taken int64
		for i := range n {
			dir := filepath.Join(root, fmt.Sprintf("w%d", i))
			sum, err := Run(context.Background(), config(t, p, dir, Source{Args: []string{in}}, Split{Index: i, Count: n}))
			if err != nil {
				t.Fatal(err)
			}
			taken += sum.Done + sum.Dups
		}
		if taken != 30 {
			t.Errorf("n=%d: the workers took %d inputs, want 30", n, taken)
		}
		dirs, err := WorkerDirs([]string{root})
		if err != nil {
			t.Fatal(err)
		}
		if got := export(t, dirs...); !bytes.Equal(got, want) {
			t.Errorf("n=%d: merged export differs from the plain encode", n)
		}
		if n > 1 {
			if _, err := Merge(dirs[1:]); err == nil || !strings.Contains(err.Error(), "no folder for worker 0/") {
				t.Errorf("n=%d: merge without worker 0: %v", n, err)
			}
		}
	}
}

// TestBadInputs: a corrupt file and a listed file that is gone are recorded as failed with
// their errors, and the job goes on; -fail-fast stops at the first.
func TestBadInputs(t *testing.T) {
	p := sharedTiny(t)
	in := t.TempDir()
	paths := writeImages(t, in, 6, 4)
	bad := filepath.Join(in, "corrupt.png")
	if err := os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(in, "gone.png")
	list := filepath.Join(t.TempDir(), "list.txt")
	lines := append([]string{paths[0], bad, gone}, paths[1:]...)
	if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "job")
	var failed []Entry
	c := config(t, p, dir, Source{List: list}, Split{})
	c.Failed = func(e Entry) { failed = append(failed, e) }
	sum, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 2 || sum.Done+sum.Dups != 6 || len(failed) != 2 {
		t.Fatalf("summary %+v, failed %v: want 2 failed, 6 done", sum, failed)
	}
	for _, e := range failed {
		switch e.Path {
		case bad:
			if e.SHA256 == "" || !strings.Contains(e.Error, "corrupt.png") {
				t.Errorf("corrupt entry %+v", e)
			}
		case gone:
			if !strings.Contains(e.Error, "gone.png: no such file") {
				t.Errorf("gone entry %+v", e)
			}
		default:
			t.Errorf("unexpected failure %+v", e)
		}
	}
	ix, err := Merge([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Failed != 2 || len(ix.Entries) != 8 {
		t.Errorf("index: %d entries, %d failed", len(ix.Entries), ix.Failed)
	}
	want := plainFile(t, p, lines)
	if got := export(t, dir); !bytes.Equal(got, want) {
		t.Error("export differs from the plain encode -keep-going")
	}

	dir2 := filepath.Join(t.TempDir(), "job")
	c = config(t, p, dir2, Source{List: list}, Split{})
	c.FailFast, c.Workers = true, 1
	if _, err := Run(context.Background(), c); !errors.Is(err, ErrFailFast) || !strings.Contains(err.Error(), "corrupt.png") {
		t.Errorf("fail-fast: %v", err)
	}
	if _, ok, _ := readDone(dir2); ok {
		t.Error("a stopped run wrote done.json")
	}
}

// fullDisk fails every write once n bytes in all have been written, with ENOSPC.
type fullDisk struct {
	mu   sync.Mutex
	left int64
}

type fullFile struct {
	*fsutil.File
	d *fullDisk
}

func (f fullFile) Write(b []byte) (int, error) {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	if int64(len(b)) > f.d.left {
		return 0, &os.PathError{Op: "write", Path: "disk", Err: syscall.ENOSPC}
	}
	f.d.left -= int64(len(b))
	return f.File.Write(b)
}

func (d *fullDisk) create(path string) (AtomicFile, error) {
	f, err := fsutil.Create(path)
	if err != nil {
		return nil, err
	}
	return fullFile{f, d}, nil
}

// TestFullDisk: a write error (ENOSPC, injected through Config.Create) stops the run with the
// error; no temporary file is left; the folder resumes once there is room.
func TestFullDisk(t *testing.T) {
	p := sharedTiny(t)
	in := t.TempDir()
	paths := writeImages(t, in, 20, 5)
	want := plainFile(t, p, paths)
	// A first run counts the bytes a whole job writes; the disk then fills at half of them.
	count := &fullDisk{left: 1 << 62}
	c := config(t, p, filepath.Join(t.TempDir(), "job"), Source{Args: []string{in}}, Split{})
	c.Create = count.create
	if _, err := Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "job")
	c = config(t, p, dir, Source{Args: []string{in}}, Split{})
	d := &fullDisk{left: (1<<62 - count.left) / 2}
	c.Create = d.create
	_, err := Run(context.Background(), c)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Run on a full disk: %v, want ENOSPC", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left %s", e.Name())
		}
	}
	if _, err := Run(context.Background(), config(t, p, dir, Source{Args: []string{in}}, Split{})); err != nil {
		t.Fatal(err)
	}
	if got := export(t, dir); !bytes.Equal(got, want) {
		t.Fatal("export after a full disk differs")
	}
}

// TestRefusedFolder: a folder made with another model or options is refused, naming what
// differs; so is a non-empty folder that is not a job's.
func TestRefusedFolder(t *testing.T) {
	p := sharedTiny(t)
	in := t.TempDir()
	writeImages(t, in, 3, 6)
	dir := filepath.Join(t.TempDir(), "job")
	if _, err := Run(context.Background(), config(t, p, dir, Source{Args: []string{in}}, Split{})); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    *pipeline.Pipeline
		sp   Split
		want string
	}{
		{tinyPipeline(t, "random:tiny", 4096), Split{}, `image.MaxPixels: the folder has "8192", this run "4096"`},
		{tinyPipeline(t, "random:tiny@3", 8192), Split{}, `model: the folder has "random:tiny", this run "random:tiny@3"`},
		{p, Split{Index: 1, Count: 2}, `split: the folder has "0/1", this run "1/2"`},
	} {
		_, err := Run(context.Background(), config(t, c.p, dir, Source{Args: []string{in}}, c.sp))
		if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run: %v\nwant ErrMismatch naming %s", err, c.want)
		}
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o644)
	if _, err := Run(context.Background(), config(t, p, other, Source{Args: []string{in}}, Split{})); err == nil || !strings.Contains(err.Error(), "not a job folder") {
		t.Errorf("Run into a foreign folder: %v", err)
	}
}

// TestSplitRule: Worker depends only on the key and n; every key has one worker in [0, n).
func TestSplitRule(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 100} {
		counts := make([]int, n)
		for i := range 1000 {
			k := fmt.Sprintf("d/img%04d.jpg", i)
			w := Worker(k, n)
			if w < 0 || w >= n || w != Worker(k, n) {
				t.Fatalf("Worker(%q, %d) = %d", k, n, w)
			}
			counts[w]++
		}
		for w, c := range counts {
			if n <= 7 && c < 1000/n/2 {
				t.Errorf("n=%d: worker %d has %d of 1000 keys", n, w, c)
			}
		}
	}
	for _, c := range []struct {
		in  string
		ok  bool
		out Split
	}{{"0/1", true, Split{0, 1}}, {"2/3", true, Split{2, 3}}, {"3/3", false, Split{}}, {"-1/3", false, Split{}}, {"1", false, Split{}}, {"a/b", false, Split{}}} {
		sp, err := ParseSplit(c.in)
		if (err == nil) != c.ok || (c.ok && sp != c.out) {
			t.Errorf("ParseSplit(%q) = %v, %v", c.in, sp, err)
		}
	}
	env := map[string]string{"JOB_COMPLETION_INDEX": "4", "JOB_COMPLETIONS": "7"}
	sp, ok, err := SplitFromEnv(func(k string) string { return env[k] })
	if !ok || err != nil || sp != (Split{4, 7}) {
		t.Errorf("SplitFromEnv = %v %v %v", sp, ok, err)
	}
	delete(env, "JOB_COMPLETIONS")
	if _, _, err := SplitFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("SplitFromEnv without JOB_COMPLETIONS: no error")
	}
}

// TestKeys: keys are relative to the argument's root, so two mount points agree.
func TestKeys(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		writeImages(t, d, 4, 7)
	}
	keys := func(args ...string) []string {
		var ks []string
		if err := (Source{Args: args}).Walk(context.Background(), func(in Input) error { ks = append(ks, in.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	ka, kb := keys(a), keys(b)
	if strings.Join(ka, ",") != strings.Join(kb, ",") || ka[0] != "d0/img0000.png" {
		t.Errorf("keys %v and %v", ka, kb)
	}
	if kg := keys(filepath.Join(a, "d1", "*.png")); kg[0] != "img0001.png" {
		t.Errorf("glob keys %v", kg)
	}
}

// TestVanishedInput: a file deleted after its folder was listed (the walk reads a folder's
// names when it enters it) and before it is read is recorded as failed, and the job goes on.
func TestVanishedInput(t *testing.T) {
	p := sharedTiny(t)
	in := t.TempDir()
	var paths []string
	for i := range 30 {
		img := image.NewRGBA(image.Rect(0, 0, 20+i, 20))
		for j := range img.Pix {
			img.Pix[j] = uint8(i * j)
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		path := filepath.Join(in, fmt.Sprintf("%02d.png", i))
		os.WriteFile(path, buf.Bytes(), 0o644)
		paths = append(paths, path)
	}
	last := paths[len(paths)-1]
	dir := filepath.Join(t.TempDir(), "job")
	c := config(t, p, dir, Source{Args: []string{in}}, Split{})
	c.Workers, c.Queue = 1, 1
	var once sync.Once
	c.Progress = func(Progress) { once.Do(func() { os.Remove(last) }) }
	var failed []Entry
	c.Failed = func(e Entry) { failed = append(failed, e) }
	sum, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 29 || len(failed) != 1 || failed[0].Path != last || !strings.Contains(failed[0].Error, "no such file (listed, then gone)") {
		t.Fatalf("summary %+v, failed %+v: want %s failed as gone", sum, failed, last)
	}
}

// TestWorkersOnOtherMounts: workers that see the same folder at different paths split it the
// same way (keys are relative to the folder); merged, the features are the plain encode's.
func TestWorkersOnOtherMounts(t *testing.T) {
	p := sharedTiny(t)
	a := t.TempDir()
	paths := writeImages(t, a, 20, 8)
	b := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.CopyFS(b, os.DirFS(a)); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for i, in := range []string{a, b, a} {
		dir := filepath.Join(root, fmt.Sprint(i))
		if _, err := Run(context.Background(), config(t, p, dir, Source{Args: []string{in}}, Split{Index: i, Count: 3})); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := Merge(mustDirs(t, root))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.safetensors")
	if _, err := ix.Export(out); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "plain.safetensors")
	os.WriteFile(plain, plainFile(t, p, paths), 0o644)
	got, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	want, err := safetensors.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	infos := want.Header().Tensors
	if len(infos) < 4 {
		t.Fatalf("plain file has tensors %v", infos)
	}
	for _, ti := range infos {
		n := ti.Name
		x, err1 := got.Bytes(n)
		y, err2 := want.Bytes(n)
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs (%v, %v)", n, err1, err2)
		}
	}
}

func mustDirs(t *testing.T, root string) []string {
	dirs, err := WorkerDirs([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestLeftoversCleaned: what a killed run can leave (a temporary file of an atomic write, a
// shard no segment lists, which would take the next shard's number) is removed on resume,
// and the features are unchanged.
func TestLeftoversCleaned(t *testing.T) {
	p := sharedTiny(t)
	in := t.TempDir()
	paths := writeImages(t, in, 10, 9)
	want := plainFile(t, p, paths)
	dir := filepath.Join(t.TempDir(), "job")
	c := config(t, p, dir, Source{Args: []string{in}}, Split{})
	c.ShardBytes = 8 << 10
	if _, err := Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	f, err := scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(dir, shardName(f.next()))
	temp := filepath.Join(dir, "."+segmentName(f.next())+".tmp-abc")
	for _, p := range []string{orphan, temp} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Drop the last segment too, as if the run had been killed before writing it.
	last := filepath.Join(dir, segmentName(f.segments[len(f.segments)-1]))
	if err := os.Remove(last); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done == 0 || sum.Resumed == 0 {
		t.Errorf("resume: %+v, want some inputs redone and some resumed", sum)
	}
	for _, p := range []string{orphan, temp} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s not removed", p)
		}
	}
	if got := export(t, dir); !bytes.Equal(got, want) {
		t.Error("export after cleaning differs")
	}
}
