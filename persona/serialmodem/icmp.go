package serialmodem

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/netstack"
)

// gaiText is zsock_gai_strerror of a failed lookup.
func gaiText(err error) string {
	if code, ok := netstack.EAIOf(err); ok {
		return code.String()
	}
	return netstack.EAIAgain.String()
}

// getAddrInfo is AT#XGETADDRINFO=<url>[,<family>].
func (f *Firmware) getAddrInfo(ctx context.Context, cmd atparser.Command) reply {
	host, good := stringParam(cmd, 0, maxURLLen)
	if cmd.Kind != atparser.KindSet || !good || cmd.ParamCount() > 2 {
		return fail(errInval)
	}
	if cmd.ParamCount() == 2 {
		if _, good := intParam(cmd, 1, 0, familyIPv6); !good {
			return fail(errInval)
		}
	}
	if !f.online() {
		// Without a PDN the modem's resolver cannot reach a server [I].
		r := ok(getaddrinfoPrefix + quote(netstack.EAIAgain.String()))
		r.err = errAgain
		return r
	}
	addrs, err := f.deps.Stack.Lookup(ctx, host)
	if err != nil {
		r := ok(getaddrinfoPrefix + quote(gaiText(err)))
		r.err = err
		return r
	}
	if len(addrs) == 0 {
		r := ok(getaddrinfoPrefix + quote(getaddrinfoNotFound))
		r.err = errNoEnt
		return r
	}
	var s []string
	for _, a := range addrs {
		s = append(s, a.String())
	}
	return ok(getaddrinfoPrefix + quote(strings.Join(s, " ")))
}

// ping is AT#XPING=<url>,<length>,<timeout>[,<count>[,<interval>[,<pdn>]]]:
// OK at once, then one "#XPING: <s>.<ms> seconds" per reply and the
// average when more than one came back [S sm_at_icmp.c].
func (f *Firmware) ping(ctx context.Context, cmd atparser.Command) reply {
	host, good := stringParam(cmd, 0, maxURLLen)
	_, good2 := cmd.IntParam(1)
	waitMS, good3 := intParam(cmd, 2, 0, 1<<31-1)
	if cmd.Kind != atparser.KindSet || !good || !good2 || !good3 {
		return fail(errInval)
	}
	count, gap := int64(pingDefaultCount), int64(pingDefaultGapMS)
	if cmd.ParamCount() > 3 {
		if count, good = intParam(cmd, 3, 1, 1<<31-1); !good {
			return fail(errInval) // "Count must be greater than 0"
		}
	}
	if cmd.ParamCount() > 4 {
		if gap, good = intParam(cmd, 4, 0, 1<<31-1); !good {
			return fail(errInval)
		}
	}
	if !f.online() {
		return reply{info: []byte(quote(netstack.EAIAgain.String()) + crlf), err: errAgain}
	}
	if _, err := f.deps.Stack.Lookup(ctx, host); err != nil {
		// rsp_send("\"%s\"\r\n", gai_strerror) — no leading CRLF [S].
		return reply{info: []byte(quote(gaiText(err)) + crlf), err: errAgain}
	}
	go f.pingTask(host, int(count), time.Duration(waitMS)*time.Millisecond, time.Duration(gap)*time.Millisecond)
	return ok()
}

func (f *Firmware) pingTask(host string, count int, wait, gap time.Duration) {
	var sum time.Duration
	got := 0
	for i := 0; i < count; i++ {
		if rtt, ok := f.echo1(host, wait); ok {
			got++
			sum += rtt
			f.notify(pingURC + seconds(rtt) + " seconds")
		}
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(gap):
		}
	}
	if got > 1 {
		f.notify(pingURC + "average " + seconds((sum+time.Duration(got)/2)/time.Duration(got)) + " seconds")
	}
}

// echo1 times one echo: a TCP connect to the host's MQTT port stands in
// for ICMP, which the emulator cannot answer [I].
func (f *Firmware) echo1(host string, wait time.Duration) (time.Duration, bool) {
	if !f.pingRTT || !f.online() {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(f.ctx, wait)
	defer cancel()
	start := time.Now()
	c, err := f.deps.Stack.DialTCP(ctx, host, netstack.PortMQTT)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			f.log.Debug("ping timed out", "host", host)
		}
		return 0, false
	}
	rtt := time.Since(start)
	_ = c.Close()
	// The firmware counts whole milliseconds; a loopback echo is never 0 [I].
	return max(rtt.Truncate(time.Millisecond), time.Millisecond), true
}

func seconds(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}
