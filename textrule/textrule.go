// Package textrule is the one definition of the characters text Walnut
// stores or shows may not hold: the config, the roster CSV, recipe reasons
// and the store's boundary all ask it, so that what one of them accepts the
// others take as it is. Each names its own exceptions (a recipe option may
// span lines; a stored reason keeps its tabs and line breaks).
//
// The package imports nothing of Walnut's.
package textrule

// Control reports whether r is a control character: the C0 controls
// (U+0000 to U+001F, tab and line breaks among them), DEL and the C1
// controls (U+0080 to U+009F). No screen shows them, some terminals obey
// them, and PostgreSQL's text cannot hold NUL.
func Control(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f
}

// LineBreak reports whether r ends a line: line feed or carriage return.
func LineBreak(r rune) bool { return r == '\n' || r == '\r' }
