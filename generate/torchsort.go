package generate

import "math/bits"

// torchSort sorts idx by ascending key[idx[i]] exactly as torch.sort(descending=False)
// orders a float32 CPU row, ties included: torch's CPU kernel runs libstdc++'s std::sort
// (introsort: median-of-three Hoare partitions down to runs of 16, a heapsort past a depth
// of 2·⌊log2 n⌋, then insertion sort) over (value, index) pairs with the comparator
// a < b || (b is NaN && a is not). std::sort is not stable, and top-p's result at a tie
// depends on that order, so it is reproduced step for step. idx must hold the row's
// indices in order (0, 1, …, n-1) on entry, as torch's sort starts from them.
func torchSort(idx []int32, key []float32) {
	n := len(idx)
	if n < 2 {
		return
	}
	s := sorter{idx: idx, key: key}
	s.introsortLoop(0, n, 2*(bits.Len(uint(n))-1))
	s.finalInsertionSort(0, n)
}

type sorter struct {
	idx []int32
	key []float32
}

const sortThreshold = 16

// lessV is the comparator on values.
func lessV(a, b float32) bool { return (a == a && b != b) || a < b }

func (s *sorter) less(i, j int) bool { return lessV(s.key[s.idx[i]], s.key[s.idx[j]]) }

func (s *sorter) swap(i, j int) { s.idx[i], s.idx[j] = s.idx[j], s.idx[i] }

func (s *sorter) introsortLoop(first, last, depth int) {
	for last-first > sortThreshold {
		if depth == 0 {
			s.heapSort(first, last)
			return
		}
		depth--
		cut := s.partitionPivot(first, last)
		s.introsortLoop(cut, last, depth)
		last = cut
	}
}

func (s *sorter) partitionPivot(first, last int) int {
	mid := first + (last-first)/2
	s.medianToFirst(first, first+1, mid, last-1)
	return s.partition(first+1, last, first)
}

func (s *sorter) medianToFirst(result, a, b, c int) {
	switch {
	case s.less(a, b):
		switch {
		case s.less(b, c):
			s.swap(result, b)
		case s.less(a, c):
			s.swap(result, c)
		default:
			s.swap(result, a)
		}
	case s.less(a, c):
		s.swap(result, a)
	case s.less(b, c):
		s.swap(result, c)
	default:
		s.swap(result, b)
	}
}

// partition is the unguarded Hoare partition around the element at pivot.
func (s *sorter) partition(first, last, pivot int) int {
	for {
		for s.less(first, pivot) {
			first++
		}
		last--
		for s.less(pivot, last) {
			last--
		}
		if first >= last {
			return first
		}
		s.swap(first, last)
		first++
	}
}

func (s *sorter) finalInsertionSort(first, last int) {
	if last-first > sortThreshold {
		s.insertionSort(first, first+sortThreshold)
		for i := first + sortThreshold; i < last; i++ {
			s.linearInsert(i)
		}
		return
	}
	s.insertionSort(first, last)
}

func (s *sorter) insertionSort(first, last int) {
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

// linearInsert moves idx[last] left past every element greater than it (unguarded).
func (s *sorter) linearInsert(last int) {
	v := s.idx[last]
	kv := s.key[v]
	next := last - 1
	for lessV(kv, s.key[s.idx[next]]) {
		s.idx[last] = s.idx[next]
		last = next
		next--
	}
	s.idx[last] = v
}

// heapSort is std::__partial_sort(first, last, last): make_heap then sort_heap.
func (s *sorter) heapSort(first, last int) {
	n := last - first
	if n >= 2 {
		for parent := (n - 2) / 2; ; parent-- {
			s.adjustHeap(first, parent, n, s.idx[first+parent])
			if parent == 0 {
				break
			}
		}
	}
	for last-first > 1 {
		last--
		v := s.idx[last]
		s.idx[last] = s.idx[first]
		s.adjustHeap(first, 0, last-first, v)
	}
}

func (s *sorter) adjustHeap(first, hole, n int, v int32) {
	top := hole
	child := hole
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
	// push_heap
	parent := (hole - 1) / 2
	kv := s.key[v]
	for hole > top && lessV(s.key[s.idx[first+parent]], kv) {
		s.idx[first+hole] = s.idx[first+parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	s.idx[first+hole] = v
}
