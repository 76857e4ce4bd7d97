package recipes

import (
	"context"
	"slices"
	"strings"
	"testing"
)

type constRecipe Verdict

func (c constRecipe) Check(context.Context, *Response, FetchFunc) Verdict { return Verdict(c) }

func constFactory(opts Options) (Recipe, error) { return constRecipe{State: OK}, nil }

func TestRegistry(t *testing.T) {
	t.Parallel()

	t.Run("NewRegistryIsEmpty", func(t *testing.T) {
		t.Parallel()
		if names := NewRegistry().Names(); len(names) != 0 {
			t.Errorf("Names() = %v, want none", names)
		}
	})

	t.Run("BuiltinHasEveryRecipe", func(t *testing.T) {
		t.Parallel()
		want := []string{"circleci", "github-actions", "heroku", "rules", "status", "statuspage"}
		if names := Builtin().Names(); !slices.Equal(names, want) {
			t.Errorf("Names() = %v, want %v", names, want)
		}
	})

	t.Run("BuiltinRegistriesAreIndependent", func(t *testing.T) {
		t.Parallel()
		a := Builtin()
		if err := a.Register("mine", constFactory); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(Builtin().Names(), "mine") {
			t.Error("a recipe registered on one registry shows up in a fresh Builtin()")
		}
	})

	t.Run("RegisterAndBuild", func(t *testing.T) {
		t.Parallel()
		r := NewRegistry()
		if err := r.Register("const", constFactory); err != nil {
			t.Fatal(err)
		}
		rec, err := r.Build("const", nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := rec.Check(t.Context(), &Response{}, nil); v.State != OK {
			t.Errorf("Check = %+v", v)
		}
		if got := r.Names(); !slices.Equal(got, []string{"const"}) {
			t.Errorf("Names() = %v", got)
		}
	})

	t.Run("NamesSorted", func(t *testing.T) {
		t.Parallel()
		r := NewRegistry()
		for _, n := range []string{"c", "a", "b"} {
			if err := r.Register(n, constFactory); err != nil {
				t.Fatal(err)
			}
		}
		if got := r.Names(); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Errorf("Names() = %v", got)
		}
	})

	registerErrors := map[string]struct {
		name string
		f    Factory
		want string
	}{
		"EmptyName":  {"", constFactory, "name is empty"},
		"BlankName":  {"  ", constFactory, "name is empty"},
		"NilFactory": {"x", nil, "factory is nil"},
		"Duplicate":  {"status", constFactory, "already registered"},
	}
	for name, tt := range registerErrors {
		t.Run("Register"+name, func(t *testing.T) {
			t.Parallel()
			err := Builtin().Register(tt.name, tt.f)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Register(%q) error = %v, want it to contain %q", tt.name, err, tt.want)
			}
		})
	}

	buildErrors := map[string]struct {
		name string
		want []string
	}{
		"Unknown": {"circlec", []string{`unknown recipe "circlec"`, "known recipes: ", "status"}},
		"Empty":   {"", []string{"recipe name is empty", "known recipes: ", "status"}},
	}
	for name, tt := range buildErrors {
		t.Run("Build"+name, func(t *testing.T) {
			t.Parallel()
			_, err := Builtin().Build(tt.name, nil)
			if err == nil {
				t.Fatal("Build succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Build(%q) error = %q, want it to contain %q", tt.name, err, w)
				}
			}
		})
	}
}

func TestToInt(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		in   any
		want int64
		ok   bool
	}{
		"Int":           {200, 200, true},
		"Int64":         {int64(200), 200, true},
		"Uint64":        {uint64(200), 200, true},
		"Uint64TooBig":  {uint64(1 << 63), 0, false},
		"Int8":          {int8(7), 7, true},
		"IntegralFloat": {200.0, 200, true},
		"Fraction":      {200.5, 0, false},
		"String":        {"200", 0, false},
		"Nil":           {nil, 0, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := toInt(tt.in)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("toInt(%#v) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
