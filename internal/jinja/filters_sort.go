package jinja

import (
	"sort"
	"strings"
)

// The ordering filters: sort, dictsort, unique, min, max, sum — jinja2's,
// with Python's comparisons (mixed types are a TypeError) and stable sorts.

// ignoreCase is jinja2's ignore_case: strings lowered, others as they are.
func ignoreCase(v Value) Value {
	if s, ok := v.(string); ok {
		return pyLower(s)
	}
	if m, ok := v.(Markup); ok {
		return Markup(pyLower(string(m)))
	}
	return v
}

// sortValues sorts items stably by key, with Python's <; reverse keeps
// equal items in their order, as sorted(reverse=True) does.
func sortValues(items []Value, key func(Value) (Value, error), reverse bool) ([]Value, error) {
	keys := make([]Value, len(items))
	for i, it := range items {
		k, err := key(it)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	var cmpErr error
	sort.SliceStable(idx, func(a, b int) bool {
		if cmpErr != nil {
			return false
		}
		x, y := keys[idx[a]], keys[idx[b]]
		if reverse {
			x, y = y, x
		}
		lt, err := less(x, y, "<")
		if err != nil {
			cmpErr = err
		}
		return lt
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	out := make([]Value, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out, nil
}

func fSort(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("do_sort", []string{"reverse", "case_sensitive", "attribute"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	var paths []Value
	if s, ok := vals[2].(string); ok {
		for _, p := range strings.Split(s, ",") {
			paths = append(paths, p)
		}
	} else if vals[2] != nil {
		paths = []Value{vals[2]}
	}
	cs := Truth(vals[1])
	key := func(it Value) (Value, error) {
		if len(paths) == 0 {
			if !cs {
				it = ignoreCase(it)
			}
			return &List{Items: []Value{it}}, nil
		}
		ks := make([]Value, len(paths))
		for i, p := range paths {
			k, err := attrPath(it, p)
			if err != nil {
				return nil, err
			}
			if !cs {
				k = ignoreCase(k)
			}
			ks[i] = k
		}
		return &List{Items: ks}, nil
	}
	out, err := sortValues(items, key, Truth(vals[0]))
	if err != nil {
		return nil, err
	}
	return &List{Items: out}, nil
}

func fDictsort(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, given, err := bindArgs("do_dictsort", []string{"case_sensitive", "by", "reverse"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	pos := 0
	if given[1] {
		switch vals[1] {
		case "key":
		case "value":
			pos = 1
		default:
			return nil, errorf(`You can only sort by either "key" or "value"`)
		}
	}
	d, ok := v.(*Dict)
	if !ok {
		return nil, errorf("'%s' object has no attribute 'items'", typeName(v))
	}
	items := make([]Value, d.Len())
	for i, k := range d.keys {
		items[i] = &Tuple{Items: []Value{k, d.vals[i]}}
	}
	cs := Truth(vals[0])
	out, err := sortValues(items, func(it Value) (Value, error) {
		k := it.(*Tuple).Items[pos]
		if !cs {
			k = ignoreCase(k)
		}
		return k, nil
	}, Truth(vals[2]))
	if err != nil {
		return nil, err
	}
	return &List{Items: out}, nil
}

func fUnique(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, _, err := bindArgs("do_unique", []string{"case_sensitive", "attribute"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	cs := Truth(vals[0])
	seen := map[string]bool{}
	pull := puller(v)
	return &Iter{Kind: "generator", next: func() (Value, bool, error) {
		for {
			it, ok, err := pull()
			if !ok || err != nil {
				return nil, false, err
			}
			k := it
			if vals[1] != nil {
				if k, err = attrPath(it, vals[1]); err != nil {
					return nil, false, err
				}
			}
			if !cs {
				k = ignoreCase(k)
			}
			h, ok := hashKey(k)
			if !ok {
				return nil, false, errorf("unhashable type: '%s'", typeName(k))
			}
			if !seen[h] {
				seen[h] = true
				return it, true, nil
			}
		}
	}}, nil
}

func fMinMax(isMax bool) filterFn {
	return func(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
		vals, _, err := bindArgs("do_min", []string{"case_sensitive", "attribute"}, 0, args, kw)
		if err != nil {
			return nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return Undefined{Hint: "No aggregated item, sequence was empty."}, nil
		}
		key := func(it Value) (Value, error) {
			k := it
			if vals[1] != nil {
				if k, err = attrPath(it, vals[1]); err != nil {
					return nil, err
				}
			}
			if !Truth(vals[0]) {
				k = ignoreCase(k)
			}
			return k, nil
		}
		best := items[0]
		bk, err := key(best)
		if err != nil {
			return nil, err
		}
		for _, it := range items[1:] {
			k, err := key(it)
			if err != nil {
				return nil, err
			}
			a, b := k, bk
			if isMax {
				a, b = bk, k
			}
			lt, err := less(a, b, "<")
			if err != nil {
				return nil, err
			}
			if lt {
				best, bk = it, k
			}
		}
		return best, nil
	}
}

func fSum(_ *evaluator, v Value, args []Value, kw *Dict) (Value, error) {
	vals, given, err := bindArgs("sync_do_sum", []string{"attribute", "start"}, 0, args, kw)
	if err != nil {
		return nil, err
	}
	var total Value = int64(0)
	if given[1] {
		total = vals[1]
	}
	if _, ok := strOf(total); ok {
		return nil, errorf("sum() can't sum strings [use ''.join(seq) instead]")
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if vals[0] != nil {
			if it, err = attrPath(it, vals[0]); err != nil {
				return nil, err
			}
		}
		if total, err = binary("+", total, it); err != nil {
			return nil, err
		}
	}
	return total, nil
}
