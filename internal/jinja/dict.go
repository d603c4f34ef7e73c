package jinja

import (
	"math"
	"strconv"
)

// Dict is a Python dict: keys in insertion order, looked up by Python
// equality of hashable keys (1, 1.0 and True are the same key).
type Dict struct {
	keys []Value
	vals []Value
	idx  map[string]int
}

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{idx: map[string]int{}} }

// hashKey maps a hashable value to a string equal for keys Python deems
// equal; ok is false for unhashable values (lists, dicts).
func hashKey(k Value) (string, bool) {
	switch x := k.(type) {
	case nil:
		return "N", true
	case bool:
		if x {
			return "n1", true
		}
		return "n0", true
	case int64:
		return "n" + strconv.FormatInt(x, 10), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e18 {
			return "n" + strconv.FormatInt(int64(x), 10), true
		}
		return "f" + strconv.FormatFloat(x, 'g', -1, 64), true
	case string:
		return "s" + x, true
	case Markup:
		return "s" + string(x), true
	case *Tuple:
		s := "t"
		for _, it := range x.Items {
			h, ok := hashKey(it)
			if !ok {
				return "", false
			}
			s += strconv.Itoa(len(h)) + ":" + h
		}
		return s, true
	}
	return "", false
}

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in order (not a copy).
func (d *Dict) Keys() []Value { return d.keys }

// Values returns the values in order (not a copy).
func (d *Dict) Values() []Value { return d.vals }

// Get returns the value of key k.
func (d *Dict) Get(k Value) (Value, bool) {
	h, ok := hashKey(k)
	if !ok {
		return nil, false
	}
	i, ok := d.idx[h]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// Set sets key k, keeping its place if present, else appending it. An
// unhashable key is refused.
func (d *Dict) Set(k, v Value) bool {
	h, ok := hashKey(k)
	if !ok {
		return false
	}
	if i, ok := d.idx[h]; ok {
		d.vals[i] = v
		return true
	}
	d.idx[h] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return true
}

// SetString sets a string key.
func (d *Dict) SetString(k string, v Value) { d.Set(k, v) }

// Copy returns a shallow copy.
func (d *Dict) Copy() *Dict {
	c := NewDict()
	for i, k := range d.keys {
		c.Set(k, d.vals[i])
	}
	return c
}
