package server

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The folder's bound (Config.CacheDirBytes). Each instance counts the entries it finds when
// it starts and those it writes, and scans the folder again when its count passes the bound
// or rescanEvery has passed since its last scan (so that the other instances' writes are
// counted too); a scan over the bound removes the entries read or written least recently
// (by modification time: a hit touches its entry) until pruneTo of the bound is left, and
// the temporary files of writers that died more than staleTemp ago.
const (
	rescanEvery = time.Minute
	pruneTo     = 0.9
	staleTemp   = time.Hour
)

// diskFile is one file of the folder, as a scan finds it.
type diskFile struct {
	path  string
	size  int64
	mtime time.Time
}

// scan lists the folder's entries and its stale temporary files (removed at once).
func (d *diskCache) scan(now time.Time) (entries []diskFile, total int64) {
	filepath.WalkDir(d.dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil // an unreadable part is skipped; another instance may be pruning it
		}
		info, err := de.Info()
		if err != nil {
			return nil
		}
		name := de.Name()
		switch {
		case strings.HasSuffix(name, ".qfc") && info.Mode().IsRegular():
			entries = append(entries, diskFile{path, info.Size(), info.ModTime()})
			total += info.Size()
		case strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") && now.Sub(info.ModTime()) > staleTemp:
			os.Remove(path) // fsutil's temporary file of a writer that did not finish
		}
		return nil
	})
	return entries, total
}

// added counts n bytes written and prunes the folder when its bound calls for it; it returns
// the entries removed.
func (d *diskCache) added(n int64) (removed int) {
	if d.max <= 0 {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bytes += n
	now := time.Now()
	if d.bytes <= d.max && now.Sub(d.scanned) < rescanEvery {
		return 0
	}
	return d.pruneLocked(now)
}

// pruneLocked scans the folder and removes the least recently used entries beyond the bound.
func (d *diskCache) pruneLocked(now time.Time) (removed int) {
	entries, total := d.scan(now)
	d.scanned = now
	if total > d.max {
		slices.SortFunc(entries, func(a, b diskFile) int { return a.mtime.Compare(b.mtime) })
		target := int64(float64(d.max) * pruneTo)
		for _, f := range entries {
			if total <= target {
				break
			}
			if err := os.Remove(f.path); err == nil || os.IsNotExist(err) {
				total -= f.size
				removed++
			}
		}
	}
	d.bytes = total
	return removed
}

// touch marks an entry as just used, for the pruning order.
func (d *diskCache) touch(path string) {
	if d.max > 0 {
		now := time.Now()
		os.Chtimes(path, now, now)
	}
}
