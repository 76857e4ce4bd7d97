// Package config loads walnut.yaml: the sites Walnut watches, the defaults
// they share and the maintenance windows when they are not watched.
//
// The file is parsed to a YAML tree and walked by hand rather than decoded by
// reflection, so that every problem names the file, line and column, and the
// site it belongs to. All problems are gathered and returned together.
//
// ${NAME} in any string value is replaced from the environment after parsing,
// one scalar at a time, so a missing variable is reported at its own line.
// Values that came from the environment are secrets: they are sent upstream
// but never appear in an error message, and each Site lists them in Secrets
// so callers can scrub them from any text they show.
package config

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// RecipeCheck builds a recipe from its name and options: cmd passes one
// that builds it from a *recipes.Registry, so that a bad recipe is reported
// with the file's other problems, at its line, and what it built is the
// site's Recipe. Config does not import the recipes package.
//
// The options are as decoded from YAML: maps as map[string]any, lists as
// []any, integers as int, other numbers as float64, strings with ${...}
// expanded; the check gets its own copy. An error that names the option at
// fault (an OptionPath() []any method, as recipes.RuleError has) is placed
// at that option's line.
type RecipeCheck func(name string, opts map[string]any) (any, error)

// Config is a loaded walnut.yaml.
type Config struct {
	Path        string // the file name used in messages
	Sites       []Site // in file order
	Maintenance Windows
	// Roster is where the support roster comes from besides CSV imports;
	// nil when the file has no roster key.
	Roster *Roster
}

// Site is one thing Walnut watches, with defaults applied.
type Site struct {
	Name  string
	Slug  string // from the file, or Slugify(Name)
	Group string

	// URL is the URL with ${...} expanded. It may carry secrets: it is only
	// ever sent upstream. Show, log and store RedactedURL instead.
	URL string
	// RedactedURL is scheme://host/path of URL: no user info, query or
	// fragment. Note that it keeps whatever the host and path hold, so a
	// token belongs in the query or a header, not in the path.
	RedactedURL string
	Method      string            // upper case; default GET
	Headers     map[string]string // canonical names; values expanded (secret)
	Body        string            // expanded (secret)

	Interval time.Duration // default 30s, at least 1s
	// Timeout is the limit for one probe: default 10s, or the interval if
	// that is shorter; never longer than the interval.
	Timeout time.Duration
	Confirm int // probes in a row that must agree before the state changes; default 1

	RecipeName    string         // default "status"; "" for heartbeat and tcp sites
	RecipeOptions map[string]any // nil when the recipe has none
	// RecipeLine is the line that names the recipe: the site's recipe
	// key, else the defaults' it inherits, else the site's entry (the
	// built-in default); 0 when RecipeName is "".
	RecipeLine int
	// Recipe is what the RecipeCheck built from RecipeName and
	// RecipeOptions; nil without a check or a recipe.
	Recipe any

	MaxPending time.Duration // how long the site may stay pending; 0 means no limit
	Notify     []string      // each one of "pagerduty", "slack", "webhook"; nil when not set
	Severity   string        // critical, error, warning or info; default critical
	Flapping   Flapping      // when notices are damped; default 5 changes in 30m, settle 10m

	// Kind is KindHTTP (http://, https://) or KindTCP (tcp://, tls://). A
	// tcp site has no recipe, method, headers or body: connecting is the
	// check, and for tls:// the handshake too.
	Kind string

	// TLS, CertWarning and CertCritical are for https:// and tls:// sites;
	// zero for the others. CertWarning (default 14 days) is how long before
	// expiry a green tile warns and Slack hears; CertCritical (default 2
	// days) is when the site turns notok. 0 means off.
	TLS                       TLS
	CertWarning, CertCritical time.Duration

	// Heartbeat is set for a site that calls in rather than being probed;
	// URL, Method, Headers, Body, Recipe and Timeout are then empty, and
	// Interval is Every plus Grace. nil for a probed site.
	Heartbeat *Heartbeat

	Line int // line of the site's entry in the file

	// Secrets are the non-empty values that came from ${...} in the URL,
	// headers, body and recipe (name and options), longest first, so that
	// replacing each in turn never leaves part of a longer one behind.
	Secrets []string
}

// Maintenance is a window during which some sites are not watched: once,
// From to To, or every week (Weekly).
type Maintenance struct {
	// Sites are slugs or path.Match patterns ("db-*"); each plain slug
	// names a site in the file.
	Sites    []string
	From, To time.Time // a one-off window; zero when Weekly is set
	Weekly   *Weekly   // a weekly window; nil for a one-off
	Reason   string
	Line     int // line of the window's entry in the file
}

// Weekly is a window that recurs on some days of each week.
type Weekly struct {
	Days []time.Weekday
	// Start and End are "HH:MM" in Location. End may be "24:00"; an End
	// before Start means the window runs past midnight into the next day.
	Start, End string
	Location   *time.Location // from the key "timezone"; default UTC
}

// Load reads and parses the config file at path. See Parse.
func Load(path string, lookupEnv func(string) (string, bool), check RecipeCheck) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, lookupEnv, check)
}

// Parse parses a config file's contents; name is used in messages and as
// Config.Path. lookupEnv resolves ${NAME} (os.LookupEnv in production; nil
// means no variable is set). check, if not nil, checks each site's recipe.
//
// The error, if any, joins one *Error per problem, in file order.
func Parse(name string, data []byte, lookupEnv func(string) (string, bool), check RecipeCheck) (*Config, error) {
	d := &decoder{
		errorList: errorList{file: name},
		lookup:    lookupEnv,
		anchors:   map[string][]anchorDef{},
		budget:    maxValueNodes,
		dir:       filepath.Dir(name),
	}
	file, err := parseYAML(data)
	if err != nil {
		d.syntaxError(err)
		return nil, d.err()
	}
	var body ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			line, col := pos(doc.Body)
			if doc.Start != nil && doc.Start.Position != nil {
				line, col = doc.Start.Position.Line, doc.Start.Position.Column
			}
			d.add(line, col, "", "only one YAML document is allowed (remove the second ---)")
			break
		}
		body = doc.Body
	}
	if body == nil {
		d.add(1, 1, "", "no sites: the file is empty")
		return nil, d.err()
	}
	d.collectAnchors(body, 0)

	cfg := &Config{Path: name}
	entries, ok := d.mapping(body, "")
	if !ok {
		return nil, d.err()
	}
	var defaultsNode, sitesNode, sitesKey, maintNode, rosterNode ast.Node
	for _, e := range entries {
		switch e.key {
		case "defaults":
			defaultsNode = e.value
		case "sites":
			sitesNode, sitesKey = e.value, e.keyNode
		case "maintenance":
			maintNode = e.value
		case "roster":
			rosterNode = e.value
		default:
			if strings.HasPrefix(e.key, "x-") {
				// Room for &anchors that sites merge with <<, as in
				// Docker Compose.
				continue
			}
			d.errorf(e.keyNode, "", "unknown key %q at the top level (expected defaults, sites, maintenance, roster, or x-… for anchors)", e.key)
		}
	}

	defaults := &spec{}
	if defaultsNode != nil {
		if sp, ok := d.spec(defaultsNode, "defaults", nil); ok {
			defaults = sp
		}
	}

	complete := false
	if sitesNode == nil {
		line, col := pos(body)
		if len(entries) > 0 {
			line, col = pos(entries[0].keyNode)
		}
		d.add(line, col, "", `no sites: add a "sites" list`)
	} else if items, ok := d.list(sitesNode, "sites"); ok {
		if len(items) == 0 {
			d.errorf(sitesKey, "sites", "no sites: the list is empty")
		}
		cfg.Sites = d.sites(items, defaults, check)
		complete = len(cfg.Sites) == len(items)
	}

	if rosterNode != nil {
		cfg.Roster = d.roster(rosterNode)
	}

	if maintNode != nil {
		// A slug is only "unknown" if every site could be read.
		cfg.Maintenance = d.maintenance(maintNode, cfg.Sites, complete)
	}

	if err := d.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseYAML parses data, turning a panic in the parser into an error: a bad
// config must be reported, never crash the program.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("cannot parse YAML: %v", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

func (d *decoder) syntaxError(err error) {
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		line, col := 0, 0
		if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
			line, col = tk.Position.Line, tk.Position.Column
		}
		d.add(line, col, "", "%s", yerr.GetMessage())
		return
	}
	d.add(0, 0, "", "%s", err.Error())
}

// sites reads the site entries, applies defaults, checks slugs are unique
// and checks recipes. It returns where each site's recipe is named too.
func (d *decoder) sites(items []ast.Node, defaults *spec, check RecipeCheck) []Site {
	type firstUse struct{ line int }
	slugs := map[string]firstUse{}
	defaultRecipeReported := false
	var out []Site
	for i, item := range items {
		p := fmt.Sprintf("sites[%d]", i)
		// A site with errors is still checked for a duplicate slug and a bad
		// recipe, so that one run reports every error; it is left out of
		// the result.
		s, sp, ok := d.site(p, item, defaults)
		if s == nil {
			continue
		}
		from, slugPath := sp.name, p+".name"
		if sp.slug != nil {
			from, slugPath = sp.slug, p+".slug"
		}
		if from != nil && s.Slug != "" {
			slugNode, shown := from.node, quote(s.Slug)
			if from.env {
				shown = from.shown()
			}
			if first, dup := slugs[s.Slug]; dup {
				d.errorf(slugNode, slugPath, "duplicate slug %s (first used at line %d)", shown, first.line)
			} else {
				line, _ := pos(slugNode)
				slugs[s.Slug] = firstUse{line}
			}
		}
		at := d.recipeAt(p, sp, defaults, s.Secrets)
		if s.RecipeName != "" {
			s.RecipeLine, _ = pos(at.node())
			if check != nil {
				rec, err := check(s.RecipeName, deepCopy(s.RecipeOptions))
				s.Recipe = rec
				if err != nil {
					// Every site using the default recipe would fail the
					// same way: say so once.
					if !at.fromDefaults || !defaultRecipeReported {
						d.errs = append(d.errs, at.error(err))
					}
					defaultRecipeReported = defaultRecipeReported || at.fromDefaults
				}
			}
		}
		if ok {
			out = append(out, *s)
		}
	}
	return out
}

// Matches reports whether the window applies to the site with the given
// slug.
func (m Maintenance) Matches(slug string) bool {
	return slices.ContainsFunc(m.Sites, func(pattern string) bool {
		ok, _ := path.Match(pattern, slug)
		return ok
	})
}
