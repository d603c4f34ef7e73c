package pattern

import "unicode/utf8"

// refMatch is the slow obvious matcher: it walks the syntax tree with continuations,
// deciding class membership from the definitions (not the bitmaps). k receives the end
// position of each way the node can match, in preference order, and stops the search by
// returning true.
func refMatch(n *node, s string, pos int, k func(int) bool) bool {
	switch n.kind {
	case nEmpty:
		return k(pos)
	case nClass:
		if pos >= len(s) {
			return false
		}
		r, w := utf8.DecodeRuneInString(s[pos:])
		return n.cls.eval(r) && k(pos+w)
	case nConcat:
		var step func(i, p int) bool
		step = func(i, p int) bool {
			if i == len(n.subs) {
				return k(p)
			}
			return refMatch(n.subs[i], s, p, func(q int) bool { return step(i+1, q) })
		}
		return step(0, pos)
	case nAlt:
		for _, sub := range n.subs {
			if refMatch(sub, s, pos, k) {
				return true
			}
		}
		return false
	case nRepeat:
		var rec func(count, p int) bool
		rec = func(count, p int) bool {
			if n.max < 0 || count < n.max {
				if refMatch(n.subs[0], s, p, func(q int) bool { return rec(count+1, q) }) {
					return true
				}
			}
			return count >= n.min && k(p)
		}
		return rec(0, pos)
	case nLook:
		ok := refMatch(n.subs[0], s, pos, func(int) bool { return true })
		return ok != n.neg && k(pos)
	}
	return false
}

// refSplit returns the matches of src in s as [start, end) pairs, by the reference matcher
// and the find_iter rules.
func refSplit(root *node, s string) [][2]int {
	var out [][2]int
	last, lastMatch := 0, -1
	for last <= len(s) {
		found := false
		st, en := 0, 0
		for p := last; p <= len(s); {
			if refMatch(root, s, p, func(e int) bool { en = e; return true }) {
				st, found = p, true
				break
			}
			if p == len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[p:])
			p += w
		}
		if !found {
			break
		}
		if st == en && lastMatch == en {
			if last >= len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[last:])
			last += w
			continue
		}
		out = append(out, [2]int{st, en})
		last, lastMatch = en, en
	}
	return out
}
