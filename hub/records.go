package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
)

// recordsFile keeps the recent attempts and reasons (each list bounded by
// WithMaxRecords) across restarts, so `hub attempts` still explains a
// refusal after the emulator was restarted.
const recordsFile = "records.json"

// recordsFlushEvery bounds how often the file is rewritten under load
// (a burst of refusals is one write); a kill -9 loses at most this much.
const recordsFlushEvery = time.Second

type recordsState struct {
	Reasons  []Reason  `json:"reasons"`
	Attempts []Attempt `json:"attempts"`
}

// recordStore persists a recorder's lists in the background.
type recordStore struct {
	path  string
	rec   *recorder
	log   *slog.Logger
	dirty chan struct{}
	done  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

// openRecords loads the lists left by an earlier run into rec and starts
// saving rec's changes to path.
func openRecords(path string, rec *recorder, log *slog.Logger) (*recordStore, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("hub: read %s: %w", path, err)
	default:
		var st recordsState
		if err := json.Unmarshal(b, &st); err != nil {
			// Records are diagnostics, not state: a damaged file is replaced.
			log.Warn("hub: unreadable records file, starting empty", "file", path, "error", err)
		}
		for _, r := range st.Reasons {
			rec.reasons.add(r)
		}
		for _, a := range st.Attempts {
			rec.attempts.add(a)
		}
	}
	s := &recordStore{path: path, rec: rec, log: log, dirty: make(chan struct{}, 1), done: make(chan struct{})}
	rec.onChange = s.changed
	s.wg.Add(1)
	go s.loop()
	return s, nil
}

func (s *recordStore) changed() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

func (s *recordStore) loop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.dirty:
		}
		s.save()
		select { // coalesce what arrives meanwhile into the next write
		case <-s.done:
			return
		case <-time.After(recordsFlushEvery):
		}
	}
}

func (s *recordStore) save() {
	b, err := json.Marshal(recordsState{Reasons: s.rec.reasons.list(), Attempts: s.rec.attempts.list()})
	if err == nil {
		err = atomicfile.Write(s.path, b)
	}
	if err != nil {
		s.log.Warn("hub: records not saved", "file", s.path, "error", err)
	}
}

// close stops the background writer and writes the final lists.
func (s *recordStore) close() {
	s.once.Do(func() {
		close(s.done)
		s.wg.Wait()
		s.save()
	})
}
