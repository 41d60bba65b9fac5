package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var adminLine = regexp.MustCompile(`^\s+admin (API|token)\s+(\S+)`)

// With --admin-token (what a non-loopback --admin-addr gets generated),
// serve prints the token, refuses requests without it, and the CLI sends
// it from the --admin URL. Loopback only, as every test.
func TestHubServeAdminToken(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"hub", "serve", "--state", filepath.Join(dir, "state"), "--pki", filepath.Join(dir, "pki"),
			"--mqtt-addr", "", "--ws-addr", "", "--admin-addr", "127.0.0.1:0", "--admin-token", "tok-123"}, pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	var admin, token string
	sc := bufio.NewScanner(pr)
	for admin == "" || token == "" {
		require.True(t, sc.Scan(), "serve stopped before printing the admin lines: %v", sc.Err())
		if m := adminLine.FindStringSubmatch(sc.Text()); m != nil {
			if m[1] == "API" {
				admin = m[2]
			} else {
				token = m[2]
			}
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	defer func() { cancel(); <-done }()
	assert.Equal(t, "tok-123", token)

	cli := func(base string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(append([]string{"hub"}, args...), "--admin", base), &out, io.Discard)
		return out.String(), err
	}
	_, err := cli(admin, "device", "create", "--device", "dev1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	withToken := "http://:tok-123@" + admin[len("http://"):]
	out, err := cli(withToken, "device", "create", "--device", "dev1")
	require.NoError(t, err)
	assert.Contains(t, out, "dev1")
	out, err = cli(withToken, "device", "list")
	require.NoError(t, err)
	assert.Contains(t, out, "dev1")
}
