// Package assets embeds Walnut's CSS and scripts and serves them under paths
// that carry a hash of their content, so browsers may cache them forever and
// a deploy still reaches every TV.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Prefix is the URL path under which assets are served.
const Prefix = "/assets/"

type asset struct {
	body []byte
	hash string
	mime string
}

// Server serves the embedded assets. It is built once; its zero value is not
// usable.
type Server struct {
	byName map[string]asset
}

// New indexes the embedded files.
func New() *Server {
	s := &Server{byName: map[string]asset{}}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		name := strings.TrimPrefix(p, "static/")
		s.byName[name] = asset{body: body, hash: hex.EncodeToString(sum[:6]), mime: mime.TypeByExtension(path.Ext(name))}
		return nil
	})
	if err != nil {
		// The files are compiled in: failing to read them is a build defect.
		panic("assets: " + err.Error())
	}
	return s
}

// Path returns the URL path of an asset, with its content hash, or "" when
// there is no such asset.
func (s *Server) Path(name string) string {
	a, ok := s.byName[name]
	if !ok {
		return ""
	}
	return Prefix + a.hash + "/" + name
}

// ServeHTTP serves GET /assets/{hash}/{name}. A stale hash still gets the
// current file, uncached, so that a page rendered before a deploy keeps
// working.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hash, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	a, found := s.byName[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	if a.mime != "" {
		w.Header().Set("Content-Type", a.mime)
	}
	if hash == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Write(a.body) //nolint:errcheck // the client went away
}
