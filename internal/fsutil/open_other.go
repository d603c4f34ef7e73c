//go:build !unix

package fsutil

// openFlags: no non-blocking open outside Unix; OpenRegular's check before opening remains.
const openFlags = 0
