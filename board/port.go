package board

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/modemsim/modemsim/ptyport"
)

// openPort opens the board's pty. Client hang-ups reach the engine through
// hangup from the port's watcher, so a board keeps no goroutine of its own
// for them.
func openPort(cfg PortConfig, log *slog.Logger, hangup func(session uint64)) (*ptyport.Port, error) {
	opts := []ptyport.Option{ptyport.WithLogger(log), ptyport.WithEventHandler(func(ev ptyport.Event) {
		if ev.Kind == ptyport.ClientClosed {
			hangup(ev.Session)
		}
	})}
	if cfg.Watcher != nil {
		opts = append(opts, ptyport.WithWatcher(cfg.Watcher))
	}
	if cfg.Link != "" {
		opts = append(opts, ptyport.WithLink(cfg.Link))
	}
	if cfg.DeviceNode != "" {
		opts = append(opts, ptyport.WithDeviceNode(cfg.DeviceNode))
	}
	return ptyport.Open(opts...)
}

// portFile records where a running board's port is exposed, so that
// `modemsim cleanup` can find the link and device node a killed process
// left behind. It is runtime information: written plainly, not durably.
const portFile = "port.json"

type portRecord struct {
	PID        int    `json:"pid"`
	PTY        string `json:"pty"`
	Link       string `json:"link,omitempty"`
	DeviceNode string `json:"device_node,omitempty"`
}

func writePortRecord(dir, pty string, cfg PortConfig) error {
	if cfg.Link == "" && cfg.DeviceNode == "" {
		return nil // nothing a crash could leave behind
	}
	rec := portRecord{PID: os.Getpid(), PTY: pty, DeviceNode: cfg.DeviceNode}
	if cfg.Link != "" {
		abs, err := filepath.Abs(cfg.Link)
		if err != nil {
			return fmt.Errorf("port record: %w", err)
		}
		rec.Link = abs
	}
	data, _ := json.Marshal(rec)
	if err := os.WriteFile(filepath.Join(dir, portFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("port record: %w", err)
	}
	return nil
}

func removePortRecord(dir string) { _ = os.Remove(filepath.Join(dir, portFile)) }

func readPortRecord(dir string) (portRecord, bool) {
	var rec portRecord
	data, err := os.ReadFile(filepath.Join(dir, portFile))
	if err != nil || json.Unmarshal(data, &rec) != nil {
		return rec, false
	}
	return rec, true
}

// Cleaned is what Cleanup removed for one board.
type Cleaned struct {
	Board   string
	Removed []string // paths of stale links and device nodes
}

// Cleanup removes the links and device nodes that boards of stateDir left
// behind when their process died (kill -9): a dead device node is still
// listed by pyserial and fails with EIO on open. Boards that are running
// are left alone.
func (c *Catalog) Cleanup(stateDir string) ([]Cleaned, error) {
	boards, err := c.Inspect(stateDir)
	if err != nil {
		return nil, err
	}
	var out []Cleaned
	var errs []error
	for _, inv := range boards {
		rec, ok := readPortRecord(inv.Dir)
		if !ok || inv.HeldBy != 0 {
			continue
		}
		cl := Cleaned{Board: inv.Name}
		for _, path := range []string{rec.DeviceNode, rec.Link} {
			if path == "" {
				continue
			}
			removed, err := ptyport.RemoveStale(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("board %s: %w", inv.Name, err))
				continue
			}
			if removed {
				cl.Removed = append(cl.Removed, path)
			}
		}
		removePortRecord(inv.Dir)
		out = append(out, cl)
	}
	return out, errors.Join(errs...)
}

// removeStale is interim until ptyport.RemoveStale lands.
func removeStale(path string) (bool, error) {
	return false, fmt.Errorf("cleanup of %s: not available yet", path)
}
