package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProgress(t *testing.T) {
	tests := []struct {
		mode progressMode
		want []string
	}{
		{progressLines, []string{"load: hub connects 4/4 (100%"}},
		{progressBar, []string{"\rhub connects", "[" + strings.Repeat("#", barWidth) + "] 100% 4/4", "\n"}},
		{progressOff, nil},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		p := startProgress(&buf, tt.mode, "hub connects", 4, time.Hour)
		p.add(3)
		p.add(1)
		p.finish()
		if tt.want == nil {
			assert.Empty(t, buf.String())
		}
		for _, w := range tt.want {
			assert.Contains(t, buf.String(), w)
		}
	}
	_, err := parseProgress("sometimes", &bytes.Buffer{})
	assert.Error(t, err)
	m, err := parseProgress("auto", &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, progressLines, m, "not a terminal")
}

func TestHubLoadPrintsProgress(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"hub", "load", "--pki", filepath.Join(t.TempDir(), "pki"),
		"--devices", "2", "--messages", "3", "--progress", "lines"}, &out, &errOut))
	for _, want := range []string{"load: hub connects 2/2 (100%", "load: hub messages 6/6 (100%",
		"load: baseline mochi connects 2/2", "load: baseline mochi messages 6/6"} {
		assert.Contains(t, errOut.String(), want)
	}
	assert.Contains(t, out.String(), "hub/baseline")
}
