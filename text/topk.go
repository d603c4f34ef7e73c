package text

import "math/bits"

// topK returns the indices of the k largest of vals in the order torch.topk(vals, k) (largest,
// sorted, a float32 CPU row) returns them, ties included. idx is scratch of len(vals); the
// result is idx[:k].
//
// torch's CPU kernel (aten/src/ATen/native/TopKImpl.h) fills a vector of (value, index) pairs
// in index order and, with the comparator "a is NaN and b is not, or a > b" on values only,
// runs libstdc++'s std::partial_sort(first, first+k, last) when 64·k ≤ n, else
// std::nth_element(first, first+k−1, last) followed by std::sort(first, first+k−1). None of
// these is stable, and which of two equal router probabilities wins decides an expert, so the
// three algorithms are reproduced step for step (introselect and introsort with median-of-three
// Hoare partitions, heap selection, insertion sort below 16 elements). NaN ranks above
// everything, as in torch.
func topK(vals []float32, k int, idx []int32) []int32 {
	n := len(vals)
	idx = idx[:n]
	for i := range idx {
		idx[i] = int32(i)
	}
	if k <= 0 || n == 0 {
		return idx[:0]
	}
	s := &selector{idx: idx, key: vals}
	if int64(k)*64 <= int64(n) {
		s.heapSelect(0, k, n)
		s.sortHeap(0, k)
	} else {
		s.nthElement(0, k-1, n)
		s.sort(0, k-1)
	}
	return idx[:k]
}

// selector permutes idx by descending key[idx[i]] (NaN first).
type selector struct {
	idx []int32
	key []float32
}

// before is the comparator on values: a ranks before b.
func before(a, b float32) bool { return (a != a && b == b) || a > b }

func (s *selector) less(i, j int) bool { return before(s.key[s.idx[i]], s.key[s.idx[j]]) }

func (s *selector) swap(i, j int) { s.idx[i], s.idx[j] = s.idx[j], s.idx[i] }

// lg is ⌊log2 n⌋ (n ≥ 1), libstdc++'s __lg.
func lg(n int) int { return bits.Len(uint(n)) - 1 }

// nthElement is std::nth_element: introselect down to runs of 3, then insertion sort.
func (s *selector) nthElement(first, nth, last int) {
	if first == last || nth == last {
		return
	}
	depth := 2 * lg(last-first)
	for last-first > 3 {
		if depth == 0 {
			s.heapSelect(first, nth+1, last)
			s.swap(first, nth)
			return
		}
		depth--
		cut := s.partitionPivot(first, last)
		if cut <= nth {
			first = cut
		} else {
			last = cut
		}
	}
	s.insertionSort(first, last)
}

const introThreshold = 16

// sort is std::sort: introsort down to runs of 16, heapsort past the depth limit, then a final
// insertion sort.
func (s *selector) sort(first, last int) {
	if last-first < 2 {
		return
	}
	s.introsort(first, last, 2*lg(last-first))
	if last-first > introThreshold {
		s.insertionSort(first, first+introThreshold)
		for i := first + introThreshold; i < last; i++ {
			s.linearInsert(i)
		}
		return
	}
	s.insertionSort(first, last)
}

func (s *selector) introsort(first, last, depth int) {
	for last-first > introThreshold {
		if depth == 0 {
			s.heapSelect(first, last, last)
			s.sortHeap(first, last)
			return
		}
		depth--
		cut := s.partitionPivot(first, last)
		s.introsort(cut, last, depth)
		last = cut
	}
}

// partitionPivot moves the median of first+1, the middle and last−1 to first and partitions
// the rest around it (unguarded Hoare partition); it returns the cut.
func (s *selector) partitionPivot(first, last int) int {
	a, b, c := first+1, first+(last-first)/2, last-1
	switch {
	case s.less(a, b):
		switch {
		case s.less(b, c):
			s.swap(first, b)
		case s.less(a, c):
			s.swap(first, c)
		default:
			s.swap(first, a)
		}
	case s.less(a, c):
		s.swap(first, a)
	case s.less(b, c):
		s.swap(first, c)
	default:
		s.swap(first, b)
	}
	lo, hi := first+1, last
	for {
		for s.less(lo, first) {
			lo++
		}
		hi--
		for s.less(first, hi) {
			hi--
		}
		if lo >= hi {
			return lo
		}
		s.swap(lo, hi)
		lo++
	}
}

func (s *selector) insertionSort(first, last int) {
	if first == last {
		return
	}
	for i := first + 1; i < last; i++ {
		if s.less(i, first) {
			v := s.idx[i]
			copy(s.idx[first+1:i+1], s.idx[first:i])
			s.idx[first] = v
		} else {
			s.linearInsert(i)
		}
	}
}

// linearInsert moves idx[last] towards the front past every element it ranks before
// (unguarded: something at or before the front stops it).
func (s *selector) linearInsert(last int) {
	v := s.idx[last]
	kv := s.key[v]
	for next := last - 1; before(kv, s.key[s.idx[next]]); next-- {
		s.idx[last] = s.idx[next]
		last = next
	}
	s.idx[last] = v
}

// heapSelect is std::__heap_select: a heap of [first, middle), then every later element that
// ranks before its top replaces the top.
func (s *selector) heapSelect(first, middle, last int) {
	n := middle - first
	if n >= 2 {
		for parent := (n - 2) / 2; ; parent-- {
			s.adjustHeap(first, parent, n, s.idx[first+parent])
			if parent == 0 {
				break
			}
		}
	}
	for i := middle; i < last; i++ {
		if s.less(i, first) {
			v := s.idx[i]
			s.idx[i] = s.idx[first]
			s.adjustHeap(first, 0, n, v)
		}
	}
}

// sortHeap is std::__sort_heap.
func (s *selector) sortHeap(first, last int) {
	for last-first > 1 {
		last--
		v := s.idx[last]
		s.idx[last] = s.idx[first]
		s.adjustHeap(first, 0, last-first, v)
	}
}

// adjustHeap is std::__adjust_heap: sift the hole at hole down to a leaf, then push v up.
func (s *selector) adjustHeap(first, hole, n int, v int32) {
	top, child := hole, hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if s.less(first+child, first+child-1) {
			child--
		}
		s.idx[first+hole] = s.idx[first+child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		s.idx[first+hole] = s.idx[first+child-1]
		hole = child - 1
	}
	kv := s.key[v]
	for parent := (hole - 1) / 2; hole > top && before(s.key[s.idx[first+parent]], kv); parent = (hole - 1) / 2 {
		s.idx[first+hole] = s.idx[first+parent]
		hole = parent
	}
	s.idx[first+hole] = v
}
