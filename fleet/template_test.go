package fleet

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTemplates(t *testing.T) {
	tests := []struct {
		tmpl       string
		vars       vars
		want       string
		compileErr string
		renderErr  string
	}{
		{tmpl: "plain", want: "plain"},
		{tmpl: "", want: ""},
		{tmpl: "fleet-{{seq}}", vars: vars{seq: 7}, want: "fleet-7"},
		{tmpl: "fleet-{{seq:3}}", vars: vars{seq: 7}, want: "fleet-007"},
		{tmpl: "fleet-{{ seq : 3 }}", vars: vars{seq: 7}, want: "fleet-007"},
		{tmpl: "35265610{{seq:6}}", vars: vars{seq: 123}, want: "35265610000123"},
		{tmpl: "{{seq:3}}", vars: vars{seq: 999}, want: "999"},
		{tmpl: "{{seq:3}}", vars: vars{seq: 1000}, renderErr: "{{seq:3}}: 1000 has more than 3 digits"},
		{tmpl: "{{index}}/{{index:4}}", vars: vars{index: 42}, want: "42/0042"},
		{tmpl: "{{seq}}{{seq}}", vars: vars{seq: 2}, want: "22"},
		{tmpl: "logs/{{name}}.log", vars: vars{name: "a1", hasName: true}, want: "logs/a1.log"},
		{tmpl: "{{name}}", renderErr: "cannot be used in the name itself"},
		{tmpl: "a}}b{", want: "a}}b{"},
		{tmpl: "{{", compileErr: "unclosed {{"},
		{tmpl: "x{{seq", compileErr: "unclosed {{"},
		{tmpl: "{{}}", compileErr: "unknown placeholder {{}}"},
		{tmpl: "{{Seq}}", compileErr: "unknown placeholder {{Seq}}"},
		{tmpl: "{{seq:}}", compileErr: "width must be a number"},
		{tmpl: "{{seq:x}}", compileErr: "width must be a number"},
		{tmpl: "{{seq:33}}", compileErr: "width must be a number from 1 to 32"},
		{tmpl: "{{seq:-1}}", compileErr: "width must be a number"},
		{tmpl: "{{name:3}}", compileErr: "takes no width"},
	}
	for _, tc := range tests {
		t.Run(tc.tmpl, func(t *testing.T) {
			tm, err := compileTemplate(tc.tmpl)
			if tc.compileErr != "" {
				assert.ErrorContains(t, err, tc.compileErr)
				return
			}
			require.NoError(t, err)
			got, err := tm.render(tc.vars)
			if tc.renderErr != "" {
				assert.ErrorContains(t, err, tc.renderErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
