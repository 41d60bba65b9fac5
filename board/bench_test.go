package board

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/ptyport"
)

// BenchmarkPTY measures what a host tool waits for over the pty, each case
// beside a bare pty echo measured in the same run (the floor any simulator
// on a pty pays):
//
//	bare-echo   host writes "AT\r\n", a bare reader answers "OK\r\n"
//	AT          host writes "AT\r\n" to the board, reads "OK\r\n"
//	CMNG-2KB    host writes a 2 KB certificate with AT%CMNG=0 (durable store write)
func BenchmarkPTY(b *testing.B) {
	b.Run("bare-echo", benchBareEcho)
	b.Run("AT", func(b *testing.B) { benchBoard(b, func(int) string { return "AT" }) })
	cert := "-----BEGIN CERTIFICATE-----\n" + strings.Repeat(strings.Repeat("A", 64)+"\n", 30) + "-----END CERTIFICATE-----\n"
	b.Run("CMNG-2KB", func(b *testing.B) {
		benchBoard(b, func(i int) string { return fmt.Sprintf(`AT%%CMNG=0,%d,3,"%s"`, 1000+i%16, cert) })
	})
}

func benchBareEcho(b *testing.B) {
	p, err := ptyport.Open()
	require.NoError(b, err)
	defer p.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := p.Read(buf)
			if err != nil {
				return
			}
			for range bytes.Count(buf[:n], []byte("\n")) {
				if _, err := p.Write([]byte("OK\r\n")); err != nil {
					return
				}
			}
		}
	}()
	s, err := hosttool.OpenSerial(p.Path())
	require.NoError(b, err)
	defer s.Close()
	waitClientSeen(b, p)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Exchange(ctx, "AT", time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBoard(b *testing.B, cmd func(i int) string) {
	brd, err := NewCatalog().Open(Config{Dir: b.TempDir()})
	require.NoError(b, err)
	defer brd.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- brd.Run(ctx) }()
	defer func() { cancel(); <-done }()
	s, err := hosttool.OpenSerial(brd.PortPath())
	require.NoError(b, err)
	defer s.Close()
	waitClientSeen(b, brd.port)
	lines, err := s.Exchange(ctx, "AT+CFUN=4", time.Second)
	require.NoError(b, err)
	require.Equal(b, []string{"OK"}, lines)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		lines, err := s.Exchange(ctx, cmd(i), time.Second)
		if err != nil || lines[len(lines)-1] != "OK" {
			b.Fatalf("%v %q", err, lines)
		}
		i++
	}
}

// waitClientSeen waits until the port has noticed the client's open, so
// the first answer is not discarded as output to nobody.
func waitClientSeen(b *testing.B, p *ptyport.Port) {
	deadline := time.Now().Add(2 * time.Second)
	for !p.ClientOpen() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}
