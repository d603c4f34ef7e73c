package job

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Input is one input of a job, as the Source streams it.
type Input struct {
	// Ordinal is the input's position in the stream, from 0: the order of a plain encode of the
	// same arguments, which export restores.
	Ordinal int64
	// Path is the file as it is opened.
	Path string
	// Key is the path relative to its root, slash-separated: what resumption recognises and
	// what the split hashes (see Key's rule in the package documentation).
	Key string
	// Err is why the input cannot be read, known already when listing (a dangling link in a
	// folder, a subfolder that cannot be listed); nil otherwise.
	Err error
}

// Source lists a job's inputs: positional arguments (files, folders walked recursively, glob
// patterns), then the lines of a list file. Nothing is held beyond the folder being read: the
// inputs are handed to a callback as they are found.
type Source struct {
	// Args are files, folders and glob patterns, in order.
	Args []string
	// List names a file of paths, one a line ("-": Stdin); empty for none. Blank lines and lines
	// starting with "#" are skipped.
	List  string
	Stdin io.Reader
}

// ImageName reports whether a file found in a folder is taken as an image, by its extension.
func ImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff":
		return true
	}
	return false
}

// Walk calls fn for every input in order, with ordinals from 0. An argument that names
// nothing, a pattern that matches nothing and a folder without images are errors (nothing
// would be encoded for them, which is never what was meant); an input found but not readable
// is handed to fn with Err set. fn's error stops the walk and is returned; so is ctx's.
func (s Source) Walk(ctx context.Context, fn func(Input) error) error {
	var n int64
	emit := func(in Input) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		in.Ordinal = n
		n++
		return fn(in)
	}
	for _, a := range s.Args {
		if err := walkArg(a, emit); err != nil {
			return err
		}
	}
	if s.List == "" {
		return nil
	}
	r := s.Stdin
	if s.List != "-" {
		f, err := os.Open(s.List)
		if err != nil {
			return fmt.Errorf("-list %s: %w", s.List, unwrapPath(err))
		}
		defer f.Close()
		r = f
	} else if r == nil {
		return errors.New("-list -: no standard input")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		p := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(p) == "" || strings.HasPrefix(p, "#") {
			continue
		}
		if err := emit(Input{Path: p, Key: filepath.ToSlash(filepath.Clean(p))}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("-list %s: %w", s.List, err)
	}
	return nil
}

// walkArg expands one argument.
func walkArg(a string, emit func(Input) error) error {
	if strings.ContainsAny(a, "*?[") {
		matches, err := filepath.Glob(a)
		if err != nil {
			return fmt.Errorf("bad pattern %q: %w", a, err)
		}
		if len(matches) == 0 {
			return fmt.Errorf("%s: no file matches", a)
		}
		root := globRoot(a)
		for _, m := range matches {
			if err := emit(Input{Path: m, Key: relKey(root, m)}); err != nil {
				return err
			}
		}
		return nil
	}
	fi, err := os.Stat(a)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: no such file or folder", a)
		}
		return fmt.Errorf("%s: %w", a, unwrapPath(err))
	}
	if !fi.IsDir() {
		return emit(Input{Path: a, Key: filepath.ToSlash(filepath.Clean(a))})
	}
	found := false
	err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == a {
				return fmt.Errorf("%s: %w", a, unwrapPath(err))
			}
			// A subfolder that cannot be listed: its files are unknown, so it is one failed input.
			found = true
			return emitSkip(emit(Input{Path: p, Key: relKey(a, p), Err: fmt.Errorf("%s: cannot list the folder: %w", p, unwrapPath(err))}), d)
		}
		if d.IsDir() || !ImageName(d.Name()) {
			return nil
		}
		in := Input{Path: p, Key: relKey(a, p)}
		if d.Type()&fs.ModeSymlink != 0 {
			// A link counts as what it points to; a dangling one is a failed input, not a skip.
			ti, err := os.Stat(p)
			if err != nil {
				in.Err = fmt.Errorf("%s: a symbolic link to nothing readable: %w", p, unwrapPath(err))
			} else if !ti.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		found = true
		return emit(in)
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s: no image files in the folder", a)
	}
	return nil
}

// emitSkip returns err, or SkipDir for a folder that could not be read.
func emitSkip(err error, d fs.DirEntry) error {
	if err == nil && d != nil && d.IsDir() {
		return filepath.SkipDir
	}
	return err
}

// globRoot is the folder part of a pattern before its first wildcard.
func globRoot(pattern string) string {
	i := strings.IndexAny(pattern, "*?[")
	return filepath.Dir(pattern[:i] + "x")
}

// relKey is p relative to root, slash-separated.
func relKey(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		r = p
	}
	return path.Clean(filepath.ToSlash(r))
}

// unwrapPath drops an *fs.PathError's path (the message names the path already).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
