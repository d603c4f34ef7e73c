//go:build !unix

package imageproc

// openFlags: no non-blocking open outside Unix; openRegular's check before opening remains.
const openFlags = 0
