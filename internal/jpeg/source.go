package jpeg

import "io"

// source buffers the input stream. Only as much input as the decoder needs is
// read, so Decode stops reading at the EOI marker and DecodeConfig stops at
// the frame header. Consumed bytes are discarded as the buffer is refilled,
// so memory use does not grow with the file size.
type source struct {
	r   io.Reader
	buf []byte
	pos int
	eof bool  // no more input can be read
	err error // a read error other than io.EOF, reported instead of ErrTruncated
}

const sourceChunk = 32 << 10

// fill appends at least one byte of input to buf. It reports false at the
// end of input. Indexes into buf other than pos are invalidated.
func (s *source) fill() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 && s.pos >= len(s.buf)/2 {
		n := copy(s.buf, s.buf[s.pos:])
		s.buf = s.buf[:n]
		s.pos = 0
	}
	if cap(s.buf)-len(s.buf) < sourceChunk {
		nb := make([]byte, len(s.buf), 2*cap(s.buf)+sourceChunk)
		copy(nb, s.buf)
		s.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil {
			if err != io.EOF {
				s.err = err
			}
			s.eof = true
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.err = io.ErrNoProgress
	s.eof = true
	return false
}

// truncated returns the error to report when the input ended too early.
func (s *source) truncated() error {
	if s.err != nil {
		return s.err
	}
	return ErrTruncated
}

// readByte returns the next input byte.
func (s *source) readByte() (byte, error) {
	if s.pos >= len(s.buf) && !s.fill() {
		return 0, s.truncated()
	}
	b := s.buf[s.pos]
	s.pos++
	return b, nil
}

// read2 returns the next two input bytes as a big-endian value.
func (s *source) read2() (int, error) {
	a, err := s.readByte()
	if err != nil {
		return 0, err
	}
	b, err := s.readByte()
	if err != nil {
		return 0, err
	}
	return int(a)<<8 | int(b), nil
}

// readN returns the next n bytes. The slice is only valid until the next
// call that reads input.
func (s *source) readN(n int) ([]byte, error) {
	for len(s.buf)-s.pos < n {
		if !s.fill() {
			return nil, s.truncated()
		}
	}
	b := s.buf[s.pos : s.pos+n]
	s.pos += n
	return b, nil
}

// skip discards n bytes of input.
func (s *source) skip(n int) error {
	for n > 0 {
		if s.pos >= len(s.buf) && !s.fill() {
			return s.truncated()
		}
		k := min(n, len(s.buf)-s.pos)
		s.pos += k
		n -= k
	}
	return nil
}
