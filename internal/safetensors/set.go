package safetensors

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Checkpoint file names used by Hugging Face.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Set is a checkpoint made of one or more safetensors files, restricted to
// the tensors selected when it was opened. A Set is safe for concurrent use.
type Set struct {
	dir   string
	files []*File          // the opened files, in the order opened
	where map[string]*File // kept tensor name -> file holding it
	names []string         // kept tensor names, sorted
}

// OpenDir opens the checkpoint in dir, keeping the tensors for which keep
// returns true (all of them if keep is nil); keep is called once per tensor
// name. It looks, in this order, for:
//
//  1. model.safetensors: a single file, opened whole.
//  2. model.safetensors.index.json: {"metadata": {...}, "weight_map":
//     {tensor: shard}}. Only shards holding at least one kept tensor are
//     opened, or even looked at: the others may be missing or corrupt, so
//     a partial download holding only the needed shards works. The index
//     is parsed by ParseIndex: every shard name, needed or not, must pass
//     CheckShardName (a .safetensors file inside dir, named by a canonical
//     relative path); the check is lexical, so symbolic links, such as
//     those of the Hugging Face cache, are followed. An opened shard must
//     hold every tensor the index assigns to it; tensors a shard holds but
//     the index does not list are ignored.
//  3. Otherwise every *.safetensors file in dir, all opened; a tensor name
//     appearing in two files is an error.
//
// Errors start with "safetensors: <dir>: " or "safetensors: <file>: "; a
// missing needed shard matches fs.ErrNotExist, a malformed index or file
// ErrInvalid.
func OpenDir(dir string, keep func(name string) bool) (*Set, error) {
	if keep == nil {
		keep = func(string) bool { return true }
	}
	s := &Set{dir: dir, where: map[string]*File{}}
	var err error
	switch single := filepath.Join(dir, SingleFileName); {
	case exists(single):
		err = s.openSingle(single, keep)
	case exists(filepath.Join(dir, IndexFileName)):
		err = s.openIndexed(keep)
	default:
		err = s.openAll(keep)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.names = slices.Sorted(maps.Keys(s.where))
	return s, nil
}

// exists reports whether something is at path. Errors other than "does not
// exist" count as existing, so that opening the path reports them.
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// openSingle opens one file and keeps the selected tensors.
func (s *Set) openSingle(path string, keep func(string) bool) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	s.add(f, keep)
	return nil
}

// add registers f and its kept tensors; a file holding no kept tensor is
// closed instead.
func (s *Set) add(f *File, keep func(string) bool) {
	n := 0
	for _, t := range f.header.Tensors {
		if keep(t.Name) {
			s.where[t.Name] = f
			n++
		}
	}
	if n == 0 {
		f.Close()
		return
	}
	s.files = append(s.files, f)
}

// openIndexed opens the shards named by the index that hold kept tensors.
func (s *Set) openIndexed(keep func(string) bool) error {
	ix, err := ReadIndex(filepath.Join(s.dir, IndexFileName))
	if err != nil {
		return err
	}
	byShard := map[string][]string{} // shard name -> its tensors
	kept := map[string]bool{}
	for name, shard := range ix.WeightMap {
		byShard[shard] = append(byShard[shard], name)
		kept[name] = keep(name)
	}
	for _, shard := range ix.Shards(func(name string) bool { return kept[name] }) {
		f, err := Open(filepath.Join(s.dir, filepath.FromSlash(shard)))
		if err != nil {
			return fmt.Errorf("%w (shard listed in %s)", err, IndexFileName)
		}
		s.files = append(s.files, f)
		for _, name := range slices.Sorted(slices.Values(byShard[shard])) {
			if _, ok := f.index[name]; !ok {
				return fmt.Errorf("safetensors: %s: %w", f.path,
					invalidf("tensor %s is listed in %s but absent from this shard", quote(name), IndexFileName))
			}
			if kept[name] {
				s.where[name] = f
			}
		}
	}
	return nil
}

// openAll opens every *.safetensors file in the directory.
func (s *Set) openAll(keep func(string) bool) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", s.dir, unwrapPath(err))
	}
	owner := map[string]string{} // every tensor name -> file, to find duplicates
	found := false
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".safetensors") || e.IsDir() {
			continue
		}
		found = true
		f, err := Open(filepath.Join(s.dir, e.Name()))
		if err != nil {
			return err
		}
		for _, t := range f.header.Tensors {
			if other, dup := owner[t.Name]; dup {
				f.Close()
				return fmt.Errorf("safetensors: %s: %w", s.dir,
					invalidf("tensor %s is in both %s and %s", quote(t.Name), other, e.Name()))
			}
			owner[t.Name] = e.Name()
		}
		s.add(f, keep)
	}
	if !found {
		return fmt.Errorf("safetensors: %s: %w", s.dir, &msgError{
			msg: fmt.Sprintf("no %s, %s or *.safetensors file", SingleFileName, IndexFileName),
			err: fs.ErrNotExist,
		})
	}
	return nil
}

// Close closes every file of the set; slices returned by Bytes become
// invalid. It is safe to call more than once.
func (s *Set) Close() error {
	var errs []error
	for _, f := range s.files {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Dir returns the directory the set was opened from.
func (s *Set) Dir() string { return s.dir }

// Names returns the kept tensor names, sorted. The slice is a copy.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Info returns the description of a kept tensor.
func (s *Set) Info(name string) (TensorInfo, bool) {
	f, ok := s.where[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// File returns the file holding a kept tensor.
func (s *Set) File(name string) (*File, bool) {
	f, ok := s.where[name]
	return f, ok
}

// lookup returns the file holding a kept tensor or a not-found error.
func (s *Set) lookup(name string) (*File, error) {
	f, ok := s.where[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: %s: %w", s.dir, notFound(name))
	}
	return f, nil
}

// Bytes returns the raw bytes of a kept tensor; see File.Bytes.
func (s *Set) Bytes(name string) ([]byte, error) {
	f, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	return f.Bytes(name)
}

// Float32 returns a kept tensor as a new []float32; see File.Float32.
func (s *Set) Float32(name string) ([]float32, error) {
	f, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	return f.Float32(name)
}

// Int64 returns a kept tensor as a new []int64; see File.Int64.
func (s *Set) Int64(name string) ([]int64, error) {
	f, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	return f.Int64(name)
}
