package oncall_test

import (
	"strings"
	"testing"

	"github.com/walnut-board/walnut/oncall"
)

// TestParseCSVFormats feeds ParseCSV the files spreadsheets and
// scripts write. Each case is a file and either the shifts it holds (as
// "start end person contact" lines) or the error it must give.
func TestParseCSVFormats(t *testing.T) {
	t.Parallel()
	const bom = "\ufeff"
	ada := []string{"2026-12-01 2026-12-07 Ada @ada"}
	adaNoContact := []string{"2026-12-01 2026-12-07 Ada "}
	tests := map[string]struct {
		file    string
		want    []string
		wantErr string
	}{
		"Plain":             {file: "start,end,person,contact\n2026-12-01,2026-12-07,Ada,@ada\n", want: ada},
		"CRLF":              {file: "start,end,person,contact\r\n2026-12-01,2026-12-07,Ada,@ada\r\n", want: ada},
		"BOM":               {file: bom + "start,end,person,contact\n2026-12-01,2026-12-07,Ada,@ada\n", want: ada},
		"BOMQuotedHeader":   {file: bom + `"start","end","person","contact"` + "\r\n" + `"2026-12-01","2026-12-07","Ada","@ada"` + "\r\n", want: ada},
		"BOMFirstQuoted":    {file: bom + `"start",end,person` + "\n2026-12-01,2026-12-07,Ada\n", want: adaNoContact},
		"QuotedNoBOM":       {file: `"start","end","person"` + "\n2026-12-01,2026-12-07,Ada\n", want: adaNoContact},
		"PowerShellType":    {file: bom + "#TYPE System.Management.Automation.PSCustomObject\r\n" + `"start","end","person","contact"` + "\r\n" + `"2026-12-01","2026-12-07","Ada","@ada"` + "\r\n", want: ada},
		"ExcelEmptyRows":    {file: "start,end,person\r\n2026-12-01,2026-12-07,Ada\r\n,,\r\n,,,\r\n , , \r\n", want: adaNoContact},
		"ExcelEmptyColumns": {file: "start,end,person,contact,,\n2026-12-01,2026-12-07,Ada,@ada,,\n,,,,,\n", want: ada},
		"Semicolons":        {file: bom + "start;end;person;contact\r\n2026-12-01;2026-12-07;Ada;@ada\r\n;;;\r\n", want: ada},
		"CommaInQuotes":     {file: "start,end,person,contact\n2026-12-01,2026-12-07,\"Lovelace, Ada\",@ada\n", want: []string{"2026-12-01 2026-12-07 Lovelace, Ada @ada"}},

		"NULInPerson":        {file: "start,end,person\n2026-12-01,2026-12-07,Ada\n2026-12-08,2026-12-14,Gr\x00ace\n", wantErr: "roster.csv:3: person has a control character (U+0000)"},
		"NULInContact":       {file: bom + "start,end,person,contact\r\n2026-12-01,2026-12-07,Ada,@a\x00da\r\n", wantErr: "roster.csv:2: contact has a control character (U+0000)"},
		"EscapeInPerson":     {file: "start,end,person\n2026-12-01,2026-12-07,Ada\x1b[31m\n", wantErr: "roster.csv:2: person has a control character (U+001B)"},
		"NewlineInPerson":    {file: "start,end,person\n2026-12-01,2026-12-07,\"Ada\nLovelace\"\n2026-12-08,2026-12-14,Gr\x00ace\n", wantErr: "roster.csv:2: person has a control character (U+000A)"},
		"LineAfterNewline":   {file: "start,end,person\n2026-12-01,2026-12-07,\"Ada\nLovelace\"\n2026-12-08,2026-12-14,Gr\x00ace\n", wantErr: "roster.csv:4: person has a control character (U+0000)"},
		"Latin1":             {file: "start,end,person\n2026-12-01,2026-12-07,Zo\xeb\n", wantErr: "roster.csv:2: person is not UTF-8 text"},
		"UTF16":              {file: "\xff\xfes\x00t\x00", wantErr: "roster.csv: the file is UTF-16"},
		"LineAfterType":      {file: "#TYPE x\nstart,end,person\n2026-12-01,2026-12-07,Ada\n2026-12-08,2026-12-01,Bob\n", wantErr: "roster.csv:4: end 2026-12-01 is before start"},
		"HeaderAfterType":    {file: "#TYPE x\nfrom,to,who\n", wantErr: "roster.csv:2: header is"},
		"ExtraFieldNotEmpty": {file: "start,end,person\n2026-12-01,2026-12-07,Ada,@ada\n", wantErr: "roster.csv:2: 4 fields, want 3"},
		"EmptyAfterBOM":      {file: bom, wantErr: "roster.csv: empty file"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			shifts, err := oncall.ParseCSV(strings.NewReader(tt.file), "roster.csv")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range shifts {
				got = append(got, s.Start.Format("2006-01-02")+" "+s.End.Format("2006-01-02")+" "+s.Person+" "+s.Contact)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("shifts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
