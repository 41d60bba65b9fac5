package hubadmin

import (
	"fmt"
	"time"
)

// parseSince reads the `since` of GET /telemetry: an RFC 3339 time or a
// duration back from now ("10m"); "" means only new messages.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("since %q: want an RFC 3339 time or a duration such as 10m", s)
	}
	return now.Add(-d), nil
}
