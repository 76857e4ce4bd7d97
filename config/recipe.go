package config

import (
	"errors"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/walnut-board/walnut/secret"
)

type recipeSpec struct {
	name    string
	opts    map[string]any
	node    ast.Node
	secrets []string
}

// recipe reads a recipe: a name, or a map with name: and its options.
func (d *decoder) recipe(n ast.Node, path string) (*recipeSpec, bool) {
	r := d.resolve(n, path)
	switch r.(type) {
	case nil:
		return nil, false
	case *ast.MappingNode, *ast.MappingValueNode:
	case *ast.StringNode, *ast.LiteralNode:
		s, ok := d.nonEmpty(r, path)
		if !ok {
			return nil, false
		}
		return &recipeSpec{name: strings.TrimSpace(s.value), node: r, secrets: s.secrets}, true
	default:
		d.errorf(r, path, "expected a recipe name, or a map with name: and options, got %s", describe(r))
		return nil, false
	}
	entries, ok := d.mapping(r, path)
	if !ok {
		return nil, false
	}
	rs := &recipeSpec{node: r}
	named := false
	for _, e := range entries {
		p := path + "." + e.key
		if e.key == "name" {
			named = true
			s, sok := d.nonEmpty(e.value, p)
			if !sok {
				ok = false
				continue
			}
			rs.name = strings.TrimSpace(s.value)
			rs.secrets = append(rs.secrets, s.secrets...)
			continue
		}
		v, vok := d.value(e.value, p, 0, &rs.secrets)
		ok = ok && vok
		if rs.opts == nil {
			rs.opts = map[string]any{}
		}
		rs.opts[e.key] = v
	}
	if !named {
		d.errorf(r, path, `missing "name" (the recipe to use, e.g. status)`)
		return nil, false
	}
	if !ok {
		return nil, false
	}
	return rs, true
}

// recipeAt is where the file names a site's recipe, to place an error
// from building it.
type recipeAt struct {
	file    string
	anchors map[string][]anchorDef // to follow aliases within the options
	recipe  ast.Node               // the recipe's value; nil when the site takes the built-in default
	start   ast.Node               // the site's entry
	path    string                 // sites[N].recipe, or defaults.recipe
	secrets []string               // the site's, to scrub from messages

	fromDefaults bool // the site inherits the defaults' recipe
}

// recipeAt says where the site at path names its recipe.
func (d *decoder) recipeAt(path string, sp, def *spec, secrets []string) recipeAt {
	at := recipeAt{file: d.file, anchors: d.anchors, start: sp.start, path: path + ".recipe", secrets: secrets}
	switch {
	case sp.recipe != nil:
		at.recipe = sp.recipe.node
	case def.recipe != nil:
		at.recipe, at.path, at.fromDefaults = def.recipe.node, "defaults.recipe", true
	}
	return at
}

// node is where the recipe is named.
func (at recipeAt) node() ast.Node {
	if at.recipe == nil {
		return at.start
	}
	return at.recipe
}

// error places err at the option it names, or at the recipe. The error
// may quote an option that came from the environment, so its message is
// scrubbed, and only an unscrubbed one is kept to unwrap.
func (at recipeAt) error(err error) *Error {
	n := at.node()
	if at.recipe != nil {
		// A decoder of its own: following the path must not touch the
		// parse's error list, and the Config may be shared.
		d := &decoder{errorList: errorList{file: at.file}, anchors: at.anchors}
		n = d.optionNode(at.recipe, err)
	}
	line, col := pos(n)
	e := &Error{File: at.file, Line: line, Column: col, Path: at.path, Msg: secret.New(at.secrets...).Scrub(err.Error())}
	if e.Msg == err.Error() {
		e.err = err
	}
	return e
}

// optionNode is the node of the recipe option an error is about, when the
// error says which (recipes.RuleError's OptionPath, such as rules[1].when),
// so the error points to that line; else the recipe's node.
func (d *decoder) optionNode(recipe ast.Node, err error) ast.Node {
	var pe interface{ OptionPath() []any }
	if !errors.As(err, &pe) {
		return recipe
	}
	n := recipe
	for _, step := range pe.OptionPath() {
		var next ast.Node
		switch step := step.(type) {
		case string:
			entries, ok := d.mapping(n, "")
			if !ok {
				return recipe
			}
			for _, e := range entries {
				if e.key == step {
					next = e.value
				}
			}
		case int:
			items, ok := d.list(n, "")
			if !ok || step < 0 || step >= len(items) {
				return recipe
			}
			next = items[step]
		}
		if next == nil {
			return recipe
		}
		n = next
	}
	return n
}

// deepCopy copies recipe options, so that no two sites share a map a
// recipe might change.
func deepCopy(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopy(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopyValue(e)
		}
		return out
	}
	return v
}
