// Package torchorder reproduces, ties included, the order in which PyTorch's CPU kernels leave
// a float32 row: torch.sort (ascending) and torch.topk (largest, sorted). Both run libstdc++
// algorithms over (value, index) pairs that start in index order, comparing values only, and
// none of them is stable, so which of two equal values comes first is decided by the
// algorithm's steps; they are reproduced here step for step (introsort and introselect with
// median-of-three unguarded Hoare partitions, heap selection, insertion sort below 16
// elements). Where two equal logits or router probabilities are cut apart (top-p, the top-k
// experts), this is what makes the result the reference's.
//
// Every function permutes an index slice idx over a key row; idx[i] indexes key.
package torchorder

import "math/bits"

// Sort sorts idx by ascending key[idx[i]] exactly as torch.sort(descending=False) orders a
// float32 CPU row: std::sort with the comparator a < b || (b is NaN && a is not), so NaN sorts
// last. idx must hold the row's indices in order (0, 1, …, n−1) on entry, as torch's sort
// starts from them.
func Sort(idx []int32, key []float32) {
	p := perm{idx: idx, key: key}
	p.sort(0, len(idx))
}

// TopK returns the indices of the k largest of vals in the order torch.topk(vals, k)
// (largest, sorted, a float32 CPU row) returns them, ties included. idx is scratch of
// len(vals); the result is idx[:k].
//
// torch's CPU kernel (aten/src/ATen/native/TopKImpl.h) fills (value, index) pairs in index
// order and, with the comparator "a is NaN and b is not, or a > b", runs
// std::partial_sort(first, first+k, last) when 64·k ≤ n, else std::nth_element(first,
// first+k−1, last) followed by std::sort(first, first+k−1). NaN ranks above everything.
func TopK(vals []float32, k int, idx []int32) []int32 {
	n := len(vals)
	idx = idx[:n]
	for i := range idx {
		idx[i] = int32(i)
	}
	if k <= 0 || n == 0 {
		return idx[:0]
	}
	p := &perm{idx: idx, key: vals, desc: true}
	if int64(k)*64 <= int64(n) {
		p.heapSelect(0, k, n)
		p.sortHeap(0, k)
	} else {
		p.nthElement(0, k-1, n)
		p.sort(0, k-1)
	}
	return idx[:k]
}

// perm permutes idx by key[idx[i]]: ascending with NaN last (torch.sort), or, when desc,
// descending with NaN first (torch.topk).
type perm struct {
	idx  []int32
	key  []float32
	desc bool
}

// before is the comparator on values: a goes before b.
func (p *perm) before(a, b float32) bool {
	if p.desc {
		return (a != a && b == b) || a > b
	}
	return (a == a && b != b) || a < b
}

func (p *perm) less(i, j int) bool { return p.before(p.key[p.idx[i]], p.key[p.idx[j]]) }

func (p *perm) swap(i, j int) { p.idx[i], p.idx[j] = p.idx[j], p.idx[i] }

// lg is ⌊log2 n⌋ (n ≥ 1), libstdc++'s __lg.
func lg(n int) int { return bits.Len(uint(n)) - 1 }

// threshold is libstdc++'s _S_threshold: introsort leaves runs this short to insertion sort.
const threshold = 16

// sort is std::sort on [first, last): introsort down to runs of 16, heapsort past a depth of
// 2·⌊log2 n⌋, then a final insertion sort.
func (p *perm) sort(first, last int) {
	if last-first < 2 {
		return
	}
	p.sortDepth(first, last, 2*lg(last-first))
}

// sortDepth is sort with the introsort depth limit given (0 forces the heapsort at once).
func (p *perm) sortDepth(first, last, depth int) {
	p.introsort(first, last, depth)
	if last-first > threshold {
		p.insertionSort(first, first+threshold)
		for i := first + threshold; i < last; i++ {
			p.linearInsert(i)
		}
		return
	}
	p.insertionSort(first, last)
}

func (p *perm) introsort(first, last, depth int) {
	for last-first > threshold {
		if depth == 0 {
			p.heapSelect(first, last, last) // std::__partial_sort(first, last, last)
			p.sortHeap(first, last)
			return
		}
		depth--
		cut := p.partitionPivot(first, last)
		p.introsort(cut, last, depth)
		last = cut
	}
}

// nthElement is std::nth_element: introselect down to runs of 3, then insertion sort.
func (p *perm) nthElement(first, nth, last int) {
	if first == last || nth == last {
		return
	}
	depth := 2 * lg(last-first)
	for last-first > 3 {
		if depth == 0 {
			p.heapSelect(first, nth+1, last)
			p.swap(first, nth)
			return
		}
		depth--
		cut := p.partitionPivot(first, last)
		if cut <= nth {
			first = cut
		} else {
			last = cut
		}
	}
	p.insertionSort(first, last)
}

// partitionPivot moves the median of first+1, the middle and last−1 to first and partitions
// the rest around it (unguarded Hoare partition); it returns the cut.
func (p *perm) partitionPivot(first, last int) int {
	a, b, c := first+1, first+(last-first)/2, last-1
	switch {
	case p.less(a, b):
		switch {
		case p.less(b, c):
			p.swap(first, b)
		case p.less(a, c):
			p.swap(first, c)
		default:
			p.swap(first, a)
		}
	case p.less(a, c):
		p.swap(first, a)
	case p.less(b, c):
		p.swap(first, c)
	default:
		p.swap(first, b)
	}
	lo, hi := first+1, last
	for {
		for p.less(lo, first) {
			lo++
		}
		hi--
		for p.less(first, hi) {
			hi--
		}
		if lo >= hi {
			return lo
		}
		p.swap(lo, hi)
		lo++
	}
}

func (p *perm) insertionSort(first, last int) {
	if first == last {
		return
	}
	for i := first + 1; i < last; i++ {
		if p.less(i, first) {
			v := p.idx[i]
			copy(p.idx[first+1:i+1], p.idx[first:i])
			p.idx[first] = v
		} else {
			p.linearInsert(i)
		}
	}
}

// linearInsert moves idx[last] towards the front past every element it goes before
// (unguarded: something at or before the front stops it).
func (p *perm) linearInsert(last int) {
	v := p.idx[last]
	kv := p.key[v]
	for next := last - 1; p.before(kv, p.key[p.idx[next]]); next-- {
		p.idx[last] = p.idx[next]
		last = next
	}
	p.idx[last] = v
}

// heapSelect is std::__heap_select: a heap of [first, middle), then every later element that
// goes before its top replaces the top.
func (p *perm) heapSelect(first, middle, last int) {
	n := middle - first
	if n >= 2 {
		for parent := (n - 2) / 2; ; parent-- {
			p.adjustHeap(first, parent, n, p.idx[first+parent])
			if parent == 0 {
				break
			}
		}
	}
	for i := middle; i < last; i++ {
		if p.less(i, first) {
			v := p.idx[i]
			p.idx[i] = p.idx[first]
			p.adjustHeap(first, 0, n, v)
		}
	}
}

// sortHeap is std::__sort_heap.
func (p *perm) sortHeap(first, last int) {
	for last-first > 1 {
		last--
		v := p.idx[last]
		p.idx[last] = p.idx[first]
		p.adjustHeap(first, 0, last-first, v)
	}
}

// adjustHeap is std::__adjust_heap: sift the hole at hole down to a leaf, then push v up.
func (p *perm) adjustHeap(first, hole, n int, v int32) {
	top, child := hole, hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if p.less(first+child, first+child-1) {
			child--
		}
		p.idx[first+hole] = p.idx[first+child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		p.idx[first+hole] = p.idx[first+child-1]
		hole = child - 1
	}
	kv := p.key[v]
	for parent := (hole - 1) / 2; hole > top && p.before(p.key[p.idx[first+parent]], kv); parent = (hole - 1) / 2 {
		p.idx[first+hole] = p.idx[first+parent]
		hole = parent
	}
	p.idx[first+hole] = v
}
