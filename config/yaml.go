package config

import (
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Limits that keep a hostile or broken file from making the decoder recurse
// or expand aliases without end ("billion laughs").
const (
	maxAliasHops  = 32
	maxDepth      = 32
	maxValueNodes = 100_000
)

// decoder walks the YAML tree of one file, gathering problems as it goes.
type decoder struct {
	errorList
	lookup  func(string) (string, bool)
	anchors map[string][]anchorDef
	budget  int    // nodes left for free-form values (recipe options)
	dir     string // the config file's directory: relative paths in it start there
}

type anchorDef struct {
	offset int
	value  ast.Node
}

// pos is where a node starts. A block map's own token is the colon after its
// first key, so a map is placed at that key instead.
func pos(n ast.Node) (line, col int) {
	switch m := n.(type) {
	case nil:
		return 0, 0
	case *ast.MappingNode:
		if !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0] != nil && m.Values[0].Key != nil {
			return pos(m.Values[0].Key)
		}
	case *ast.MappingValueNode:
		if m.Key != nil {
			return pos(m.Key)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

func offset(n ast.Node) int {
	if n == nil {
		return 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Offset
}

// errorf records a problem at node n.
func (d *decoder) errorf(n ast.Node, path, format string, args ...any) {
	line, col := pos(n)
	d.add(line, col, path, format, args...)
}

// collectAnchors records every &anchor in the tree, so aliases can be
// resolved to the latest anchor of that name defined before them.
func (d *decoder) collectAnchors(n ast.Node, depth int) {
	if n == nil || depth > 10_000 {
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode:
		if v.Name != nil {
			name := v.Name.GetToken().Value
			d.anchors[name] = append(d.anchors[name], anchorDef{offset: offset(v), value: v.Value})
		}
		d.collectAnchors(v.Value, depth+1)
	case *ast.TagNode:
		d.collectAnchors(v.Value, depth+1)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			d.collectAnchors(mv, depth+1)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			d.collectAnchors(v.Key, depth+1)
		}
		d.collectAnchors(v.Value, depth+1)
	case *ast.MappingKeyNode:
		d.collectAnchors(v.Value, depth+1)
	case *ast.SequenceNode:
		for _, x := range v.Values {
			d.collectAnchors(x, depth+1)
		}
	}
}

// resolve strips anchors and tags and follows aliases. It returns nil, having
// recorded why, for an alias to an unknown anchor or a loop of aliases.
func (d *decoder) resolve(n ast.Node, path string) ast.Node {
	for range maxAliasHops {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			name := ""
			if v.Value != nil {
				name = v.Value.GetToken().Value
			}
			var target ast.Node
			found := false
			for _, a := range d.anchors[name] {
				if a.offset < offset(v) {
					target, found = a.value, true
				}
			}
			if !found {
				d.errorf(v, path, "unknown alias *%s (no &%s before it)", name, name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	d.errorf(n, path, "aliases refer to each other without end")
	return nil
}

// describe says what a node is, for "expected X, got Y" messages. Strings
// are quoted as written, before ${...} expansion, so no secret is shown.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.StringNode:
		return quote(v.Value)
	case *ast.LiteralNode:
		if v.Value == nil {
			return `""`
		}
		return quote(v.Value.Value)
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a map"
	case *ast.SequenceNode:
		return "a list"
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value
	}
	return "a " + n.Type().YAMLName()
}

// quote quotes s for a message, shortening a long one.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return strconv.Quote(s)
}

// entry is one key of a mapping, after merge keys are applied.
type entry struct {
	key     string
	keyNode ast.Node
	value   ast.Node
}

// mapping reads a map. A null value reads as an empty map; anything else
// that is not a map is an error.
func (d *decoder) mapping(n ast.Node, path string) ([]entry, bool) {
	return d.mappingDepth(n, path, 0)
}

func (d *decoder) mappingDepth(n ast.Node, path string, depth int) ([]entry, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return nil, false
	}
	var values []*ast.MappingValueNode
	switch v := n.(type) {
	case *ast.NullNode:
		return nil, true
	case *ast.MappingNode:
		values = v.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{v}
	default:
		d.errorf(n, path, "expected a map, got %s", describe(n))
		return nil, false
	}
	if depth > maxDepth {
		d.errorf(n, path, "merge keys (<<) nested too deeply")
		return nil, false
	}
	var explicit, merged []entry
	ok := true
	for _, mv := range values {
		if mv == nil || mv.Key == nil {
			continue
		}
		var key ast.Node = mv.Key
		if mk, isKey := key.(*ast.MappingKeyNode); isKey {
			key = mk.Value
		}
		if _, isMerge := key.(*ast.MergeKeyNode); isMerge {
			es, mok := d.merge(mv.Value, path, depth)
			ok = ok && mok
			merged = append(merged, es...)
			continue
		}
		rk := d.resolve(key, path)
		if rk == nil {
			ok = false
			continue
		}
		var name string
		switch k := rk.(type) {
		case *ast.StringNode:
			name = k.Value
		case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
			name = k.GetToken().Value
		default:
			d.errorf(rk, path, "expected a plain key, got %s", describe(rk))
			ok = false
			continue
		}
		explicit = append(explicit, entry{key: name, keyNode: key, value: mv.Value})
	}
	// Keys written in the map win over merged ones; among merged maps the
	// first one listed wins, as the YAML merge key spec says.
	seen := make(map[string]bool, len(explicit)+len(merged))
	for _, e := range explicit {
		seen[e.key] = true
	}
	out := explicit
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			out = append(out, e)
		}
	}
	return out, ok
}

// merge reads the value of a << key: a map or a list of maps.
func (d *decoder) merge(n ast.Node, path string, depth int) ([]entry, bool) {
	r := d.resolve(n, path)
	if r == nil {
		return nil, false
	}
	if seq, isSeq := r.(*ast.SequenceNode); isSeq {
		var out []entry
		ok := true
		for _, x := range seq.Values {
			es, eok := d.mappingDepth(x, path, depth+1)
			ok = ok && eok
			out = append(out, es...)
		}
		return out, ok
	}
	return d.mappingDepth(r, path, depth+1)
}

// list reads a sequence. A null value reads as an empty list.
func (d *decoder) list(n ast.Node, path string) ([]ast.Node, bool) {
	n = d.resolve(n, path)
	switch v := n.(type) {
	case nil:
		return nil, false
	case *ast.NullNode:
		return nil, true
	case *ast.SequenceNode:
		return v.Values, true
	}
	d.errorf(n, path, "expected a list, got %s", describe(n))
	return nil, false
}
