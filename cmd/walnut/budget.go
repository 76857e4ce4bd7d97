package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// byteUnits are the units WALNUT_DB_BUDGET takes, lowercased: decimal ones
// as hosts sell plans (Heroku's essential-0 is "1 GB"), binary ones for
// those who think in GiB.
var byteUnits = map[string]float64{
	"b":  1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// budgetFromEnv reads WALNUT_DB_BUDGET, the database size to stay under:
// "1GB", "500 MB", "1.5GiB". Unset or empty: 0, no budget.
func budgetFromEnv(lookup env) (int64, error) {
	raw := strings.TrimSpace(lookup.get("WALNUT_DB_BUDGET"))
	if raw == "" {
		return 0, nil
	}
	n, err := parseBytes(raw)
	if err != nil {
		return 0, fmt.Errorf("WALNUT_DB_BUDGET=%q: %w", raw, err)
	}
	return n, nil
}

// parseBytes reads a size with its unit: kB, MB, GB, TB are powers of
// 1000, KiB, MiB, GiB, TiB powers of 1024; case does not matter.
func parseBytes(s string) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	switch {
	case i < 0:
		return 0, fmt.Errorf("no unit: write it as 1GB, 500MB or 1.5GiB")
	case i == 0:
		return 0, fmt.Errorf("not a size such as 1GB, 500MB or 1.5GiB")
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	v, err := strconv.ParseFloat(num, 64)
	mult, ok := byteUnits[unit]
	switch {
	case err != nil:
		return 0, fmt.Errorf("not a size such as 1GB, 500MB or 1.5GiB")
	case !ok:
		return 0, fmt.Errorf("unknown unit %q: use kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)", strings.TrimSpace(s[i:]))
	case v <= 0:
		return 0, fmt.Errorf("a budget must be more than 0")
	case v*mult >= math.MaxInt64:
		return 0, fmt.Errorf("too large")
	}
	return int64(v * mult), nil
}
