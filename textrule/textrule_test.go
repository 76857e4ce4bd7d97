package textrule

import (
	"testing"
	"unicode"
)

// Control is unicode.IsControl, the rule every caller used before it had
// one definition.
func TestControlIsUnicodeControl(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= 0x10ffff; r++ {
		if Control(r) != unicode.IsControl(r) {
			t.Fatalf("Control(%U) = %v, unicode.IsControl says %v", r, Control(r), unicode.IsControl(r))
		}
	}
}
