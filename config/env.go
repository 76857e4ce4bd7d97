package config

import "strings"

// expansion is the result of replacing ${NAME} references in one scalar.
type expansion struct {
	value   string
	secrets []string // the non-empty values substituted, in order
	missing []string // names of variables that are not set, in order
	bad     string   // the first malformed reference, if any, e.g. "${API-TOKEN}"
	refs    int      // how many well-formed references were replaced
}

// expand replaces each ${NAME} in s (NAME = [A-Za-z_][A-Za-z0-9_]*) with the
// variable's value. $${ stands for a literal ${, and a $ not followed by { is
// kept as it is. A reference that is not closed or whose name is not a valid
// name is reported in bad rather than kept, because it is almost always a
// typo that would otherwise send "${" upstream.
func expand(s string, lookup func(string) (string, bool)) expansion {
	if !strings.Contains(s, "$") {
		return expansion{value: s}
	}
	var (
		x expansion
		b strings.Builder
	)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c != '$':
			b.WriteByte(c)
			i++
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				if x.bad == "" {
					x.bad = s[i:]
				}
				b.WriteString(s[i:])
				i = len(s)
				continue
			}
			name := s[i+2 : i+2+end]
			ref := s[i : i+3+end]
			i += 3 + end
			if !validEnvName(name) {
				if x.bad == "" {
					x.bad = ref
				}
				b.WriteString(ref)
				continue
			}
			x.refs++
			v, ok := "", false
			if lookup != nil {
				v, ok = lookup(name)
			}
			if !ok {
				x.missing = append(x.missing, name)
				continue
			}
			if v != "" {
				x.secrets = append(x.secrets, v)
			}
			b.WriteString(v)
		default:
			b.WriteByte(c)
			i++
		}
	}
	x.value = b.String()
	return x
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
