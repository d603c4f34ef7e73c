package jinja

// Iter is a Python iterator: what the map, select, reject, selectattr,
// rejectattr and items filters (generators) and reverse (reversed()) return.
// It is lazy (a filter's errors surface when it is iterated), single-pass
// (a second loop over it sees nothing), always true, and has no length.
type Iter struct {
	// Kind is the Python type name: "generator", "list_reverseiterator", …
	Kind string
	next func() (Value, bool, error)
	done bool
}

// Next returns the next item; ok is false when the iterator is exhausted.
// An error ends the iterator, as an exception ends a generator.
func (it *Iter) Next() (v Value, ok bool, err error) {
	if it.done {
		return nil, false, nil
	}
	v, ok, err = it.next()
	if !ok || err != nil {
		it.done = true
		return nil, false, err
	}
	return v, true, nil
}

// View is a dict view: dict.items(), dict.keys() or dict.values(). It is
// re-iterable and has a length, but no indexing.
type View struct {
	Kind  string // "dict_items", "dict_keys", "dict_values"
	Items []Value
}

// puller returns a function yielding the items iter(v) would; an Iter is
// consumed as it is pulled. Values that are not iterable fail at the first
// pull (Python's generators fail when first advanced).
func puller(v Value) func() (Value, bool, error) {
	if it, ok := v.(*Iter); ok {
		return it.Next
	}
	var items []Value
	var err error
	started := false
	i := 0
	return func() (Value, bool, error) {
		if !started {
			started = true
			items, err = iterate(v)
		}
		if err != nil {
			return nil, false, err
		}
		if i >= len(items) {
			return nil, false, nil
		}
		i++
		return items[i-1], true, nil
	}
}

// generator makes an Iter whose body runs at the first pull: start
// prepares (and may fail, as a generator's first statements do) and
// returns the per-item step; step returns the value to yield and whether
// to yield it.
func generator(src Value, start func() (func(Value) (Value, bool, error), error)) *Iter {
	var step func(Value) (Value, bool, error)
	var pull func() (Value, bool, error)
	started := false
	return &Iter{Kind: "generator", next: func() (Value, bool, error) {
		if !started {
			started = true
			if !Truth(src) {
				return nil, false, nil
			}
			var err error
			if step, err = start(); err != nil {
				return nil, false, err
			}
			pull = puller(src)
		}
		for {
			item, ok, err := pull()
			if !ok || err != nil {
				return nil, false, err
			}
			v, keep, err := step(item)
			if err != nil {
				return nil, false, err
			}
			if keep {
				return v, true, nil
			}
		}
	}}
}

// sliceIter yields items in order (a snapshot), as a reversed() iterator.
func sliceIter(kind string, items []Value) *Iter {
	i := 0
	return &Iter{Kind: kind, next: func() (Value, bool, error) {
		if i >= len(items) {
			return nil, false, nil
		}
		i++
		return items[i-1], true, nil
	}}
}

func reversedItems(items []Value) []Value {
	out := make([]Value, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	return out
}

// reversed is Python's reversed(v): an iterator over a list, tuple, dict
// (its keys), dict view or Undefined (empty); an error for others.
func reversed(v Value) (*Iter, error) {
	switch x := v.(type) {
	case *List:
		return sliceIter("list_reverseiterator", reversedItems(x.Items)), nil
	case *Tuple:
		return sliceIter("reversed", reversedItems(x.Items)), nil
	case *Dict:
		return sliceIter("dict_reversekeyiterator", reversedItems(x.keys)), nil
	case *View:
		return sliceIter("dict_reverseiterator", reversedItems(x.Items)), nil
	case string, Markup:
		return sliceIter("reversed", reversedItems(chars(Str(x)))), nil
	case Undefined:
		if x.Unsafe {
			return nil, undefinedError(x)
		}
		return sliceIter("reversed", nil), nil
	}
	return nil, errorf("'%s' object is not reversible", typeName(v))
}
