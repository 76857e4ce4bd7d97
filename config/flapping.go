package config

import (
	"cmp"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Flap damping defaults, used for every part of a site's flapping setting
// that neither the site nor the defaults give.
const (
	DefaultFlapChanges = 5
	DefaultFlapWithin  = 30 * time.Minute
	DefaultFlapSettle  = 10 * time.Minute
	// MinFlapChanges is the least "changes" may be: with 1, every change
	// would be flapping.
	MinFlapChanges = 2
)

// Flapping says when a site's notices are damped: Changes changes of state
// within Within send one "flapping" notice, and the notices after it are
// held until the site has kept one state for Settle.
//
// In the file:
//
//	flapping: {changes: 5, within: 30m, settle: 10m}   # each key optional
//	flapping: off                                       # never damp
//
// A site's keys override those of defaults.flapping one by one; "off" on a
// site turns damping off whatever the defaults say, and "on" (or a map) on a
// site turns it back on under "defaults: {flapping: off}".
type Flapping struct {
	Off     bool          // never damp; the other fields are zero
	Changes int           // default 5, at least 2
	Within  time.Duration // default 30m
	Settle  time.Duration // default 10m
}

// DefaultFlapping is the damping of a site that says nothing about it.
func DefaultFlapping() Flapping {
	return Flapping{Changes: DefaultFlapChanges, Within: DefaultFlapWithin, Settle: DefaultFlapSettle}
}

// flapSpec is what one "flapping" value says.
type flapSpec struct {
	off            bool
	changes        *integer
	within, settle *duration
}

// flapping reads a flapping value: off, on, or a map with changes, within
// and settle. where is what "unknown key" messages say the key is in:
// "defaults.flapping", or "flapping of site \"API\"".
func (d *decoder) flapping(n ast.Node, path, where string) (*flapSpec, bool) {
	const want = "off, on, or a map with changes, within and settle"
	r := d.resolve(n, path)
	switch v := r.(type) {
	case nil:
		return nil, false
	case *ast.BoolNode:
		return &flapSpec{off: !v.Value}, true
	case *ast.StringNode, *ast.LiteralNode:
		s, ok := d.str(r, path)
		if !ok {
			return nil, false
		}
		switch strings.ToLower(strings.TrimSpace(s.value)) {
		case "off", "false":
			return &flapSpec{off: true}, true
		case "on", "true":
			return &flapSpec{}, true
		}
		d.errorf(r, path, "%s is not one of %s", s.shown(), want)
		return nil, false
	case *ast.NullNode, *ast.MappingNode, *ast.MappingValueNode:
	default:
		d.errorf(r, path, "expected %s, got %s", want, describe(r))
		return nil, false
	}
	entries, ok := d.mapping(r, path)
	if !ok {
		return nil, false
	}
	fs := &flapSpec{}
	for _, e := range entries {
		p := path + "." + e.key
		switch e.key {
		case "changes":
			v, vok := d.integer(e.value, p)
			if vok && v.v < MinFlapChanges {
				d.errorf(e.value, p, "%s must be at least %d (or flapping: off)", v.shown, MinFlapChanges)
				vok = false
			}
			if !vok {
				ok = false
				continue
			}
			fs.changes = v
		case "within", "settle":
			v, vok := d.duration(e.value, p)
			if vok && v.d <= 0 {
				d.errorf(e.value, p, "%s must be more than zero", v.shown)
				vok = false
			}
			if !vok {
				ok = false
				continue
			}
			if e.key == "within" {
				fs.within = v
			} else {
				fs.settle = v
			}
		default:
			d.errorf(e.keyNode, "", "unknown key %q in %s (expected changes, within, settle)", e.key, where)
			ok = false
		}
	}
	if !ok {
		return nil, false
	}
	return fs, true
}

// resolveFlapping applies a site's flapping value over the defaults' and
// the built-in defaults. Either may be nil: not given, or wrong.
func resolveFlapping(site, def *flapSpec) Flapping {
	if site != nil && site.off || site == nil && def != nil && def.off {
		return Flapping{Off: true}
	}
	if def != nil && def.off {
		// The site turns damping back on: the defaults have no numbers.
		def = nil
	}
	if site == nil {
		site = &flapSpec{}
	}
	if def == nil {
		def = &flapSpec{}
	}
	f := DefaultFlapping()
	if v := cmp.Or(site.changes, def.changes); v != nil {
		f.Changes = v.v
	}
	if v := cmp.Or(site.within, def.within); v != nil {
		f.Within = v.d
	}
	if v := cmp.Or(site.settle, def.settle); v != nil {
		f.Settle = v.d
	}
	return f
}

// IsDefault reports whether f is the built-in damping.
func (f Flapping) IsDefault() bool { return f == DefaultFlapping() }
