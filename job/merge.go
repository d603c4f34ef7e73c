package job

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Located is an index entry with the folder its shard is in.
type Located struct {
	Entry
	Dir string
}

// Index is a whole job's index: every worker's folder read, checked and combined.
type Index struct {
	// Dirs are the worker folders, by worker index.
	Dirs []string
	// Manifest is the workers' common manifest, without the split.
	Manifest Manifest
	// Total is the number of inputs of the job; Entries has one per input, by ordinal.
	Total   int64
	Entries []Located
	Failed  int
}

// WorkerDirs expands the arguments of merge and export: a job folder stands for itself; a
// folder without a manifest stands for its subfolders that have one (sorted by name).
func WorkerDirs(args []string) ([]string, error) {
	var dirs []string
	for _, a := range args {
		if _, err := os.Stat(filepath.Join(a, ManifestName)); err == nil {
			dirs = append(dirs, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, unwrapPath(err))
		}
		n := len(dirs)
		for _, e := range ents {
			if e.IsDir() {
				if _, err := os.Stat(filepath.Join(a, e.Name(), ManifestName)); err == nil {
					dirs = append(dirs, filepath.Join(a, e.Name()))
				}
			}
		}
		if len(dirs) == n {
			return nil, fmt.Errorf("%s: not a job folder (no %s), nor a folder of job folders", a, ManifestName)
		}
	}
	return dirs, nil
}

// Merge reads the worker folders of one job and checks that together they are the whole job:
// the same manifest but for the split, one folder for each worker i of n, each complete
// (done.json), each entry in the folder of the worker its key hashes to, and every ordinal of
// the job's input stream present exactly once.
func Merge(dirs []string) (*Index, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no job folder")
	}
	ix := &Index{}
	var n int
	byWorker := map[int]string{}
	for i, dir := range dirs {
		m, ok, err := ReadManifest(dir)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%s: not a job folder (no %s)", dir, ManifestName)
		}
		sp, err := ParseSplit(m.Fields["split"])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		d, ok, err := readDone(dir)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%s: worker %s is not complete (no %s): run it again to finish", dir, sp, DoneName)
		}
		if i == 0 {
			n, ix.Total = sp.Count, d.Total
			ix.Manifest = Manifest{Fields: map[string]string{}, Metadata: m.Metadata}
			for k, v := range m.Fields {
				if k != "split" {
					ix.Manifest.Fields[k] = v
				}
			}
		} else if err := ix.Manifest.Compare(m, "split"); err != nil {
			return nil, fmt.Errorf("%s and %s: %w", dirs[0], dir, err)
		}
		switch {
		case sp.Count != n:
			return nil, fmt.Errorf("%s is worker %s, %s one of %d", dir, sp, dirs[0], n)
		case d.Total != ix.Total:
			return nil, fmt.Errorf("%s listed %d inputs, %s %d: the workers did not see the same inputs", dir, d.Total, dirs[0], ix.Total)
		}
		if o, dupl := byWorker[sp.Index]; dupl {
			return nil, fmt.Errorf("%s and %s are both worker %s", o, dir, sp)
		}
		byWorker[sp.Index] = dir
		es, err := readEntries(dir)
		if err != nil {
			return nil, err
		}
		var ok64, failed int64
		for _, e := range es {
			if w := Worker(e.Key, n); w != sp.Index {
				return nil, fmt.Errorf("%s: %s belongs to worker %d/%d, not %s", dir, e.Key, w, n, sp)
			}
			if e.Status == StatusOK {
				ok64++
			} else {
				failed++
			}
			ix.Entries = append(ix.Entries, Located{Entry: e, Dir: dir})
		}
		if ok64 != d.OK || failed != d.Failed {
			return nil, fmt.Errorf("%s: the index holds %d ok and %d failed inputs, %s says %d and %d", dir, ok64, failed, DoneName, d.OK, d.Failed)
		}
	}
	var missing []string
	for w := range n {
		if _, ok := byWorker[w]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", w, n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no folder for worker %s", strings.Join(missing, ", "))
	}
	for w := range n {
		ix.Dirs = append(ix.Dirs, byWorker[w])
	}
	sort.Slice(ix.Entries, func(i, j int) bool { return ix.Entries[i].Ordinal < ix.Entries[j].Ordinal })
	for i, e := range ix.Entries {
		switch {
		case e.Ordinal < int64(i):
			return nil, fmt.Errorf("input %d is in the index twice: %s (%s) and %s (%s)", e.Ordinal, ix.Entries[i-1].Key, ix.Entries[i-1].Dir, e.Key, e.Dir)
		case e.Ordinal > int64(i):
			return nil, fmt.Errorf("input %d of %d is in no worker's index", i, ix.Total)
		}
		if e.Status == StatusFailed {
			ix.Failed++
		}
	}
	if int64(len(ix.Entries)) != ix.Total {
		return nil, fmt.Errorf("the index holds %d inputs of %d: input %d is in no worker's index", len(ix.Entries), ix.Total, len(ix.Entries))
	}
	return ix, nil
}

// readEntries reads a folder's index, one entry per key: an ok entry over failed ones, else
// the last.
func readEntries(dir string) ([]Entry, error) {
	f, err := scan(dir)
	if err != nil {
		return nil, err
	}
	at := map[string]int{}
	var es []Entry
	err = f.entries(func(e Entry) error {
		i, seen := at[e.Key]
		switch {
		case !seen:
			at[e.Key] = len(es)
			es = append(es, e)
		case es[i].Status == StatusOK && e.Status == StatusOK:
			return fmt.Errorf("%s is in the index twice", e.Key)
		case e.Status == StatusOK || es[i].Status == StatusFailed:
			es[i] = e
		}
		if e.Status == StatusOK {
			k, ok := seqOf(e.Shard, shardPrefix, shardExt)
			if !ok || !f.shards[k] {
				return fmt.Errorf("the shard %q of %s is missing", e.Shard, e.Key)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return es, nil
}
