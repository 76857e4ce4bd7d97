package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

type duration struct {
	d     time.Duration
	node  ast.Node
	shown string // as the user wrote it, for messages
}

type integer struct {
	v     int
	node  ast.Node
	shown string // as the user wrote it, for messages
}

// duration reads a Go duration such as "30s" or "1m30s". A bare number is
// refused: "5" could mean seconds or milliseconds.
func (d *decoder) duration(n ast.Node, path string) (*duration, bool) {
	r := d.resolve(n, path)
	switch r.(type) {
	case nil:
		return nil, false
	case *ast.NullNode, *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		d.errorf(r, path, `expected a duration such as "30s", got %s`, describe(r))
		return nil, false
	}
	s, ok := d.str(r, path)
	if !ok {
		return nil, false
	}
	text := strings.TrimSpace(s.value)
	v, err := time.ParseDuration(text)
	if err != nil {
		_, nerr := strconv.ParseFloat(text, 64)
		switch {
		case nerr == nil && s.env:
			d.errorf(r, path, `%s is not a duration (use a unit, e.g. "30s")`, s.shown())
		case nerr == nil:
			d.errorf(r, path, `%s is not a duration (use a unit, e.g. "%ss")`, s.shown(), text)
		default:
			d.errorf(r, path, `%s is not a duration (e.g. "30s" or "1m")`, s.shown())
		}
		return nil, false
	}
	shown := text
	if s.env {
		shown = quote(s.raw)
	}
	return &duration{d: v, node: r, shown: shown}, true
}

// durationMin reads a duration of at least least. format says what is
// wrong with a shorter one, given the value as shown.
func (d *decoder) durationMin(n ast.Node, path string, least time.Duration, format string) (*duration, bool) {
	v, ok := d.duration(n, path)
	if ok && v.d < least {
		d.errorf(n, path, format, v.shown)
		return nil, false
	}
	return v, ok
}

// integer reads a whole number. A string is taken if it holds one, so that
// "confirm: ${CONFIRM}" works.
func (d *decoder) integer(n ast.Node, path string) (*integer, bool) {
	r := d.resolve(n, path)
	switch v := r.(type) {
	case nil:
		return nil, false
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			if i >= math.MinInt && i <= math.MaxInt {
				return &integer{v: int(i), node: r, shown: v.GetToken().Value}, true
			}
		case uint64:
			if i <= math.MaxInt {
				return &integer{v: int(i), node: r, shown: v.GetToken().Value}, true
			}
		}
		d.errorf(r, path, "%s is out of range", v.GetToken().Value)
		return nil, false
	case *ast.StringNode, *ast.LiteralNode:
		s, ok := d.str(r, path)
		if !ok {
			return nil, false
		}
		if i, err := strconv.Atoi(strings.TrimSpace(s.value)); err == nil {
			shown := strconv.Itoa(i)
			if s.env {
				shown = quote(s.raw)
			}
			return &integer{v: i, node: r, shown: shown}, true
		}
	}
	d.errorf(r, path, "expected an integer, got %s", describe(r))
	return nil, false
}

// value reads a free-form value (a recipe option) as Go values: maps as
// map[string]any, lists as []any, integers as int, other numbers as float64,
// booleans as bool, null as nil, strings with ${...} expanded.
func (d *decoder) value(n ast.Node, path string, depth int, secrets *[]string) (any, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return nil, false
	}
	d.budget--
	if d.budget < 0 || depth > maxDepth {
		if d.budget == -1 || depth == maxDepth+1 {
			d.errorf(n, path, "value is nested too deeply or too large")
		}
		return nil, false
	}
	switch v := n.(type) {
	case *ast.NullNode:
		return nil, true
	case *ast.BoolNode:
		return v.Value, true
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			if i >= math.MinInt && i <= math.MaxInt {
				return int(i), true
			}
		case uint64:
			if i <= math.MaxInt {
				return int(i), true
			}
		}
		d.errorf(n, path, "%s is out of range", v.GetToken().Value)
		return nil, false
	case *ast.FloatNode:
		return v.Value, true
	case *ast.InfinityNode:
		return v.Value, true
	case *ast.NanNode:
		return math.NaN(), true
	case *ast.StringNode, *ast.LiteralNode:
		s, ok := d.strKind(n, path, optionText)
		*secrets = append(*secrets, s.secrets...)
		return s.value, ok
	case *ast.SequenceNode:
		out := make([]any, 0, len(v.Values))
		ok := true
		for i, x := range v.Values {
			val, vok := d.value(x, fmt.Sprintf("%s[%d]", path, i), depth+1, secrets)
			ok = ok && vok
			out = append(out, val)
		}
		return out, ok
	case *ast.MappingNode, *ast.MappingValueNode:
		es, ok := d.mapping(n, path)
		out := make(map[string]any, len(es))
		for _, e := range es {
			val, vok := d.value(e.value, path+"."+e.key, depth+1, secrets)
			ok = ok && vok
			out[e.key] = val
		}
		return out, ok
	}
	d.errorf(n, path, "unsupported value %s", describe(n))
	return nil, false
}
