package pattern

import "unicode/utf8"

// opcode is an instruction of the matching program.
type opcode uint8

const (
	opClass opcode = iota // one code point in cls, then pc+1
	opRun                 // greedy run of min..max code points in cls, then pc+1
	opSplit               // try pc+1 first, then x
	opJmp                 // go to x
	opLook                // lookahead program at pc+1 (ends in opMatch); continue at x
	opMatch               // success
)

type inst struct {
	op       opcode
	neg      bool
	x        int32
	min, max int32 // opRun; max < 0: unbounded
	cls      *Class
	// first (opSplit): the ASCII bytes that can begin a match of the preferred branch
	// pc+1; when the next byte is ASCII and not in it, the branch is skipped at once.
	// All ones when the branch may match without consuming input.
	first [2]uint64
}

// Regexp is a compiled pattern. It is safe for concurrent use; each goroutine matches with
// its own Machine.
type Regexp struct {
	src  string
	prog []inst
}

// Machine is the scratch state of one matcher (its backtrack stack); reuse it to match
// without allocating. The zero value is ready.
type Machine struct {
	stack []frame
	// steps counts the backtracks of the current search; Exceeded is set (and the search
	// reports no match) when they pass MaxBacktracks.
	steps    int
	Exceeded bool
}

// MaxBacktracks bounds the backtracking of one search ([Regexp.Find]), as Oniguruma's
// retry-limit-in-match (10,000,000 by default) does: a pattern that would backtrack
// exponentially on some text stops instead of wedging its caller. The Split patterns of the
// released tokenizers backtrack a few times per match.
const MaxBacktracks = 10_000_000

// Compile parses and compiles src, or returns an *Error naming the construct refused and
// its byte offset.
func Compile(src string) (*Regexp, error) {
	n, err := parse(src)
	if err != nil {
		return nil, err
	}
	c := &compiler{}
	c.emit(n)
	c.prog = append(c.prog, inst{op: opMatch})
	if len(c.prog) > maxInsts {
		return nil, &Error{Pattern: src, Offset: 0, Problem: "pattern too large"}
	}
	seen := map[*Class]bool{}
	for i := range c.prog {
		if cls := c.prog[i].cls; cls != nil && !seen[cls] {
			seen[cls] = true
			cls.freeze()
		}
	}
	for i := range c.prog {
		if c.prog[i].op == opSplit {
			c.prog[i].first = firstSet(c.prog, i+1)
		}
	}
	return &Regexp{src: src, prog: c.prog}, nil
}

var allASCII = [2]uint64{^uint64(0), ^uint64(0)}

// firstSet returns the ASCII bytes that can begin a match from pc (all of them if the
// program can get from pc to a lookahead or a match without consuming input).
func firstSet(prog []inst, pc int) [2]uint64 {
	var out [2]uint64
	seen := make(map[int]bool)
	var walk func(pc int) bool // false: may match empty here
	walk = func(pc int) bool {
		for {
			if seen[pc] {
				return true
			}
			seen[pc] = true
			in := &prog[pc]
			switch in.op {
			case opClass:
				out[0] |= in.cls.ascii[0]
				out[1] |= in.cls.ascii[1]
				return true
			case opRun:
				out[0] |= in.cls.ascii[0]
				out[1] |= in.cls.ascii[1]
				if in.min > 0 {
					return true
				}
				pc++
			case opSplit:
				if !walk(pc + 1) {
					return false
				}
				pc = int(in.x)
			case opJmp:
				pc = int(in.x)
			default: // opLook, opMatch
				return false
			}
		}
	}
	if !walk(pc) {
		return allASCII
	}
	return out
}

// String returns the source pattern.
func (re *Regexp) String() string { return re.src }

type compiler struct {
	prog []inst
}

func (c *compiler) emit(n *node) {
	if len(c.prog) > maxInsts {
		return
	}
	switch n.kind {
	case nEmpty:
	case nClass:
		c.prog = append(c.prog, inst{op: opClass, cls: n.cls})
	case nConcat:
		for _, s := range n.subs {
			c.emit(s)
		}
	case nAlt:
		var jumps []int
		for i, s := range n.subs {
			if i < len(n.subs)-1 {
				split := len(c.prog)
				c.prog = append(c.prog, inst{op: opSplit})
				c.emit(s)
				jumps = append(jumps, len(c.prog))
				c.prog = append(c.prog, inst{op: opJmp})
				c.prog[split].x = int32(len(c.prog))
			} else {
				c.emit(s)
			}
		}
		for _, j := range jumps {
			c.prog[j].x = int32(len(c.prog))
		}
	case nRepeat:
		body := n.subs[0]
		if body.kind == nClass {
			c.prog = append(c.prog, inst{op: opRun, cls: body.cls, min: int32(n.min), max: int32(n.max)})
			return
		}
		for i := 0; i < n.min; i++ {
			c.emit(body)
			if len(c.prog) > maxInsts {
				return
			}
		}
		if n.max < 0 {
			loop := len(c.prog)
			c.prog = append(c.prog, inst{op: opSplit})
			c.emit(body)
			c.prog = append(c.prog, inst{op: opJmp, x: int32(loop)})
			c.prog[loop].x = int32(len(c.prog))
			return
		}
		var splits []int
		for i := n.min; i < n.max; i++ {
			splits = append(splits, len(c.prog))
			c.prog = append(c.prog, inst{op: opSplit})
			c.emit(body)
			if len(c.prog) > maxInsts {
				return
			}
		}
		for _, s := range splits {
			c.prog[s].x = int32(len(c.prog))
		}
	case nLook:
		look := len(c.prog)
		c.prog = append(c.prog, inst{op: opLook, neg: n.neg})
		c.emit(n.subs[0])
		c.prog = append(c.prog, inst{op: opMatch})
		c.prog[look].x = int32(len(c.prog))
	}
}

// frame is a backtrack point: resume at pc with pos. For a run (lo >= 0), the run may still
// give back code points down to lo.
type frame struct {
	pc, pos, lo int32
}

// decode reads the code point at s[i:].
func decode(s string, i int) (rune, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return rune(b), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// run matches the program from pc anchored at pos; it returns the end of the match or -1.
func (re *Regexp) run(m *Machine, s string, pc, pos int) int {
	base := len(m.stack)
	prog := re.prog
	for {
		in := &prog[pc]
		switch in.op {
		case opClass:
			if pos < len(s) {
				if r, w := decode(s, pos); in.cls.Has(r) {
					pos += w
					pc++
					continue
				}
			}
		case opRun:
			lo := -1
			n := int32(0)
			if in.min == 0 {
				lo = pos
			}
			for pos < len(s) && (in.max < 0 || n < in.max) {
				r, w := decode(s, pos)
				if !in.cls.Has(r) {
					break
				}
				pos += w
				n++
				if n == in.min {
					lo = pos
				}
			}
			if n < in.min {
				break
			}
			if pos > lo {
				m.stack = append(m.stack, frame{pc: int32(pc + 1), pos: int32(pos), lo: int32(lo)})
			}
			pc++
			continue
		case opSplit:
			if pos < len(s) {
				if b := s[pos]; b < utf8.RuneSelf && in.first[b>>6]&(1<<(b&63)) == 0 {
					pc = int(in.x)
					continue
				}
			}
			m.stack = append(m.stack, frame{pc: in.x, pos: int32(pos), lo: -1})
			pc++
			continue
		case opJmp:
			pc = int(in.x)
			continue
		case opLook:
			ok := re.run(m, s, pc+1, pos) >= 0
			if m.Exceeded {
				m.stack = m.stack[:base]
				return -1
			}
			if ok != in.neg {
				pc = int(in.x)
				continue
			}
		case opMatch:
			m.stack = m.stack[:base]
			return pos
		}
		// backtrack
		if len(m.stack) == base {
			return -1
		}
		if m.steps++; m.steps > MaxBacktracks {
			m.Exceeded = true
			m.stack = m.stack[:base]
			return -1
		}
		f := &m.stack[len(m.stack)-1]
		if f.lo >= 0 {
			_, w := utf8.DecodeLastRuneInString(s[:f.pos])
			f.pos -= int32(w)
			pc, pos = int(f.pc), int(f.pos)
			if f.pos <= f.lo {
				m.stack = m.stack[:len(m.stack)-1]
			}
		} else {
			pc, pos = int(f.pc), int(f.pos)
			m.stack = m.stack[:len(m.stack)-1]
		}
	}
}

// MatchAt matches anchored at byte offset pos of s and returns the end of the match, or -1.
func (re *Regexp) MatchAt(m *Machine, s string, pos int) int {
	return re.run(m, s, 0, pos)
}

// Find returns the leftmost match starting at or after byte offset from (Oniguruma's
// search): the first start position, in order, where the program matches.
//
// A search that passes [MaxBacktracks] sets m.Exceeded and reports no match.
func (re *Regexp) Find(m *Machine, s string, from int) (start, end int, ok bool) {
	m.steps, m.Exceeded = 0, false
	for p := from; p <= len(s); {
		if e := re.run(m, s, 0, p); e >= 0 {
			return p, e, true
		}
		if m.Exceeded {
			return 0, 0, false
		}
		if p == len(s) {
			break
		}
		_, w := decode(s, p)
		p += w
	}
	return 0, 0, false
}

// Iter walks the successive matches of s as Oniguruma's find_iter (the onig crate) does:
// each search starts where the last match ended, and an empty match right at the end of the
// previous match is skipped by advancing one code point.
type Iter struct {
	re        *Regexp
	m         *Machine
	s         string
	lastEnd   int
	lastMatch int // end of the previous match, or -1
}

// Iter returns an iterator over the matches of s using machine m.
func (re *Regexp) Iter(m *Machine, s string) Iter {
	return Iter{re: re, m: m, s: s, lastMatch: -1}
}

// Next returns the next match.
func (it *Iter) Next() (start, end int, ok bool) {
	for it.lastEnd <= len(it.s) {
		st, e, found := it.re.Find(it.m, it.s, it.lastEnd)
		if !found {
			it.lastEnd = len(it.s) + 1
			return 0, 0, false
		}
		if st == e && it.lastMatch == e {
			if it.lastEnd >= len(it.s) {
				it.lastEnd = len(it.s) + 1
				return 0, 0, false
			}
			_, w := decode(it.s, it.lastEnd)
			it.lastEnd += w
			continue
		}
		it.lastEnd, it.lastMatch = e, e
		return st, e, true
	}
	return 0, 0, false
}
