// Package blake3 is the BLAKE3 hash function (https://github.com/BLAKE3-team/BLAKE3-specs), in
// its default hash mode with a 32-byte digest: the one vLLM's MultiModalHasher uses by default
// (internal/mmhash). Portable Go, no assembly: the inputs hashed here are image files.
//
// The input is split into 1024-byte chunks of 64-byte blocks; each chunk is compressed into a
// chaining value (the first block flagged chunkStart, the last chunkEnd), and the chunks'
// values are merged pairwise into a binary tree, left subtrees complete powers of two, whose
// root node is compressed once more with the root flag. A one-chunk input is its own root.
package blake3

import (
	"encoding/binary"
	"hash"
	"math/bits"
)

// Size is the digest's length in bytes; BlockSize the compression function's block.
const (
	Size      = 32
	BlockSize = 64
	chunkLen  = 1024
)

// Domain flags of the compression function.
const (
	chunkStart = 1 << 0
	chunkEnd   = 1 << 1
	parent     = 1 << 2
	root       = 1 << 3
)

// iv is the initial chaining value (SHA-256's).
var iv = [8]uint32{0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19}

// schedule[r] is the message word order of round r: the permutation 2 6 3 10 7 0 4 13 1 11 12
// 5 9 14 15 8 applied r times.
var schedule = func() (s [7][16]int) {
	perm := [16]int{2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8}
	for i := range 16 {
		s[0][i] = i
	}
	for r := 1; r < 7; r++ {
		for i := range 16 {
			s[r][i] = s[r-1][perm[i]]
		}
	}
	return s
}()

// g is the quarter-round on words a, b, c, d of v with message words x, y.
func g(v *[16]uint32, a, b, c, d int, x, y uint32) {
	v[a] += v[b] + x
	v[d] = bits.RotateLeft32(v[d]^v[a], -16)
	v[c] += v[d]
	v[b] = bits.RotateLeft32(v[b]^v[c], -12)
	v[a] += v[b] + y
	v[d] = bits.RotateLeft32(v[d]^v[a], -8)
	v[c] += v[d]
	v[b] = bits.RotateLeft32(v[b]^v[c], -7)
}

// compress is the compression function: 7 rounds over the state (cv, the first half of iv,
// the 64-bit counter, the block's length and the flags), the full 16-word output.
func compress(cv *[8]uint32, m *[16]uint32, counter uint64, blockLen, flags uint32) [16]uint32 {
	v := [16]uint32{
		cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
		iv[0], iv[1], iv[2], iv[3], uint32(counter), uint32(counter >> 32), blockLen, flags,
	}
	for r := range 7 {
		s := &schedule[r]
		g(&v, 0, 4, 8, 12, m[s[0]], m[s[1]])
		g(&v, 1, 5, 9, 13, m[s[2]], m[s[3]])
		g(&v, 2, 6, 10, 14, m[s[4]], m[s[5]])
		g(&v, 3, 7, 11, 15, m[s[6]], m[s[7]])
		g(&v, 0, 5, 10, 15, m[s[8]], m[s[9]])
		g(&v, 1, 6, 11, 12, m[s[10]], m[s[11]])
		g(&v, 2, 7, 8, 13, m[s[12]], m[s[13]])
		g(&v, 3, 4, 9, 14, m[s[14]], m[s[15]])
	}
	for i := range 8 {
		v[i] ^= v[i+8]
		v[i+8] ^= cv[i]
	}
	return v
}

// words reads a block, zero-padded, as little-endian words.
func words(b []byte) (m [16]uint32) {
	var buf [BlockSize]byte
	copy(buf[:], b)
	for i := range m {
		m[i] = binary.LittleEndian.Uint32(buf[4*i:])
	}
	return m
}

// node is a compression not yet run: the last block of a chunk, or a parent, whose output is
// either a chaining value or, for the root, the digest.
type node struct {
	cv       [8]uint32
	block    [16]uint32
	counter  uint64
	blockLen uint32
	flags    uint32
}

func (n *node) chainingValue() (cv [8]uint32) {
	v := compress(&n.cv, &n.block, n.counter, n.blockLen, n.flags)
	copy(cv[:], v[:8])
	return cv
}

func parentNode(left, right [8]uint32) node {
	n := node{cv: iv, blockLen: BlockSize, flags: parent}
	copy(n.block[:8], left[:])
	copy(n.block[8:], right[:])
	return n
}

// Digest is a running BLAKE3 hash; the zero value is not ready, use New.
type Digest struct {
	cv     [8]uint32 // the chunk's chaining value so far
	chunk  uint64    // the chunk's index
	block  [BlockSize]byte
	n      int // bytes in block
	blocks int // blocks of the chunk compressed
	stack  [][8]uint32
}

// New returns a BLAKE3 hash with a 32-byte digest.
func New() *Digest {
	d := &Digest{}
	d.Reset()
	return d
}

var _ hash.Hash = (*Digest)(nil)

// Reset empties d.
func (d *Digest) Reset() {
	*d = Digest{cv: iv, stack: d.stack[:0]}
}

// Size is 32.
func (d *Digest) Size() int { return Size }

// BlockSize is 64.
func (d *Digest) BlockSize() int { return BlockSize }

// chunkBytes is how much of the current chunk has been taken in.
func (d *Digest) chunkBytes() int { return d.blocks*BlockSize + d.n }

// startFlag is chunkStart for the chunk's first block.
func (d *Digest) startFlag() uint32 {
	if d.blocks == 0 {
		return chunkStart
	}
	return 0
}

// Write absorbs p; it never fails.
func (d *Digest) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		if d.chunkBytes() == chunkLen {
			// The chunk is full and more input follows: it is not the root.
			last := d.lastBlock()
			d.pushChunk(last.chainingValue())
		}
		if d.n == BlockSize {
			m := words(d.block[:])
			v := compress(&d.cv, &m, d.chunk, BlockSize, d.startFlag())
			copy(d.cv[:], v[:8])
			d.blocks++
			d.n = 0
		}
		k := copy(d.block[d.n:], p)
		if room := chunkLen - d.chunkBytes(); k > room {
			k = room
		}
		d.n += k
		p = p[k:]
	}
	return total, nil
}

// lastBlock is the current chunk's final compression, not yet run.
func (d *Digest) lastBlock() node {
	return node{cv: d.cv, block: words(d.block[:d.n]), counter: d.chunk, blockLen: uint32(d.n), flags: d.startFlag() | chunkEnd}
}

// pushChunk adds the finished chunk's chaining value to the tree, merging every subtree it
// completes (one per trailing zero bit of the chunk count), and starts the next chunk.
func (d *Digest) pushChunk(cv [8]uint32) {
	total := d.chunk + 1
	for total&1 == 0 {
		p := parentNode(d.stack[len(d.stack)-1], cv)
		cv = p.chainingValue()
		d.stack = d.stack[:len(d.stack)-1]
		total >>= 1
	}
	d.stack = append(d.stack, cv)
	d.chunk++
	d.cv, d.n, d.blocks = iv, 0, 0
}

// Sum appends the 32-byte digest of what was written to b; d is unchanged.
func (d *Digest) Sum(b []byte) []byte {
	out := d.lastBlock()
	for i := len(d.stack) - 1; i >= 0; i-- {
		out = parentNode(d.stack[i], out.chainingValue())
	}
	v := compress(&out.cv, &out.block, 0, out.blockLen, out.flags|root)
	var digest [Size]byte
	for i := range 8 {
		binary.LittleEndian.PutUint32(digest[4*i:], v[i])
	}
	return append(b, digest[:]...)
}

// Sum256 is the BLAKE3 digest of data.
func Sum256(data []byte) (s [Size]byte) {
	d := New()
	d.Write(data)
	d.Sum(s[:0])
	return s
}
