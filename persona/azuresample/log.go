package azuresample

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/firmware"
)

// console writes the firmware's output: log lines in Zephyr's format and
// the lines at_host forwards. Nothing is written before Boot or after Close.
type console struct {
	mu     sync.Mutex
	con    firmware.Console
	boot   time.Time
	now    func() time.Time
	levels map[string]Level
}

// enabled reports whether m would be printed (Zephyr filters at compile
// time by the module's level).
func (c *console) enabled(m Msg) bool { return m.Level != LevelOff && m.Level <= c.levels[m.Mod] }

func (c *console) log(m Msg, args ...any) {
	if !c.enabled(m) {
		return
	}
	c.mu.Lock()
	con, boot := c.con, c.boot
	c.mu.Unlock()
	if con == nil {
		return
	}
	con.Notify(FormatLine(c.now().Sub(boot), m, fmt.Sprintf(m.Format, args...)))
}

// raw forwards a line as it is (at_host's URC forwarding).
func (c *console) raw(line string) {
	c.mu.Lock()
	con := c.con
	c.mu.Unlock()
	if con != nil {
		con.Notify(line)
	}
}

// FormatLine is a log line as Zephyr's log_output prints it with the
// default options: `[hh:mm:ss.mmm,uuu] <lvl> module: text`, debug lines
// with the function name in front of the text [S zephyr subsys/logging/log_output.c;
// T forum logs].
func FormatLine(uptime time.Duration, m Msg, text string) string {
	us := uptime.Microseconds()
	if us < 0 {
		us = 0
	}
	h := us / 3_600_000_000
	mi := us / 60_000_000 % 60
	s := us / 1_000_000 % 60
	ms := us / 1000 % 1000
	u := us % 1000
	var b strings.Builder
	fmt.Fprintf(&b, "[%02d:%02d:%02d.%03d,%03d] <%s> %s: ", h, mi, s, ms, u, levelTags[m.Level], m.Mod)
	if m.Level == LevelDbg && m.Func != "" {
		b.WriteString(m.Func + ": ")
	}
	b.WriteString(text)
	return b.String()
}

// StripTimestamp removes the `[…] ` prefix of a log line, for comparing
// lines whatever the timing.
func StripTimestamp(line string) string {
	if strings.HasPrefix(line, "[") {
		if i := strings.Index(line, "] "); i > 0 {
			return line[i+2:]
		}
	}
	return line
}
