// Package recipes turns an HTTP response into a verdict: ok, notok or pending,
// with a short human reason. It is pure: no database, no HTTP client and no
// clock of its own. A recipe that needs a follow-up request asks for it through
// the FetchFunc the checker hands in, which uses the probe's client and
// deadline, so a test can hand in a fake.
//
// Recipes are built by name from a Registry. There is no package state and no
// self-registration: main builds the registry (Builtin), a Go program may
// Register its own recipes on it, and tests build their own.
package recipes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is a verdict's outcome; the strings are Walnut's contract states.
type State string

const (
	OK      State = "ok"
	NotOK   State = "notok"
	Pending State = "pending"
)

// Verdict is what a recipe says about a response. Reason is short and human
// ("HTTP 503 Service Unavailable"); it is usually empty for OK.
type Verdict struct {
	State  State
	Reason string
}

// Response is the probed response as a recipe sees it. Body holds at most the
// checker's body limit; Truncated says the body was longer.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	Truncated  bool
	Latency    time.Duration // from the start of the request to the end of the body read
	TTFB       time.Duration // from the start of the request to the first response byte
	// Request is the request that got this response (the last hop after
	// redirects), or nil. A recipe may copy its URL's host and its headers
	// (a token) into a follow-up request. Its URL and header values may
	// hold secrets: never put them into a reason.
	Request *http.Request
}

// FetchFunc makes a follow-up request through the probe's own client and
// deadline, reading the body with the same limit. Its errors are short and
// never contain the request's URL.
type FetchFunc func(ctx context.Context, req *http.Request) (*Response, error)

// Recipe judges a response. ctx carries the probe's deadline. fetch may be
// used for follow-up requests; a recipe must not make requests any other way.
type Recipe interface {
	Check(ctx context.Context, resp *Response, fetch FetchFunc) Verdict
}

// Options are a recipe's options as decoded from YAML: strings, integers of
// any kind (int, int64, uint64, …), float64, bool, []any and map[string]any.
// Factories should be liberal in what number types they accept.
type Options map[string]any

// Factory builds a recipe from its options. It returns an error naming the
// option for an unknown key or a bad value.
type Factory func(opts Options) (Recipe, error)

// Registry maps recipe names to factories. It is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{factories: map[string]Factory{}}
}

// Builtin returns a new registry holding the built-in recipes: status,
// rules, statuspage, circleci, github-actions and heroku.
func Builtin() *Registry {
	r := NewRegistry()
	for name, f := range map[string]Factory{
		"status":         NewStatus,
		"rules":          NewRules,
		"statuspage":     NewStatuspage,
		"circleci":       NewCircleCI,
		"github-actions": NewGitHubActions,
		"heroku":         NewHeroku,
	} {
		if err := r.Register(name, f); err != nil {
			panic(err) // a programming error in the table above
		}
	}
	return r
}

// Register adds a recipe under name. It fails for an empty name, a nil
// factory or a name already taken.
func (r *Registry) Register(name string, f Factory) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("register recipe: name is empty")
	}
	if f == nil {
		return fmt.Errorf("register recipe %q: factory is nil", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.factories[name]; ok {
		return fmt.Errorf("register recipe %q: a recipe with that name is already registered", name)
	}
	r.factories[name] = f
	return nil
}

// Build makes the named recipe with opts. A "name" key in opts equal to name
// is ignored, so the YAML map form `recipe: {name: status, expect: [200]}`
// can be passed whole. An unknown name is an error listing the known names.
func (r *Registry) Build(name string, opts Options) (Recipe, error) {
	r.mu.RLock()
	f, ok := r.factories[name]
	r.mu.RUnlock()
	if !ok {
		known := strings.Join(r.Names(), ", ")
		if name == "" {
			return nil, fmt.Errorf("recipe name is empty; known recipes: %s", known)
		}
		return nil, fmt.Errorf("unknown recipe %q; known recipes: %s", name, known)
	}
	if v, ok := opts["name"]; ok {
		if s, _ := v.(string); s != name {
			return nil, fmt.Errorf("recipe %s: option \"name\" is %v, not %q", name, v, name)
		}
		rest := make(Options, len(opts)-1)
		for k, v := range opts {
			if k != "name" {
				rest[k] = v
			}
		}
		opts = rest
	}
	return f(opts)
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.factories))
	for name := range r.factories {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// checkKnown reports the first option key (in sorted order, so the message is
// stable) that the recipe does not know.
func checkKnown(recipe string, opts Options, known ...string) error {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unknown option %q for recipe %s", k, recipe)
		}
	}
	return nil
}

// toInt accepts any integer kind, and a float64 with an integral value, as
// YAML decoders produce them.
func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return int64(n), n <= 1<<63-1
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), n <= 1<<63-1
	case float32:
		return toInt(float64(n))
	case float64:
		if n != float64(int64(n)) {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// toList accepts a YAML list, a Go slice of any element type (for programs
// that build options by hand), or a single scalar as a list of one.
func toList(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case nil:
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return []any{v}
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}
