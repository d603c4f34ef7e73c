package job

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Split is one worker's part of a job: the inputs whose key hashes to Index among Count workers.
// The zero value (and Count 1) takes everything.
type Split struct {
	Index, Count int
}

// ParseSplit reads "i/n" (0 ≤ i < n).
func ParseSplit(s string) (Split, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil {
		return Split{}, fmt.Errorf("shard %q: want i/n, as 0/3", s)
	}
	sp := Split{Index: i, Count: n}
	return sp, sp.Validate()
}

// SplitFromEnv reads a Kubernetes Indexed Job's worker index from JOB_COMPLETION_INDEX and the
// worker count from JOB_COMPLETIONS (which the Job must set, for instance from
// spec.completions; Kubernetes sets only the index). getenv is os.Getenv or a stand-in. ok is
// false when JOB_COMPLETION_INDEX is unset.
func SplitFromEnv(getenv func(string) string) (sp Split, ok bool, err error) {
	is := getenv("JOB_COMPLETION_INDEX")
	if is == "" {
		return Split{}, false, nil
	}
	ns := getenv("JOB_COMPLETIONS")
	if ns == "" {
		return Split{}, true, fmt.Errorf("JOB_COMPLETION_INDEX=%s but JOB_COMPLETIONS (the number of workers) is not set", is)
	}
	sp, err = ParseSplit(is + "/" + ns)
	if err != nil {
		return Split{}, true, fmt.Errorf("JOB_COMPLETION_INDEX=%s, JOB_COMPLETIONS=%s: %w", is, ns, err)
	}
	return sp, true, nil
}

// Validate checks 0 ≤ Index < Count (a zero Split is valid: one worker).
func (s Split) Validate() error {
	if s == (Split{}) {
		return nil
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %d/%d: want 0 ≤ i < n", s.Index, s.Count)
	}
	return nil
}

func (s Split) String() string {
	if s.Count == 0 {
		return "0/1"
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Worker is the worker a key belongs to among n: the first 8 bytes of the key's SHA-256, as a
// big-endian integer, modulo n. It depends only on the key, so any number of workers agree.
func Worker(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := sha256.Sum256([]byte(key))
	return int(binary.BigEndian.Uint64(h[:8]) % uint64(n))
}

// Takes reports whether the worker s encodes the input of key.
func (s Split) Takes(key string) bool {
	return s.Count <= 1 || Worker(key, s.Count) == s.Index
}
