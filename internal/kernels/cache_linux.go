//go:build linux

package kernels

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lastLevelCacheBytes returns the total size of the highest-level CPU cache, summed over its
// instances (a socket, or each core complex of a chiplet CPU, has its own), as Linux reports it
// under /sys/devices/system/cpu; 0 when it cannot be read.
func lastLevelCacheBytes() int64 {
	dirs, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*")
	read := func(dir, name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	best := 0
	sizes := map[string]int64{} // shared_cpu_list of an instance of the best level → its size
	for _, dir := range dirs {
		level, err := strconv.Atoi(read(dir, "level"))
		if err != nil || read(dir, "type") == "Instruction" {
			continue
		}
		size := parseCacheSize(read(dir, "size"))
		if size <= 0 {
			continue
		}
		if level > best {
			best, sizes = level, map[string]int64{}
		}
		if level == best {
			sizes[read(dir, "shared_cpu_list")] = size
		}
	}
	var total int64
	for _, s := range sizes {
		total += s
	}
	return total
}

// parseCacheSize reads sysfs's cache size notation, "32768K" (or "32M", or bytes); 0 if bad.
func parseCacheSize(s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n * mult
}
